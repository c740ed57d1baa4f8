"""Datasets: create, read, edit, version, publish, retire, delete, and their history.

Every use case takes the actor first and checks it here (see :mod:`catalogue.policies`). Which
version a caller sees: editors (custodians of the owning organisation, admins) work on the open
draft when there is one; everybody else sees the latest published version. Published versions
never change: a change to a published dataset opens a new draft version (a copy of the last
one, variables and mappings included) with :func:`new_version`, and publishing that draft
supersedes the old version, which stays readable with the variables it had.

Edits carry the dataset's ETag (``If-Match``): a stale one is refused with 412 so that two
custodians never overwrite each other unknowingly.

The lifecycle (edit, publish, new version, retire, delete) is a table,
:data:`catalogue.datasets.workflow.LIFECYCLE`: the functions here keep their signatures and
take each action through :func:`core.workflow.apply`. Changes that are not lifecycle actions
(a dictionary import, a mapping change, the demo) call :func:`record_change`. Either way the
change is recorded in the audit trail, which is the dataset's history (:func:`history`), and
announced as ``dataset.<action>`` (:mod:`core.events`; the search index subscribes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, insert, literal, select
from sqlalchemy.orm import selectinload

from catalogue import policies
from catalogue.models import (
    MAPPING_FIELDS,
    VARIABLE_FIELDS,
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingStatus,
    UsedIdentifier,
    Variable,
    VersionStatus,
)
from core import audit, events, workflow
from core import services as accounts
from core.db import get_session, lock_revision, transactional, utcnow, writes_now
from core.errors import Conflict, InvalidInput, NotFound
from core.errors import PreconditionRequired as PreconditionRequired  # re-exported
from core.etags import UNCHECKED as UNCHECKED  # re-exported: many callers pass datasets.UNCHECKED
from core.etags import check_etag, revision_etag
from core.models import Organisation, User
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, can, is_admin, require, require_login
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
LIFECYCLE = "dataset"  # the workflow's name (catalogue.datasets.workflow registers it)


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


def published_titles(dataset_ids: Iterable[str]) -> dict[str, str]:
    """The title of each dataset's latest published (or retired) version, by dataset id, in
    one query — for pages that list many datasets (a dataset with no such version is left
    out: callers fall back to its identifier)."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return {}
    latest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.number).label("number"))
        .where(DatasetVersion.dataset_id.in_(ids), DatasetVersion.status != VersionStatus.DRAFT)
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    rows = get_session().execute(
        select(DatasetVersion.dataset_id, DatasetVersion.title).join(
            latest,
            (DatasetVersion.dataset_id == latest.c.dataset_id)
            & (DatasetVersion.number == latest.c.number),
        )
    )
    return {str(dataset_id): str(title) for dataset_id, title in rows}


def unknown_variables(dataset: Dataset, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that the dataset's latest published version has no variable of (all
    of them when nothing is published), in the order given."""
    names = list(names)
    if not names:
        return []
    version = latest_published(dataset)
    known = (
        set(
            get_session().scalars(
                select(Variable.name).where(
                    Variable.version_id == version.id, Variable.name.in_(names)
                )
            )
        )
        if version is not None
        else set()
    )
    return [n for n in names if n not in known]


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
    "modified": Dataset.modified_at,
    "created": Dataset.created_at,
    "identifier": Dataset.identifier,
}  # each also with "-" for descending


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
    else:
        query = query.where(policies.visible_datasets(actor))
    if organisation:
        query = query.where(Dataset.organisation_id == organisation)
    if status is not None:
        query = query.where(Dataset.status == status)
    return paginate(
        query.options(
            selectinload(Dataset.versions).selectinload(DatasetVersion.diseases),
            selectinload(Dataset.organisation),
        ),
        count=query,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=SORTS,
        default_sort="-modified",
        tiebreak=Dataset.identifier,
    )


def count_retired(actor: Actor) -> int:
    """How many datasets are retired (public: a retired dataset keeps its page), for the
    dataset list's status filter."""
    require(actor, Permission.DATASET_READ)
    return int(
        get_session().scalar(
            select(func.count()).select_from(Dataset).where(Dataset.status == DatasetStatus.RETIRED)
        )
        or 0
    )


def history(actor: Actor, identifier: str) -> list[dict[str, Any]]:
    """Who changed what and when, newest first: ``{at, version_number, actor_label, action,
    summary, changes}``, read from the audit trail (object type ``dataset``). Editors see
    everything; everyone else sees the changes of published versions, with the custodian
    organisation in place of the person (no names or emails) and no field values."""
    dataset = get_dataset(actor, identifier)
    editor = can_edit(actor, dataset)
    draft = open_draft(dataset)
    hidden = draft.number if draft is not None and not editor else None
    entries = [history_entry(e) for e in audit.events_for("dataset", dataset.id)]
    # newest first by when each change happened (a replayed past, such as the demo's story,
    # is recorded later than it happened); changes of the same moment in the trail's order
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return [
        entry | ({} if editor else {"actor_label": dataset.organisation.name, "changes": {}})
        for entry in entries
        if hidden is None or entry["version_number"] != hidden
    ]


