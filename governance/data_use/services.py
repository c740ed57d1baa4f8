"""A dataset's data-use conditions: read them (alone, or in bulk for pages of datasets and
search hits) and change them.

The conditions belong to the dataset, not to a version: a change applies at once, whatever the
dataset's lifecycle (a draft, a published dataset with or without an open draft), except that a
retired dataset changes no more. Each change of the content is numbered (``revision`` 1, 2 …),
announced as ``data_use.changed`` (the checks that used the old conditions are re-run on it)
and recorded in the audit trail under the dataset, so that the dataset's history shows it.
A change carries the conditions' ETag in ``If-Match`` (428 without, 412 when stale); sending
the same content again changes nothing and records nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus
from core import audit, events
from core.db import get_session, lock_revision, transactional, utcnow, writes_now
from core.errors import Conflict
from core.etags import check_etag
from core.models import User
from core.permissions import Permission
from core.policies import Actor, can, require
from governance.data_use import vocabulary
from governance.data_use.models import DataUseConditions, DataUseTerm
from governance.data_use.vocabulary import Conditions

CHANGED_EVENT = "data_use.changed"
AUDIT_ACTION = "dataset.data_use_changed"
#: the JSON shape of a dataset without conditions (revision 0: none yet)
NO_CONDITIONS: dict[str, Any] = {"permission": None, "diseases": [], "modifiers": [], "revision": 0}


# --- reading --------------------------------------------------------------------------------


def shape_of(row: DataUseConditions | None) -> dict[str, Any]:
    """The JSON shape of a row (``NO_CONDITIONS`` for None): permission, diseases, modifiers
    (dates as ISO text), revision."""
    if row is None:
        return {**NO_CONDITIONS, "diseases": [], "modifiers": []}
    return {
        "permission": row.permission,
        "diseases": list(row.diseases or []),
        "modifiers": [dict(m) for m in row.modifiers or []],
        "revision": row.revision,
    }


def conditions_from_row(row: DataUseConditions) -> Conditions:
    return vocabulary.from_stored(row.permission, row.diseases, row.modifiers, row.revision)


def rows_of(dataset_ids: Iterable[str]) -> dict[str, DataUseConditions]:
    """The conditions' rows of these datasets, in one query (those without: absent)."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return {}
    rows = get_session().scalars(
        select(DataUseConditions).where(DataUseConditions.dataset_id.in_(ids))
    )
    return {row.dataset_id: row for row in rows}


def conditions_of(dataset_ids: Iterable[str]) -> dict[str, Conditions]:
    """The conditions of each dataset (by its internal id, ``Dataset.id``), with their
    revision, in one query; datasets without conditions are absent. No permission check:
    the caller already holds datasets it may see."""
    return {i: conditions_from_row(row) for i, row in rows_of(dataset_ids).items()}


