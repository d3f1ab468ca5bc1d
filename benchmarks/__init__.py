"""Throughput and accuracy benchmarks (run by hand, never as timed tests)."""
