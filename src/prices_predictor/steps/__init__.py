"""ZenML steps, one per file, grouped by pipeline stage."""
