"""Integrations with other libraries' pipelines (the spaCy component)."""
