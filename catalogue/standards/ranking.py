"""Datasets ranked by how many of a list of terms they cover.

The rule for "covers" is :mod:`catalogue.coverage`'s. Asking it live for thousands of datasets
means walking every mapping of every asked term and the variable behind it (tens of thousands
of rows for eight common terms over a million variables), so the ranking reads the terms each
searchable version covers from the search index (:class:`SearchDocumentTerm`): the indexer
writes them by the same rule, through the hierarchy, in the transaction of every dataset
change (:func:`catalogue.datasets.touch`). Counting the asked terms per document is then an
index-only read, and the scope a condition on the document's flags
(:func:`catalogue.standards.scope.visible_documents`).

Until the index is first built (a catalogue loaded behind the application's back, before
``harmony catalogue reindex``) the live rule answers instead, over
:func:`catalogue.standards.scope.visible_versions`: slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, false, func, select

from catalogue.mappings.coverage import covering_rows
from catalogue.models import Dataset, DatasetStatus, DatasetVersion, Variable, VersionStatus
from catalogue.search.models import SearchDocument, SearchDocumentTerm
from catalogue.standards import scope
from core.db import get_session
from core.pagination import one_page
from core.policies import Actor
from ontologies.models import TermClosure


@dataclass(frozen=True)
class RankedRow:
    version_id: str
    covered: int


@dataclass(frozen=True)
class CompleteTotals:
    datasets: int  # published datasets that cover every term
    patients: int  # their declared patients (exact: the caller's rule applies later)
    undeclared: int  # of those datasets, how many declare no patient count


@dataclass(frozen=True)
class Ranking:
    rows: list[RankedRow]
    total: int  # versions that cover at least one term
    totals: CompleteTotals | None = None  # when the ranking query could tell them


def index_ready() -> bool:
    """Whether the search index has been built: it has documents, or there is nothing a
    document could be made of (no dataset that is not retired)."""
    session = get_session()
    if session.scalar(select(SearchDocument.id).limit(1)) is not None:
        return True
    return (
        session.scalar(select(Dataset.id).where(Dataset.status != DatasetStatus.RETIRED).limit(1))
        is None
    )


# --- from the index -------------------------------------------------------------------------


def _indexed_counts(terms: Sequence[str]) -> Any:
    """``(document_id, covered)`` for the documents that cover at least one of ``terms``."""
    t = SearchDocumentTerm
    return (
        select(t.document_id.label("document_id"), func.count().label("covered"))
        .where(t.term_curie.in_(list(dict.fromkeys(terms))))
        .group_by(t.document_id)
        .subquery("counts")
    )


def _rank_indexed(
    actor: Actor, terms: Sequence[str], page: int, per_page: int, totals: bool = False
) -> Any:
    """One page of the documents in scope, with the number in scope; with ``totals`` also the
    totals of the published documents that cover every term, as window aggregates over every
    covering document (one pass instead of two; dearer than the page alone)."""
    d = SearchDocument
    counts = _indexed_counts(terms)
    if not totals:
        return one_page(
            select(d.version_id, counts.c.covered, func.count().over().label("total"))
            .join(d, d.id == counts.c.document_id)
            .where(scope.visible_documents(actor))
            .order_by(
                counts.c.covered.desc(),
                func.coalesce(d.patients, -1).desc(),
                d.title_key,
                d.id,
            ),
            page,
            per_page,
        )
    in_scope = case((scope.visible_documents(actor), 1), else_=0)
    complete = and_(counts.c.covered == len(dict.fromkeys(terms)), d.is_draft == false())
    columns = [
        d.version_id,
        counts.c.covered,
        d.patients,
        d.title_key,
        d.id,
        in_scope.label("in_scope"),
        func.sum(in_scope).over().label("total"),
        func.sum(case((complete, 1), else_=0)).over().label("complete_datasets"),
        func.sum(case((complete, func.coalesce(d.patients, 0)), else_=0))
        .over()
        .label("complete_patients"),
        func.sum(case((and_(complete, d.patients.is_(None)), 1), else_=0))
        .over()
        .label("undeclared"),
    ]
    every = select(*columns).join(d, d.id == counts.c.document_id).subquery("every")
    return one_page(
        select(
            every.c.version_id,
            every.c.covered,
            every.c.total,
            every.c.complete_datasets,
            every.c.complete_patients,
            every.c.undeclared,
        )
        .where(every.c.in_scope == 1)
        .order_by(
            every.c.covered.desc(),
            func.coalesce(every.c.patients, -1).desc(),
            every.c.title_key,
            every.c.id,
        ),
        page,
        per_page,
    )


def _totals_indexed(terms: Sequence[str]) -> Any:
    d = SearchDocument
    counts = _indexed_counts(terms)
    return (
        select(
            func.count(),
            func.coalesce(func.sum(d.patients), 0),
            func.coalesce(func.sum(case((d.patients.is_(None), 1), else_=0)), 0),
        )
        .select_from(counts)
        .join(d, d.id == counts.c.document_id)
        .where(counts.c.covered == len(dict.fromkeys(terms)), d.is_draft == false())
    )


# --- live, by the rule (before the index is built) -----------------------------------------


def coverage_counts(terms: Sequence[str], versions: Select[str, str]) -> Select[Any]:
    """``(version_id, covered)``: how many of ``terms`` each version in ``versions`` (a select
    of ``version_id``) covers, by :mod:`catalogue.coverage`'s rule, asked live."""
    scoped = versions.subquery("scoped")
    pairs = (
        covering_rows(terms)
        .with_only_columns(
            Variable.version_id.label("version_id"), TermClosure.ancestor_curie.label("term")
        )
        .where(Variable.version_id.in_(select(scoped.c.version_id)))
        .distinct()
        .subquery("pairs")
    )
    return select(pairs.c.version_id, func.count().label("covered")).group_by(pairs.c.version_id)


