"""Datasets ranked by how many of a list of terms they cover, in SQL.

The rule for "covers" is :mod:`catalogue.coverage`'s; this module counts the covered terms per
dataset version in the database (one grouped query over the closure, the mappings and the
variables) and ranks the versions of a scope (:mod:`catalogue.standards.scope`), so that a
question over ten thousand datasets sends one page of rows to Python, not every pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select

from catalogue.coverage import covering_rows
from catalogue.models import Dataset, DatasetVersion, Variable, VersionStatus
from core.db import get_session
from ontologies.models import TermClosure


def coverage_counts(terms: Sequence[str], scope: Select[Any]) -> Select[Any]:
    """``(version_id, covered)``: how many of ``terms`` each version in ``scope`` covers (only
    versions that cover at least one)."""
    scoped = scope.subquery("scoped")
    pairs = (
        covering_rows(terms)
        .with_only_columns(
            Variable.version_id.label("version_id"),
            TermClosure.ancestor_curie.label("term"),
        )
        .where(Variable.version_id.in_(select(scoped.c.version_id)))
        .distinct()
        .subquery("pairs")
    )
    return select(pairs.c.version_id, func.count().label("covered")).group_by(pairs.c.version_id)


@dataclass(frozen=True)
class RankedRow:
    version_id: str
    covered: int


@dataclass(frozen=True)
class Ranking:
    rows: list[RankedRow]
    total: int  # versions that cover at least one term


def rank(terms: Sequence[str], scope: Select[Any], *, page: int, per_page: int) -> Ranking:
    """One page of the versions of ``scope`` that cover at least one of ``terms``: most terms
    first, then the larger declared patient count, then the identifier."""
    counts = coverage_counts(terms, scope).subquery("counts")
    query = (
        select(counts.c.version_id, counts.c.covered, func.count().over().label("total"))
        .join(DatasetVersion, DatasetVersion.id == counts.c.version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .order_by(
            counts.c.covered.desc(),
            func.coalesce(DatasetVersion.patients, -1).desc(),
            Dataset.identifier,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = get_session().execute(query).all()
    total = int(rows[0].total) if rows else 0
    if not rows and page > 1:  # past the end: the total still tells the truth
        total = (
            get_session().scalar(
                select(func.count()).select_from(coverage_counts(terms, scope).subquery())
            )
            or 0
        )
    return Ranking([RankedRow(r.version_id, int(r.covered)) for r in rows], total)


@dataclass(frozen=True)
class CompleteTotals:
    datasets: int  # published datasets that cover every term
    patients: int  # their declared patients (exact: the caller's rule applies later)
    undeclared: int  # of those datasets, how many declare no patient count


def complete_totals(terms: Sequence[str], scope: Select[Any]) -> CompleteTotals:
    """The published datasets of ``scope`` that cover every one of ``terms``, and their
    patients. Drafts in the scope are ranked for their custodians but never counted here."""
    wanted = len(dict.fromkeys(terms))
    counts = coverage_counts(terms, scope).subquery("counts")
    row = (
        get_session()
        .execute(
            select(
                func.count(),
                func.coalesce(func.sum(DatasetVersion.patients), 0),
                func.coalesce(func.sum(case((DatasetVersion.patients.is_(None), 1), else_=0)), 0),
            )
            .select_from(counts)
            .join(DatasetVersion, DatasetVersion.id == counts.c.version_id)
            .where(counts.c.covered == wanted, DatasetVersion.status == VersionStatus.PUBLISHED)
        )
        .one()
    )
    return CompleteTotals(int(row[0]), int(row[1]), int(row[2]))


def scope_size(scope: Select[Any]) -> int:
    return get_session().scalar(select(func.count()).select_from(scope.subquery())) or 0
