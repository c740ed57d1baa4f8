"""The audit trail: one append-only, hash-chained list of everything that changed, by whom.

Every use case that changes something worth answering for (an account, a role, a dataset's
state, an ontology load …) calls :func:`record` in the same transaction as the change, so that
the event exists exactly when the change does. Events are never updated or deleted: the
database refuses it (triggers created by the migration), and each event carries the SHA-256 of
its own canonical form together with its predecessor's hash, so that an edit, a deletion or a
reordering made by someone who bypassed the triggers (the database's owner) is found by
:func:`verify` (``harmony audit verify``). ``harmony audit head`` prints the newest hash: once
it is published elsewhere, nothing before it can be rewritten unnoticed, not even by someone
who recomputes every hash after theirs.

The chain stays linear under concurrent writers: :func:`record` locks the one-row chain head
(``audit_head``, ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every writing transaction
already holds the database's write lock from its start, see :mod:`core.db`) until the
transaction ends. That makes the audited writes of the whole service take turns from their
:func:`record` to their commit, so call it as the last step before the commit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    Integer,
    Select,
    String,
    Text,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, get_session, utcnow
from core.models import User, casefold_key
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, SystemActor, can, require

GENESIS = "0" * 64  # the prev_hash of the first event
HEAD_ID = 1  # the primary key of the one row of audit_head
SUMMARY_MAX = 500
# who did what nobody did by hand: the command line, a periodic job, or a rule applied
# automatically inside someone's request (e.g. a conflicted member recused at submission)
SYSTEM_LABEL = "the system"
OLD_SYSTEM_LABELS = ("system (command line)",)  # events written before the label changed
ANONYMOUS_LABEL = "anonymous"

#: the fields an event's hash covers (all but the hash itself), in the canonical form's keys
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "summary",
    "context",
    "reason",
    "request_id",
    "prev_hash",
)


class AuditEvent(Base):
    """One event of the trail. Append-only: no foreign keys (a row never changes, so nothing
    may be set to NULL or cascade into it when a user or an object goes away)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_label: Mapped[str] = mapped_column(String(600))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id", "seq"),)

    def hashed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    @property
    def occurred_at(self) -> dt.datetime:
        """When the event happened: the ``occurred_at`` of its context (a replayed past, see
        :func:`occurred_at`), else when it was recorded (``at``)."""
        value = (self.context or {}).get("occurred_at")
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
        return self.at


