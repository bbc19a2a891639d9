"""Benchmark scripts: each starts what it measures, prints figures, and stops what it started."""
