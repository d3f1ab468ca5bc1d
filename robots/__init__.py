"""Keying robots (RPA) that enter accepted applications into the legacy system."""
