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
import functools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pycountry
from flask import current_app, g
from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from catalogue.datasets.services import VariableCounts
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
from catalogue.stats import counts
from catalogue.stats.models import VersionFigures
from core.db import get_session, query_timeout, utcnow, write_in_passing
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


@dataclass(slots=True)
class _Dataset:
    id: str
    organisation_id: str
    month: tuple[int, int] | None  # of the first publication
    version_id: str
    patients: int
    declared: bool  # the version states a patient count
    source_type: str
    countries: tuple[str, ...]
    age_groups: tuple[str, ...]


def _published() -> Any:
    """The current version of every published dataset, its values as stored (JSON lists and
    enumerations as text on SQLite): ten thousand rows read without per-value conversions."""
    return (
        select(
            Dataset.id,
            Dataset.organisation_id,
            type_coerce(Dataset.published_at, String()),
            DatasetVersion.id,
            DatasetVersion.patients,
            type_coerce(DatasetVersion.source_type, String()),
            type_coerce(DatasetVersion.countries, String()),
            type_coerce(DatasetVersion.age_groups, String()),
        )
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


@functools.lru_cache(maxsize=4096)
def _codes(stored: str | None) -> tuple[str, ...]:
    """A stored JSON list of codes (``'["DE", "NL"]'``) as a tuple, once per distinct text: a
    catalogue has few distinct combinations."""
    if not stored:
        return ()
    return tuple(dict.fromkeys(str(v) for v in json.loads(stored)))


def _listed(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):  # PostgreSQL's driver decodes JSON itself
        return tuple(dict.fromkeys(str(v) for v in value))
    return _codes(value)


def _month(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return (value.year, value.month)
    return (int(value[0:4]), int(value[5:7]))  # stored as "YYYY-MM-DD hh:mm:ss…" in UTC


def _read(statement: Any) -> Any:
    """Rows of a plain read, without the ORM's result machinery (thousands of rows)."""
    return get_session().connection().execute(statement).all()


def _published_datasets() -> list[_Dataset]:
    return [
        _Dataset(
            id=r[0],
            organisation_id=r[1],
            month=_month(r[2]),
            version_id=r[3],
            patients=int(r[4] or 0),
            declared=r[4] is not None,
            source_type=r[5] or NOT_STATED,
            countries=_listed(r[6]) or (NOT_STATED,),
            age_groups=_listed(r[7]) or (NOT_STATED,),
        )
        for r in _read(_published())
    ]


@dataclass(frozen=True)
class _Raw:
    """The exact aggregates of the published catalogue, before any caller's small-cell rule."""

    datasets: int
    patients: int
    undeclared: int
    names: dict[str, str]  # organisation id → name
    tallies: dict[str, dict[str, tuple[int, int]]]  # breakdown → value → (datasets, patients)
    diseases: dict[str, tuple[int, int]]  # HAEM term → (datasets, patients) under it
    disease_labels: dict[str, str]
    broader: dict[str, tuple[str, ...]]  # term → its broader terms among those counted
    months: dict[tuple[int, int], tuple[int, int]]  # first publication → (datasets, patients)
    variables: VariableShare


def _compute() -> _Raw:
    rows = _published_datasets()
    names = {str(i): str(n) for i, n in _read(select(Organisation.id, Organisation.name))}
    tallies: dict[str, dict[str, list[int]]] = {
        "country": {}, "source": {}, "custodian": {}, "age": {},
    }  # fmt: skip
    months: dict[tuple[int, int], list[int]] = {}
    for d in rows:
        for name, values in (
            ("country", d.countries),
            ("source", (d.source_type,)),
            ("custodian", (d.organisation_id,)),
            ("age", d.age_groups),
        ):
            tally = tallies[name]
            for value in values:
                cell = tally.get(value)
                if cell is None:
                    tally[value] = [1, d.patients]
                else:
                    cell[0] += 1
                    cell[1] += d.patients
        if d.month is not None:
            cell = months.setdefault(d.month, [0, 0])
            cell[0] += 1
            cell[1] += d.patients
    diseases, labels, broader = _disease_totals(rows)
    return _Raw(
        datasets=len(rows),
        patients=sum(d.patients for d in rows),
        undeclared=sum(1 for d in rows if not d.declared),
        names=names,
        tallies={k: {v: (c[0], c[1]) for v, c in t.items()} for k, t in tallies.items()},
        diseases=diseases,
        disease_labels=labels,
        broader=broader,
        months={m: (c[0], c[1]) for m, c in months.items()},
        variables=_variable_share([d.version_id for d in rows]),
    )


# --- keeping the aggregates between requests --------------------------------------------------

#: how long a worker reuses its aggregates while the catalogue's datasets do not change (the
#: organisations' names and the terms' labels may change without a dataset changing)
CACHE_SECONDS = 60.0
_cache: dict[str, tuple[tuple[Any, ...], float, _Raw]] = {}
_cache_lock = threading.Lock()


def _fingerprint() -> tuple[Any, ...]:
    """Changes whenever a dataset does: every change of a dataset, its versions, dictionary or
    mappings bumps its ``modified_at`` (:func:`catalogue.datasets.touch`), and deleting one
    changes the count. Two index reads."""
    count, latest = (
        get_session()
        .execute(select(func.count(), func.max(Dataset.modified_at)).select_from(Dataset))
        .one()
    )
    return (int(count), str(latest))


def _aggregates() -> _Raw:
    """The exact aggregates: this worker's copy while the catalogue is unchanged (and for at
    most :data:`CACHE_SECONDS`), else counted again. Each worker keeps its own: nothing another
    worker needs lives here, and a worker that has none simply counts."""
    key = str(get_session().get_bind().engine.url)
    fingerprint = _fingerprint()
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] == fingerprint and now - cached[1] < CACHE_SECONDS:
        return cached[2]
    raw = _compute()
    with _cache_lock:
        _cache[key] = (fingerprint, now, raw)
    return raw


def forget_aggregates() -> None:
    """Drop every worker-local copy (tests, and after changes that bypass the services)."""
    with _cache_lock:
        _cache.clear()


# --- what a caller sees -----------------------------------------------------------------------


def alliance_stats(actor: Actor) -> AllianceStats:
    """Everything the dashboard shows, under ``actor``'s small-cell rule (public).

    :raises ServiceUnavailable: when the queries take longer than ``QUERY_TIMEOUT_MS``.
    """
    rule = counts.rule_for(actor)
    with query_timeout():
        raw = _aggregates()
    _keep_counted_figures()  # after the timed read: keeping them commits
    goal = int(current_app.config["ALLIANCE_GOAL_PATIENTS"])
    tallies = raw.tallies
    return AllianceStats(
        generated_at=utcnow(),
        threshold=rule.threshold,
        exact=rule.exact,
        datasets=raw.datasets,
        patients=rule.count(raw.patients),
        goal=goal,
        goal_share=rule.share(raw.patients, goal),
        custodian_count=len(tallies["custodian"]),
        country_count=len([c for c in tallies["country"] if c != NOT_STATED]),
        undeclared=raw.undeclared,
        diseases=_disease_tree(rule, raw),
        countries=_breakdown(rule, tallies["country"], _country_label),
        source_types=_breakdown(rule, tallies["source"], _source),
        custodians=_breakdown(rule, tallies["custodian"], lambda v: raw.names.get(v, v)),
        age_groups=_breakdown(
            rule,
            tallies["age"],
            lambda v: AGE_GROUP_LABELS.get(v, "Not stated" if v == NOT_STATED else v),
        ),
        growth=_growth(rule, raw.months),
        variables=raw.variables,
    )


def _source(value: str) -> str:
    if value == NOT_STATED:
        return "Not stated"
    try:
        return SOURCE_TYPE_LABELS[SourceType(value)]
    except ValueError:
        return value


def _country_label(code: str) -> str:
    if code == NOT_STATED:
        return "Not stated"
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def _breakdown(rule: counts.CountRule, tally: dict[str, tuple[int, int]], label: Any) -> list[Row]:
    """Rows from ``{value: (datasets, patients)}``, largest first; small cells all rank alike
    and then go by label, so that the order does not tell a 3 from a 9."""
    ordered = sorted(
        tally, key=lambda v: (v == NOT_STATED, -_rank(rule, tally[v][1]), str(label(v)))
    )
    return [Row(v, str(label(v)), tally[v][0], rule.count(tally[v][1])) for v in ordered]


def _rank(rule: counts.CountRule, n: int) -> int:
    """What a row is ordered by: small cells all rank alike, so that their order does not tell
    a 3 from a 9."""
    return rule.count(n).bar


def _disease_totals(
    rows: list[_Dataset],
) -> tuple[dict[str, tuple[int, int]], dict[str, str], dict[str, tuple[str, ...]]]:
    """Datasets and patients under every HAEM term above (or at) a dataset's disease terms,
    each dataset once per term; the terms' labels and their broader terms among them. Added up
    here rather than in SQL: the disease tags are a few rows per dataset, and the closure of
    the terms they name a few hundred."""
    published = {d.version_id: d for d in rows}
    tags: dict[str, set[str]] = defaultdict(set)  # version → its disease terms
    for version_id, curie in _read(select(DatasetDisease.version_id, DatasetDisease.term_curie)):
        if version_id in published:
            tags[version_id].add(curie)
    named = {c for curies in tags.values() for c in curies}
    if not named:
        return {}, {}, {}
    above: dict[str, set[str]] = defaultdict(set)  # term → itself and every term above it
    for ancestor, descendant in _read(
        select(TermClosure.ancestor_curie, TermClosure.descendant_curie).where(
            TermClosure.descendant_curie.in_(sorted(named))
        )
    ):
        above[descendant].add(ancestor)
    # datasets with the same disease terms share the terms above them: group them first
    combinations: dict[frozenset[str], list[int]] = {}
    for version_id, curies in tags.items():
        cell = combinations.setdefault(frozenset(curies), [0, 0])
        cell[0] += 1
        cell[1] += published[version_id].patients
    totals: dict[str, tuple[int, int]] = {}
    for combination, (n, patients) in combinations.items():
        for term in set().union(*(above.get(c, {c}) for c in combination)):
            had = totals.get(term, (0, 0))
            totals[term] = (had[0] + n, had[1] + patients)
    terms = sorted(totals)
    query = select(Term.curie, Term.label).where(Term.curie.in_(terms))
    labels = {str(c): str(label) for c, label in _read(query)}
    broader: dict[str, list[str]] = defaultdict(list)
    for child, parent in _read(
        select(TermEdge.child_curie, TermEdge.parent_curie).where(
            TermEdge.child_curie.in_(terms), TermEdge.parent_curie.in_(terms)
        )
    ):
        broader[child].append(parent)
    return totals, labels, {c: tuple(sorted(p)) for c, p in broader.items()}


def _disease_tree(rule: counts.CountRule, raw: _Raw) -> list[DiseaseRow]:
    """The disease terms as a tree, largest first at each level (small cells alike), each term
    once, under its first broader term."""
    totals, labels = raw.diseases, raw.disease_labels
    children: dict[str, list[str]] = defaultdict(list)
    for child, parents in raw.broader.items():
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
                broader=raw.broader.get(curie, ()),
            )
        )
        for child in order(children.get(curie, [])):
            visit(child, depth + 1)

    for root in order(t for t in totals if not raw.broader.get(t)):
        visit(root, 0)
    return rows


