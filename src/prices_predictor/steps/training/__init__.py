"""Training stage steps."""
