"""Password guessing is slowed per (account, address) and per address with waits that grow,
never by locking the account: a stranger cannot keep its owner out. The counters live in the
database (shared by every worker); the 429 says in words when to try again."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from core import throttle
from core.db import get_session, utcnow
from core.models import LoginFailures, Role
from tests.conftest import PASSWORD, api_headers, login

WRONG = "not the password at all"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle, "utcnow", clock)
    return clock


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_stranger_guessing_cannot_lock_the_owner_out(app, make, clock):
    user = make.user(Role.RESEARCHER)
    stranger = _client(app, "203.0.113.66")
    answers = [login(stranger, user.email, WRONG).status_code for _ in range(12)]
    assert answers[:5] == [401] * 5 and 429 in answers
    # the owner, from their own address, logs in at once with the right password
    assert login(_client(app, "198.51.100.7"), user.email).status_code == 302
    # and even mistyping a few times there stays free
    owner = _client(app, "198.51.100.8")
    assert [login(owner, user.email, WRONG).status_code for _ in range(4)] == [401] * 4
    assert login(owner, user.email).status_code == 302


def test_each_further_failure_doubles_the_wait_and_the_page_says_when(app, make, clock):
    user = make.user(Role.RESEARCHER)
    client = _client(app, "203.0.113.10")
    for _ in range(5):
        assert login(client, user.email, WRONG).status_code == 401
    blocked = login(client, user.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) == 30
    page = blocked.get_data(as_text=True)
    assert "try again in 30 seconds" in page
    assert re.search(r"after \d\d:\d\d:\d\d UTC", page)

    clock.advance(31)
    assert login(client, user.email, WRONG).status_code == 401  # the 6th failure
    again = login(client, user.email)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) == 60
    assert "try again in 1 minute" in again.get_data(as_text=True)

    clock.advance(61)
    assert login(client, user.email).status_code == 302  # waited: the right password works
    # a success starts the account's count from this address again
    client = _client(app, "203.0.113.10")
    assert [login(client, user.email, WRONG).status_code for _ in range(4)] == [401] * 4


def test_the_wait_stops_growing_at_the_longest_delay(app, make, clock):
    app.config["LOGIN_MAX_DELAY_SECONDS"] = 120
    try:
        user = make.user(Role.RESEARCHER)
        client = _client(app, "203.0.113.11")
        for _ in range(10):
            login(client, user.email, WRONG)
            clock.advance(500)
        login(client, user.email, WRONG)
        blocked = login(client, user.email)
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) == 120
    finally:
        app.config["LOGIN_MAX_DELAY_SECONDS"] = 900


def test_failures_are_forgotten_after_a_quiet_day(app, make, clock):
    user = make.user(Role.RESEARCHER)
    client = _client(app, "203.0.113.12")
    for _ in range(5):
        login(client, user.email, WRONG)
    clock.advance(25 * 3600)
    assert login(client, user.email, WRONG).status_code == 401
    assert login(client, user.email).status_code == 302


def test_many_accounts_guessed_from_one_address_pause_that_address_only(app, make, clock):
    guesser = _client(app, "203.0.113.20")
    for n in range(30):
        assert login(guesser, f"guess{n}@example.org", WRONG).status_code == 401
    user = make.user(Role.RESEARCHER)
    blocked = login(guesser, user.email)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) == 30
    assert login(_client(app, "198.51.100.20"), user.email).status_code == 302


def test_unknown_and_known_emails_are_throttled_alike(app, make, clock):
    user = make.user(Role.RESEARCHER)
    answers: dict[str, tuple[int, str | None]] = {}
    for email in (user.email, "nobody-here@example.org"):
        client = _client(app, f"203.0.113.{30 + len(answers)}")
        for _ in range(5):
            login(client, email, WRONG)
        blocked = login(client, email, WRONG)
        answers[email] = (blocked.status_code, blocked.headers.get("Retry-After"))
    assert len(set(answers.values())) == 1 and next(iter(answers.values()))[0] == 429


def test_the_counters_are_in_the_database_not_in_a_worker(app, make, clock):
    user = make.user(Role.RESEARCHER)
    login(_client(app, "203.0.113.40"), user.email, WRONG)
    with app.app_context():
        rows = get_session().scalars(select(LoginFailures)).all()
        assert len(rows) == 2  # this account from this address, and the address
        assert {r.failures for r in rows} == {1}
        assert not any(user.email in r.key or "203.0.113.40" in r.key for r in rows)
        assert get_session().scalar(select(func.count()).select_from(LoginFailures)) == 2


def test_successful_logins_never_count(app, make, clock):
    user = make.user(Role.RESEARCHER)
    for _ in range(40):
        assert login(_client(app, "203.0.113.50"), user.email).status_code == 302


def test_the_current_password_check_of_a_password_change_is_throttled(app, make, clock):
    user = make.user(Role.RESEARCHER)
    client = _client(app, "203.0.113.60")
    assert login(client, user.email).status_code == 302
    headers = api_headers(client)
    body = {"current_password": WRONG, "new_password": "a brand new passphrase"}
    for _ in range(5):
        wrong = client.post("/api/v1/me/password", json=body, headers=headers)
        assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    right = body | {"current_password": PASSWORD}
    blocked = client.post("/api/v1/me/password", json=right, headers=headers)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) == 30
    assert blocked.headers["Content-Type"].startswith("application/problem+json")
    assert "try again in 30 seconds" in blocked.json["detail"]
    clock.advance(31)
    assert client.post("/api/v1/me/password", json=right, headers=headers).status_code == 204


def test_the_password_form_says_when_to_try_again(app, make, clock):
    user = make.user(Role.RESEARCHER)
    client = _client(app, "203.0.113.61")
    login(client, user.email)
    from tests.conftest import post_form

    form = {"current_password": WRONG, "new_password": "a brand new passphrase"}
    for _ in range(5):
        assert post_form(client, "/account/password", form, "/account").status_code == 422
    blocked = post_form(client, "/account/password", form, "/account")
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30"
    assert "try again in 30 seconds" in blocked.get_data(as_text=True)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "in 1 second"), (45, "in 45 seconds"), (60, "in 1 minute"), (61, "in 2 minutes"),
     (900, "in 15 minutes"), (3600, "in 1 hour"), (5400, "in 2 hours")],
)  # fmt: skip
def test_waits_in_words(seconds, words):
    assert throttle.in_words(seconds) == words


def test_an_ipv6_client_is_counted_by_its_network(app, make, clock):
    user = make.user(Role.RESEARCHER)
    for n in range(5):
        login(_client(app, f"2001:db8:1:2::{n + 1:x}"), user.email, WRONG)
    blocked = login(_client(app, "2001:db8:1:2:ffff::9"), user.email)
    assert blocked.status_code == 429
    assert login(_client(app, "2001:db8:1:3::1"), user.email).status_code == 302
