"""What the metadata export may publish, read in bulk.

Only what is public ever leaves through here: the latest *published* version of a published
dataset, and a tombstone for a retired one. Drafts never do, not even for their custodians (the
RDF of a dataset is a publication, not a working view), and neither does an open draft of a
published dataset: its RDF stays that of the published version until the draft is published.

A published dataset is never deleted (only drafts that were never published are, and those were
never in the catalogue), so retirement is the one way a dataset leaves the catalogue: its IRI
then describes a tombstone that harvesters remove.

"Modified" here is when the *public* record last changed: the publication of its latest version,
or its retirement. Draft edits do not count, so harvesters are not sent after changes they
cannot see.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from catalogue import policies
from catalogue.datasets.services import VERSION_FIELDS
from catalogue.models import (
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingStatus,
    Variable,
    VersionStatus,
)
from core.db import get_session, query_timeout
from core.errors import InvalidInput, NotFound
from core.models import Organisation
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require
from ontologies.models import Term

#: the version columns a record carries (everything the DCAT-AP description uses)
VERSION_COLUMNS = ("id", "dataset_id", "number", "published_at", *VERSION_FIELDS)
MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100


@dataclass(frozen=True)
class Publisher:
    id: str
    name: str
    country: str
    kind: str
    city: str | None
    ror_id: str | None


@dataclass(frozen=True)
class DiseaseTerm:
    curie: str
    iri: str
    label: str


@dataclass
class PublicRecord:
    """One dataset as the catalogue publishes it: ``version`` is the described version (the
    latest published one unless an older one was asked for); ``retired`` records are
    tombstones."""

    identifier: str
    status: DatasetStatus
    first_published_at: dt.datetime
    modified: dt.datetime
    retired_at: dt.datetime | None
    retirement_note: str | None
    publisher: Publisher
    version: Any  # a row with VERSION_COLUMNS
    current_number: int
    published_numbers: list[int]
    diseases: list[DiseaseTerm] = field(default_factory=list)
    has_variables: bool = False
    #: describes one version (``/datasets/{id}/versions/{n}``) rather than the dataset
    versioned: bool = False

    @property
    def retired(self) -> bool:
        return self.status is DatasetStatus.RETIRED

    @property
    def is_current(self) -> bool:
        return self.version.number == self.current_number

    @property
    def previous_number(self) -> int | None:
        earlier = [n for n in self.published_numbers if n < self.version.number]
        return earlier[-1] if earlier else None


def _public_modified() -> ColumnElement[Any]:
    """SQL: when a non-draft dataset's public record last changed (its retirement, or the
    latest publication of a version: read from ``ix_dataset_versions_dataset_published``
    alone)."""
    latest_publication = (
        select(func.max(DatasetVersion.published_at))
        .where(DatasetVersion.dataset_id == Dataset.id)
        .correlate(Dataset)
        .scalar_subquery()
    )
    return case(
        (Dataset.status == DatasetStatus.RETIRED, Dataset.retired_at),
        else_=latest_publication,
    )


@functools.cache
def _statements() -> dict[str, Any]:
    """The statements that read records, built once (building a ``select()`` costs more than
    running it on a warm database)."""
    ids: Any = bindparam("ids", expanding=True)
    version_ids: Any = bindparam("version_ids", expanding=True)
    has_any = exists().where(Variable.version_id == DatasetVersion.id)
    columns = (
        Dataset.id,
        Dataset.identifier,
        Dataset.status,
        Dataset.organisation_id,
        Dataset.published_at,
        Dataset.retired_at,
        Dataset.retirement_note,
        Organisation.id.label("org_id"),
        Organisation.name.label("org_name"),
        Organisation.country.label("org_country"),
        Organisation.kind.label("org_kind"),
        Organisation.city.label("org_city"),
        Organisation.ror_id.label("org_ror"),
    )
    datasets = select(*columns).join(Organisation, Organisation.id == Dataset.organisation_id)
    return {
        "dataset": datasets.where(Dataset.identifier == bindparam("identifier")),
        "datasets": datasets.where(Dataset.id.in_(ids), policies.public_datasets()),
        # every published version (current or superseded) of the datasets, oldest first, and
        # whether it has variables (one index probe each)
        "versions": select(
            *[getattr(DatasetVersion, c) for c in VERSION_COLUMNS],
            has_any.label("has_variables"),
        )
        .where(
            DatasetVersion.dataset_id.in_(ids),
            DatasetVersion.status != VersionStatus.DRAFT,
            DatasetVersion.published_at.is_not(None),
        )
        .order_by(DatasetVersion.dataset_id, DatasetVersion.number),
        "diseases": select(DatasetDisease.version_id, Term.curie, Term.iri, Term.label)
        .join(Term, Term.curie == DatasetDisease.term_curie)
        .where(DatasetDisease.version_id.in_(version_ids))
        .order_by(DatasetDisease.version_id, DatasetDisease.position),
    }


def _load(
    dataset_ids: Sequence[str], numbers: dict[str, int] | None = None, rows: Sequence[Any] = ()
) -> list[PublicRecord]:
    """Records of these (non-draft) datasets, in the order given; ``numbers`` picks a version
    per dataset id (default: the latest published one); ``rows``: the datasets' rows, when the
    caller read them already. Three statements whatever the count."""
    if not dataset_ids:
        return []
    # Core execution: these are column selects, so the ORM's machinery would only add time
    session: Any = get_session().connection()
    statements = _statements()
    ids = list(dataset_ids)
    datasets: dict[str, Any] = {row.id: row for row in rows} or {
        row.id: row for row in session.execute(statements["datasets"], {"ids": ids})
    }
    published: dict[str, list[int]] = {}
    by_number: dict[tuple[str, int], Any] = {}
    for version_row in session.execute(statements["versions"], {"ids": list(datasets)}):
        published.setdefault(version_row.dataset_id, []).append(version_row.number)
        by_number[(version_row.dataset_id, version_row.number)] = version_row
    versions: dict[str, Any] = {}
    for dataset_id, numbers_ in published.items():
        wanted = (numbers or {}).get(dataset_id, numbers_[-1])
        if (dataset_id, wanted) in by_number:
            versions[dataset_id] = by_number[(dataset_id, wanted)]
    version_ids = [v.id for v in versions.values()]
    diseases: dict[str, list[DiseaseTerm]] = {}
    if version_ids:
        for version_id, curie, iri, label in session.execute(
            statements["diseases"], {"version_ids": version_ids}
        ):
            diseases.setdefault(version_id, []).append(DiseaseTerm(curie, iri, label))
    records = []
    for dataset_id in dataset_ids:
        row = datasets.get(dataset_id)
        version = versions.get(dataset_id)
        if row is None or version is None:
            continue
        numbers_ = published[dataset_id]
        latest = version.published_at or row.published_at
        records.append(
            PublicRecord(
                identifier=row.identifier,
                status=row.status,
                first_published_at=row.published_at or latest,
                modified=row.retired_at if row.status is DatasetStatus.RETIRED else latest,
                retired_at=row.retired_at,
                retirement_note=row.retirement_note,
                publisher=Publisher(
                    row.org_id,
                    row.org_name,
                    row.org_country,
                    getattr(row.org_kind, "value", row.org_kind),
                    row.org_city,
                    row.org_ror,
                ),
                version=version,
                current_number=numbers_[-1],
                published_numbers=numbers_,
                diseases=diseases.get(version.id, []),
                has_variables=bool(version.has_variables),
            )
        )
    _set_current_modified(records)
    return records


def _set_current_modified(records: list[PublicRecord]) -> None:
    """A record of an older version is still modified when the dataset's latest version was
    published (or when it was retired): read those dates for records that describe older
    versions."""
    older = [r for r in records if not r.is_current and not r.retired]
    if not older:
        return
    ids = {r.version.dataset_id for r in older}
    rows = get_session().execute(
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.published_at))
        .where(DatasetVersion.dataset_id.in_(ids))
        .group_by(DatasetVersion.dataset_id)
    )
    latest = {row[0]: row[1] for row in rows}
    for record in older:
        record.modified = latest.get(record.version.dataset_id) or record.modified


def public_record(actor: Actor, identifier: str, number: int | None = None) -> PublicRecord:
    """The published (or retired) dataset with this identifier, as the catalogue publishes it;
    ``number``: one of its published versions.

    :raises NotFound: for an unknown identifier, a dataset that was never published (a draft:
        for everyone, its custodians too), or a version number that was never published.
    """
    connection = get_session().connection()
    dataset = connection.execute(_statements()["dataset"], {"identifier": identifier}).first()
    if dataset is None or not policies.is_public(dataset):
        raise NotFound(f"No dataset “{identifier}”.")  # the same words: a draft does not leak
    require(actor, Permission.DATASET_READ, dataset, hide=True)
    chosen = {dataset.id: number} if number is not None else None
    records = _load([dataset.id], chosen, rows=[dataset])
    if not records:
        if number is not None:
            raise NotFound(f"Dataset “{identifier}” has no published version {number}.")
        raise NotFound(f"No dataset “{identifier}”.")
    records[0].versioned = number is not None
    return records[0]


@dataclass(frozen=True)
class CatalogueFacts:
    """What the dcat:Catalog says about itself: when it was first published and last changed,
    and how many datasets (published, and tombstones) it holds."""

    issued: dt.datetime | None
    modified: dt.datetime | None
    published: int
    retired: int


def catalogue_facts() -> CatalogueFacts:
    """Two aggregates: versions of drafts were never published (no ``published_at``), and a
    retired dataset's retirement comes after its publications, so the latest change of the
    catalogue is the latest publication or retirement of any dataset."""
    session = get_session()
    issued, retired_last, published, retired = session.execute(
        select(
            func.min(Dataset.published_at),
            func.max(Dataset.retired_at),
            func.count().filter(Dataset.status == DatasetStatus.PUBLISHED),
            func.count().filter(Dataset.status == DatasetStatus.RETIRED),
        ).where(policies.public_datasets())
    ).one()
    published_last = session.scalar(select(func.max(DatasetVersion.published_at)))
    last = max((t for t in map(_aware, (retired_last, published_last)) if t), default=None)
    return CatalogueFacts(_aware(issued), last, published or 0, retired or 0)


def _aware(value: Any) -> dt.datetime | None:
    """Aggregates lose the column type on SQLite (a string comes back): a UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_modified_since(raw: str | None) -> dt.datetime | None:
    """``modified_since`` as a UTC datetime: an ISO 8601 date-time (a zone offset or ``Z``;
    none means UTC) or a date (its midnight, UTC).

    :raises InvalidInput: naming ``modified_since`` for anything else.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput.field(
            "modified_since",
            f"“{raw}” is not an ISO 8601 date-time (e.g. 2025-01-31T12:00:00Z or 2025-01-31).",
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def harvest_page(
    actor: Actor,
    *,
    modified_since: dt.datetime | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[PublicRecord]:
    """Published datasets and tombstones of retired ones, changed at or after
    ``modified_since``, oldest change first (then by identifier), one page of them: a harvester
    remembers the latest ``dct:modified`` it saw and asks for what changed since."""
    require(actor, Permission.DATASET_READ)
    modified = _public_modified()
    query = select(Dataset.id).where(policies.public_datasets())
    if modified_since is not None:
        query = query.where(modified >= modified_since)
    ids = paginate(
        query,
        page=page,
        per_page=per_page,
        order=(modified, Dataset.identifier),
        max_per_page=MAX_PER_PAGE,
    )
    return Page(items=_load(list(ids.items)), total=ids.total, page=page, per_page=per_page)


def iter_records(batch: int = 500, *, timeout_ms: int | None = None) -> Iterator[PublicRecord]:
    """Every published dataset and every tombstone, by identifier, read ``batch`` datasets at a
    time (constant memory: nothing of a batch is kept once it is handed out). Each batch's
    reads are cut off after ``timeout_ms`` (default: the ``QUERY_TIMEOUT_MS`` setting); the
    whole walk has no limit.

    :raises ServiceUnavailable: when a batch takes longer.
    """
    session = get_session()
    last = ""
    while True:
        with query_timeout(timeout_ms):
            rows = session.execute(
                select(Dataset.id, Dataset.identifier)
                .where(policies.public_datasets(), Dataset.identifier > last)
                .order_by(Dataset.identifier)
                .limit(batch)
            ).all()
            records = _load([row.id for row in rows]) if rows else []
        if not rows:
            return
        yield from records
        last = rows[-1].identifier


def count_public() -> int:
    return (
        get_session().scalar(
            select(func.count()).select_from(Dataset).where(policies.public_datasets())
        )
        or 0
    )


# --- what a dataset's record points to: its variables, its publisher ---------------------------


@dataclass(frozen=True)
class TermMapping:
    """An accepted mapping of a variable (``value_code`` None) or of one of its permissible
    values to a term, as the public sees it."""

    value_code: str | None
    predicate: str  # a SKOS mapping relation as a CURIE: "skos:exactMatch"
    justification: str  # a semapv CURIE: "semapv:ManualMappingCuration"
    confidence: float | None
    mapping_date: dt.date | None
    curie: str
    iri: str
    label: str | None


@dataclass(frozen=True)
class PublicVariable:
    """A variable of a dataset's latest published version (of its last one, for a retired
    dataset) with its accepted mappings and those of its values."""

    record: PublicRecord
    variable: Any  # a row of VARIABLE_COLUMNS
    mappings: list[TermMapping]

    @property
    def codes(self) -> list[str]:
        return [str(v.get("code", "")) for v in self.variable.permissible_values or []]


VARIABLE_COLUMNS = (
    "id",
    "name",
    "label",
    "description",
    "value_type",
    "unit",
    "minimum",
    "maximum",
    "permissible_values",
    "missing_codes",
)


def public_variable(actor: Actor, identifier: str, name: str) -> PublicVariable:
    """The variable ``name`` as the catalogue publishes it: the one of the dataset's latest
    published version. Two index lookups besides :func:`public_record`'s.

    :raises NotFound: for a dataset that does not exist or was never published (the same words
        as :func:`public_record`: a draft does not leak), or a name the latest published
        version has not (a variable of a draft only, or one a later version dropped).
    """
    record = public_record(actor, identifier)
    session = get_session()
    row = session.execute(
        select(*[getattr(Variable, c) for c in VARIABLE_COLUMNS]).where(
            Variable.version_id == record.version.id, Variable.name == name
        )
    ).first()
    if row is None:
        raise NotFound(
            f"The published version of “{identifier}” has no variable “{name}”.",
        )
    rows = session.execute(
        select(
            Mapping.value_code,
            Mapping.predicate,
            Mapping.justification,
            Mapping.confidence,
            Mapping.mapping_date,
            Mapping.object_curie,
            Term.iri,
            Term.label,
        )
        .join(Term, Term.curie == Mapping.object_curie)
        .where(Mapping.variable_id == row.id, Mapping.status == MappingStatus.ACCEPTED)
        .order_by(Mapping.value_code.is_not(None), Mapping.value_code, Mapping.id)
    )
    mappings = [
        TermMapping(
            code,
            _enum_value(predicate),
            _enum_value(justification),
            confidence,
            mapping_date,
            curie,
            iri,
            label,
        )
        for code, predicate, justification, confidence, mapping_date, curie, iri, label in rows
    ]
    return PublicVariable(record, row, mappings)


def _enum_value(member: Any) -> str:
    return str(getattr(member, "value", member))


@dataclass(frozen=True)
class PublicOrganisation:
    """An organisation as its IRI describes it: what a dataset's record says of its publisher,
    and the datasets it publishes now (identifier and title, by identifier)."""

    publisher: Publisher
    datasets: list[tuple[str, str]]


def public_organisation(actor: Actor, organisation_id: str) -> PublicOrganisation:
    """Anyone may see an organisation (the alliance's partners are public); its datasets are
    the published ones (neither drafts nor retired ones), each with its latest published
    version's title.

    :raises NotFound: for an unknown organisation id.
    """
    require(actor, Permission.ORGANISATION_READ)
    session = get_session()
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"No organisation “{organisation_id}”.")
    require(actor, Permission.DATASET_READ)
    latest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.number).label("number"))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            Dataset.organisation_id == organisation.id,
            Dataset.status == DatasetStatus.PUBLISHED,
            policies.public_datasets(),
            DatasetVersion.status != VersionStatus.DRAFT,
            DatasetVersion.published_at.is_not(None),
        )
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    rows = session.execute(
        select(Dataset.identifier, DatasetVersion.title)
        .join(latest, latest.c.dataset_id == Dataset.id)
        .join(
            DatasetVersion,
            (DatasetVersion.dataset_id == latest.c.dataset_id)
            & (DatasetVersion.number == latest.c.number),
        )
        .order_by(Dataset.identifier)
    ).all()
    publisher = Publisher(
        organisation.id,
        organisation.name,
        organisation.country,
        _enum_value(organisation.kind),
        organisation.city,
        organisation.ror_id,
    )
    return PublicOrganisation(publisher, [(r.identifier, r.title) for r in rows])