def _rank_live(
    actor: Actor, terms: Sequence[str], page: int, per_page: int, totals: bool = False
) -> Any:
    counts = coverage_counts(terms, scope.visible_versions(actor)).subquery("counts")
    return one_page(
        select(counts.c.version_id, counts.c.covered, func.count().over().label("total"))
        .join(DatasetVersion, DatasetVersion.id == counts.c.version_id)
        .order_by(
            counts.c.covered.desc(),
            func.coalesce(DatasetVersion.patients, -1).desc(),
            DatasetVersion.title,
            DatasetVersion.id,
        ),
        page,
        per_page,
    )


def _totals_live(terms: Sequence[str]) -> Any:
    counts = coverage_counts(terms, scope.published_versions()).subquery("counts")
    return (
        select(
            func.count(),
            func.coalesce(func.sum(DatasetVersion.patients), 0),
            func.coalesce(func.sum(case((DatasetVersion.patients.is_(None), 1), else_=0)), 0),
        )
        .select_from(counts)
        .join(DatasetVersion, DatasetVersion.id == counts.c.version_id)
        .where(
            counts.c.covered == len(dict.fromkeys(terms)),
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


# --- what the services ask ------------------------------------------------------------------


def rank(
    actor: Actor,
    terms: Sequence[str],
    *,
    page: int,
    per_page: int,
    indexed: bool,
    totals: bool = False,
) -> Ranking:
    """One page of the versions in ``actor``'s scope that cover at least one of ``terms``:
    most terms first, then the larger declared patient count, then the title. ``indexed``:
    what :func:`index_ready` says. ``totals``: from the index, the page also carries the
    figures of :func:`complete_totals` (``Ranking.totals``)."""
    build = _rank_indexed if indexed else _rank_live
    rows = get_session().execute(build(actor, terms, page, per_page, totals)).all()
    top = rows[0] if rows else None
    if top is None and page > 1:  # past the end: the first row still tells the totals
        top = get_session().execute(build(actor, terms, 1, 1, totals)).first()
    return Ranking(
        [RankedRow(r.version_id, int(r.covered)) for r in rows],
        int(top.total) if top is not None else 0,
        _totals_of(top),
    )


def _totals_of(row: Any) -> CompleteTotals | None:
    if row is None or "complete_datasets" not in row._fields:
        return None
    return CompleteTotals(
        int(row.complete_datasets), int(row.complete_patients), int(row.undeclared)
    )


def complete_totals(terms: Sequence[str], *, indexed: bool) -> CompleteTotals:
    """The published datasets that cover every one of ``terms`` (their published versions: the
    same figures for everyone), and their declared patients. Drafts are ranked for their
    custodians but never counted here."""
    query = _totals_indexed(terms) if indexed else _totals_live(terms)
    row = get_session().execute(query).one()
    return CompleteTotals(int(row[0]), int(row[1]), int(row[2]))


def scope_size(actor: Actor, *, indexed: bool) -> int:
    """How many datasets a question of ``actor`` runs over."""
    if indexed:
        query = (
            select(func.count()).select_from(SearchDocument).where(scope.visible_documents(actor))
        )
    else:
        query = select(func.count()).select_from(scope.visible_versions(actor).subquery())
    return get_session().scalar(query) or 0
