"""Datasets: create, read, edit, version, publish, retire, delete, and their history.

Every use case takes the actor first and checks it here (see :mod:`catalogue.policies`). Which
version a caller sees: editors (custodians of the owning organisation, admins) work on the open
draft when there is one; everybody else sees the latest published version. Published versions
never change: a change to a published dataset opens a new draft version (a copy of the last
one, variables and mappings included) with :func:`new_version`, and publishing that draft
supersedes the old version, which stays readable with the variables it had.

Edits carry the dataset's ETag (``If-Match``): a stale one is refused with 412 so that two
custodians never overwrite each other unknowingly.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import selectinload

from catalogue import policies as _policies  # noqa: F401 - registers the area's rules
from catalogue.models import (
    Dataset,
    DatasetChange,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    UsedIdentifier,
    Variable,
    VersionStatus,
)
from catalogue.search import indexer as search_index
from core import services as accounts
from core.db import get_session, lock_revision, transactional, utcnow, writes_now
from core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, ServiceError
from core.models import Organisation, User
from core.pagination import Page
from core.permissions import Permission
from core.policies import Actor, can, is_admin, is_user, require, require_login
from ontologies.models import Term

DISEASE_ONTOLOGY = "HAEM"
IDENTIFIER_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# metadata fields of a version, as the service takes them (the API's names, flattened)
VERSION_FIELDS = (
    "title",
    "description",
    "source_type",
    "trial_ids",
    "countries",
    "patients",
    "records",
    "first_year",
    "last_year",
    "age_groups",
    "data_model",
    "keywords",
    "contact_name",
    "contact_email",
    "landing_page",
    "access_rights",
    "provenance",
    "classification",
    "data_freeze",
    "version",
)
# what a version needs before it can be published
REQUIRED_TO_PUBLISH = {
    "title": "a title",
    "description": "a description",
    "source_type": "a source type",
    "contact_email": "a contact email",
}


class PreconditionRequired(ServiceError):
    status, title, slug = 428, "Precondition required", "precondition-required"


# --- reading --------------------------------------------------------------------------------


def get_dataset(actor: Actor, identifier: str) -> Dataset:
    """The dataset with this public identifier (or internal id).

    :raises NotFound: when it does not exist or the actor may not see it (a draft of another
        organisation).
    """
    session = get_session()
    dataset = session.scalar(select(Dataset).where(Dataset.identifier == identifier))
    if dataset is None:
        dataset = session.get(Dataset, identifier) if len(identifier) == 32 else None
    if dataset is None:
        raise NotFound(f"No dataset “{identifier}”.")
    require(actor, Permission.DATASET_READ, dataset, hide=True)
    return dataset


def can_edit(actor: Actor, dataset: Dataset) -> bool:
    return can(actor, Permission.DATASET_UPDATE, dataset)


def latest_published(dataset: Dataset) -> DatasetVersion | None:
    published = [v for v in dataset.versions if v.status is not VersionStatus.DRAFT]
    return published[-1] if published else None


def open_draft(dataset: Dataset) -> DatasetVersion | None:
    last = dataset.versions[-1] if dataset.versions else None
    return last if last is not None and last.status is VersionStatus.DRAFT else None


def visible_version(actor: Actor, dataset: Dataset) -> DatasetVersion:
    """The version this actor sees by default: the open draft for editors, else the latest
    published version."""
    draft = open_draft(dataset)
    if draft is not None and can(actor, Permission.DATASET_READ_DRAFT, dataset):
        return draft
    version = latest_published(dataset)
    if version is None:  # only a draft, and the actor may not see it
        raise NotFound("No such dataset.")
    return version


def get_version(actor: Actor, identifier: str, number: int | None = None) -> DatasetVersion:
    """One version of a dataset (``number`` None: :func:`visible_version`).

    :raises NotFound: for an unknown number, or a draft version the actor may not see.
    """
    dataset = get_dataset(actor, identifier)
    if number is None:
        return visible_version(actor, dataset)
    for version in dataset.versions:
        if version.number == number:
            if version.status is VersionStatus.DRAFT:
                require(actor, Permission.DATASET_READ_DRAFT, dataset, hide=True)
            return version
    raise NotFound(f"Dataset “{dataset.identifier}” has no version {number}.")


SORTS: dict[str, Any] = {
    "-modified": Dataset.modified_at.desc(),
    "modified": Dataset.modified_at.asc(),
    "-created": Dataset.created_at.desc(),
    "created": Dataset.created_at.asc(),
    "identifier": Dataset.identifier.asc(),
    "-identifier": Dataset.identifier.desc(),
}


def list_datasets(
    actor: Actor,
    *,
    mine: bool = False,
    organisation: str | None = None,
    status: DatasetStatus | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[Dataset]:
    """Datasets the actor may see, most recently changed first. ``mine``: those of the
    organisations the actor is a custodian of (all of them for an admin)."""
    require(actor, Permission.DATASET_READ)
    query = select(Dataset)
    if mine:
        require_login(actor)
        if not is_admin(actor):
            query = query.where(Dataset.organisation_id.in_(actor.custodian_of()))  # type: ignore[union-attr]
    elif not is_admin(actor):
        own = actor.custodian_of() if is_user(actor) else set()  # type: ignore[union-attr]
        visible = Dataset.status != DatasetStatus.DRAFT
        query = query.where(visible | Dataset.organisation_id.in_(own) if own else visible)
    if organisation:
        query = query.where(Dataset.organisation_id == organisation)
    if status is not None:
        query = query.where(Dataset.status == status)
    session = get_session()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = SORTS.get(sort or "-modified")
    if order is None:
        raise InvalidInput.field("sort", "Sort by one of: " + ", ".join(SORTS) + ".")
    items = session.scalars(
        query.options(selectinload(Dataset.versions), selectinload(Dataset.organisation))
        .order_by(order, Dataset.identifier)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def history(actor: Actor, identifier: str) -> list[dict[str, Any]]:
    """Who changed what and when, newest first: ``{at, version_number, actor_label, action,
    summary, changes}``. Editors see everything; everyone else sees the changes of published
    versions, with the custodian organisation in place of the person (no names or emails)."""
    dataset = get_dataset(actor, identifier)
    changes = (
        get_session()
        .scalars(
            select(DatasetChange)
            .where(DatasetChange.dataset_id == dataset.id)
            .order_by(DatasetChange.at.desc(), DatasetChange.id.desc())
        )
        .all()
    )
    editor = can_edit(actor, dataset)
    draft = open_draft(dataset)
    hidden = draft.number if draft is not None and not editor else None
    return [
        {
            "at": c.at,
            "version_number": c.version_number,
            "actor_label": c.actor_label if editor else dataset.organisation.name,
            "action": c.action,
            "summary": c.summary,
            "changes": c.changes if editor else {},
        }
        for c in changes
        if hidden is None or c.version_number != hidden
    ]


def disease_terms(version: DatasetVersion) -> list[Term]:
    curies = [d.term_curie for d in version.diseases]
    if not curies:
        return []
    terms = {t.curie: t for t in get_session().scalars(select(Term).where(Term.curie.in_(curies)))}
    return [terms[c] for c in curies if c in terms]


def etag(dataset: Dataset) -> str:
    return f'"{dataset.id[:12]}-{dataset.revision}"'


# --- changing -------------------------------------------------------------------------------


def check_etag(dataset: Dataset, if_match: str | None, *, required: bool = True) -> None:
    """:raises PreconditionRequired: (428) when ``required`` and no ETag came.
    :raises PreconditionFailed: (412) when the ETag is not the current one."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send the dataset's current ETag in If-Match (GET it first) so that you do not "
                "overwrite someone else's change."
            )
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(dataset) not in tags:
        raise PreconditionFailed(
            "The dataset has changed since you read it; reload it and apply your change again."
        )


