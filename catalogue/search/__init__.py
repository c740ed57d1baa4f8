"""Search: free text over datasets and their variables, aware of the ontologies, with facets.

Two backends behind one interface (SQLite FTS5, PostgreSQL full-text search), chosen by the
database dialect; the index follows every change of a dataset (see :mod:`.indexer`).
"""

from catalogue.search.indexer import rebuild_index

__all__ = ["rebuild_index"]
