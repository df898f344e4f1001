"""Deployment stage steps."""
