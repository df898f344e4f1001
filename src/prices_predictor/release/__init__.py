"""Deployment: holdout scoring, gates, aliases, rollback and bundles."""
