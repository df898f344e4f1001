"""Drift monitoring (Evidently) of live traffic and new training data against the reference."""
