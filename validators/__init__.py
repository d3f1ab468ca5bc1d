"""Validation (審査): normalise values, apply the form's rules, decide."""
