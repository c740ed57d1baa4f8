"""The governance facets' engine forms, read back without an engine: the engine documents of
some datasets as the governance providers fill them, and the clause language and the counts
evaluated over them in Python — so that a test compares what the facets ask an engine with
what their SQL statements answer, whatever engine is configured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    EngineDocument,
    Everything,
    MatchCount,
    Not,
    Terms,
    TermsCount,
)
from catalogue.search.facets import Facet, FacetValue
from catalogue.search.models import SearchDocument
from core.db import get_session


def documents(dataset_ids: Iterable[str]) -> list[EngineDocument]:
    """The search documents of these datasets with the governance fields filled in."""
    from governance.data_use import search as data_use_search
    from governance.purposes import search as purposes_search

    rows = get_session().execute(
        select(SearchDocument.id, SearchDocument.dataset_id)
        .where(SearchDocument.dataset_id.in_(sorted(set(dataset_ids))))
        .order_by(SearchDocument.id)
    )
    found = [EngineDocument(i, {"dataset_id": [d]}) for i, d in rows.all()]
    for provider in (data_use_search.engine_fields, purposes_search.engine_fields):
        for document_id, fields in provider(found).items():
            next(d for d in found if d.id == document_id).fields.update(fields)
    return found


def holds(clause: Any, fields: dict[str, Any]) -> bool:
    """Whether a document with ``fields`` holds ``clause`` (the clauses the governance facets
    use; any other is a failure)."""
    if clause is None or isinstance(clause, Everything):
        return True
    if isinstance(clause, Terms):
        return bool(set(fields.get(clause.field, [])) & set(clause.values))
    if isinstance(clause, AllOf):
        return all(holds(c, fields) for c in clause.clauses)
    if isinstance(clause, AnyOf):
        return any(holds(c, fields) for c in clause.clauses)
    if isinstance(clause, Not):
        return not holds(clause.clause, fields)
    raise AssertionError(f"a governance facet asked for {clause!r}")


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
            rows.append((count.name, sum(holds(count.clause, d.fields) for d in docs)))
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
            d for d in docs if all(holds(c, d.fields) for name, c in clauses.items() if name != but)
        ]

    values = {}
    for facet in facets:
        selection = selections.get(facet.name)
        rows = counted(facet.engine_counts(selection), kept(but=facet.name))
        values[facet.name] = facet.values(facet.engine_rows(rows, selection), selection)
    return {d.fields["dataset_id"][0] for d in kept()}, values
