"""Run every benchmark and write docs/BENCHMARKS.md."""

from bench.run import main

main()
