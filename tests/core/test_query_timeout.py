"""A runaway query is cut off with a clear 503 instead of holding a worker."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from core.db import get_session, query_timeout
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
