"""Publishers: the organisations that publish datasets, as anybody may see them.

An organisation's page (``/organisations/{id}``, also its IRI in the DCAT-AP export) says who
it is (country, kind, ROR id) and what it publishes: its published datasets, the patients they
cover (in all and per disease), and how much of their data dictionaries is mapped to standard
terms. The index (``/organisations``) lists the organisations that publish.

What counts is what the public sees: the current published version of every *published*
dataset. Drafts never count, not even for the custodians who see them (they are told how many
drafts they have, apart); retired datasets are listed apart and not counted. Patient totals are
sums the catalogue computes, so they leave through the caller's small-cell rule
(:mod:`catalogue.stats.counts`) like the dashboard's; the count each dataset declares is shown
as given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pycountry
from sqlalchemy import func, select

from catalogue import policies
from catalogue.datasets import services as datasets
from catalogue.datasets.services import VariableCounts
from catalogue.models import (
    SOURCE_TYPE_LABELS,
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    SourceType,
    VersionStatus,
)
from catalogue.stats import counts
from catalogue.stats.services import published_version_counts
from core import services as accounts
from core.db import get_session
from core.errors import InvalidInput
from core.models import Organisation, OrganisationKind
from core.pagination import Page, check_page
from core.permissions import Permission
from core.policies import Actor, require

KIND_LABELS = {
    OrganisationKind.UNIVERSITY: "University",
    OrganisationKind.HOSPITAL: "Hospital",
    OrganisationKind.INDUSTRY: "Company",
    OrganisationKind.REGISTRY: "Registry",
    OrganisationKind.TRIAL_GROUP: "Trial group",
    OrganisationKind.REGULATOR: "Regulator",
    OrganisationKind.HTA_BODY: "Health technology assessment body",
    OrganisationKind.PATIENT_ORGANISATION: "Patient organisation",
    OrganisationKind.OTHER: "Other",
}
ROR_URL = "https://ror.org/{}"
DATASETS_PER_PAGE = 50
PUBLISHERS_PER_PAGE = 50
#: the index's orders; patients are not one of them (the order would tell a small cell's size)
SORTS = {"name": "Name (A–Z)", "datasets": "Most datasets first", "country": "Country"}  # noqa: RUF001


def country_name(code: str | None) -> str:
    """The country's common name ("Netherlands", "United Kingdom"); the code itself when
    pycountry does not know it."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper())
    return getattr(country, "common_name", None) or (country.name if country else code)


def kind_label(kind: OrganisationKind | None) -> str:
    return KIND_LABELS.get(kind, "Other") if kind is not None else "Other"


def ror_url(ror_id: str | None) -> str | None:
    return ROR_URL.format(ror_id) if ror_id else None


# --- one publisher --------------------------------------------------------------------------


@dataclass
class PublishedDataset:
    """A published dataset as its publisher's page lists it (its current published version)."""

    identifier: str
    title: str
    version_id: str
    patients: int | None  # as declared
    source_type: str | None
    first_year: int | None
    last_year: int | None
    diseases: list[tuple[str, str]] = field(default_factory=list)  # (curie, label)
    counts: VariableCounts = field(default_factory=VariableCounts)

    @property
    def source_label(self) -> str | None:
        if self.source_type is None:
            return None
        try:
            return SOURCE_TYPE_LABELS[SourceType(self.source_type)]
        except ValueError:
            return self.source_type


@dataclass
class RetiredDataset:
    identifier: str
    title: str
    retired_at: dt.datetime | None


@dataclass
class DiseaseCover:
    """The publisher's datasets tagged with one disease term, and their patients."""

    curie: str
    label: str
    datasets: int
    patients: counts.PatientCount


@dataclass
class Publisher:
    organisation: Organisation
    country: str  # its name
    kind: str  # in words
    ror_url: str | None
    total: int  # published datasets
    datasets: Page[PublishedDataset]  # one page of them, by title
    patients: counts.PatientCount  # the sum of what they declare
    undeclared: int  # published datasets that declare no patient count
    diseases: list[DiseaseCover]
    coverage: VariableCounts  # variables of the published versions, and mapped ones
    retired: list[RetiredDataset]
    drafts: int | None  # the caller's view of the drafts: None for those who see none
    threshold: int

    @property
    def is_empty(self) -> bool:
        return self.total == 0


@dataclass
class _Row:
    identifier: str
    title: str
    version_id: str
    patients: int | None
    source_type: str | None
    first_year: int | None
    last_year: int | None


