"""Errors from writers meeting each other are answers a client can act on, never a 500: a busy
SQLite is 503 with Retry-After, a PostgreSQL deadlock, serialization failure or lock timeout and
a uniqueness race are 409; any other database error stays a logged 500 without details."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError

from core import create_app
from tests.conftest import TEST_ENV


class _PgError(Exception):
    def __init__(self, sqlstate: str, message: str):
        super().__init__(message)
        self.sqlstate = sqlstate


RAISES = {
    "sqlite-locked": OperationalError(
        "UPDATE x", {}, sqlite3.OperationalError("database is locked")
    ),
    "deadlock": OperationalError("UPDATE x", {}, _PgError("40P01", "deadlock detected")),
    "serialization": OperationalError("UPDATE x", {}, _PgError("40001", "could not serialize")),
    "lock-timeout": OperationalError("UPDATE x", {}, _PgError("55P03", "lock not available")),
    "unique-race": IntegrityError("INSERT x", {}, sqlite3.IntegrityError("UNIQUE failed")),
    "disk-full": OperationalError(
        "INSERT x", {}, sqlite3.OperationalError("database or disk is full")
    ),
}


@pytest.fixture(scope="module")
def raising_app(database_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": database_url}, env=TEST_ENV)

    @app.post("/api/v1/_raise/<kind>")
    def _raise(kind: str) -> str:
        raise RAISES[kind]

    yield app
    app.extensions["harmony_db"].engine.dispose()


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("sqlite-locked", 503),
        ("deadlock", 409),
        ("serialization", 409),
        ("lock-timeout", 409),
        ("unique-race", 409),
        ("disk-full", 500),
    ],
)
def test_database_errors_from_concurrency_are_answers_not_500(
    raising_app: Flask, kind: str, status: int
) -> None:
    answer = raising_app.test_client().post(f"/api/v1/_raise/{kind}")
    assert answer.status_code == status
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == status
    assert "UPDATE" not in body["detail"] and "INSERT" not in body["detail"]  # no SQL leaks
    if status == 503:
        assert answer.headers["Retry-After"] == "5"
    if status == 409:
        assert "try again" in body["detail"]


def test_if_match_dash_is_a_stale_etag_not_a_pass(client, make, vocabularies) -> None:
    organisation = make.organisation()
    custodian = make.user("custodian", organisation=organisation)
    token = make.token(custodian)
    identifier = make.dataset(organisation)
    for sent in ("-", "(no ETag check)"):
        answer = client.patch(
            f"/api/v1/datasets/{identifier}",
            json={"title": "Overwritten blindly"},
            headers={"Authorization": f"Bearer {token}", "If-Match": sent},
        )
        assert answer.status_code == 412, answer.get_json()
    fresh = client.get(
        f"/api/v1/datasets/{identifier}", headers={"Authorization": f"Bearer {token}"}
    )
    assert fresh.get_json()["title"] != "Overwritten blindly"
    star = client.patch(
        f"/api/v1/datasets/{identifier}",
        json={"title": "Overwritten knowingly"},
        headers={"Authorization": f"Bearer {token}", "If-Match": "*"},
    )
    assert star.status_code == 200  # "*" matches any revision, by design


def test_operator_commands_begin_as_writers_and_the_export_as_a_reader(
    database_url: str,
) -> None:
    """On SQLite a command's transactions take the write lock when they begin, so a web
    request committing in between cannot fail it half-way; the long read-only export does not
    hold the lock."""
    from click.testing import CliRunner

    from catalogue.dcat import cli as dcat_cli
    from core.cli import main
    from core.db import writes_now

    seen: dict[str, bool] = {}

    @main.command("probe-intent")
    def probe() -> None:
        seen["command"] = writes_now()

    def fake_export(output: object, fmt: str) -> tuple[int, int]:
        seen["export"] = writes_now()
        return 0, 0

    original = dcat_cli._export_to
    dcat_cli._export_to = fake_export  # type: ignore[assignment]
    env = {"HARMONY_ENV": "testing", "DATABASE_URL": database_url}
    try:
        runner = CliRunner()
        assert runner.invoke(main, ["probe-intent"], env=env).exit_code == 0
        result = runner.invoke(main, ["catalogue", "export"], env=env)
        assert result.exit_code == 0, result.output
    finally:
        main.commands.pop("probe-intent")
        dcat_cli._export_to = original  # type: ignore[assignment]
    assert seen == {"command": True, "export": False}
