"""prices-predictor: housing price prediction from training to gated serving."""

__version__ = "0.2.0"
