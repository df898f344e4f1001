"""Metrics and plots for the evaluation protocol."""
