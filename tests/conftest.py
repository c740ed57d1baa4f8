"""Test harness: one database per run built by the migrations, one rolled-back transaction per
test, and helpers that act like a user (log in, submit forms with their CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker

from core import create_app, migrate
from core.auth import limiter
from core.db import Database
from tests import factories
from tests.dbutil import fresh_database, postgres_base_url

PASSWORD = "correct horse battery staple"
TEST_ENV = {"HARMONY_ENV": "testing"}


def pytest_report_header() -> str:
    url = postgres_base_url()
    return f"database: PostgreSQL ({url})" if url else "database: SQLite"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db"), "test") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Flask:
    return create_app({"DATABASE_URL": database_url, "SEARCH_CHECK_STATEMENTS": True}, env=TEST_ENV)


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Every test runs inside one outer transaction that is rolled back at its end; the
    services' commits become savepoint releases."""
    db: Database = app.extensions["harmony_db"]
    original = db.session_factory
    connection = db.engine.connect()
    outer = connection.begin()
    db.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    limiter.reset()
    try:
        yield
    finally:
        db.session_factory = original
        outer.rollback()
        connection.close()


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
    the HARMONY variables ``HV``), loaded inside the test's transaction: datasets need disease
    terms and mappings need variable terms."""
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    with app.app_context():
        load_bundled(SYSTEM)
