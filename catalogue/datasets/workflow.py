"""The dataset lifecycle as a table (:mod:`core.workflow`): which action each state allows, to
whom, and what it does. :mod:`catalogue.datasets.services` keeps the public functions
(``publish``, ``new_version``, ``retire``, ``delete_draft``, ``update_dataset``) and takes each
through :func:`core.workflow.apply`; pages and the API ask
:func:`core.workflow.available_actions` which buttons and actions to offer.

The state is derived from the dataset, not stored apart:

- ``draft`` — never published (only its organisation's custodians and admins see it);
- ``published`` — a published version, no open draft;
- ``revising`` — published, with an open draft version that only its editors see;
- ``retired`` — no longer offered; its page stays, with a notice, and it changes no more.

``edit`` is a row too (a change of the open draft's metadata), so that an edit is refused with
the same 409 as any action the state does not allow, and is audited the same way. A dictionary
import or a mapping change is not a lifecycle action: it changes the open draft (see
:func:`catalogue.datasets.services.editable_version`, which asks this table whether the state
allows ``edit``) and records itself with :func:`catalogue.datasets.services.record_change`.
"""

from __future__ import annotations

from typing import Any

from catalogue.datasets import services as datasets
from catalogue.models import (
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    UsedIdentifier,
    VersionStatus,
)
from core import workflow as core_workflow
from core.audit import jsonable
from core.db import get_session, utcnow
from core.errors import InvalidInput
from core.etags import revision_etag
from core.permissions import Permission
from core.policies import Actor
from core.workflow import DELETED, Step, Transition, Workflow

DRAFT, PUBLISHED, REVISING, RETIRED = "draft", "published", "revising", "retired"
STATES = (DRAFT, PUBLISHED, REVISING, RETIRED)

#: the dataset's stored status for each state (``revising`` is published with an open draft)
STORED_STATUS = {
    DRAFT: DatasetStatus.DRAFT,
    PUBLISHED: DatasetStatus.PUBLISHED,
    REVISING: DatasetStatus.PUBLISHED,
    RETIRED: DatasetStatus.RETIRED,
}

NO_CHANGE_WHEN_PUBLISHED = (
    "Published versions do not change. Open a new version of the dataset "
    "(POST /api/v1/datasets/<identifier>/versions, or “New version” on its page), change that "
    "draft and publish it."
)
RETIRED_DOES_NOT_CHANGE = "This dataset is retired; it no longer changes."


def state_of(dataset: Dataset) -> str:
    if dataset.status is DatasetStatus.RETIRED:
        return RETIRED
    if dataset.status is DatasetStatus.DRAFT:
        return DRAFT
    return REVISING if datasets.open_draft(dataset) is not None else PUBLISHED


def set_state(dataset: Dataset, state: str) -> None:
    dataset.status = STORED_STATUS[state]


def etag(dataset: Dataset) -> str:
    return revision_etag(dataset.id, dataset.revision)


def _draft(step: Step) -> DatasetVersion:
    """The open draft the action works on (every state that allows edit or publish has one)."""
    version = datasets.open_draft(step.obj)
    if version is None:  # the table and state_of say this cannot happen
        raise RuntimeError(f"dataset {step.obj.identifier} in state {step.state} has no draft")
    return version


def _touched(step: Step, version: DatasetVersion | None) -> None:
    """What every action of the table does besides its own change: the dataset (and the
    version) were modified now, and the history and the change event name the version."""
    now = utcnow()
    step.obj.modified_at = now
    if version is not None:
        version.modified_at = now
        step.context["version"] = version.number
        step.payload["version"] = version.number


# --- edit -----------------------------------------------------------------------------------


class Unchanged(Exception):
    """Raised by the edit's effect when the data sent changes nothing: the caller rolls back
    (nothing was written) and answers with the draft as it is — no history entry, no new ETag
    for an unchanged form saved again."""