def _growth(
    rule: counts.CountRule, months: dict[tuple[int, int], tuple[int, int]]
) -> list[MonthRow]:
    """Published datasets and their patients by month of first publication, every month from
    the first to the last, with running totals."""
    if not months:
        return []
    year, month = min(months)
    last = max(months)
    result: list[MonthRow] = []
    cumulative_datasets = cumulative_patients = 0
    while (year, month) <= last:
        n, patients = months.get((year, month), (0, 0))
        cumulative_datasets += n
        cumulative_patients += patients
        result.append(
            MonthRow(
                month=f"{year:04d}-{month:02d}",
                datasets=n,
                patients=rule.count(patients),
                cumulative_datasets=cumulative_datasets,
                cumulative_patients=rule.count(cumulative_patients),
            )
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _variable_share(version_ids: list[str]) -> VariableShare:
    """Variables of the published versions, and how many have an accepted mapping of their own
    (a mapping of one of their values does not make the variable mapped). Each published
    version is counted once and kept (:class:`VersionFigures`): it never changes."""
    wanted = set(version_ids)
    known = {
        version_id: (n, m)
        for version_id, n, m in _read(
            select(VersionFigures.version_id, VersionFigures.variables, VersionFigures.mapped)
        )
        if version_id in wanted
    }
    missing = sorted(wanted - set(known))
    if missing:
        counted = _count_figures(missing)
        known.update(counted)
        g.setdefault("figures_to_keep", {}).update(counted)
    return VariableShare(sum(n for n, _ in known.values()), sum(m for _, m in known.values()))


def published_version_counts(version_ids: Iterable[str]) -> dict[str, VariableCounts]:
    """Variables and mapped variables of these **published** versions, from the figures kept
    per version (:class:`VersionFigures`; the ones not kept yet are counted now and kept). For
    pages that add up many published versions (a publisher's coverage over hundreds of
    datasets) without counting their dictionaries on every request. A draft's figures change:
    ask :func:`catalogue.datasets.services.variable_counts` for those."""
    wanted = sorted(set(version_ids))
    if not wanted:
        return {}
    known: dict[str, tuple[int, int]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        known.update(
            (version_id, (n, m))
            for version_id, n, m in get_session().execute(
                select(
                    VersionFigures.version_id, VersionFigures.variables, VersionFigures.mapped
                ).where(VersionFigures.version_id.in_(chunk))
            )
        )
    missing = [v for v in wanted if v not in known]
    if missing:
        counted = _count_figures(missing)
        known.update(counted)
        g.setdefault("figures_to_keep", {}).update(counted)
        _keep_counted_figures()
    return {v: VariableCounts(n, m) for v, (n, m) in known.items()}


#: above this many versions to count, one pass over all variables beats asking per version
WHOLE_CATALOGUE = 500


def _count_figures(version_ids: list[str]) -> dict[str, tuple[int, int]]:
    """``{version: (variables, mapped)}``, counted from the dictionaries (a version without
    variables: (0, 0)). A few versions (the ones published since the last request): their
    variables, each looked up in the mappings' index. Many (a catalogue loaded in bulk, the
    first time): two grouped passes over the whole catalogue, about a second per million
    variables, once."""
    session = get_session()
    figures = dict.fromkeys(version_ids, (0, 0))
    own_mapping = (
        select(Mapping.id)
        .where(
            Mapping.variable_id == Variable.id,
            Mapping.status == MappingStatus.ACCEPTED,
            Mapping.value_code.is_(None),
        )
        .exists()
    )
    if len(version_ids) <= WHOLE_CATALOGUE:
        for version_id, n, m in session.execute(
            select(Variable.version_id, func.count(), func.sum(case((own_mapping, 1), else_=0)))
            .where(Variable.version_id.in_(version_ids))
            .group_by(Variable.version_id)
        ):
            figures[version_id] = (int(n), int(m or 0))
        return figures
    variables = dict(
        session.execute(
            select(Variable.version_id, func.count()).group_by(Variable.version_id)
        ).all()
    )
    mapped = dict(
        session.execute(
            select(Variable.version_id, func.count(func.distinct(Mapping.variable_id)))
            .join(Variable, Variable.id == Mapping.variable_id)
            .where(Mapping.status == MappingStatus.ACCEPTED, Mapping.value_code.is_(None))
            .group_by(Variable.version_id)
        ).all()
    )
    for version_id in version_ids:
        figures[version_id] = (int(variables.get(version_id, 0)), int(mapped.get(version_id, 0)))
    return figures


def _keep_counted_figures() -> None:
    """Store the figures of published versions counted by this request (another request may
    have stored some of them meanwhile: those are skipped)."""
    figures: dict[str, tuple[int, int]] = g.pop("figures_to_keep", {})
    if not figures:
        return
    dialect = get_session().get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    rows = [{"version_id": v, "variables": n, "mapped": m} for v, (n, m) in figures.items()]

    def write(session: Session) -> None:
        for start in range(0, len(rows), 500):
            session.execute(
                insert(VersionFigures).on_conflict_do_nothing(index_elements=["version_id"]),
                rows[start : start + 500],
            )

    # a reader's write: in a writer's transaction of its own, skipped when the database is busy
    write_in_passing(write, "keeping the published versions' figures")
