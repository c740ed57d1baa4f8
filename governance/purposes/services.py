"""Saved research purposes: a researcher's named purposes, each in the shape the compatibility
check reads, kept to search by fit (:mod:`governance.purposes.search`).

A purpose is its owner's alone: every use case reads only the caller's own purposes, so that
another user's purpose is missing (404), never forbidden. Changes carry the purpose's ETag
(``If-Match``). A saved purpose is a private working note, not a decision: its changes are
not audited (the access request that quotes it will be).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from core.db import get_session, lock_revision, transactional, utcnow
from core.errors import InvalidInput, NotFound
from core.etags import check_etag, revision_etag
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require
from governance.matching.check import Purpose
from governance.matching.schemas import PurposeSchema
from governance.purposes.models import NAME_MAX, SavedPurpose

#: more than anyone keeps; the search form lists them all
MAX_PURPOSES = 200
#: the fields of the purpose JSON, in the check's words (governance.matching.check.Purpose)
PURPOSE_FIELDS = tuple(f.name for f in dataclasses.fields(Purpose))
_SETS = {"terms", "diseases", "users"}


def etag(saved: SavedPurpose) -> str:
    return revision_etag(saved.id, saved.revision)


# --- the purpose's JSON ---------------------------------------------------------------------


def purpose_json(loaded: Any) -> dict[str, Any]:
    """The stored JSON of a purpose (a :class:`Purpose` as PurposeSchema loaded it, or its
    JSON): every field, sets as sorted lists, dates as ISO text."""
    dumped: dict[str, Any] = PurposeSchema().dump(loaded)
    return dumped


def purpose_of(data: Mapping[str, Any]) -> Purpose:
    """The check's :class:`Purpose` from a stored purpose's JSON (validated when it was
    saved; unknown keys ignored)."""
    kwargs: dict[str, Any] = {}
    for key in PURPOSE_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if key in _SETS:
            value = frozenset(value)
        elif key == "publication_not_before" and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        kwargs[key] = value
    kwargs.setdefault("terms", frozenset())
    return Purpose(**kwargs)


def content_key(data: Mapping[str, Any]) -> str:
    """A hash of a stored purpose's JSON (not its name): equal purposes, equal keys (what the
    search memoises its checks by). The JSON is hashed as it is stored — :func:`purpose_json`
    wrote it in canonical form (sorted lists, ISO dates) — not dumped again: the schema dumps
    a loaded :class:`Purpose`, and its dates from the stored text would not dump."""
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- reading --------------------------------------------------------------------------------


def _own(actor: Actor) -> Any:
    require(actor, Permission.PURPOSE_MANAGE)
    return select(SavedPurpose).where(SavedPurpose.user_id == getattr(actor, "id", None))


def list_purposes(actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[SavedPurpose]:
    """The caller's saved purposes, by name.

    :raises Unauthenticated: for anonymous callers.
    """
    statement = _own(actor)
    return paginate(
        statement,
        page=page,
        per_page=per_page,
        order=[SavedPurpose.name],
        tiebreak=SavedPurpose.id,
    )


def all_purposes(actor: Actor) -> list[SavedPurpose]:
    """Every saved purpose of the caller, by name; none for anonymous callers (the search
    form's list)."""
    if actor is None or getattr(actor, "id", None) is None:
        return []
    return list(
        get_session().scalars(
            _own(actor).order_by(SavedPurpose.name, SavedPurpose.id).limit(MAX_PURPOSES)
        )
    )


def get_purpose(actor: Actor, purpose_id: str) -> SavedPurpose:
    """One of the caller's saved purposes.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or is someone else's.
    """
    saved = get_session().scalar(_own(actor).where(SavedPurpose.id == purpose_id))
    if saved is None:
        raise NotFound("You have no saved purpose with this id.")
    return saved


# --- changing -------------------------------------------------------------------------------


def _clean_name(actor: Actor, name: str, current: SavedPurpose | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput.field("name", "Give the purpose a name.")
    if len(name) > NAME_MAX:
        raise InvalidInput.field("name", f"At most {NAME_MAX} characters.")
    taken = get_session().scalar(
        _own(actor)
        .with_only_columns(SavedPurpose.id)
        .where(func.lower(SavedPurpose.name) == name.lower())
    )
    if taken is not None and (current is None or taken != current.id):
        raise InvalidInput.field("name", f"You already have a purpose named “{name}”.")
    return name


@transactional
def create_purpose(actor: Actor, name: str, purpose: Any) -> SavedPurpose:
    """Save a new purpose (``purpose`` as PurposeSchema loaded it).

    :raises InvalidInput: (name) for a blank or taken name, or past :data:`MAX_PURPOSES`.
    """
    name = _clean_name(actor, name)
    session = get_session()
    count = session.scalar(
        select(func.count()).select_from(_own(actor).subquery())
    )  # a handful: the owner's index
    if (count or 0) >= MAX_PURPOSES:
        raise InvalidInput.field("name", f"You can keep at most {MAX_PURPOSES} purposes.")
    saved = SavedPurpose(
        user_id=actor.id,  # type: ignore[union-attr]
        name=name,
        purpose=purpose_json(purpose),
        revision=1,
    )
    session.add(saved)
    session.commit()
    return saved


@transactional
def update_purpose(
    actor: Actor, purpose_id: str, name: str, purpose: Any, if_match: str | None
) -> SavedPurpose:
    """Replace a saved purpose's name and content.

    :raises NotFound: when it is not the caller's.
    :raises PreconditionRequired: (428) without ``if_match``.
    :raises PreconditionFailed: (412) when ``if_match`` is stale.
    :raises InvalidInput: (name) for a blank name or one of the caller's other purposes'.
    """
    saved = get_purpose(actor, purpose_id)
    lock_revision(saved)
    check_etag(etag(saved), if_match, what="the purpose")
    saved.name = _clean_name(actor, name, saved)
    content = purpose_json(purpose)
    if content != saved.purpose or saved.name != name:
        saved.revision += 1
    saved.purpose = content
    saved.updated_at = utcnow()
    get_session().commit()
    return saved


@transactional
def delete_purpose(actor: Actor, purpose_id: str, if_match: str | None = None) -> None:
    """Delete a saved purpose (``if_match`` optional: when given, it must be current).

    :raises NotFound: when it is not the caller's.
    :raises PreconditionFailed: (412) when ``if_match`` is stale.
    """
    saved = get_purpose(actor, purpose_id)
    lock_revision(saved)
    check_etag(etag(saved), if_match, required=False, what="the purpose")
    session = get_session()
    session.delete(saved)
    session.commit()