def check_edit(step: Step) -> None:
    """What the sent metadata must satisfy (422 naming the field)."""
    data: dict[str, Any] = step.params["data"]
    dataset: Dataset = step.obj
    version = _draft(step)
    if "diseases" in data:
        step.params["diseases"] = datasets.check_diseases(data["diseases"] or [])
    datasets.check_years(
        data.get("first_year", version.first_year), data.get("last_year", version.last_year)
    )
    if "title" in data and not data["title"]:
        raise InvalidInput.field("title", "A dataset needs a title.")
    if "organisation_id" in data and data["organisation_id"] != dataset.organisation_id:
        raise InvalidInput.field("custodian", "The custodian organisation cannot be changed.")
    if "identifier" in data and data["identifier"] != dataset.identifier:
        raise InvalidInput.field("identifier", "Identifiers are stable; they cannot be changed.")


def edit(step: Step) -> DatasetVersion:
    """Change the open draft's metadata: only the fields sent, recorded old → new."""
    data: dict[str, Any] = step.params["data"]
    version = _draft(step)
    if "diseases" in step.params:
        old = [d.term_curie for d in version.diseases]
        if old != step.params["diseases"]:
            step.before["diseases"], step.after["diseases"] = old, step.params["diseases"]
            datasets.set_diseases(version, step.params["diseases"])
    for key in datasets.VERSION_FIELDS:
        if key not in data:
            continue
        if jsonable(getattr(version, key)) != jsonable(data[key]):
            step.before[key], step.after[key] = getattr(version, key), data[key]
            setattr(version, key, data[key])
    if not step.after and not step.before:
        raise Unchanged
    step.summary = f"Changed {', '.join(sorted({*step.before, *step.after}))}."
    _touched(step, version)
    return version


# --- publish, new version, retire, delete ---------------------------------------------------


def check_complete(step: Step) -> None:
    """A draft is published only when complete (422 naming each missing field)."""
    problems = datasets.publish_problems(_draft(step))
    if problems:
        raise InvalidInput(
            problems,
            detail="The draft is not complete: "
            + "; ".join(m for ms in problems.values() for m in ms),
        )


def publish(step: Step) -> DatasetVersion:
    """The open draft becomes the published version; the one before is superseded (and stays
    readable at its own URL)."""
    dataset: Dataset = step.obj
    version = _draft(step)
    now = utcnow()
    previous = datasets.latest_published(dataset)
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    if dataset.published_at is None:
        dataset.published_at = now
    step.summary = f"Published version {version.number}" + (
        f" (supersedes version {previous.number})." if previous is not None else "."
    )
    if previous is not None:
        step.context["supersedes"] = previous.number
    _touched(step, version)
    return version


def open_version(step: Step) -> DatasetVersion:
    """A new draft version: a copy of the latest published one, variables and mappings
    included (copied in the database)."""
    dataset: Dataset = step.obj
    source = dataset.versions[-1]
    now = utcnow()
    version = DatasetVersion(
        number=source.number + 1, status=VersionStatus.DRAFT, created_at=now, modified_at=now
    )
    for key in datasets.VERSION_FIELDS:
        value = getattr(source, key)
        setattr(version, key, list(value) if isinstance(value, list) else value)
    version.diseases = [
        DatasetDisease(term_curie=d.term_curie, position=d.position) for d in source.diseases
    ]
    dataset.versions.append(version)
    get_session().flush()
    datasets.copy_variables(source.id, version.id)
    step.summary = (
        f"Opened version {version.number} as a draft (a copy of version {source.number})."
    )
    _touched(step, version)
    return version


def retire(step: Step) -> Dataset:
    """The dataset is no longer offered; its page stays with the note. An open draft is
    discarded."""
    dataset: Dataset = step.obj
    note = (step.params.get("note") or "").strip() or None
    draft = datasets.open_draft(dataset)
    if draft is not None:
        dataset.versions.remove(draft)
        step.context["discarded_draft"] = draft.number
    dataset.retired_at = utcnow()
    step.before["retirement_note"] = dataset.retirement_note
    dataset.retirement_note = note
    step.after["retirement_note"] = note
    step.summary = "Retired the dataset." + (f" {note}" if note else "")
    _touched(step, None)
    return dataset