class AuditHead(Base):
    """The chain's newest (seq, hash): one row, locked by every append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


# --- the canonical form and the hash ---------------------------------------------------------


def iso_time(value: dt.datetime) -> str:
    """A timestamp as the hash sees it: ISO 8601 in UTC with microseconds and a ``Z``
    (what both databases give back: PostgreSQL and SQLite keep microseconds)."""
    if value.tzinfo is None:
        raise ValueError("an audit event's time must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is computed over: the fields of :data:`HASHED_FIELDS` as one
    JSON object with sorted keys, no spaces, non-ASCII characters as ``\\u`` escapes (so that
    the UTF-8 bytes are the same whatever a database does with text), the time as
    :func:`iso_time`. The JSON fields hold what they hold after a round trip through the
    database (see :func:`plain`), so the same event gives the same bytes when read back from
    SQLite or PostgreSQL."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["at"] = iso_time(fields["at"])
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 of :func:`canonical` (which includes ``prev_hash``: the chain's link)."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def jsonable(value: Any) -> Any:
    """A value as the trail stores it: dates and times ISO 8601, enums by value, sets as
    sorted lists, decimals and UUIDs as text, non-finite numbers as text, mappings with text
    keys."""
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dt.datetime):
        return iso_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``value`` made JSON-able and passed through JSON once, so that what is hashed now is
    exactly what the database gives back later; an empty mapping is None."""
    if not value:
        return None
    result: dict[str, Any] = json.loads(json.dumps(jsonable(value), allow_nan=False))
    return result


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ between ``before`` and ``after`` (compared as the
    trail stores them, see :func:`jsonable`); a key on one side only is kept on that side."""
    old, new = jsonable(dict(before)), jsonable(dict(after))
    keys = [k for k in {**old, **new} if old.get(k, _MISSING) != new.get(k, _MISSING)]
    return ({k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new})


_MISSING = object()


def snapshot(obj: Any, names: Sequence[str]) -> dict[str, Any]:
    """The attributes ``names`` of ``obj``, JSON-able: what :func:`changed` compares."""
    return {name: jsonable(getattr(obj, name)) for name in names}


# --- appending --------------------------------------------------------------------------------

#: when the events being recorded happened, if not now (see :func:`occurred_at`)
_OCCURRED_AT: ContextVar[dt.datetime | None] = ContextVar("harmony_audit_occurred_at", default=None)


@contextmanager
def occurred_at(when: dt.datetime) -> Iterator[None]:
    """Record the events appended inside the block as having happened at ``when``: for a
    loader that replays a past (the demo's story of datasets published years ago). The chain
    is append-only and its times follow its order, so ``at`` stays the moment of recording
    (an event cannot be slipped in before events already written, and ``harmony audit
    verify`` holds); ``when`` goes into each event's context as ``occurred_at``, hashed with
    the rest, and the history pages show it as the event's date.

    :raises ValueError: for a time without a time zone (the trail keeps UTC)."""
    if when.tzinfo is None:
        raise ValueError("occurred_at needs a timezone-aware time")
    token = _OCCURRED_AT.set(when)
    try:
        yield
    finally:
        _OCCURRED_AT.reset(token)


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return f"{actor.name} <{actor.email}>"[:600]
    if isinstance(actor, SystemActor):
        return SYSTEM_LABEL
    return ANONYMOUS_LABEL


def _request_id() -> str | None:
    if not has_app_context():
        return None
    value = g.get("request_id")
    return str(value)[:64] if value else None


def _summary(summary: str | None, action: str, object_type: str, object_id: str) -> str:
    text = (summary or "").strip() or f"{action} ({object_type} {object_id})"
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _lock_head(session: Session) -> tuple[int, str]:
    """The chain's head, held until the transaction ends (PostgreSQL: a row lock; SQLite: the
    writing transaction holds the database). Column values, not the ORM object: a session that
    outlives its commits (``expire_on_commit=False``) would otherwise answer from memory."""
    row = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if row is None:  # a database made without the migration (create_all)
        session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(row.seq), str(row.hash)


def record(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    summary: str | None = None,
    context: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append an event to the trail, in the current transaction (the caller commits, with its
    change). ``action`` is dotted (``dataset.published``, ``user.created``); ``before`` and
    ``after`` hold only the changed fields (see :func:`changed`) and never a secret;
    ``summary`` is the sentence history pages show (cut at 500 characters); ``context`` a few
    facts more (``{"version": 3}``); ``reason`` what the actor said about why.

    Locks the chain's head until the transaction ends: call it last, just before the commit.
    """
    if not action or "." not in action or len(action) > 80:
        raise ValueError(f"an audit action is dotted and short ('dataset.published'): {action!r}")
    if not object_type or len(object_type) > 40:
        raise ValueError(f"an audit object type is short: {object_type!r}")
    session = get_session()
    seq, prev_hash = _lock_head(session)
    object_id = str(object_id)
    happened = _OCCURRED_AT.get()
    if happened is not None:
        context = {**(context or {}), "occurred_at": happened}
    event = AuditEvent(
        seq=seq + 1,
        at=utcnow(),  # after the lock: times follow the sequence
        actor_id=actor.id if isinstance(actor, User) else None,
        actor_label=actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=object_id[:200],
        before=plain(before),
        after=plain(after),
        summary=_summary(summary, action, object_type, object_id),
        context=plain(context),
        reason=reason.strip() or None if reason else None,
        request_id=_request_id(),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event.hashed_fields())
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=event.seq, hash=event.hash)
    )
    session.add(event)
    return event


# --- reading ----------------------------------------------------------------------------------


def events_for(object_type: str, object_id: Any, *, newest_first: bool = True) -> list[AuditEvent]:
    """Every event about one object (for its history page). No permission check: the caller
    shows what its own policy lets the reader see."""
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq.asc()
    return list(
        get_session().scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(order)
        )
    )


def head() -> tuple[int, str]:
    """The chain's newest (seq, hash); (0, :data:`GENESIS`) while it is empty."""
    row = (
        get_session()
        .execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID))
        .one_or_none()
    )
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


@dataclass(frozen=True)
class VerifyResult:
    count: int  # events read
    head_hash: str  # the hash the chain ends with (GENESIS when empty)
    first_bad: int | None = None  # the seq of the first event that is wrong or missing
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad is None and self.problem is None


VERIFY_BATCH = 2000


