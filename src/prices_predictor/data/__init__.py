"""Data: ingestion, schema, validation, protocol split."""
