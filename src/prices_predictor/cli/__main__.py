"""``python -m prices_predictor.cli``."""

from prices_predictor.cli.main import main

main()
