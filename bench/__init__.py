"""Nubes benchmarks: `bench/run.py` runs every `bench/bench_*.py`; see bench/README.md."""
