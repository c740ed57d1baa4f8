"""search index: one FTS5 table over all fields on SQLite, for membership

Whether a document holds a word at all now comes from one lookup over every field (the
variables' FTS5 table served only that: a word's score needs the title, keywords and
description, which are small, and "anywhere"), so that a common word such as "count" is read
once, not once for the variables and again when the fields' matches are united. PostgreSQL has
``all_tsv`` with its GIN index already. The new table is filled from the stored text at once.

Revision ID: 7b2d4e6f8a10
Revises: e6f1b3a9d054
Create Date: 2026-11-29 11:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7b2d4e6f8a10"
down_revision: str | None = "e6f1b3a9d054"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT = "search_document_texts"
ALL = ("text_title", "text_keywords", "text_description", "text_variables")


def _triggers(fts: str, columns: Sequence[str]) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    insert_new = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.document_id, {new});"  # noqa: S608
    delete_old = (
        f"INSERT INTO {fts}({fts}, rowid, {names}) "  # noqa: S608 - this file's constants
        f"VALUES ('delete', old.document_id, {old});"
    )
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {CONTENT} BEGIN {insert_new} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {CONTENT} BEGIN {delete_old} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {CONTENT} BEGIN "
        f"{delete_old} {insert_new} END",
    ]


def _replace(old: str, new: str, columns: Sequence[str]) -> None:
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {old}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {old}")
    op.execute(
        f"CREATE VIRTUAL TABLE {new} USING fts5({', '.join(columns)}, content='{CONTENT}', "
        "content_rowid='document_id', tokenize='ascii', detail='none')"
    )
    for statement in _triggers(new, columns):
        op.execute(statement)
    op.execute(f"INSERT INTO {new}({new}) VALUES ('rebuild')")  # noqa: S608 - constants


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _replace("search_fts_document_variables", "search_fts_documents_all", ALL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _replace("search_fts_documents_all", "search_fts_document_variables", ALL[3:])
