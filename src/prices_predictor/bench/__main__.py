"""Run every benchmark and write docs/BENCHMARKS.md."""

from prices_predictor.bench.run import main

main()