def history_entry(event: audit.AuditEvent) -> dict[str, Any]:
    """One audit event as the history shows it: the action without its ``dataset.`` prefix,
    the version from the context, and the changes as ``{field: {"old", "new"}}`` (what the
    history has always shown) plus the other facts of the context (an import's counts)."""
    context = dict(event.context or {})
    version_number = context.pop("version", None)
    context.pop("occurred_at", None)  # the entry's date (a replayed past: the demo's story)
    before, after = event.before or {}, event.after or {}
    changes: dict[str, Any] = dict(context)
    for key in dict.fromkeys([*before, *after]):
        changes[key] = {"old": before.get(key), "new": after.get(key)}
    return {
        "at": event.occurred_at,
        "version_number": version_number,
        "actor_label": event.actor_label,
        "action": event.action.removeprefix("dataset."),
        "summary": event.summary,
        "changes": changes,
    }


def disease_terms(version: DatasetVersion) -> list[Term]:
    curies = [d.term_curie for d in version.diseases]
    if not curies:
        return []
    terms = {t.curie: t for t in get_session().scalars(select(Term).where(Term.curie.in_(curies)))}
    return [terms[c] for c in curies if c in terms]


def etag(dataset: Dataset) -> str:
    return revision_etag(dataset.id, dataset.revision)


# --- changing -------------------------------------------------------------------------------


def editable_dataset(actor: Actor, identifier: str, if_match: str | None = None) -> Dataset:
    """The dataset, for a change by ``actor``: 404 when it may not see it, 403 when it sees it
    but may not change it, 412/428 for a stale or missing ETag (:data:`UNCHECKED` skips the
    check). The dataset's row is held until the change commits (:func:`core.db.lock_revision`),
    so that of two writers quoting the same ETag exactly one wins and the other gets 412."""
    dataset = get_dataset(actor, identifier)
    require(actor, Permission.DATASET_UPDATE, dataset)
    if writes_now():  # a page that only shows the edit form (GET) holds nothing
        lock_revision(dataset)
    check_etag(etag(dataset), if_match, what="the dataset")
    return dataset


def editable_version(actor: Actor, identifier: str, if_match: str | None = None) -> DatasetVersion:
    """The open draft version of a dataset, for an import or a mapping change.

    :raises Conflict: when there is no open draft (a published dataset changes through
        :func:`new_version`; a retired one does not change).
    """
    dataset = editable_dataset(actor, identifier, if_match)
    return _draft_or_conflict(dataset)


def _draft_or_conflict(dataset: Dataset) -> DatasetVersion:
    """The open draft, when the lifecycle allows editing it now (the table's ``edit`` row).

    :raises Conflict: in the table's words (published: open a new version; retired: it no
        longer changes).
    """
    flow = workflow.get(LIFECYCLE)
    if flow.row(flow.state_of(dataset), "edit") is None:
        raise Conflict(flow.refusals.get((flow.state_of(dataset), "edit"), "It does not change."))
    draft = open_draft(dataset)
    if draft is None:  # the table says a state that allows edit has a draft
        raise Conflict("There is no open draft.")
    return draft


