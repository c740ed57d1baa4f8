"""Maintenance after a bulk write never hangs behind a transaction that holds its tables."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from core.db import get_session, vacuum_analyze


def test_vacuum_gives_up_quickly_when_a_transaction_holds_the_table(app):
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name != "postgresql":
            assert vacuum_analyze(["search_documents"]) is True  # nothing to do elsewhere
            return
        # the test's own transaction takes the lock that a request or import in progress would
        session.execute(text("LOCK TABLE search_documents IN SHARE UPDATE EXCLUSIVE MODE"))
        started = time.monotonic()
        assert vacuum_analyze(["search_documents"], lock_timeout_ms=300) is False
        assert time.monotonic() - started < 5
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_vacuum_runs_when_the_tables_are_free(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("VACUUM is PostgreSQL's; on SQLite vacuum_analyze does nothing")
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            before = connection.execute(
                text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'terms'")
            ).scalar()
    finally:
        engine.dispose()
    with app.app_context():
        get_session().rollback()  # no transaction of the test holds the table
        assert vacuum_analyze(["terms"]) is True
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            for _ in range(50):  # the statistics collector reports with a short delay
                after = connection.execute(
                    text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'terms'")
                ).scalar()
                if after != before:
                    break
                time.sleep(0.1)
    finally:
        engine.dispose()
    assert after == (before or 0) + 1


def test_a_full_vacuum_rewrites_the_tables(app, database_url):
    # after a rebuild replaced every row, VACUUM FULL writes the table anew (a new file),
    # without the old rows' space
    if not database_url.startswith("postgresql"):
        pytest.skip("VACUUM FULL is PostgreSQL's; on SQLite vacuum_analyze does nothing")
    from sqlalchemy import create_engine

    def filenode() -> int:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(
                    text("SELECT pg_relation_filenode('search_words')")
                ).scalar_one()
        finally:
            engine.dispose()

    before = filenode()
    with app.app_context():
        get_session().rollback()
        assert vacuum_analyze(["search_words"], full=True) is True
    assert filenode() != before


def test_a_vacuum_never_waits_for_the_callers_own_transaction(app, make):
    """A job that rebuilt the index in the caller's transaction (a test's, or a command run
    inside one) and then tidies: VACUUM FULL would wait for that very transaction until its
    lock timeout, for nothing; it gives up at once."""
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("VACUUM is PostgreSQL's; on SQLite vacuum_analyze does nothing")
        session.execute(text("DELETE FROM search_words"))  # this transaction holds the table
        started = time.monotonic()
        assert vacuum_analyze(["search_words"], lock_timeout_ms=4000, full=True) is False
        assert time.monotonic() - started < 2
        # a plain VACUUM does not wait for a writer's lock: it runs
        assert vacuum_analyze(["search_words"], lock_timeout_ms=4000) is True
        session.execute(text("LOCK TABLE search_words IN SHARE MODE"))
        started = time.monotonic()
        assert vacuum_analyze(["search_words"], lock_timeout_ms=4000) is False
        assert time.monotonic() - started < 2
