"""Model strategies (one module each), their registry, tuning and the fitted price model."""
