"""Benchmarks (``make bench``): in-process speed, HTTP throughput against MLflow, cold start."""
