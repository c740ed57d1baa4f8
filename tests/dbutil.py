"""Throw-away test databases: a SQLite file, or a freshly created PostgreSQL database; and
copies of one (a database built once, copied for each test module that changes it)."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError


def postgres_base_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return url or None


def _new_postgres_name(label: str) -> str:
    return f"harmony_{label}_{uuid.uuid4().hex[:10]}"


@contextmanager
def fresh_database(tmp_dir: Path, label: str, base_url: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database, dropped (or deleted) afterwards: on the
    PostgreSQL server of ``base_url`` (default ``TEST_DATABASE_URL``), else a SQLite file."""
    base = base_url or postgres_base_url()
    if base is None:
        path = tmp_dir / f"{label}.sqlite3"
        yield f"sqlite:///{path}"
        return
    url = make_url(base)
    if not url.drivername.startswith("postgresql"):
        raise RuntimeError(f"TEST_DATABASE_URL must be PostgreSQL (or unset for SQLite), not {url}")
    name = _new_postgres_name(label)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # a throw-away database need not wait for its commits to reach the disk
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def copied_database(source_url: str, tmp_dir: Path, label: str) -> Iterator[str]:
    """Yield the URL of a new database holding what ``source_url`` holds (made by
    :func:`fresh_database`, no connection open to it), dropped (or deleted) afterwards: SQLite's
    online backup into a new file, or PostgreSQL's ``CREATE DATABASE … TEMPLATE``, which copies
    the files without replaying anything."""
    source = make_url(source_url)
    if source.drivername.startswith("sqlite"):
        path = tmp_dir / f"{label}.sqlite3"
        reader, writer = sqlite3.connect(str(source.database)), sqlite3.connect(path)
        try:
            reader.backup(writer)
        finally:
            reader.close()
            writer.close()
        yield f"sqlite:///{path}"
        return
    name = _new_postgres_name(label)
    base = postgres_base_url()
    admin = create_engine(
        make_url(base) if base else source.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        # PostgreSQL copies a template only while nobody else is connected to it: a connection
        # the demo's loading left in a pool, or another worker's copy in progress, makes CREATE
        # DATABASE fail ("is being accessed by other users"). Nothing may use the template but
        # copying, so close what is left on it and try again.
        for attempt in range(20):
            try:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
                break
            except OperationalError as exc:
                if "being accessed by other users" not in str(exc) or attempt == 19:
                    raise
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :template AND pid <> pg_backend_pid()"
                    ),
                    {"template": source.database},
                )
                time.sleep(0.25)
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
