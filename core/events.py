"""Change events: a service announces what happened (``dataset.published``,
``dictionary.imported``) instead of calling other areas by name, and whoever cares subscribes.

Two kinds of subscriber, registered explicitly when an area is initialised:

- :func:`subscribe` — keeps derived data in the same database consistent (the search index).
  It runs synchronously inside the announcing transaction, at :func:`announce` time: its
  writes commit with the change or roll back with it, and an exception it raises fails the
  change.
- :func:`subscribe_after_commit` — an effect that leaves the database (mail, webhooks, a job).
  :func:`announce` writes one row of the ``outbox`` table per such subscriber, in the same
  transaction as the change: a change that rolls back leaves no message, and a message is
  never lost once the change has committed. After the commit the job worker delivers the
  rows (a task queued at the commit, and a sweep every minute for the rest): a delivered row
  is marked ``delivered_at``; a failed delivery is retried with a growing delay
  (``attempts``, ``last_error``, ``next_attempt_at``) up to :data:`MAX_ATTEMPTS` times, then
  kept with its error for an operator. A row of a subscriber that is not registered (renamed,
  removed, or not yet deployed on this worker) is kept and logged, not lost.

Delivery is at least once: a handler must tolerate seeing a message twice (a worker that dies
after the effect but before marking the row delivers it again).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import crontab
from sqlalchemy import JSON, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, get_session, utcnow, writing
from core.models import new_public_id

log = logging.getLogger("harmony.events")

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)  # then doubled per attempt
LONGEST_RETRY = dt.timedelta(hours=1)
UNKNOWN_SUBSCRIBER_RETRY = dt.timedelta(hours=1)
_PENDING = "harmony_outbox_pending"  # session.info key: outbox ids written in the transaction


@dataclass(frozen=True)
class Event:
    """What happened: ``name`` is ``<object_type>.<what>`` (``dataset.published``)."""

    name: str
    object_type: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None  # the outbox row, for after-commit subscribers


Handler = Callable[[Event], None]


@dataclass(frozen=True)
class _Subscriber:
    pattern: str
    handler: Handler
    name: str | None = None  # after-commit subscribers only: the outbox rows name it

    def wants(self, event_name: str) -> bool:
        return fnmatch.fnmatchcase(event_name, self.pattern)


_IN_TRANSACTION: list[_Subscriber] = []
_AFTER_COMMIT: dict[str, _Subscriber] = {}


class OutboxMessage(Base):
    """One event to hand to one after-commit subscriber, written with the change."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    subscriber: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # due for (another) delivery from then; NULL once delivered or given up
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]

    def as_event(self) -> Event:
        return Event(
            name=self.event,
            object_type=self.object_type,
            object_id=self.object_id,
            payload=dict(self.payload or {}),
            message_id=self.id,
        )


# --- subscribing ----------------------------------------------------------------------------


def subscribe(pattern: str, handler: Handler) -> None:
    """Run ``handler(event)`` inside the announcing transaction for every event whose name
    matches ``pattern`` (shell-style: ``dataset.*``, ``*``). Registering the same pair again
    (a second app in one process) changes nothing."""
    subscriber = _Subscriber(pattern, handler)
    if subscriber not in _IN_TRANSACTION:
        _IN_TRANSACTION.append(subscriber)


def subscribe_after_commit(pattern: str, name: str, handler: Handler) -> None:
    """Deliver every event matching ``pattern`` to ``handler(event)`` after the announcing
    transaction has committed, through the outbox. ``name`` is stored in the outbox rows, so
    it must stay stable across deployments (``governance.notify_dac``).

    :raises RuntimeError: when another handler or pattern is registered under ``name``.
    """
    subscriber = _Subscriber(pattern, handler, name)
    existing = _AFTER_COMMIT.get(name)
    if existing is not None and existing != subscriber:
        raise RuntimeError(f"two after-commit subscribers named {name!r}")
    _AFTER_COMMIT[name] = subscriber


def unsubscribe(handler_or_name: Handler | str) -> None:
    """Remove a subscriber (by its handler, or an after-commit one by its name): for tests."""
    if isinstance(handler_or_name, str):
        _AFTER_COMMIT.pop(handler_or_name, None)
        return
    _IN_TRANSACTION[:] = [s for s in _IN_TRANSACTION if s.handler != handler_or_name]
    for name in [n for n, s in _AFTER_COMMIT.items() if s.handler == handler_or_name]:
        del _AFTER_COMMIT[name]


def subscribers() -> dict[str, list[str]]:
    """Who listens to what (for operators and tests): patterns by subscriber."""
    listing: dict[str, list[str]] = {}
    for s in _IN_TRANSACTION:
        key = f"{s.handler.__module__}.{s.handler.__qualname__}"
        listing.setdefault(key, []).append(s.pattern)
    for name, s in _AFTER_COMMIT.items():
        listing.setdefault(f"{name} (after commit)", []).append(s.pattern)
    return listing


# --- announcing -----------------------------------------------------------------------------


