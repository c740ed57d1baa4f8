"""The search index's tables (filled in by the search index migration)."""