def _published_rows(organisation_ids: list[str]) -> list[tuple[str, _Row]]:
    """``(organisation id, row)`` for the current published version of every published dataset
    of these organisations, in one query (the versions' columns only, no ORM objects)."""
    if not organisation_ids:
        return []
    query = (
        select(
            Dataset.organisation_id,
            Dataset.identifier,
            DatasetVersion.title,
            DatasetVersion.id,
            DatasetVersion.patients,
            DatasetVersion.source_type,
            DatasetVersion.first_year,
            DatasetVersion.last_year,
        )
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(
            Dataset.organisation_id.in_(organisation_ids),
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )
    rows = [
        (
            str(r.organisation_id),
            _Row(
                identifier=r.identifier,
                title=r.title,
                version_id=r.id,
                patients=r.patients,
                source_type=None if r.source_type is None else r.source_type.value,
                first_year=r.first_year,
                last_year=r.last_year,
            ),
        )
        for r in get_session().execute(query)
    ]
    rows.sort(key=lambda r: (r[1].title.casefold(), r[1].identifier))
    return rows


def _disease_tags(version_ids: list[str]) -> dict[str, list[str]]:
    """Each version's disease terms, in the order the dataset lists them."""
    if not version_ids:
        return {}
    tags: dict[str, list[str]] = {}
    for version_id, curie in get_session().execute(
        select(DatasetDisease.version_id, DatasetDisease.term_curie)
        .where(DatasetDisease.version_id.in_(version_ids))
        .order_by(DatasetDisease.version_id, DatasetDisease.position)
    ):
        tags.setdefault(version_id, []).append(curie)
    return tags


def get_publisher(actor: Actor, organisation_id: str, *, page: int = 1) -> Publisher:
    """An organisation as its public page shows it (anybody may see it).

    :raises NotFound: for an unknown organisation.
    :raises InvalidInput: (naming ``page``) for a page number out of range.
    """
    check_page(page, DATASETS_PER_PAGE)
    organisation = accounts.get_organisation(actor, organisation_id)
    require(actor, Permission.DATASET_READ)
    rule = counts.rule_for(actor)
    rows = [row for _org, row in _published_rows([organisation.id])]
    version_ids = [r.version_id for r in rows]
    tags = _disease_tags(version_ids)
    variable_counts = published_version_counts(version_ids)
    labels = {
        c: t.label
        for c, t in datasets.terms_by_curie(c for cs in tags.values() for c in cs).items()
    }

    per_disease: dict[str, list[int]] = {}
    for row in rows:
        for curie in dict.fromkeys(tags.get(row.version_id, [])):
            cell = per_disease.setdefault(curie, [0, 0])
            cell[0] += 1
            cell[1] += row.patients or 0
    diseases = sorted(
        (
            DiseaseCover(curie, labels.get(curie, curie), n, rule.count(patients))
            for curie, (n, patients) in per_disease.items()
        ),
        key=lambda d: (-d.patients.bar, -d.datasets, d.label.casefold()),
    )

    coverage = VariableCounts()
    for version_id in version_ids:
        coverage = coverage + variable_counts.get(version_id, VariableCounts())

    shown = rows[(page - 1) * DATASETS_PER_PAGE : page * DATASETS_PER_PAGE]
    listed = [
        PublishedDataset(
            identifier=r.identifier,
            title=r.title,
            version_id=r.version_id,
            patients=r.patients,
            source_type=r.source_type,
            first_year=r.first_year,
            last_year=r.last_year,
            diseases=[(c, labels.get(c, c)) for c in tags.get(r.version_id, [])],
            counts=variable_counts.get(r.version_id, VariableCounts()),
        )
        for r in shown
    ]
    return Publisher(
        organisation=organisation,
        country=country_name(organisation.country),
        kind=kind_label(organisation.kind),
        ror_url=ror_url(organisation.ror_id),
        total=len(rows),
        datasets=Page(items=listed, total=len(rows), page=page, per_page=DATASETS_PER_PAGE),
        patients=rule.count(sum(r.patients or 0 for r in rows)),
        undeclared=sum(1 for r in rows if r.patients is None),
        diseases=diseases,
        coverage=coverage,
        retired=_retired(organisation.id),
        drafts=_drafts(actor, organisation.id),
        threshold=rule.threshold,
    )


def _retired(organisation_id: str) -> list[RetiredDataset]:
    """The organisation's retired datasets (public tombstones), most recently retired first."""
    retired = list(
        get_session().execute(
            select(Dataset.id, Dataset.identifier, Dataset.retired_at).where(
                Dataset.organisation_id == organisation_id,
                Dataset.status == DatasetStatus.RETIRED,
            )
        )
    )
    titles = datasets.published_titles(r[0] for r in retired)
    found = [RetiredDataset(r[1], titles.get(r[0], r[1]), r[2]) for r in retired]
    oldest = dt.datetime.min
    return sorted(found, key=lambda d: (d.retired_at or oldest, d.identifier), reverse=True)


def _drafts(actor: Actor, organisation_id: str) -> int | None:
    """How many of the organisation's datasets have a draft, for those who see its drafts (its
    custodians, administrators); None for everybody else, who must not learn of them."""
    if not policies.can_see_drafts(actor, _Owned(organisation_id)):
        return None
    return int(
        get_session().scalar(
            select(func.count(func.distinct(DatasetVersion.dataset_id)))
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(
                Dataset.organisation_id == organisation_id,
                DatasetVersion.status == VersionStatus.DRAFT,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class _Owned:
    """Anything with an ``organisation_id``, for :func:`catalogue.policies.can_see_drafts`."""

    organisation_id: str


# --- the index ------------------------------------------------------------------------------


@dataclass
class PublisherRow:
    organisation: Organisation
    country: str
    kind: str
    datasets: int
    patients: counts.PatientCount
    coverage: VariableCounts


@dataclass
class PublisherIndex:
    page: Page[PublisherRow]
    sort: str
    others: int  # organisations that publish nothing (yet)
    datasets: int  # published datasets of all publishers
    threshold: int


def list_publishers(
    actor: Actor, *, sort: str | None = None, page: int = 1, per_page: int = PUBLISHERS_PER_PAGE
) -> PublisherIndex:
    """The organisations with at least one published dataset, with their figures (public).

    :raises InvalidInput: naming ``sort`` or ``page`` for a value out of range.
    """
    require(actor, Permission.ORGANISATION_READ)
    require(actor, Permission.DATASET_READ)
    sort = sort or "name"
    if sort not in SORTS:
        raise InvalidInput.field("sort", "Sort by one of: " + ", ".join(SORTS) + ".")
    check_page(page, per_page)
    rule = counts.rule_for(actor)
    session = get_session()
    tally = {
        str(org_id): (int(n), int(patients or 0))
        for org_id, n, patients in session.execute(
            select(Dataset.organisation_id, func.count(), func.sum(DatasetVersion.patients))
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .where(
                Dataset.status == DatasetStatus.PUBLISHED,
                DatasetVersion.status == VersionStatus.PUBLISHED,
            )
            .group_by(Dataset.organisation_id)
        )
    }
    organisations = list(
        session.scalars(select(Organisation).where(Organisation.id.in_(sorted(tally))))
    )
    order: dict[str, Any] = {
        "name": lambda o: (o.name_key, o.id),
        "datasets": lambda o: (-tally[o.id][0], o.name_key, o.id),
        "country": lambda o: (country_name(o.country).casefold(), o.name_key, o.id),
    }
    ordered = sorted(organisations, key=order[sort])
    shown = ordered[(page - 1) * per_page : page * per_page]
    by_org: dict[str, list[str]] = {}
    for org_id, row in _published_rows([o.id for o in shown]):
        by_org.setdefault(org_id, []).append(row.version_id)
    figures = published_version_counts(v for versions in by_org.values() for v in versions)
    items = []
    for organisation in shown:
        coverage = VariableCounts()
        for version_id in by_org.get(organisation.id, []):
            coverage = coverage + figures.get(version_id, VariableCounts())
        n, patients = tally[organisation.id]
        items.append(
            PublisherRow(
                organisation=organisation,
                country=country_name(organisation.country),
                kind=kind_label(organisation.kind),
                datasets=n,
                patients=rule.count(patients),
                coverage=coverage,
            )
        )
    everyone = session.scalar(select(func.count()).select_from(Organisation)) or 0
    return PublisherIndex(
        page=Page(items=items, total=len(ordered), page=page, per_page=per_page),
        sort=sort,
        others=int(everyone) - len(ordered),
        datasets=sum(n for n, _p in tally.values()),
        threshold=rule.threshold,
    )