def announce(name: str, /, *, object_type: str, object_id: str, **payload: Any) -> Event:
    """Tell the subscribers that ``name`` happened to the object. In-transaction subscribers
    run now, in the caller's transaction; one outbox row is added for each after-commit
    subscriber, delivered once the caller commits. The caller commits (once, as always).

    ``payload`` must be JSON-able: it is stored in the outbox.

    :raises Exception: whatever an in-transaction subscriber raises (the change must then be
        rolled back, which the caller's ``@transactional`` does).
    """
    happened = Event(name, object_type, str(object_id), dict(payload))
    for subscriber in list(_IN_TRANSACTION):
        if subscriber.wants(name):
            subscriber.handler(happened)
    later = [s for s in _AFTER_COMMIT.values() if s.wants(name)]
    if later:
        session = get_session()
        now = utcnow()
        pending: list[str] = session.info.setdefault(_PENDING, [])
        for subscriber in later:
            message = OutboxMessage(
                id=new_public_id(),
                subscriber=subscriber.name or "",
                event=name,
                object_type=object_type,
                object_id=happened.object_id,
                payload=happened.payload,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
            session.add(message)
            pending.append(message.id)
    return happened


def _after_commit(session: Session) -> None:
    """Hand the outbox rows the transaction wrote to the job worker. The session cannot run
    SQL here; a queue that is down only delays them until the sweep."""
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return
    tasks = current_app.extensions.get("harmony_events")
    if tasks is None:
        return
    try:
        tasks["deliver"](list(pending))
    except Exception as exc:  # the sweep delivers them
        log.warning(
            "outbox: %d message(s) not queued (%s); the sweep delivers them", len(pending), exc
        )


def _after_rollback(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the outermost transaction: its outbox rows are gone
        session.info.pop(_PENDING, None)


# --- delivering -----------------------------------------------------------------------------


@dataclass
class Delivery:
    delivered: int = 0
    failed: int = 0
    unknown: int = 0


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a message waits after its ``attempts``-th failed delivery."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver(
    message_ids: Iterable[str] | None = None, *, now: dt.datetime | None = None
) -> Delivery:
    """Deliver the outbox messages that are due (those of ``message_ids``, or all of them),
    each in a transaction of its own: the row is held while its handler runs (PostgreSQL:
    ``FOR UPDATE SKIP LOCKED``, so two workers never deliver one message at once; SQLite: the
    job's write lock), then marked delivered, or its failure recorded for a later attempt.
    Run by the job worker under :func:`core.db.writing`, in a session of its own (it commits
    and rolls back the session of :func:`core.db.get_session`)."""
    session = get_session()
    moment = now or utcnow()
    due = select(OutboxMessage.id).where(OutboxMessage.next_attempt_at <= moment)
    if message_ids is not None:
        due = due.where(OutboxMessage.id.in_(list(message_ids)))
    ids = list(session.scalars(due.order_by(OutboxMessage.created_at, OutboxMessage.id)))
    session.rollback()
    counts = Delivery()
    for message_id in ids:
        message = session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.next_attempt_at <= moment)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if message is None or message.delivered_at is not None:  # another worker has it
            session.rollback()
            continue
        subscriber = _AFTER_COMMIT.get(message.subscriber)
        if subscriber is None:
            log.error(
                "outbox message %s (%s) is for %r, which is not registered: kept",
                message.id,
                message.event,
                message.subscriber,
            )
            message.last_error = f"no subscriber named {message.subscriber!r} is registered"
            message.next_attempt_at = moment + UNKNOWN_SUBSCRIBER_RETRY
            session.commit()
            counts.unknown += 1
            continue
        happened = message.as_event()
        try:
            subscriber.handler(happened)
        except Exception as exc:
            session.rollback()
            _record_failure(session, message_id, exc, moment)
            counts.failed += 1
            continue
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        if message is not None:  # the handler may have committed meanwhile
            message.attempts += 1
            message.delivered_at = utcnow()
            message.next_attempt_at = None
            message.last_error = None
        session.commit()
        counts.delivered += 1
    return counts


def _record_failure(session: Session, message_id: str, exc: Exception, moment: dt.datetime) -> None:
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None:
        return
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        log.error(
            "outbox message %s (%s for %s) failed %d times; given up: %s",
            message.id,
            message.event,
            message.subscriber,
            message.attempts,
            message.last_error,
        )
        message.next_attempt_at = None
    else:
        log.warning(
            "outbox message %s (%s for %s) failed (attempt %d): %s",
            message.id,
            message.event,
            message.subscriber,
            message.attempts,
            message.last_error,
        )
        message.next_attempt_at = moment + retry_delay(message.attempts)
    session.commit()


def init_app(app: Flask) -> None:
    """The job worker's outbox tasks: one queued at each commit that wrote messages, and a
    sweep every minute for whatever is left (the queue was down, a retry is due). Needs the
    queue of :func:`core.jobs.init_app`."""
    huey = app.extensions["harmony_jobs"]["huey"]

    def deliver_task(message_ids: list[str]) -> None:
        with app.app_context(), writing():
            deliver(message_ids)

    def sweep_task() -> None:
        with app.app_context(), writing():
            deliver()

    app.extensions["harmony_events"] = {
        "deliver": huey.task(name="harmony.deliver_outbox")(deliver_task),
        "sweep": huey.periodic_task(crontab(minute="*"), name="harmony.sweep_outbox")(sweep_task),
    }
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