class _Unchecked(str):
    """The type of :data:`UNCHECKED`: no string that arrives over HTTP is one."""


UNCHECKED: str = _Unchecked("(no ETag check)")
"""Pass as ``if_match`` to change a dataset without an ETag check: for the CLI, the demo and
internal callers that hold the dataset already. It is recognised by identity, so a client that
sends this text (or ``-``) in ``If-Match`` is checked like any other; only ``*`` matches every
revision, by design."""


def editable_dataset(actor: Actor, identifier: str, if_match: str | None = None) -> Dataset:
    """The dataset, for a change by ``actor``: 404 when it may not see it, 403 when it sees it
    but may not change it, 412/428 for a stale or missing ETag (:data:`UNCHECKED` skips the
    check). The dataset's row is held until the change commits (:func:`core.db.lock_revision`),
    so that of two writers quoting the same ETag exactly one wins and the other gets 412."""
    dataset = get_dataset(actor, identifier)
    require(actor, Permission.DATASET_UPDATE, dataset)
    if writes_now():  # a page that only shows the edit form (GET) holds nothing
        lock_revision(dataset)
    if not isinstance(if_match, _Unchecked):
        check_etag(dataset, if_match)
    return dataset


def editable_version(actor: Actor, identifier: str, if_match: str | None = None) -> DatasetVersion:
    """The open draft version of a dataset, for an import or a mapping change.

    :raises Conflict: when there is no open draft (a published dataset changes through
        :func:`new_version`; a retired one does not change).
    """
    dataset = editable_dataset(actor, identifier, if_match)
    return _draft_or_conflict(dataset)


