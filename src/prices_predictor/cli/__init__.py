"""The ``prices-predictor`` command line."""