def record_change(
    actor: Actor,
    dataset: Dataset,
    version: DatasetVersion | None,
    action: str,
    summary: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Record a change of a dataset that is not a lifecycle action (a dictionary import, a
    mapping change, the demo's data), in the caller's transaction: the dataset's revision
    (its ETag) and modification time move on, the change is announced as ``dataset.<action>``
    (the search index follows it in this transaction) and recorded in the audit trail, which
    is the dataset's history. ``before``/``after``: the fields that changed; ``context``: other
    facts (an import's counts); the version's number is added to both.

    Call it last before the commit (the audit trail's head stays locked until then).
    """
    now = utcnow()
    dataset.revision += 1
    dataset.modified_at = now
    facts = dict(context or {})
    if version is not None:
        version.modified_at = now
        facts["version"] = version.number
    events.announce(
        f"dataset.{action}",
        object_type="dataset",
        object_id=dataset.id,
        action=action,
        actor_id=getattr(actor, "id", None),
        **({"version": version.number} if version is not None else {}),
    )
    audit.record(
        actor,
        f"dataset.{action}",
        "dataset",
        dataset.id,
        before=before,
        after=after,
        summary=summary,
        context=facts,
    )


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


def check_diseases(curies: Iterable[str]) -> list[str]:
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


def check_years(first: int | None, last: int | None) -> None:
    if first is not None and last is not None and first > last:
        raise InvalidInput.field(
            "time_coverage", "The first year comes after the last year of the time coverage."
        )


def set_diseases(version: DatasetVersion, curies: list[str]) -> None:
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
    diseases = check_diseases(data.get("diseases") or [])
    check_years(data.get("first_year"), data.get("last_year"))
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
    set_diseases(version, diseases)
    dataset.versions.append(version)
    session.add(dataset)
    session.flush()
    record_change(
        actor,
        dataset,
        version,
        "created",
        f"Created “{version.title}” as a draft.",
        after={"state": "draft", "identifier": identifier},
    )
    dataset.revision = 1
    session.commit()
    return dataset


@transactional
def update_dataset(
    actor: Actor, identifier: str, data: dict[str, Any], if_match: str | None
) -> DatasetVersion:
    """Change the open draft's metadata (only the fields in ``data``): the lifecycle's
    ``edit``. Data that changes nothing writes nothing (no history entry, the same ETag).

    :raises Conflict: when the dataset is published and has no open draft, or is retired.
    """
    from catalogue.datasets.workflow import Unchanged

    try:
        outcome = workflow.apply(
            LIFECYCLE, actor, identifier, "edit", if_match=if_match, params={"data": data}
        )
    except Unchanged:  # rolled back: nothing was written
        dataset = get_dataset(actor, identifier)
        return open_draft(dataset) or visible_version(actor, dataset)
    version: DatasetVersion = outcome.result
    return version


@transactional
def new_version(actor: Actor, identifier: str, if_match: str | None) -> DatasetVersion:
    """Open a new draft version: a copy of the latest published one, with its variables and
    mappings. :raises Conflict: when a draft is open already or the dataset is retired."""
    outcome = workflow.apply(LIFECYCLE, actor, identifier, "new_version", if_match=if_match)
    version: DatasetVersion = outcome.result
    return version


VARIABLE_COPY_COLUMNS = ("position", "name", *VARIABLE_FIELDS)
MAPPING_COPY_COLUMNS = MAPPING_FIELDS


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
    readable at its own URL). :raises InvalidInput: (422) naming what the draft lacks."""
    outcome = workflow.apply(LIFECYCLE, actor, identifier, "publish", if_match=if_match)
    version: DatasetVersion = outcome.result
    return version


@transactional
def retire(actor: Actor, identifier: str, note: str | None, if_match: str | None) -> Dataset:
    """Retire a published dataset: it stays resolvable, with a notice, and changes no more
    (an open draft is discarded). The note is also the audit event's reason."""
    outcome = workflow.apply(
        LIFECYCLE,
        actor,
        identifier,
        "retire",
        if_match=if_match,
        params={"note": note},
        reason=note,
    )
    dataset: Dataset = outcome.result
    return dataset


@transactional
def delete_draft(actor: Actor, identifier: str, if_match: str | None) -> None:
    """Delete a dataset that was never published; its identifier is never handed out again."""
    workflow.apply(LIFECYCLE, actor, identifier, "delete", if_match=if_match)


def count_variables_of(version_ids: Iterable[str]) -> dict[str, int]:
    """The number of variables of each version, in one query (versions without any: absent)."""
    ids = list(version_ids)
    if not ids:
        return {}
    rows = get_session().execute(
        select(Variable.version_id, func.count())
        .where(Variable.version_id.in_(ids))
        .group_by(Variable.version_id)
    )
    return {version_id: int(n) for version_id, n in rows}


@dataclass
class VariableCounts:
    """A version's variables, and how many of them have an accepted mapping of their own (a
    mapping of one of their values does not make the variable mapped)."""

    variables: int = 0
    mapped: int = 0

    @property
    def share(self) -> float:
        return self.mapped / self.variables if self.variables else 0.0

    def __add__(self, other: VariableCounts) -> VariableCounts:
        return VariableCounts(self.variables + other.variables, self.mapped + other.mapped)


def _accepted_variable_ids() -> Any:
    return select(Mapping.variable_id).where(
        Mapping.status == MappingStatus.ACCEPTED, Mapping.value_code.is_(None)
    )


def variable_counts(version_ids: Iterable[str]) -> dict[str, VariableCounts]:
    """Variables and mapped variables per version, in one query (versions without variables:
    absent). For the pages that show "N variables, M % mapped to standard terms"."""
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    rows = get_session().execute(
        select(
            Variable.version_id,
            func.count(),
            func.sum(case((Variable.id.in_(_accepted_variable_ids()), 1), else_=0)),
        )
        .where(Variable.version_id.in_(ids))
        .group_by(Variable.version_id)
    )
    return {vid: VariableCounts(int(n), int(m or 0)) for vid, n, m in rows}


def terms_by_curie(curies: Iterable[str]) -> dict[str, Term]:
    """The terms of these CURIEs, in one query (unknown ones: absent)."""
    wanted = set(curies)
    if not wanted:
        return {}
    return {t.curie: t for t in get_session().scalars(select(Term).where(Term.curie.in_(wanted)))}


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
