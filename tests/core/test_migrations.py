"""The migrations build exactly the models' schema, and can be undone, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from catalogue.search.models import include_object
from core import migrate
from core.db import Base, make_engine
from tests.dbutil import fresh_database


def _differences(url: str) -> list:
    migrate.import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # the search index's FTS5 tables and tsvector columns exist on one database only
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(tmp_path):
    with fresh_database(tmp_path, "migrations") as url:
        migrate.upgrade(url)
        assert _differences(url) == []
        assert {t for t in _tables(url) if include_object(None, t, "table", True, None)} == set(
            Base.metadata.tables
        )
        migrate.downgrade(url, "base")
        assert _tables(url) == set()
        migrate.upgrade(url)  # and back up again: the round trip works
        assert _differences(url) == []


def test_every_model_table_has_a_migration(tmp_path):
    with fresh_database(tmp_path, "tables") as url:
        migrate.upgrade(url)
        assert {
            "organisations",
            "users",
            "role_grants",
            "committees",
            "user_sessions",
            "api_tokens",
        } <= _tables(url)


def test_storage_options_of_the_models_are_those_the_migrations_set(tmp_path):
    """Alembic does not compare a table's storage parameters (``postgresql_with``): the
    migrations must set the ones the models declare, or a new database would differ from one
    made by ``create_all``."""
    with fresh_database(tmp_path, "storage") as url:
        if not url.startswith("postgresql"):
            pytest.skip("storage parameters (WITH …) are PostgreSQL's")
        migrate.upgrade(url)
        migrate.import_all_models()
        declared = {
            name: {
                f"{k}={v}" for k, v in (table.dialect_options["postgresql"]["with"] or {}).items()
            }
            for name, table in Base.metadata.tables.items()
        }
        assert declared["search_document_texts"] == {"toast_tuple_target=128"}
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                found = {
                    name: set(options or [])
                    for name, options in connection.execute(
                        text(
                            "SELECT relname, reloptions FROM pg_class "
                            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                        )
                    )
                }
        finally:
            engine.dispose()
        assert {n: o for n, o in declared.items() if o} == {
            n: o for n, o in found.items() if o and n in declared
        }
