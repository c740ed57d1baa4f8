"""The governance facets' engine forms, read back without an engine: the engine documents of
some datasets as the projection writes them (with the governance providers' fields), and the
facets' clauses and counts evaluated over them by the clause language's reference meaning
(:func:`catalogue.search.engine.check.holds`) — so that a test compares what the facets ask an
engine with what their SQL statements answer, whatever engine is configured; and the
configured engine itself, asked directly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from flask import current_app

from catalogue.search.engine.base import (
    AllOf,
    Engine,
    EngineDocument,
    EngineQuery,
    MatchCount,
    Terms,
    TermsCount,
)
from catalogue.search.engine.check import holds
from catalogue.search.engine.documents import documents_of_datasets
from catalogue.search.facets import Facet, FacetValue


def documents(dataset_ids: Iterable[str]) -> list[EngineDocument]:
    """The engine documents of these datasets, as the database has them now."""
    return documents_of_datasets(sorted(set(dataset_ids)))


def dataset_of(document: EngineDocument) -> str:
    return str(document.fields["dataset_id"][0])


def counted(counts: Iterable[Any], docs: list[EngineDocument]) -> list[tuple[str, int]]:
    """The rows an engine gives for ``counts`` over ``docs``."""
    rows: list[tuple[str, int]] = []
    for count in counts:
        if isinstance(count, TermsCount):
            values: Counter[str] = Counter()
            for doc in docs:
                values.update(set(doc.fields.get(count.field, [])))
            rows += [
                (v, n) for v, n in values.items() if count.include is None or v in count.include
            ]
        elif isinstance(count, MatchCount):
            rows.append((count.name, sum(holds(count.clause, d) for d in docs)))
        else:
            raise AssertionError(f"a governance facet counted {count!r}")
    return rows


def engine_answer(
    facets: list[Facet], selections: dict[str, Any], docs: list[EngineDocument]
) -> tuple[set[str], dict[str, list[FacetValue]]]:
    """The datasets that hold every selected facet's clause, and each facet's values from its
    engine counts (over the documents that hold every *other* selected facet), as the
    search's contract says an engine answers."""
    clauses = {f.name: f.engine_clause(selections[f.name]) for f in facets if f.name in selections}

    def kept(but: str | None = None) -> list[EngineDocument]:
        return [
            d
            for d in docs
            if all(c is None or holds(c, d) for name, c in clauses.items() if name != but)
        ]

    values = {}
    for facet in facets:
        selection = selections.get(facet.name)
        rows = counted(facet.engine_counts(selection), kept(but=facet.name))
        values[facet.name] = facet.values(facet.engine_rows(rows, selection), selection)
    return {dataset_of(d) for d in kept()}, values


def ready_engine() -> Engine:
    """The configured engine, in step with what has been committed (built first if it has
    no index yet)."""
    from catalogue.search.engine import sync

    if str(current_app.config.get("SEARCH_ENGINE") or "embedded") == "sql":
        pytest.skip("SEARCH_ENGINE=sql: no engine to ask")
    engine = sync.engine_for_search() or sync.engine_for_search()  # the first may build it
    assert engine is not None
    return engine


def engine_keeps(clause: Any, dataset_id: str) -> bool:
    """Whether the configured engine finds the dataset's document with ``clause``."""
    answer = ready_engine().search(
        EngineQuery(filter=AllOf((Terms("dataset_id", (dataset_id,)), clause)), limit=5)
    )
    return answer.total > 0


def record_refreshes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The datasets whose documents the services ask the engine to write again (the calls
    go through)."""
    from catalogue.search import engine

    calls: list[list[str]] = []
    real = engine.refresh_datasets

    def refresh(dataset_ids: Any) -> None:
        calls.append(list(dataset_ids))
        real(dataset_ids)

    monkeypatch.setattr(engine, "refresh_datasets", refresh)
    return calls