def verify(session: Session, progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Recompute the chain from its first event and stop at the first break:

    - a hash that does not match the event's content: the event was edited;
    - a sequence number missing: events were deleted;
    - a ``prev_hash`` that is not the previous event's hash: events were reordered, or one was
      replaced with its hash recomputed;
    - a head (``audit_head``) that is not the last event: events at the end were deleted.

    Streams the events (``progress(count)`` every batch), so a long chain takes little memory.
    """
    columns = [getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "hash")]
    stmt = select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=VERIFY_BATCH)
    count, expected, prev = 0, 1, GENESIS
    for row in session.execute(stmt):
        fields = row._asdict()
        seq = fields["seq"]
        if seq != expected:
            missing = (
                f"event {expected}" if seq == expected + 1 else f"events {expected} to {seq - 1}"
            )
            return VerifyResult(
                count,
                prev,
                expected,
                f"{missing} missing: the chain goes from {expected - 1} to {seq} "
                "(deleted, or the chain was reordered)",
            )
        if fields["prev_hash"] != prev:
            return VerifyResult(
                count,
                prev,
                seq,
                f"event {seq} does not follow event {seq - 1}: its prev_hash is not the hash "
                f"of event {seq - 1} (an event before it was replaced with a recomputed hash, "
                "or the chain was reordered)",
            )
        try:
            recomputed = event_hash(fields)
        except (TypeError, ValueError) as exc:
            recomputed = f"(cannot be computed: {exc})"
        if recomputed != fields["hash"]:
            return VerifyResult(
                count,
                prev,
                seq,
                f"event {seq} was edited: its content does not give its stored hash",
            )
        count += 1
        expected, prev = seq + 1, fields["hash"]
        if progress is not None and count % VERIFY_BATCH == 0:
            progress(count)
    head_seq, head_hash = _stored_head(session)
    if head_seq != count or head_hash != prev:
        if head_seq > count:
            gone = (
                f"event {head_seq}"
                if head_seq == count + 1
                else f"events {count + 1} to {head_seq}"
            )
            problem = f"{gone} missing: the head names event {head_seq}, the chain ends at {count}"
        else:
            problem = (
                f"the head (event {head_seq}, {head_hash[:12]}…) is not the chain's last event "
                f"({count}, {prev[:12]}…): the head row was changed"
            )
        return VerifyResult(count, prev, count + 1, problem)
    if progress is not None:
        progress(count)
    return VerifyResult(count, prev)


def _stored_head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
    ).one_or_none()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


# --- browsing (administrators) ----------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What an administrator narrows the trail to; every field optional."""

    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None  # a user id, an email address, or "system"
    action: str | None = None  # exact, or a prefix ending in "." ("dataset.")
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(filters: AuditFilters) -> Select[Any]:
    """The events that match ``filters`` (unordered)."""
    stmt = select(AuditEvent)
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.action:
        if filters.action.endswith("."):
            pattern = _escape_like(filters.action) + "%"
            stmt = stmt.where(AuditEvent.action.like(pattern, escape="\\"))
        else:
            stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor:
        stmt = stmt.where(_actor_clause(filters.actor))
    if filters.since is not None:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AuditEvent.at < filters.until)
    return stmt


def _actor_clause(actor: str) -> Any:
    value = actor.strip()
    if value.lower() in ("system", "the system"):
        return AuditEvent.actor_label.in_([SYSTEM_LABEL, *OLD_SYSTEM_LABELS])
    if "@" in value:
        email = value.lower()
        user_id = get_session().scalar(select(User.id).where(User.email_key == casefold_key(email)))
        # the label keeps the address the actor had then; the id finds a changed address
        by_label = AuditEvent.actor_label.like(f"%<{_escape_like(email)}>", escape="\\")
        return or_(AuditEvent.actor_id == user_id, by_label) if user_id else by_label
    return AuditEvent.actor_id == value


def list_events(
    actor: Actor,
    filters: AuditFilters,
    *,
    page: int = 1,
    per_page: int = 25,
    sort: str | None = None,
) -> Page[AuditEvent]:
    """One page of the trail, newest first unless ``sort`` is ``seq`` (administrators).

    :raises InvalidInput: for a page out of range or an unknown sort key.
    """
    require(actor, Permission.AUDIT_READ)
    return paginate(
        filtered(filters),
        page=page,
        per_page=per_page,
        sort=sort,
        sortable={"seq": AuditEvent.seq},  # unique, and the order of the times too
        default_sort="-seq",
    )


def history(actor: Actor, object_type: str, object_id: Any, limit: int = 20) -> list[AuditEvent]:
    """The newest ``limit`` events about one object, for an administration page."""
    require(actor, Permission.AUDIT_READ)
    return list(
        get_session().scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
    )


def history_for_page(
    actor: Actor, object_type: str, object_id: Any, limit: int = 20
) -> list[AuditEvent] | None:
    """:func:`history` for a page everybody reads: the events for an administrator, None (no
    History section) for anyone else."""
    if not can(actor, Permission.AUDIT_READ):
        return None
    return history(actor, object_type, object_id, limit)


def export_rows(actor: Actor, filters: AuditFilters, batch: int = 1000) -> Iterator[Any]:
    """Every matching event, newest first, as rows with the events' column names, read
    ``batch`` at a time (an export of millions of events keeps one batch in memory).

    :raises Forbidden: for anyone but an administrator (checked before the first row).
    """
    require(actor, Permission.AUDIT_READ)
    return _rows(filters, batch)


def _rows(filters: AuditFilters, batch: int) -> Iterator[Any]:
    session = get_session()
    stmt = (
        filtered(filters).with_only_columns(*AuditEvent.__table__.c).order_by(AuditEvent.seq.desc())
    )
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(AuditEvent.seq < last)
        rows = session.execute(page.limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq
