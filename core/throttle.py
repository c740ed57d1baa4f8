"""Slowing down password guessing without letting a stranger lock anyone out.

Every failed password check (a login, or the current password of a password change) counts
against two counters: the account *from this address*, and the address (any account). A few
failures are free; after that each further failure makes the counter wait twice as long as the
last, from ``LOGIN_FIRST_DELAY_SECONDS`` up to ``LOGIN_MAX_DELAY_SECONDS``. A stranger guessing
someone's password from their own address therefore only slows themself down: the owner, coming
from another address, logs in as usual. A success clears the account's counter for that address
(not the address's, or an attacker could clear it with an account of their own). Counts of a
counter idle for ``LOGIN_FAILURES_KEPT_HOURS`` start again.

The counters are rows of ``login_failures`` in the application's database, so every worker on
every host sees the same counts; each failure is one atomic upsert (``INSERT … ON CONFLICT DO
UPDATE``, on SQLite and PostgreSQL alike). flask-limiter's fixed and moving windows cannot grow a
delay with each failure, which is what keeps the waits short for a user who mistyped once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import get_session, utcnow
from core.models import LoginFailures, casefold_key

_MAX_DOUBLINGS = 30  # 2**30 times any sensible first delay is far beyond the maximum already


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int


def _where(address: str | None) -> str:
    """The address a counter is kept for: an IPv6 client is counted by its /64 network, which
    one subscriber usually holds whole (or it could change address for every guess)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _counters(account: str, address: str | None) -> list[_Counter]:
    config = current_app.config
    where = _where(address)
    account_here = f"account-address:{casefold_key(account)}\x00{where}"
    return [
        _Counter(hashlib.sha256(account_here.encode()).hexdigest(), config["LOGIN_FREE_FAILURES"]),
        _Counter(
            hashlib.sha256(f"address:{where}".encode()).hexdigest(),
            config["LOGIN_FREE_FAILURES_PER_ADDRESS"],
        ),
    ]


def _kept_since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(hours=current_app.config["LOGIN_FAILURES_KEPT_HOURS"])


def delay_after(failures: int, free: int) -> dt.timedelta:
    """How long a counter waits after its latest failure (zero while failures are free)."""
    if failures < free:
        return dt.timedelta(0)
    first = current_app.config["LOGIN_FIRST_DELAY_SECONDS"]
    longest = current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    doublings = min(failures - free, _MAX_DOUBLINGS)
    return dt.timedelta(seconds=min(longest, first * 2**doublings))


def seconds_to_wait(account: str, address: str | None) -> int:
    """Whole seconds before a password for ``account`` may be tried from ``address`` (0: now)."""
    now = utcnow()
    counters = {c.key: c for c in _counters(account, address)}
    rows = get_session().execute(
        select(LoginFailures.key, LoginFailures.failures, LoginFailures.last_failed_at).where(
            LoginFailures.key.in_(counters), LoginFailures.last_failed_at >= _kept_since(now)
        )
    )
    wait = dt.timedelta(0)
    for key, failures, last_failed_at in rows:
        wait = max(wait, last_failed_at + delay_after(failures, counters[key].free) - now)
    return math.ceil(wait.total_seconds()) if wait > dt.timedelta(0) else 0


def _insert(session: Session) -> type[postgresql.Insert] | type[sqlite.Insert]:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.Insert
    return sqlite.Insert


def record_failure(account: str, address: str | None) -> None:
    """Count one failed password check (in the caller's transaction, which must commit it)."""
    session = get_session()
    now = utcnow()
    kept_since = _kept_since(now)
    insert = _insert(session)
    for counter in _counters(account, address):
        statement = insert(LoginFailures).values(key=counter.key, failures=1, last_failed_at=now)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[LoginFailures.key],
                set_={
                    "failures": case(
                        (LoginFailures.last_failed_at < kept_since, 1),
                        else_=LoginFailures.failures + 1,
                    ),
                    "last_failed_at": now,
                },
            )
        )
    # forgotten counters are dropped as we go (an index on last_failed_at keeps this cheap)
    session.execute(delete(LoginFailures).where(LoginFailures.last_failed_at < kept_since))


def forget_account_failures(account: str, address: str | None) -> None:
    """After a success: the account's counter for this address starts again."""
    account_counter = _counters(account, address)[0]
    get_session().execute(delete(LoginFailures).where(LoginFailures.key == account_counter.key))


def in_words(seconds: int) -> str:
    """``in 40 seconds``, ``in 2 minutes``, ``in 1 hour``."""
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"in {hours} hour{'s' if hours != 1 else ''}"


def wait_message(seconds: int) -> str:
    """What a 429 says: why, and when to try again (in words and as a UTC time)."""
    at = (utcnow() + dt.timedelta(seconds=seconds)).strftime("%H:%M:%S UTC")
    return (
        "Too many wrong passwords were tried from your network address. To protect the account, "
        f"password checks from here are paused: try again {in_words(seconds)} (after {at})."
    )
