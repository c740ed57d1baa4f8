"""The ``data_use`` search facet: datasets whose conditions use a DUO term (a permission or a
modifier), with counts; several terms are alternatives (OR), and the facet combines with the
others by AND like every facet.

The condition is an ``EXISTS`` on :class:`~governance.data_use.models.DataUseTerm` keyed by
the search document's dataset, with the selected terms as one expanding bound parameter
(:class:`~catalogue.search.facets.ListFacet`): one cached statement serves every selection.

In a search engine (:mod:`catalogue.search.engine.base`) each document carries its dataset's
terms (``data_use``) and its conditions' signature (``conditions_signature``, which the fit and
requestable facets read: :mod:`governance.purposes.search`), written by :func:`engine_fields`;
a change of the conditions (``data_use.changed``) has the engine write the dataset's documents
again after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, func, select

from catalogue.search import facets
from catalogue.search.engine.base import (
    EngineDocument,
    Terms,
    TermsCount,
    register_fields,
)
from catalogue.search.facets import FacetValue, ListFacet
from core import events
from core.db import get_session
from governance.data_use import vocabulary
from governance.data_use.models import DataUseConditions, DataUseTerm

#: engine fields: the dataset's DUO terms (the permission and each modifier) …
DATA_USE_FIELD = "data_use"
#: … and its conditions' signature, or :data:`NO_SIGNATURE` when it has none
SIGNATURE_FIELD = "conditions_signature"
NO_SIGNATURE = "none"  # a signature is 64 hex digits: never this
#: datasets read per statement when documents are written
ENGINE_CHUNK = 2000


class DataUseFacet(ListFacet):
    name, label = "data_use", "Data-use conditions"

    def check(self, values: list[str]) -> list[str]:
        curies = []
        for value in values:
            curie = vocabulary.duo_curie(value)
            if curie is None or curie not in vocabulary.TERMS:
                raise self.invalid(
                    f"“{value}” is not a DUO permission or modifier the catalogue knows "
                    "(e.g. DUO:0000007 for DS, DUO:0000021 for IRB)."
                )
            curies.append(curie)
        return list(dict.fromkeys(curies))

    def condition(self, document: Any, selection: list[str]) -> Any:
        return exists(
            select(DataUseTerm.dataset_id).where(
                DataUseTerm.dataset_id == document.c.dataset_id,
                DataUseTerm.term.in_(self.selected()),
            )
        )

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        return (
            select(DataUseTerm.term, func.count())
            .select_from(candidates)
            .join(DataUseTerm, DataUseTerm.dataset_id == candidates.c.dataset_id)
            .where(where)
            .group_by(DataUseTerm.term)
        )

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = dict(rows)
        chosen = set(selection or [])
        return [
            FacetValue(curie, duo.title, counted.get(curie, 0), selected=curie in chosen)
            for curie, duo in vocabulary.TERMS.items()
            if counted.get(curie) or curie in chosen
        ]

    # --- the same in a search engine ------------------------------------------------------

    def engine_clause(self, selection: list[str]) -> Any:
        return Terms(DATA_USE_FIELD, tuple(selection))

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        return (TermsCount(DATA_USE_FIELD),)

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        return [(term, count) for term, count in rows if count]


FACET = DataUseFacet()


# --- the engine's fields, kept current ------------------------------------------------------


def dataset_of(document: EngineDocument) -> str:
    """The dataset id of an engine document (a keyword field: a list of one)."""
    value = document.fields["dataset_id"]
    return str(value[0] if isinstance(value, list | tuple) else value)


def chunks(items: Sequence[str], size: int = ENGINE_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def engine_fields(documents: Sequence[EngineDocument]) -> dict[int, dict[str, Any]]:
    """``data_use`` and ``conditions_signature`` of each document, from its dataset's rows
    (two statements per :data:`ENGINE_CHUNK` datasets)."""
    datasets = sorted({dataset_of(d) for d in documents})
    session = get_session()
    terms: dict[str, list[str]] = {}
    signatures: dict[str, str] = {}
    for chunk in chunks(datasets):
        for dataset_id, term in session.execute(
            select(DataUseTerm.dataset_id, DataUseTerm.term)
            .where(DataUseTerm.dataset_id.in_(chunk))
            .order_by(DataUseTerm.dataset_id, DataUseTerm.term)
        ).all():
            terms.setdefault(dataset_id, []).append(term)
        for dataset_id, signature in session.execute(
            select(DataUseConditions.dataset_id, DataUseConditions.signature).where(
                DataUseConditions.dataset_id.in_(chunk)
            )
        ).all():
            signatures[dataset_id] = signature
    out: dict[int, dict[str, Any]] = {}
    for document in documents:
        dataset_id = dataset_of(document)
        out[document.id] = {
            DATA_USE_FIELD: list(terms.get(dataset_id, [])),
            SIGNATURE_FIELD: [signatures.get(dataset_id) or NO_SIGNATURE],
        }
    return out


def refresh_engine(dataset_ids: Iterable[str]) -> None:
    """Have the search engine write these datasets' documents again once the transaction
    commits (nothing when it rolls back)."""
    from catalogue.search import engine

    ids = sorted(set(dataset_ids))
    if ids:
        engine.refresh_datasets(ids)


def on_conditions_changed(event: events.Event) -> None:
    """``data_use.changed``: the dataset's terms and signature changed (and with them whether
    it can be requested)."""
    dataset_id = event.payload.get("dataset_id")
    if dataset_id:
        refresh_engine([dataset_id])


def register() -> None:
    """Add the facet to the search, its fields to the engine, and keep them current (once,
    however many applications are made)."""
    if not any(f.name == FACET.name for f in facets.facets()):
        facets.register_facet(FACET)
    register_fields({DATA_USE_FIELD: "keyword", SIGNATURE_FIELD: "keyword"}, engine_fields)
    events.subscribe("data_use.changed", on_conditions_changed)