def _draft_or_conflict(dataset: Dataset) -> DatasetVersion:
    if dataset.status is DatasetStatus.RETIRED:
        raise Conflict("This dataset is retired; it no longer changes.")
    draft = open_draft(dataset)
    if draft is None:
        raise Conflict(
            "Published versions do not change. Open a new version of the dataset "
            f"(POST /api/v1/datasets/{dataset.identifier}/versions, or “New version” on its "
            "page), change that draft and publish it."
        )
    return draft


def touch(
    actor: Actor,
    dataset: Dataset,
    version: DatasetVersion | None,
    action: str,
    summary: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record a change in the dataset's history and bump its revision (the ETag)."""
    now = utcnow()
    dataset.revision += 1
    dataset.modified_at = now
    if version is not None:
        version.modified_at = now
    get_session().add(
        DatasetChange(
            dataset_id=dataset.id,
            version_number=version.number if version is not None else None,
            at=now,
            actor_id=actor.id if isinstance(actor, User) else None,
            actor_label=_actor_label(actor),
            action=action,
            summary=summary[:500],
            changes=_jsonable(changes or {}),
        )
    )
    # every change passes here: the search index follows it in the same transaction
    search_index.dataset_changed(dataset, version, action)


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return f"{actor.name} <{actor.email}>"
    return "system (command line)"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-") or "dataset"


#: Path segments the pages use under ``/datasets/`` (and words a future page may want); a dataset
#: called one of these could never be reached at its own URL.
RESERVED_IDENTIFIERS = frozenset({"new", "mine", "search", "import", "export", "upload", "all"})


def _identifier_taken(identifier: str) -> bool:
    if identifier in RESERVED_IDENTIFIERS:
        return True
    session = get_session()
    return (
        session.scalar(select(Dataset.id).where(Dataset.identifier == identifier)) is not None
        or session.get(UsedIdentifier, identifier) is not None
    )


def _new_identifier(title: str) -> str:
    base = slugify(title)
    candidate, n = base, 1
    while _identifier_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_diseases(curies: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(curies))
    if not wanted:
        raise InvalidInput.field("diseases", "Name at least one disease.")
    rows = get_session().execute(
        select(Term.curie, Term.is_obsolete).where(
            Term.curie.in_(wanted), Term.ontology_prefix == DISEASE_ONTOLOGY
        )
    )
    found: dict[str, bool] = {curie: obsolete for curie, obsolete in rows}  # noqa: C416
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise InvalidInput.field(
            "diseases",
            "Not in the haematological-malignancy hierarchy: " + ", ".join(unknown) + ".",
        )
    obsolete = [c for c in wanted if found[c]]
    if obsolete:
        raise InvalidInput.field("diseases", "Obsolete terms: " + ", ".join(obsolete) + ".")
    return wanted


def _check_years(first: int | None, last: int | None) -> None:
    if first is not None and last is not None and first > last:
        raise InvalidInput.field(
            "time_coverage", "The first year comes after the last year of the time coverage."
        )


def _set_diseases(version: DatasetVersion, curies: list[str]) -> None:
    version.diseases = [
        DatasetDisease(term_curie=curie, position=i) for i, curie in enumerate(curies)
    ]


@transactional
def create_dataset(actor: Actor, data: dict[str, Any]) -> Dataset:
    """A new draft dataset (version 1). ``data``: the version fields, ``diseases``, and
    optionally ``identifier`` and ``organisation_id`` (default: the custodian's organisation).
    """
    require_login(actor)
    require(actor, Permission.DATASET_CREATE)
    organisation_id = data.get("organisation_id")
    if organisation_id is None:
        own = sorted(actor.custodian_of()) if isinstance(actor, User) else []
        if len(own) != 1:
            raise InvalidInput.field(
                "custodian",
                "Name the custodian organisation (you hold custodian roles for several)."
                if own
                else "Name the custodian organisation.",
            )
        organisation_id = own[0]
    session = get_session()
    if session.get(Organisation, organisation_id) is None:
        raise InvalidInput.field("custodian", "No such organisation.")
    if not can(actor, Permission.DATASET_CREATE, organisation_id):
        raise InvalidInput.field(
            "custodian",
            "You can register datasets only for the organisations you are custodian of.",
        )
    identifier = data.get("identifier")
    if identifier:
        if identifier in RESERVED_IDENTIFIERS:
            raise InvalidInput.field(
                "identifier", f"“{identifier}” is reserved for the catalogue's own pages."
            )
        if _identifier_taken(identifier):
            raise InvalidInput.field(
                "identifier", "This identifier is taken (identifiers are never reused)."
            )
    else:
        identifier = _new_identifier(data["title"])
    diseases = _check_diseases(data.get("diseases") or [])
    _check_years(data.get("first_year"), data.get("last_year"))
    now = utcnow()
    dataset = Dataset(
        identifier=identifier,
        organisation_id=organisation_id,
        status=DatasetStatus.DRAFT,
        created_by_id=actor.id if isinstance(actor, User) else None,
        created_at=now,
        modified_at=now,
    )
    version = DatasetVersion(number=1, status=VersionStatus.DRAFT, created_at=now, modified_at=now)
    for key in VERSION_FIELDS:
        if key in data:
            setattr(version, key, data[key])
    for key in ("trial_ids", "countries", "age_groups", "keywords", "provenance"):
        if getattr(version, key) is None:
            setattr(version, key, [])
    _set_diseases(version, diseases)
    dataset.versions.append(version)
    session.add(dataset)
    session.flush()
    touch(actor, dataset, version, "created", f"Created “{version.title}” as a draft.")
    dataset.revision = 1
    session.commit()
    return dataset


def _comparable(value: Any) -> Any:
    return _jsonable(value)


@transactional
def update_dataset(
    actor: Actor, identifier: str, data: dict[str, Any], if_match: str | None
) -> DatasetVersion:
    """Change the open draft's metadata (only the fields in ``data``).

    :raises Conflict: when the dataset is published and has no open draft.
    """
    dataset = editable_dataset(actor, identifier, if_match)
    version = _draft_or_conflict(dataset)
    changes: dict[str, Any] = {}
    if "diseases" in data:
        diseases = _check_diseases(data["diseases"] or [])
        old = [d.term_curie for d in version.diseases]
        if old != diseases:
            changes["diseases"] = {"old": old, "new": diseases}
            _set_diseases(version, diseases)
    first = data.get("first_year", version.first_year)
    last = data.get("last_year", version.last_year)
    _check_years(first, last)
    for key in VERSION_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if key == "title" and not value:
            raise InvalidInput.field("title", "A dataset needs a title.")
        old = getattr(version, key)
        if _comparable(old) != _comparable(value):
            changes[key] = {"old": old, "new": value}
            setattr(version, key, value)
    if "organisation_id" in data and data["organisation_id"] != dataset.organisation_id:
        raise InvalidInput.field("custodian", "The custodian organisation cannot be changed.")
    if "identifier" in data and data["identifier"] != dataset.identifier:
        raise InvalidInput.field("identifier", "Identifiers are stable; they cannot be changed.")
    if changes:
        names = ", ".join(sorted(changes))
        touch(actor, dataset, version, "updated", f"Changed {names}.", changes)
    get_session().commit()
    return version


@transactional
def new_version(actor: Actor, identifier: str, if_match: str | None) -> DatasetVersion:
    """Open a new draft version: a copy of the latest published one, with its variables and
    mappings. :raises Conflict: when a draft is open already or the dataset is retired."""
    dataset = editable_dataset(actor, identifier, if_match)
    if dataset.status is DatasetStatus.RETIRED:
        raise Conflict("This dataset is retired; it no longer changes.")
    if open_draft(dataset) is not None:
        raise Conflict(f"Version {dataset.versions[-1].number} is an open draft already.")
    source = dataset.versions[-1]
    now = utcnow()
    version = DatasetVersion(
        number=source.number + 1, status=VersionStatus.DRAFT, created_at=now, modified_at=now
    )
    for key in VERSION_FIELDS:
        value = getattr(source, key)
        setattr(version, key, list(value) if isinstance(value, list) else value)
    version.diseases = [
        DatasetDisease(term_curie=d.term_curie, position=d.position) for d in source.diseases
    ]
    dataset.versions.append(version)
    session = get_session()
    session.flush()
    copy_variables(source.id, version.id)
    touch(
        actor,
        dataset,
        version,
        "version_opened",
        f"Opened version {version.number} as a draft (a copy of version {source.number}).",
    )
    session.commit()
    return version


VARIABLE_COPY_COLUMNS = (
    "position",
    "name",
    "label",
    "description",
    "form",
    "section",
    "time_point",
    "value_type",
    "unit",
    "minimum",
    "maximum",
    "multiple",
    "source_type",
    "permissible_values",
    "missing_codes",
)
MAPPING_COPY_COLUMNS = (
    "value_code",
    "predicate",
    "object_curie",
    "justification",
    "confidence",
    "status",
    "author_id",
    "author_label",
    "mapping_date",
    "comment",
    "reason",
    "created_at",
)


def copy_variables(source_version_id: str, target_version_id: str) -> None:
    """Copy every variable and mapping of one version into another, in the database."""
    session = get_session()
    v: Any = Variable.__table__
    session.execute(
        insert(v).from_select(
            ["version_id", *VARIABLE_COPY_COLUMNS],
            select(
                literal(target_version_id, v.c.version_id.type).label("version_id"),
                *(v.c[c] for c in VARIABLE_COPY_COLUMNS),
            ).where(v.c.version_id == source_version_id),
        )
    )
    old = v.alias("old")
    new = v.alias("new")
    m: Any = Mapping.__table__
    session.execute(
        insert(m).from_select(
            ["variable_id", *MAPPING_COPY_COLUMNS],
            select(new.c.id, *(m.c[c] for c in MAPPING_COPY_COLUMNS))
            .join(old, old.c.id == m.c.variable_id)
            .join(new, (new.c.name == old.c.name) & (new.c.version_id == target_version_id))
            .where(old.c.version_id == source_version_id),
        )
    )


def publish_problems(version: DatasetVersion) -> dict[str, list[str]]:
    """What a draft lacks before it can be published, by field."""
    problems: dict[str, list[str]] = {}
    for key, what in REQUIRED_TO_PUBLISH.items():
        if not getattr(version, key):
            problems.setdefault(key if key != "contact_email" else "contact", []).append(
                f"Add {what} before publishing."
            )
    if not version.diseases:
        problems["diseases"] = ["Name at least one disease before publishing."]
    return problems


@transactional
def publish(actor: Actor, identifier: str, if_match: str | None) -> DatasetVersion:
    """Publish the open draft; the previously published version is superseded (and stays
    readable at its own URL)."""
    dataset = editable_dataset(actor, identifier, if_match)
    version = _draft_or_conflict(dataset)
    problems = publish_problems(version)
    if problems:
        raise InvalidInput(
            problems,
            detail="The draft is not complete: "
            + "; ".join(m for ms in problems.values() for m in ms),
        )
    now = utcnow()
    previous = latest_published(dataset)
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    if dataset.published_at is None:
        dataset.published_at = now
    dataset.status = DatasetStatus.PUBLISHED
    summary = f"Published version {version.number}" + (
        f" (supersedes version {previous.number})." if previous is not None else "."
    )
    touch(actor, dataset, version, "published", summary)
    get_session().commit()
    return version


@transactional
def retire(actor: Actor, identifier: str, note: str | None, if_match: str | None) -> Dataset:
    """Retire a published dataset: it stays resolvable, with a notice, and changes no more
    (an open draft is discarded)."""
    dataset = editable_dataset(actor, identifier, if_match)
    if dataset.status is DatasetStatus.RETIRED:
        raise Conflict("This dataset is retired already.")
    if dataset.status is DatasetStatus.DRAFT:
        raise Conflict("A draft that was never published is deleted, not retired.")
    draft = open_draft(dataset)
    if draft is not None:
        dataset.versions.remove(draft)
    dataset.status = DatasetStatus.RETIRED
    dataset.retired_at = utcnow()
    dataset.retirement_note = (note or "").strip() or None
    touch(actor, dataset, None, "retired", "Retired the dataset." + (f" {note}" if note else ""))
    get_session().commit()
    return dataset


@transactional
def delete_draft(actor: Actor, identifier: str, if_match: str | None) -> None:
    """Delete a dataset that was never published; its identifier is never handed out again."""
    dataset = editable_dataset(actor, identifier, if_match)
    if dataset.status is not DatasetStatus.DRAFT:
        raise Conflict("Only drafts that were never published can be deleted; retire it instead.")
    session = get_session()
    session.add(UsedIdentifier(identifier=dataset.identifier))
    session.delete(dataset)
    session.commit()


def count_variables(version: DatasetVersion) -> int:
    return (
        get_session().scalar(
            select(func.count()).select_from(Variable).where(Variable.version_id == version.id)
        )
        or 0
    )


# --- the public summary ---------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueSummary:
    organisations: int
    datasets: int
    patients: int


def catalogue_summary() -> CatalogueSummary:
    """Counts for the home page and ``GET /api/v1/summary`` (public): organisations, published
    datasets, and the patients their current versions declare (retired datasets not counted)."""
    counts = accounts.account_counts()
    datasets, patients = (
        get_session()
        .execute(
            select(func.count(), func.coalesce(func.sum(DatasetVersion.patients), 0))
            .select_from(DatasetVersion)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(
                Dataset.status == DatasetStatus.PUBLISHED,
                DatasetVersion.status == VersionStatus.PUBLISHED,
            )
        )
        .one()
    )
    return CatalogueSummary(
        organisations=counts["organisations"], datasets=datasets, patients=int(patients or 0)
    )
