"""Benchmark harness: a synthetic workspace at production scale and every figure next to a baseline.

`python -m bench` builds (or reuses) the benchmark database, runs each part against whatever the
platform has registered at that moment, and writes `bench/results.json` and `docs/benchmarks.md`.
Parts whose feature is not installed are reported as "not available", never as a crash.
"""
