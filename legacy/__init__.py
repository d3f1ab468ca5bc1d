"""A stand-in for the municipality's legacy web system (demo and tests)."""
