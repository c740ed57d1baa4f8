"""Mappings of variables (and their values) to ontology terms: review, the mapping assistant,
SSSOM import and export, and which terms a version covers."""
