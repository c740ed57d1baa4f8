"""Change events: an in-transaction subscriber's writes commit or roll back with the change; an
after-commit subscriber gets an outbox row written in the same transaction (none when it rolls
back), delivered by the job worker once the change has committed — marked delivered, or
retried later with its error recorded, given up after the last attempt, and kept (not lost)
when its subscriber is not registered."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core import events
from core.db import get_session, utcnow, writing
from core.events import Event, OutboxMessage
from core.models import Organisation, OrganisationKind, casefold_key


def organisation(name: str) -> Organisation:
    return Organisation(
        name=name, name_key=casefold_key(name), country="NL", kind=OrganisationKind.HOSPITAL
    )


def count(model: Any, *where: Any) -> int:
    return get_session().scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def received(app) -> Iterator[dict[str, list[Any]]]:
    """Subscribers of the test's own events (``test.*``), removed at its end: ``index`` writes
    derived data in the transaction; ``mail`` fails while ``failures`` is positive."""
    seen: dict[str, list[Any]] = {"index": [], "mail": [], "failures": [0]}

    def index(event: Event) -> None:
        seen["index"].append(event)
        get_session().add(organisation(f"Index of {event.object_id}"))

    def mail(event: Event) -> None:
        if seen["failures"][0] > 0:
            seen["failures"][0] -= 1
            raise ConnectionError("the mail server said no")
        seen["mail"].append(event)

    events.subscribe("test.organisation.*", index)
    events.subscribe_after_commit("test.*", "test.mail", mail)
    yield seen
    events.unsubscribe(index)
    events.unsubscribe("test.mail")


def create(name: str, *, commit: bool = True) -> Organisation:
    """A service that makes a change and announces it."""
    session = get_session()
    created = organisation(name)
    session.add(created)
    session.flush()
    events.announce(
        "test.organisation.created", object_type="organisation", object_id=created.id, name=name
    )
    if commit:
        session.commit()
    else:
        session.rollback()
    return created


def test_an_in_transaction_subscriber_commits_with_the_change(app, received):
    with app.app_context(), writing():
        created = create("Hôpital Saint-Louis")
        [event] = received["index"]
        assert (event.name, event.object_type, event.object_id) == (
            "test.organisation.created",
            "organisation",
            created.id,
        )
        assert event.payload == {"name": "Hôpital Saint-Louis"}
        assert count(Organisation, Organisation.name == f"Index of {created.id}") == 1


def test_a_change_that_rolls_back_takes_the_subscriber_s_writes_and_the_outbox_row_along(
    app, received
):
    with app.app_context(), writing():
        created = create("Charité", commit=False)
        assert len(received["index"]) == 1  # it ran, at announce time
        assert count(Organisation, Organisation.name.like("Index of %")) == 0
        assert count(Organisation, Organisation.id == created.id) == 0
        assert count(OutboxMessage) == 0
    assert received["mail"] == []  # nothing to deliver after a rollback


def test_a_subscriber_that_fails_fails_the_announcement(app, received):
    def broken(event: Event) -> None:
        raise RuntimeError("index unavailable")

    events.subscribe("test.organisation.created", broken)
    try:
        with app.app_context(), writing(), pytest.raises(RuntimeError, match="unavailable"):
            create("Karolinska")
    finally:
        events.unsubscribe(broken)
    assert received["mail"] == []


def test_the_outbox_row_is_written_with_the_change_and_delivered_after_the_commit(app, received):
    with app.app_context(), writing():
        session = get_session()
        created = organisation("Rigshospitalet")
        session.add(created)
        session.flush()
        events.announce("test.thing.done", object_type="thing", object_id="t1", size=3)
        [message] = session.scalars(select(OutboxMessage)).all()
        assert (message.subscriber, message.event, message.payload) == (
            "test.mail",
            "test.thing.done",
            {"size": 3},
        )
        assert message.delivered_at is None
        assert received["mail"] == []  # not before the commit
        assert received["index"] == []  # "test.thing.*" is not the index's pattern
        session.commit()
        # the job queue runs at once in tests: delivered when the commit returned
        [event] = received["mail"]
        assert (event.name, event.object_id, event.message_id) == (
            "test.thing.done",
            "t1",
            message.id,
        )
        session.expire_all()
        assert message.delivered_at is not None
        assert (message.attempts, message.last_error, message.next_attempt_at) == (1, None, None)


def test_a_failed_delivery_is_retried_later_with_its_error_then_delivered(app, received):
    received["failures"][0] = 2
    with app.app_context(), writing():
        create("Sahlgrenska")  # the first attempt, at the commit, fails
        message = get_session().scalar(select(OutboxMessage))
        assert message.delivered_at is None
        assert message.attempts == 1
        assert message.last_error == "ConnectionError: the mail server said no"
        first_retry = message.next_attempt_at
        assert first_retry > utcnow()
    with app.app_context(), writing():
        assert events.deliver() == events.Delivery()  # not due yet: nothing tried
        counts = events.deliver(now=first_retry)
        assert counts == events.Delivery(failed=1)
        message = get_session().get(OutboxMessage, message.id)
        assert message.attempts == 2
        assert message.next_attempt_at - first_retry == events.retry_delay(2)
        assert events.retry_delay(2) == 2 * events.retry_delay(1)  # it backs off
        assert events.deliver(now=message.next_attempt_at) == events.Delivery(delivered=1)
    with app.app_context():
        message = get_session().get(OutboxMessage, message.id)
        assert message.delivered_at is not None and message.attempts == 3
        assert message.last_error is None
    assert [e.name for e in received["mail"]] == ["test.organisation.created"]


def test_a_message_that_keeps_failing_is_given_up_and_kept_with_its_error(app, received, caplog):
    received["failures"][0] = events.MAX_ATTEMPTS
    with app.app_context(), writing():
        create("Hospital Clínic")
        later = utcnow()
        for _ in range(events.MAX_ATTEMPTS - 1):
            later += events.LONGEST_RETRY
            events.deliver(now=later)
        message = get_session().scalar(
            select(OutboxMessage).execution_options(populate_existing=True)
        )
        assert message.attempts == events.MAX_ATTEMPTS
        assert message.next_attempt_at is None and message.delivered_at is None
        assert "the mail server said no" in (message.last_error or "")
        assert events.deliver(now=later + dt.timedelta(days=30)) == events.Delivery()
    assert received["mail"] == []
    assert any("given up" in r.getMessage() for r in caplog.records)


def test_a_message_for_an_unknown_subscriber_is_kept_and_logged(app, received, caplog):
    with app.app_context(), writing():
        session = get_session()
        create("Gustave Roussy")
        message = session.scalar(select(OutboxMessage))
        orphan = OutboxMessage(
            subscriber="test.removed_webhook",
            event=message.event,
            object_type=message.object_type,
            object_id=message.object_id,
            payload={},
            attempts=0,
            next_attempt_at=utcnow(),
        )
        session.add(orphan)
        session.commit()
        with caplog.at_level(logging.ERROR, logger="harmony.events"):
            assert events.deliver() == events.Delivery(unknown=1)
        orphan = session.get(OutboxMessage, orphan.id, populate_existing=True)
        assert orphan.delivered_at is None and orphan.attempts == 0
        assert orphan.last_error == "no subscriber named 'test.removed_webhook' is registered"
        assert orphan.next_attempt_at is not None  # tried again later, in case it comes back
    assert any("test.removed_webhook" in r.getMessage() for r in caplog.records)


def test_the_sweep_delivers_what_the_commit_could_not_queue(app, received, monkeypatch):
    """The queue was down at the commit: the message waits in the outbox until the job
    worker's periodic sweep delivers it."""
    tasks = app.extensions["harmony_events"]

    def queue_down(ids: list[str]) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setitem(tasks, "deliver", queue_down)
    with app.app_context(), writing():
        create("Erasmus MC")
    assert received["mail"] == []
    tasks["sweep"]()  # the periodic task, run by the immediate queue
    assert [e.name for e in received["mail"]] == ["test.organisation.created"]
    with app.app_context():
        assert count(OutboxMessage, OutboxMessage.delivered_at.is_(None)) == 0


def test_patterns_and_registration(app):
    def handler(event: Event) -> None:
        pass

    events.subscribe_after_commit("dataset.*", "test.once", handler)
    try:
        events.subscribe_after_commit("dataset.*", "test.once", handler)  # again: harmless
        with pytest.raises(RuntimeError, match=r"two after-commit subscribers named 'test\.once'"):
            events.subscribe_after_commit("dictionary.*", "test.once", handler)
        assert events.subscribers()["test.once (after commit)"] == ["dataset.*"]
        with app.app_context():
            events.announce("dictionary.imported", object_type="dataset", object_id="d")
            assert not get_session().new  # no subscriber for it: no outbox row
            events.announce("dataset.published", object_type="dataset", object_id="d")
            assert [m.event for m in get_session().new] == ["dataset.published"]
            get_session().rollback()
    finally:
        events.unsubscribe("test.once")
