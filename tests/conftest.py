"""Test harness: the databases of a run built once by the migrations, one rolled-back
transaction per test, and helpers that act like a user (log in, submit forms with their CSRF
token).

Two databases are built per run (per xdist worker): an empty one, and a *reference* one that
also holds the bundled vocabularies, committed once. A test that asks for ``vocabularies``
runs against the reference database, every other test against the empty one, so that tests of
loading still load into an empty store. A class or module may build a whole world once
(:func:`shared_world`); its tests then each run in a savepoint of the world's transaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import sessionmaker

from core import create_app, migrate
from core.db import Database, make_engine
from tests import factories
from tests.contract.report import (  # noqa: F401  (hooks: the schemathesis run's figures)
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
from tests.dbutil import fresh_database, postgres_base_url

PASSWORD = "correct horse battery staple"
TEST_ENV = {"HARMONY_ENV": "testing"}
BUNDLED_PREFIXES = {"DUO", "HAEM", "HV"}
SHARED_DIR = Path(
    os.environ.get("HARMONY_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared"
)


def pytest_report_header() -> str:
    url = postgres_base_url()
    return f"database: PostgreSQL ({url})" if url else "database: SQLite"


def pytest_configure(config: pytest.Config) -> None:
    """In CI the reference files of ../shared must be there: without them about 18 tests
    would be skipped, and a skip is not a pass."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and not SHARED_DIR.is_dir():
        raise pytest.UsageError(
            f"CI=true but the shared reference folder is not at {SHARED_DIR}: put ../shared "
            "beside the checkout or point HARMONY_SHARED_DIR at it"
        )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database built by the migrations (one per run, or per xdist worker)."""
    with fresh_database(tmp_path_factory.mktemp("db"), "test") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def reference_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database built by the migrations with the bundled vocabularies loaded and committed
    (built the first time a test needs it)."""
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    with fresh_database(tmp_path_factory.mktemp("db"), "reference") as url:
        migrate.upgrade(url)
        loader = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with loader.app_context():
            load_bundled(SYSTEM)
        loader.extensions["harmony_db"].engine.dispose()
        yield url


#: PostgreSQL: the longest a lock wait that a statement sets (``SET lock_timeout``) may last
#: while tests run. What a test writes stays in its one open transaction until the test ends,
#: so the VACUUM that follows a rebuild of the search index (core.db.vacuum_analyze, on a
#: connection of its own, waiting up to 5 s) can never get the tables the test's rebuild wrote:
#: it gave up after 5 s, 29 times per run (2.5 minutes of a worker's time). A VACUUM of free
#: tables still runs (autovacuum, which could hold one, yields after a second).
LOCK_WAIT_CAP_MS = 1500
SET_LOCK_TIMEOUT = re.compile(r"SET lock_timeout = (\d+)")


def _cap_lock_waits(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _capped(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> Any:
        wait = SET_LOCK_TIMEOUT.fullmatch(statement)
        if wait is not None and int(wait.group(1)) > LOCK_WAIT_CAP_MS:
            statement = f"SET lock_timeout = {LOCK_WAIT_CAP_MS}"
        return statement, parameters


@pytest.fixture(scope="session")
def app(database_url: str) -> Flask:
    app = create_app({"DATABASE_URL": database_url, "SEARCH_CHECK_STATEMENTS": True}, env=TEST_ENV)
    _cap_lock_waits(app.extensions["harmony_db"].engine)
    return app


@pytest.fixture(scope="session")
def reference_engine(reference_database_url: str) -> Iterator[Engine]:
    engine = make_engine(reference_database_url)
    _cap_lock_waits(engine)
    yield engine
    engine.dispose()


#: the connection of a world built once for a class or module, while it lasts (by app)
_shared: dict[int, Connection] = {}


def _forget_worker_caches(app: Flask) -> None:
    """Worker-local caches keyed by what a rolled-back test may leave behind in them."""
    from catalogue.stats.services import forget_aggregates
    from core.services import forget_organisation_names
    from ontologies import hierarchy_cache

    forget_aggregates()
    with app.app_context():
        hierarchy_cache.forget()
        forget_organisation_names()


@contextmanager
def _bound(app: Flask, engine: Engine) -> Iterator[Connection]:
    """Bind every session of ``app`` to one connection of ``engine`` inside a transaction that
    is rolled back at the end; the services' commits become savepoint releases."""
    db: Database = app.extensions["harmony_db"]
    original = db.engine, db.session_factory
    connection = engine.connect()
    outer = connection.begin()
    db.engine = engine
    db.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield connection
    finally:
        db.engine, db.session_factory = original
        outer.rollback()
        connection.close()


@contextmanager
def shared_world(app: Flask, engine: Engine) -> Iterator[factories.Maker]:
    """For a class- or module-scoped fixture that builds a world once: everything made with
    the yielded :class:`~tests.factories.Maker` (or through ``app``) lives in one transaction,
    rolled back when the fixture ends; each test in between runs in a savepoint of it that is
    rolled back after the test. Pass ``reference_engine`` for a world with the vocabularies."""
    with _bound(app, engine) as connection:
        _forget_worker_caches(app)
        _shared[id(app)] = connection
        try:
            yield factories.Maker(app)
        finally:
            del _shared[id(app)]


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    """Every test runs inside one outer transaction that is rolled back at its end (or in a
    savepoint of a shared world's transaction); the services' commits become savepoint
    releases. Tests asking for ``vocabularies`` run against the reference database."""
    connection = _shared.get(id(app))
    if connection is not None:
        savepoint = connection.begin_nested()
        _forget_worker_caches(app)
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
        return
    db: Database = app.extensions["harmony_db"]
    if "vocabularies" in request.fixturenames:
        engine = request.getfixturevalue("reference_engine")
    else:
        engine = db.engine
    with _bound(app, engine):
        _forget_worker_caches(app)
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask) -> factories.Maker:
    return factories.Maker(app)


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_META.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client: FlaskClient, path: str, data: dict[str, str], page: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def api_headers(client: FlaskClient) -> dict[str, str]:
    """Headers for a cookie-authenticated JSON call (the CSRF token of the session)."""
    return {"X-CSRFToken": csrf_token(client, "/")}


@pytest.fixture
def tiny(app):
    """A five-term ontology (prefix TINY) with synonyms, abbreviations and a polyhierarchy."""
    from tests.ontologies.conftest import load_bytes, tiny_ttl

    return load_bytes(app, tiny_ttl(), "tiny.ttl", prefix="TINY")


@pytest.fixture
def vocabularies(app: Flask) -> None:
    """The bundled vocabularies (DUO, the haematological malignancies ``HAEM`` keyed by NCIt,
    the HARMONY variables ``HV``): asking for this fixture runs the test against the reference
    database, where they were loaded once for the run (see :func:`_transaction`); datasets
    need disease terms and mappings need variable terms."""
    from core.db import get_session
    from ontologies.models import Ontology

    with app.app_context():
        loaded = set(get_session().scalars(select(Ontology.prefix)))
    assert loaded >= BUNDLED_PREFIXES, f"the bundled vocabularies are not loaded: {loaded}"
