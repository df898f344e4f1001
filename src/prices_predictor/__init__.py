"""prices-predictor: housing price prediction from training to gated serving."""

__version__ = "0.1.0"
