"""What the alliance holds: the statistics behind ``/dashboard`` and ``GET /api/v1/stats``.

Only published datasets count — the current published version of each dataset whose status is
*published*: never a draft (not even for its custodians), never a retired dataset. Every patient
figure here is computed by the catalogue (a sum of the counts the datasets declare), so each one
leaves this module through the caller's small-cell rule (:mod:`catalogue.counts`): a cell below
the threshold is ``"<10"`` for everyone but administrators.

How the breakdowns count:

- diseases: each dataset once under every term above (and at) its disease terms in the HAEM
  hierarchy, so a term's figure is the patients of the datasets about it or anything below it;
- countries and age groups: a dataset with several counts under each (the figures per country
  add up to more than the total: datasets do not say how their patients split);
- source types and custodians: each dataset once;
- growth: datasets by the month of their first publication, with running totals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask import current_app
from sqlalchemy import func, select

from catalogue import counts
from catalogue.models import (
    SOURCE_TYPE_LABELS,
    AgeGroup,
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingStatus,
    SourceType,
    Variable,
    VersionStatus,
)
from core.db import get_session, query_timeout, utcnow
from core.models import Organisation
from core.policies import Actor
from ontologies.models import Term, TermClosure, TermEdge

AGE_GROUP_LABELS = {
    AgeGroup.PAEDIATRIC.value: "Paediatric",
    AgeGroup.ADULT.value: "Adult",
    AgeGroup.ELDERLY.value: "Elderly",
}
NOT_STATED = "not stated"


@dataclass(frozen=True)
class Row:
    """One cell of a breakdown: ``value`` (a code: a CURIE, a country code …) and its label."""

    value: str
    label: str
    datasets: int
    patients: counts.PatientCount


@dataclass(frozen=True)
class DiseaseRow(Row):
    depth: int = 0  # in the tree the page draws (0: a root)
    broader: tuple[str, ...] = ()  # the broader terms that are in the breakdown too


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    datasets: int
    patients: counts.PatientCount
    cumulative_datasets: int
    cumulative_patients: counts.PatientCount


@dataclass(frozen=True)
class VariableShare:
    variables: int
    mapped: int

    @property
    def share(self) -> float:
        return self.mapped / self.variables if self.variables else 0.0


@dataclass
class AllianceStats:
    generated_at: dt.datetime
    threshold: int
    exact: bool
    datasets: int
    patients: counts.PatientCount
    goal: int
    goal_share: float | None  # None when the total is a hidden small cell
    custodian_count: int
    country_count: int
    undeclared: int  # published datasets without a patient count
    diseases: list[DiseaseRow] = field(default_factory=list)
    countries: list[Row] = field(default_factory=list)
    source_types: list[Row] = field(default_factory=list)
    custodians: list[Row] = field(default_factory=list)
    age_groups: list[Row] = field(default_factory=list)
    growth: list[MonthRow] = field(default_factory=list)
    variables: VariableShare = field(default_factory=lambda: VariableShare(0, 0))

    @property
    def empty(self) -> bool:
        return self.datasets == 0


@dataclass
class _Dataset:
    id: str
    organisation_id: str
    organisation: str
    published_at: dt.datetime | None
    version_id: str
    patients: int
    source_type: str | None
    countries: list[str]
    age_groups: list[str]
    declared: bool  # the version states a patient count


def _published() -> Any:
    return (
        select(
            Dataset.id,
            Organisation.id,
            Organisation.name,
            Dataset.published_at,
            DatasetVersion.id,
            DatasetVersion.patients,
            DatasetVersion.source_type,
            DatasetVersion.countries,
            DatasetVersion.age_groups,
        )
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .where(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


def _published_version_ids() -> Any:
    return (
        select(DatasetVersion.id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


def alliance_stats(actor: Actor) -> AllianceStats:
    """Everything the dashboard shows, under ``actor``'s small-cell rule (public).

    :raises ServiceUnavailable: when the queries take longer than ``QUERY_TIMEOUT_MS``.
    """
    rule = counts.rule_for(actor)
    with query_timeout():
        rows = [
            _Dataset(
                id=r[0],
                organisation_id=r[1],
                organisation=r[2],
                published_at=r[3],
                version_id=r[4],
                patients=int(r[5] or 0),
                source_type=r[6].value if r[6] is not None else None,
                countries=list(r[7] or []),
                age_groups=list(r[8] or []),
                declared=r[5] is not None,
            )
            for r in get_session().execute(_published())
        ]
        diseases = _disease_rows(rule)
        variables = _variable_share()
    total = sum(d.patients for d in rows)
    goal = int(current_app.config["ALLIANCE_GOAL_PATIENTS"])
    countries = {c for d in rows for c in d.countries}
    return AllianceStats(
        generated_at=utcnow(),
        threshold=rule.threshold,
        exact=rule.exact,
        datasets=len(rows),
        patients=rule.count(total),
        goal=goal,
        goal_share=rule.share(total, goal),
        custodian_count=len({d.organisation_id for d in rows}),
        country_count=len(countries),
        undeclared=sum(1 for d in rows if not d.declared),
        diseases=diseases,
        countries=_breakdown(
            rule, ((c, d) for d in rows for c in d.countries or [NOT_STATED]), _country_label
        ),
        source_types=_breakdown(
            rule,
            ((d.source_type or NOT_STATED, d) for d in rows),
            lambda v: SOURCE_TYPE_LABELS.get(SourceType(v), v) if v != NOT_STATED else "Not stated",
        ),
        custodians=_breakdown(
            rule,
            ((d.organisation_id, d) for d in rows),
            {d.organisation_id: d.organisation for d in rows}.get,
        ),
        age_groups=_breakdown(
            rule,
            ((g, d) for d in rows for g in d.age_groups or [NOT_STATED]),
            lambda v: AGE_GROUP_LABELS.get(v, "Not stated" if v == NOT_STATED else v),
        ),
        growth=_growth(rule, rows),
        variables=variables,
    )


def _country_label(code: str) -> str:
    if code == NOT_STATED:
        return "Not stated"
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def _breakdown(
    rule: counts.CountRule, pairs: Iterable[tuple[str, _Dataset]], label: Any
) -> list[Row]:
    """Rows by value, each dataset once per value; largest first (by the exact figure, which
    the order of rows does not reveal beyond what the shown figures and ``<10`` say)."""
    datasets: dict[str, set[str]] = defaultdict(set)
    patients: dict[str, int] = defaultdict(int)
    for value, d in pairs:
        if d.id in datasets[value]:
            continue
        datasets[value].add(d.id)
        patients[value] += d.patients
    ordered = sorted(
        datasets, key=lambda v: (v == NOT_STATED, -_rank(rule, patients[v]), str(label(v)))
    )
    return [Row(v, str(label(v)), len(datasets[v]), rule.count(patients[v])) for v in ordered]


def _rank(rule: counts.CountRule, n: int) -> int:
    """What a row is ordered by: small cells all rank alike, so that their order does not tell
    a 3 from a 9."""
    shown = rule.count(n)
    return shown.bar


def _disease_rows(rule: counts.CountRule) -> list[DiseaseRow]:
    """Datasets and patients under every HAEM term above (or at) a dataset's disease terms,
    each dataset once per term, as a tree (each term once, under its first broader term)."""
    session = get_session()
    published = _published_version_ids().subquery("published")
    pairs = (
        select(
            TermClosure.ancestor_curie.label("term"),
            DatasetVersion.id.label("version_id"),
            DatasetVersion.patients.label("patients"),
        )
        .select_from(DatasetDisease)
        .join(published, published.c.id == DatasetDisease.version_id)
        .join(DatasetVersion, DatasetVersion.id == DatasetDisease.version_id)
        .join(TermClosure, TermClosure.descendant_curie == DatasetDisease.term_curie)
        .distinct()
        .subquery("pairs")
    )
    totals = {
        term: (int(n), int(p or 0))
        for term, n, p in session.execute(
            select(pairs.c.term, func.count(), func.sum(pairs.c.patients)).group_by(pairs.c.term)
        )
    }
    if not totals:
        return []
    terms = set(totals)
    labels = dict(
        session.execute(select(Term.curie, Term.label).where(Term.curie.in_(terms))).all()
    )
    broader: dict[str, list[str]] = defaultdict(list)
    for child, parent in session.execute(
        select(TermEdge.child_curie, TermEdge.parent_curie).where(
            TermEdge.child_curie.in_(terms), TermEdge.parent_curie.in_(terms)
        )
    ):
        broader[child].append(parent)
    children: dict[str, list[str]] = defaultdict(list)
    for child, parents in broader.items():
        for parent in parents:
            children[parent].append(child)

    def order(curies: Iterable[str]) -> list[str]:
        return sorted(curies, key=lambda c: (-_rank(rule, totals[c][1]), labels.get(c, c)))

    rows: list[DiseaseRow] = []
    seen: set[str] = set()

    def visit(curie: str, depth: int) -> None:
        if curie in seen:
            return
        seen.add(curie)
        datasets_n, patients_n = totals[curie]
        rows.append(
            DiseaseRow(
                value=curie,
                label=labels.get(curie, curie),
                datasets=datasets_n,
                patients=rule.count(patients_n),
                depth=depth,
                broader=tuple(sorted(broader.get(curie, []))),
            )
        )
        for child in order(children.get(curie, [])):
            visit(child, depth + 1)

    for root in order(t for t in terms if not broader.get(t)):
        visit(root, 0)
    return rows


def _growth(rule: counts.CountRule, rows: list[_Dataset]) -> list[MonthRow]:
    """Published datasets and their patients by month of first publication, every month from
    the first to the last, with running totals."""
    by_month: dict[tuple[int, int], list[_Dataset]] = defaultdict(list)
    for d in rows:
        if d.published_at is not None:
            by_month[(d.published_at.year, d.published_at.month)].append(d)
    if not by_month:
        return []
    year, month = min(by_month)
    last = max(by_month)
    result: list[MonthRow] = []
    cumulative_datasets = cumulative_patients = 0
    while (year, month) <= last:
        these = by_month.get((year, month), [])
        patients = sum(d.patients for d in these)
        cumulative_datasets += len(these)
        cumulative_patients += patients
        result.append(
            MonthRow(
                month=f"{year:04d}-{month:02d}",
                datasets=len(these),
                patients=rule.count(patients),
                cumulative_datasets=cumulative_datasets,
                cumulative_patients=rule.count(cumulative_patients),
            )
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _variable_share() -> VariableShare:
    """Variables of the published versions, and how many have an accepted mapping of their own
    (a mapping of one of their values does not make the variable mapped)."""
    session = get_session()
    published = _published_version_ids()
    total = (
        session.scalar(
            select(func.count()).select_from(Variable).where(Variable.version_id.in_(published))
        )
        or 0
    )
    mapped = (
        session.scalar(
            select(func.count(func.distinct(Mapping.variable_id)))
            .join(Variable, Variable.id == Mapping.variable_id)
            .where(
                Mapping.status == MappingStatus.ACCEPTED,
                Mapping.value_code.is_(None),
                Variable.version_id.in_(published),
            )
        )
        or 0
    )
    return VariableShare(int(total), int(mapped))
