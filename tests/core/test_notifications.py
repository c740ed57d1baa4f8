"""Notifications: ``notify`` adds one row per distinct active user in the caller's
transaction; each user sees, counts and marks only their own (API and page, with the unread
count in the header); after the commit each notification is mailed once — to a real SMTP
server on the loopback, or to the log when no server is configured — however often the outbox
delivers it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from core import events, notifications
from core.db import get_session, writing
from core.errors import NotFound, Unauthenticated
from core.events import OutboxMessage
from core.models import Role, User
from core.notifications import Notification, notify
from core.policies import SYSTEM
from tests.conftest import csrf_token, login, shared_world
from tests.core.test_mail import loopback_smtp


@dataclass
class World:
    alice: str
    bob: str
    carol: str  # deactivated
    alice_email: str
    bob_email: str
    alice_token: str
    bob_token: str


@pytest.fixture(scope="module")
def world(app) -> Iterator[World]:
    with shared_world(app, app.extensions["harmony_db"].engine) as make:
        alice = make.user(Role.RESEARCHER, name="Alice Applicant")
        bob = make.user(Role.DAC_MEMBER, name="Bob Reviewer")
        carol = make.user(Role.RESEARCHER, name="Carol Gone")
        with app.app_context():
            from core import services

            services.update_user(SYSTEM, carol.id, {"is_active": False})
        yield World(
            alice=alice.id,
            bob=bob.id,
            carol=carol.id,
            alice_email=alice.email,
            bob_email=bob.email,
            alice_token=make.token(alice),
            bob_token=make.token(bob),
        )


def user(user_id: str) -> User:
    found = get_session().get(User, user_id)
    assert found is not None
    return found


def send(user_ids, subject="Request R-1 waits for your vote", **kwargs) -> list[Notification]:
    """notify() and commit, as a service would (the outbox delivers at the commit)."""
    with writing():
        made = notify(
            user_ids,
            kind=kwargs.pop("kind", "access_request.submitted"),
            subject=subject,
            body=kwargs.pop("body", "The request R-1 was submitted.\nPlease review it."),
            link=kwargs.pop("link", "/access-requests/r-1"),
            object_type="access_request",
            object_id="r-1",
            **kwargs,
        )
        get_session().commit()
    return made


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- notify ---------------------------------------------------------------------------------


def test_notify_adds_one_row_per_distinct_active_user(app, world):
    with app.app_context():
        made = send([world.bob, world.alice, world.bob, world.carol, "no-such-user", ""])
        assert [n.user_id for n in made] == [world.bob, world.alice]
        rows = get_session().scalars(select(Notification).where(Notification.object_id == "r-1"))
        stored = {n.user_id: n for n in rows}
        assert set(stored) == {world.alice, world.bob}
        note = stored[world.bob]
        assert note.kind == "access_request.submitted"
        assert note.subject == "Request R-1 waits for your vote"
        assert note.link == "/access-requests/r-1"
        assert note.object_type == "access_request" and note.read_at is None


def test_a_rolled_back_change_leaves_no_notification_and_no_message(app, world):
    with app.app_context(), writing():
        session = get_session()
        before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.created_at.desc()))
        notify([world.alice], kind="test.rollback", subject="Never", body="")
        session.rollback()
        assert notifications.unread_count(world.alice) == 0
        after = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.created_at.desc()))
        assert after == before


def test_notify_refuses_a_link_to_another_site_and_shortens_long_subjects(app, world):
    with app.app_context(), writing():
        for link in ("https://evil.example/x", "//evil.example/x", "relative/path", "/a b"):
            with pytest.raises(ValueError, match="link"):
                notify([world.alice], kind="k", subject="s", body="", link=link)
        with pytest.raises(ValueError, match="kind"):
            notify([world.alice], kind=" ", subject="s", body="")
        (note,) = notify([world.alice], kind="k", subject="word " * 100, body="")
        assert len(note.subject) == 200 and note.subject.endswith("…")
        assert notify([], kind="k", subject="s", body="") == []


# --- counting and marking, one's own only ---------------------------------------------------


def test_unread_counts_and_marking_read_concern_only_ones_own(app, world):
    with app.app_context():
        first, _ = send([world.alice, world.bob], subject="One")
        send([world.alice], subject="Two")
        alice, bob = user(world.alice), user(world.bob)
        assert notifications.unread_count(world.alice) == 2
        assert notifications.unread_count(world.bob) == 1
        with pytest.raises(NotFound):
            notifications.mark_read(bob, first.id)  # Alice's
        assert notifications.unread_count(world.alice) == 2
        marked = notifications.mark_read(alice, first.id)
        assert marked.read_at is not None
        assert notifications.mark_read(alice, first.id).read_at == marked.read_at  # no change
        assert notifications.unread_count(world.alice) == 1
        assert [n.subject for n in notifications.list_for(alice, unread_only=True).items] == ["Two"]
        assert notifications.mark_all_read(alice) == 1
        assert notifications.unread_count(world.alice) == 0
        assert notifications.unread_count(world.bob) == 1  # Bob's are his
        assert [n.user_id for n in notifications.list_for(bob).items] == [world.bob]
        with pytest.raises(Unauthenticated):
            notifications.list_for(None)


# --- API ------------------------------------------------------------------------------------


def test_the_api_lists_ones_own_newest_first_paginated(app, client, world):
    with app.app_context():
        for number in range(5):
            send([world.alice], subject=f"Number {number}")
        send([world.bob], subject="Bob's own")
    response = client.get(
        "/api/v1/me/notifications?per_page=2&page=2", headers=bearer(world.alice_token)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"], body["unread"]) == (5, 2, 2, 5)
    assert [n["subject"] for n in body["items"]] == ["Number 2", "Number 1"]
    item = body["items"][0]
    assert item["link"] == "/access-requests/r-1" and item["is_read"] is False
    assert item["kind"] == "access_request.submitted" and item["read_at"] is None


def test_the_api_marks_read_one_or_all(app, client, world):
    with app.app_context():
        mine = send([world.alice], subject="Mine")[0].id
        send([world.alice], subject="Also mine")
        theirs = send([world.bob], subject="Bob's")[0].id
    headers = bearer(world.alice_token)
    response = client.post(f"/api/v1/me/notifications/{theirs}/read", headers=headers)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    response = client.post(f"/api/v1/me/notifications/{mine}/read", headers=headers)
    assert response.status_code == 200 and response.get_json()["is_read"] is True
    body = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert body["total"] == 1 and body["items"][0]["subject"] == "Also mine"
    response = client.post("/api/v1/me/notifications/read", headers=headers)
    assert response.get_json() == {"marked": 1, "unread": 0}
    body = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert body["total"] == 0 and body["unread"] == 0
    bobs = client.get("/api/v1/me/notifications", headers=bearer(world.bob_token)).get_json()
    assert bobs["unread"] == 1  # Alice's "all" is not Bob's


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me/notifications"),
        ("POST", "/api/v1/me/notifications/read"),
        ("POST", "/api/v1/me/notifications/0123/read"),
    ],
)
def test_the_api_is_for_logged_in_users(client, world, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_bad_paging_is_a_422_naming_the_field(client, world):
    headers = bearer(world.alice_token)
    response = client.get("/api/v1/me/notifications?per_page=0", headers=headers)
    assert response.status_code == 422 and "per_page" in response.get_json()["errors"]
    response = client.get("/api/v1/me/notifications?unread=maybe", headers=headers)
    assert response.status_code == 422 and "unread" in response.get_json()["errors"]


# --- the page and the header ----------------------------------------------------------------


def test_the_page_needs_a_login(client, world):
    response = client.get("/me/notifications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_page_has_an_empty_state_and_the_header_no_count(client, world):
    login(client, world.bob_email)
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "No notifications yet" in page
    assert "Mark all as read" not in page
    assert 'aria-label="Notifications"' in page  # the header's link, without a number


def test_the_page_lists_unread_first_class_and_the_header_counts(app, client, world):
    with app.app_context():
        old = send([world.alice], subject="Decision on R-0", link="/register")[0]
        notifications.mark_read(user(world.alice), old.id)
        fresh = send([world.alice], subject="Request R-1 waits for your vote")[0]
        send([world.alice], subject="No link here", link=None)
    login(client, world.alice_email)
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="Notifications, 2 unread"' in page
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "2 unread." in page
    items = re.findall(r'<li class="card notification( notification-unread)?">', page)
    assert items == [" notification-unread", " notification-unread", ""]  # newest first
    assert 'Request R-1 waits for your vote<span class="visually-hidden"> (unread)' in page
    assert f"/me/notifications/{fresh.id}/open" in page
    assert "Please review it." in page
    assert "Mark all as read" in page

    # opening one marks it read and follows its link
    response = client.get(f"/me/notifications/{fresh.id}/open")
    assert response.status_code == 302 and response.headers["Location"] == "/access-requests/r-1"
    page = client.get("/me/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 1 unread"' in page

    # another user's is not there for her
    with app.app_context():
        bobs = send([world.bob], subject="Bob's")[0].id
    assert client.get(f"/me/notifications/{bobs}/open").status_code == 404

    # mark all as read (a CSRF-protected form)
    response = client.post(
        "/me/notifications/read", data={"csrf_token": csrf_token(client, "/me/notifications")}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Every notification is marked as read." in page
    assert 'aria-label="Notifications"' in page and "All read." in page
    assert "notification-unread" not in page


def test_mark_all_without_the_csrf_token_is_refused(app, client, world):
    with app.app_context():
        send([world.alice], subject="Still unread")
    login(client, world.alice_email)
    assert client.post("/me/notifications/read").status_code == 403
    with app.app_context():
        assert notifications.unread_count(world.alice) == 1


def test_a_notification_without_a_link_opens_the_list(app, client, world):
    with app.app_context():
        note = send([world.alice], subject="No link", link=None)[0]
    login(client, world.alice_email)
    response = client.get(f"/me/notifications/{note.id}/open")
    assert response.headers["Location"] == "/me/notifications"
    with app.app_context():
        assert notifications.unread_count(world.alice) == 0


# --- mail -----------------------------------------------------------------------------------


def test_each_notification_is_mailed_once_over_smtp(app, world):
    base = app.config["BASE_URL"].rstrip("/")
    with loopback_smtp(app) as server, app.app_context():
        made = send([world.alice, world.bob], subject="Request R-7 waits for your vote")
        events.deliver()  # the worker's sweep (the tests' queue delivered at the commit)
        # a worker that died after mailing delivers the messages again: no second mail
        with writing():
            session = get_session()
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.object_id.in_([n.id for n in made]))
                .values(delivered_at=None, next_attempt_at=OutboxMessage.created_at)
            )
            session.commit()
            assert events.deliver().delivered == 2
            mailed = session.scalars(
                select(Notification.mailed_at).where(Notification.id.in_([n.id for n in made]))
            )
            assert all(m is not None for m in mailed)
    mails = [(to, m) for to, m in server.messages if "R-7" in m["Subject"]]
    assert sorted(to[0] for to, _ in mails) == sorted([world.alice_email, world.bob_email])
    _, mail = mails[0]
    assert mail["Subject"] == "Request R-7 waits for your vote"
    text = mail.get_payload(decode=True).decode()
    assert "The request R-1 was submitted." in text
    assert f"{base}/access-requests/r-1" in text
    assert f"{base}/me/notifications" in text


def test_a_failed_delivery_is_retried_and_then_mailed(app, world, monkeypatch):
    from tests.core.test_mail import free_port

    with app.app_context():
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens
        monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
        note = send([world.alice], subject="Retry me")[0]
        with writing():
            session = get_session()
            message = session.scalar(
                select(OutboxMessage).where(OutboxMessage.object_id == note.id)
            )
            assert message is not None and message.attempts == 1 and message.delivered_at is None
            assert session.get(Notification, note.id).mailed_at is None
            due = message.next_attempt_at
        with loopback_smtp(app) as server, writing():
            assert events.deliver(now=due).delivered == 1
    assert [m["Subject"] for _, m in server.messages] == ["Retry me"]


def test_without_smtp_the_mail_is_written_to_the_log(app, world, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    with caplog.at_level(logging.INFO, logger="harmony.mail"), app.app_context():
        note = send([world.bob], subject="Logged, not sent")[0]
        events.deliver()
        assert get_session().get(Notification, note.id).mailed_at is not None
    logged = [r.getMessage() for r in caplog.records if "Logged, not sent" in r.getMessage()]
    assert len(logged) == 1
    assert world.bob_email in logged[0] and "/access-requests/r-1" in logged[0]


def test_a_user_deactivated_before_the_delivery_is_not_mailed(app, world, caplog):
    with caplog.at_level(logging.INFO, logger="harmony.mail"), app.app_context(), writing():
        session = get_session()
        (note,) = notify([world.alice], kind="k", subject="Closed meanwhile", body="")
        session.execute(update(User).where(User.id == world.alice).values(is_active=False))
        session.commit()  # the tests' queue delivers now
        events.deliver()
        assert session.get(Notification, note.id).mailed_at is None
    assert not [r for r in caplog.records if "Closed meanwhile" in r.getMessage()]


def test_dates_in_messages_are_written_out():
    import datetime as dt

    from core.notifications import long_date

    assert long_date(dt.date(2027, 3, 1)) == "1 March 2027"
    assert long_date(dt.datetime(2026, 12, 7, 9, 14, tzinfo=dt.UTC)) == "7 December 2026"
    assert long_date(None) == "—"