def delete(step: Step) -> None:
    """A dataset that was never published goes; its identifier is never handed out again."""
    dataset: Dataset = step.obj
    session = get_session()
    step.summary = f"Deleted the draft “{dataset.versions[-1].title}” ({dataset.identifier})."
    step.context["identifier"] = dataset.identifier
    session.add(UsedIdentifier(identifier=dataset.identifier))
    session.delete(dataset)


def load(actor: Actor, identifier: str) -> Dataset:
    return datasets.get_dataset(actor, identifier)


UPDATE = Permission.DATASET_UPDATE

LIFECYCLE = Workflow(
    name="dataset",
    object_type="dataset",
    description="A dataset from its first draft to its retirement.",
    states=STATES,
    initial=DRAFT,
    transitions=(
        Transition(
            DRAFT, "edit", DRAFT, UPDATE, rule=check_edit, effect=edit, event="dataset.updated"
        ),
        Transition(
            DRAFT,
            "publish",
            PUBLISHED,
            UPDATE,
            rule=check_complete,
            effect=publish,
            event="dataset.published",
        ),
        Transition(
            DRAFT,
            "delete",
            DELETED,
            UPDATE,
            label="Delete draft",
            effect=delete,
            event="dataset.deleted",
        ),
        Transition(
            PUBLISHED,
            "new_version",
            REVISING,
            UPDATE,
            effect=open_version,
            event="dataset.version_opened",
        ),
        Transition(
            PUBLISHED,
            "retire",
            RETIRED,
            UPDATE,
            label="Retire dataset",
            effect=retire,
            event="dataset.retired",
        ),
        Transition(
            REVISING,
            "edit",
            REVISING,
            UPDATE,
            rule=check_edit,
            effect=edit,
            event="dataset.updated",
        ),
        Transition(
            REVISING,
            "publish",
            PUBLISHED,
            UPDATE,
            rule=check_complete,
            effect=publish,
            event="dataset.published",
        ),
        Transition(
            REVISING,
            "retire",
            RETIRED,
            UPDATE,
            label="Retire dataset",
            effect=retire,
            event="dataset.retired",
        ),
    ),
    state_of=state_of,
    set_state=set_state,
    load=load,
    etag=etag,
    audit_object_id=lambda dataset: dataset.id,
    read_permission=Permission.DATASET_READ,
    exhaustive=True,
    refusals={
        (DRAFT, "new_version"): "This dataset is a draft already: change it, then publish it.",
        (DRAFT, "retire"): "A draft that was never published is deleted, not retired.",
        (PUBLISHED, "edit"): NO_CHANGE_WHEN_PUBLISHED,
        (PUBLISHED, "publish"): NO_CHANGE_WHEN_PUBLISHED,
        (PUBLISHED, "delete"): (
            "Only drafts that were never published can be deleted; retire it instead."
        ),
        (REVISING, "new_version"): "A new version is open as a draft already.",
        (REVISING, "delete"): (
            "Only drafts that were never published can be deleted; retire it instead."
        ),
        (RETIRED, "edit"): RETIRED_DOES_NOT_CHANGE,
        (RETIRED, "publish"): RETIRED_DOES_NOT_CHANGE,
        (RETIRED, "new_version"): RETIRED_DOES_NOT_CHANGE,
        (RETIRED, "retire"): "This dataset is retired already.",
        (RETIRED, "delete"): (
            "Only drafts that were never published can be deleted; this one is retired."
        ),
    },
)


def register() -> None:
    """Make the lifecycle known to :func:`core.workflow.apply`, ``harmony workflows`` and the
    README check; called by the catalogue's ``init_app``."""
    core_workflow.register(LIFECYCLE)