def shapes_of(dataset_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The JSON shape of each dataset's conditions, in one query; datasets without: absent."""
    return {i: shape_of(row) for i, row in rows_of(dataset_ids).items()}


def etag(dataset: Dataset, row: DataUseConditions | None) -> str:
    """The conditions' ETag: the dataset and the revision (0 while it has none)."""
    return f'"du-{dataset.id[:12]}-{row.revision if row is not None else 0}"'


@dataclass
class DataUse:
    """A dataset's conditions as a caller sees them: the dataset, its row (None: none yet),
    and whether the caller may change them."""

    dataset: Dataset
    row: DataUseConditions | None
    can_edit: bool

    @property
    def shape(self) -> dict[str, Any]:
        return shape_of(self.row)

    @property
    def etag(self) -> str:
        return etag(self.dataset, self.row)


def can_change(actor: Actor, dataset: Dataset) -> bool:
    return can(actor, Permission.DATA_USE_UPDATE, dataset)


def get_conditions(actor: Actor, identifier: str) -> DataUse:
    """The conditions of a dataset the actor may see.

    :raises NotFound: when the dataset does not exist or the actor may not see it (a draft of
        another organisation).
    """
    dataset = datasets.get_dataset(actor, identifier)
    row = get_session().get(DataUseConditions, dataset.id)
    return DataUse(dataset, row, can_change(actor, dataset))


def conditions_for(actor: Actor, identifier: str) -> Conditions | None:
    """The conditions (with their revision) of a dataset the actor may see; None when it has
    none. For the check of a dataset named by its public identifier.

    :raises NotFound: when the dataset does not exist or the actor may not see it.
    """
    row = get_conditions(actor, identifier).row
    return conditions_from_row(row) if row is not None else None


# --- changing -------------------------------------------------------------------------------


def summary(shape: Mapping[str, Any]) -> str:
    """One line for the history: "DS (NCIT:C3171) with IRB, MOR until 2026-06-01"."""
    permission = vocabulary.term(shape.get("permission") or "")
    if permission is None:
        return "no conditions"
    text = permission.code
    if shape.get("diseases"):
        text += f" ({', '.join(shape['diseases'])})"
    modifiers = []
    for item in shape.get("modifiers") or []:
        duo = vocabulary.term(item["term"])
        modifiers.append(duo.summary(item) if duo else item["term"])
    if modifiers:
        text += " with " + "; ".join(modifiers)
    return text


@transactional
def set_conditions(
    actor: Actor, identifier: str, data: Mapping[str, Any], if_match: str | None
) -> DataUse:
    """Set a dataset's conditions from the JSON shape (custodians of its organisation and
    admins). The revision moves on only when the content changes.

    :raises NotFound: when the actor may not see the dataset.
    :raises Forbidden: when it sees it but may not change its conditions.
    :raises Conflict: (409) when the dataset is retired.
    :raises PreconditionRequired: (428) without ``If-Match``.
    :raises PreconditionFailed: (412) when ``If-Match`` is not the conditions' current ETag.
    :raises InvalidInput: (422) naming each wrong field (see
        :func:`~governance.data_use.vocabulary.parse_conditions`).
    """
    dataset = datasets.get_dataset(actor, identifier)
    require(actor, Permission.DATA_USE_UPDATE, dataset)
    session = get_session()
    if writes_now():  # hold the dataset's row: of two writers with one ETag, one wins
        lock_revision(dataset)
    row = session.get(DataUseConditions, dataset.id, populate_existing=True)
    check_etag(etag(dataset, row), if_match, what="the data-use conditions")
    if dataset.status is DatasetStatus.RETIRED:
        raise Conflict("The dataset is retired: its data-use conditions change no more.")
    conditions = vocabulary.parse_conditions(data)
    content = vocabulary.conditions_json(conditions)
    before = shape_of(row)
    if row is not None and {k: before[k] for k in content} == content:
        session.rollback()
        return DataUse(dataset, row, True)
    now = utcnow()
    if row is None:
        row = DataUseConditions(dataset_id=dataset.id, revision=1)
        session.add(row)
    else:
        row.revision += 1
    row.permission = content["permission"]
    row.diseases = content["diseases"]
    row.modifiers = content["modifiers"]
    row.signature = conditions.signature
    row.updated_at = now
    row.updated_by_id = actor.id if isinstance(actor, User) else None
    session.execute(delete(DataUseTerm).where(DataUseTerm.dataset_id == dataset.id))
    terms = [content["permission"], *(m["term"] for m in content["modifiers"])]
    session.add_all(DataUseTerm(dataset_id=dataset.id, term=t) for t in terms)
    session.flush()
    after = {**content, "revision": row.revision}
    old, new = audit.changed(
        {k: before[k] for k in content}, content
    )  # only what changed, as the history shows it
    events.announce(
        CHANGED_EVENT,
        object_type="dataset",
        object_id=dataset.identifier,
        revision=row.revision,
        dataset_id=dataset.id,
        signature=row.signature,
    )
    audit.record(
        actor,
        AUDIT_ACTION,
        "dataset",
        dataset.id,
        before=old,
        after=new,
        summary=f"Data-use conditions (revision {row.revision}): {summary(after)}.",
        context={"revision": row.revision, "identifier": dataset.identifier},
    )
    session.commit()
    return DataUse(dataset, row, True)


# --- what the catalogue asks (catalogue.extensions) ------------------------------------------


def _with_dates(shape: dict[str, Any]) -> dict[str, Any]:
    """The labelled shape with MOR's date as a date (the dataset JSON's schema dumps dates)."""
    for item in shape["modifiers"]:
        if isinstance(item.get("date"), str):
            item["date"] = dt.date.fromisoformat(item["date"])
    return shape


def dataset_facts(actor: Actor, dataset_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """``{dataset_id: {"data_use": shape or None}}`` for a page of datasets the caller holds
    already (one query; ``Dataset.id``, text): the shape with each term's ``code`` and
    ``label``."""
    ids = sorted(set(dataset_ids))
    rows: dict[Any, Any] = (
        {row.dataset_id: row for row in get_session().execute(_facts_statement(), {"ids": ids})}
        if ids
        else {}
    )
    return {
        i: {"data_use": _with_dates(vocabulary.labelled(shape_of(rows[i]))) if i in rows else None}
        for i in dataset_ids
    }


@cache
def _facts_statement() -> Any:
    """The columns :func:`shape_of` reads, by dataset ids: built once, with the table's
    columns (every page of search hits asks it; loading the rows as entities, with a statement
    built anew, took longer than reading them)."""
    table: Any = DataUseConditions.__table__
    columns = ("dataset_id", "permission", "diseases", "modifiers", "revision")
    return select(*(table.c[name] for name in columns)).where(
        table.c.dataset_id.in_(bindparam("ids", expanding=True))
    )


def hit_shape(shape: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The conditions as a search hit carries them (the search's body is built by hand, as
    JSON): permission, diseases, modifiers (each with its ``code`` and ``label``; dates as ISO
    text), revision."""
    if not shape or not shape.get("permission"):
        return None
    labelled = vocabulary.labelled(shape)
    return {
        "permission": labelled["permission"],
        "diseases": list(labelled["diseases"]),
        "modifiers": [
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in item.items()}
            for item in labelled["modifiers"]
        ],
        "revision": labelled["revision"],
    }


def annotate_hits(actor: Actor, query: Any, hits: list[Any]) -> None:
    """Sets ``hit.extras["data_use"]`` on a page of search hits (:func:`hit_shape`, or None
    for a dataset without conditions): from the dataset facts the search put there already,
    else with one query for the page."""
    missing = sorted({h.identifier for h in hits if "data_use" not in (h.extras or {})})
    found: dict[str, dict[str, Any]] = {}
    if missing:
        rows = get_session().execute(
            select(Dataset.identifier, DataUseConditions)
            .join(DataUseConditions, DataUseConditions.dataset_id == Dataset.id)
            .where(Dataset.identifier.in_(missing))
        )
        found = {identifier: shape_of(row) for identifier, row in rows}
    for hit in hits:
        extras = getattr(hit, "extras", None)
        if extras is None:
            extras = {}
            hit.extras = extras
        shape = extras["data_use"] if "data_use" in extras else found.get(hit.identifier)
        extras["data_use"] = hit_shape(shape)
