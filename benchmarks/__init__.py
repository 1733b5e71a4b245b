"""Benchmark harness: `make bench` (see benchmarks/run.py)."""
