"""Search engines behind the search service: the contract (:mod:`.base`), the embedded default
(:mod:`.embedded`, tantivy), an adapter for a distributed engine (:mod:`.opensearch`), the
projection of the search index into engine documents (:mod:`.documents`), what keeps the
engine in step with the database (:mod:`.sync`) and the check mode (:mod:`.check`).

For other areas and tools, in an application context:

- :func:`get_engine` — the configured engine (``SEARCH_ENGINE``; None for ``sql``);
- :func:`rebuild` — rebuild it from the search index's tables (``progress(done, total)``);
- :func:`refresh_datasets` — fields an area adds to the documents changed for these datasets:
  written to the engine once the caller's transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalogue.search.engine.base import Engine


def get_engine() -> Engine | None:
    """The application's search engine (None when ``SEARCH_ENGINE=sql``)."""
    from catalogue.search.engine import sync

    return sync.get_engine()


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the engine from the search index (``harmony catalogue reindex --engine-only``);
    the number of documents written."""
    from catalogue.search.engine import sync

    return sync.rebuild(progress)


def refresh_datasets(dataset_ids: Iterable[str]) -> None:
    """These datasets' documents are written to the engine again once the transaction commits
    (their fields from other areas changed)."""
    from catalogue.search.engine import sync

    sync.refresh_datasets(dataset_ids)


__all__ = ["get_engine", "rebuild", "refresh_datasets"]
