"""A runaway query is cut off with a clear 503 instead of holding a worker."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from core.db import end_reading, get_session, query_timeout
from core.errors import ServiceUnavailable

RUNAWAY = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) "
    "SELECT count(*) FROM c"
)


def test_a_runaway_query_is_stopped_and_the_session_stays_usable(app):
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as error, query_timeout(200) as session:
            session.execute(RUNAWAY).scalar()
        assert time.monotonic() - started < 5
        assert error.value.status == 503 and "0.2 s" in error.value.detail
        assert get_session().execute(text("SELECT 1")).scalar() == 1


def test_quick_queries_pass_and_the_limit_ends_with_the_block(app):
    with app.app_context():
        postgresql = get_session().get_bind().dialect.name == "postgresql"
        with query_timeout(2000) as session:
            assert session.execute(text("SELECT 2")).scalar() == 2
            if postgresql:
                assert session.scalar(text("SHOW statement_timeout")) == "2s"
        if postgresql:
            assert get_session().scalar(text("SHOW statement_timeout")) == "0"


def test_postgresql_connections_do_not_jit_compile(app):
    # a search's plan over two common words passed jit_above_cost and compiled for 1.2 s
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("JIT is PostgreSQL's")
        assert session.scalar(text("SHOW jit")) == "off"


def _postgresql_only(session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements and transaction ids are PostgreSQL's")


def test_a_reading_transaction_ends_with_commit_and_keeps_prepared_statements(app):
    # psycopg forgets what it prepared at every ROLLBACK: reading requests ended that way
    # had their statements parsed and planned anew every time
    with app.app_context():
        session = get_session()
        _postgresql_only(session)
        for _ in range(6):  # psycopg prepares a statement on its fifth run
            session.execute(text("SELECT count(*) FROM organisations")).scalar()
        raw = session.connection().connection.driver_connection
        assert session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1
        assert end_reading(session)
        session.close()  # the request's end: nothing left to roll back
        again = get_session()
        assert again.connection().connection.driver_connection is raw  # the pool's one
        assert again.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1


def test_a_transaction_that_wrote_is_never_committed_by_the_end_of_a_request(app):
    with app.app_context():
        session = get_session()
        _postgresql_only(session)
        session.execute(text("CREATE TEMPORARY TABLE scratch (x integer)"))
        session.execute(text("INSERT INTO scratch VALUES (1)"))
        assert not end_reading(session)
        session.rollback()
        with query_timeout(2000) as timed:
            timed.execute(text("CREATE TEMPORARY TABLE scratch2 (x integer)"))
        # the block wrote: its transaction goes on (and is rolled back, not committed)
        assert get_session().in_transaction()
        get_session().rollback()
        assert get_session().scalar(text("SELECT to_regclass('pg_temp.scratch2')")) is None


def test_a_reading_block_ends_its_transaction(app):
    with app.app_context():
        session = get_session()
        _postgresql_only(session)
        with query_timeout(2000) as timed:
            timed.execute(text("SELECT 1")).scalar()
        assert not get_session().in_transaction()


def test_settings_come_with_the_limit(app):
    # for the transaction (set_config's third argument): they end with it, as the limit does
    with app.app_context():
        session = get_session()
        _postgresql_only(session)
        with query_timeout(2000, settings={"work_mem": "32MB"}) as timed:
            assert timed.scalar(text("SHOW work_mem")) == "32MB"
            assert timed.scalar(text("SHOW statement_timeout")) == "2s"
        with pytest.raises(ValueError), query_timeout(2000, settings={"work_mem'); --": "1"}):
            pass
