"""search index: one FTS5 table per field on SQLite

A word's matches in one field now cost what that field holds of it: "count" is in the variables
of every dataset but in few titles, and a column filter on a shared FTS5 table read the word's
whole list whatever the column. Each field gets its own FTS5 table over the same external
content, with rowid lists only (``detail='none'``: search asks which documents hold a word,
never where). PostgreSQL already has a tsvector and GIN index per field: nothing changes there.
``harmony catalogue reindex`` fills the new tables.

Revision ID: e6f1b3a9d054
Revises: 4d7a2c9e81b6
Create Date: 2026-11-29 11:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e6f1b3a9d054"
down_revision: str | None = "4d7a2c9e81b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT = "search_document_texts"
FIELDS = (
    ("search_fts_titles", "text_title"),
    ("search_fts_keywords", "text_keywords"),
    ("search_fts_descriptions", "text_description"),
    ("search_fts_document_variables", "text_variables"),
)
OLD_TEXT = ("text_title", "text_keywords", "text_description", "text_variables")


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


def _drop(fts: str) -> None:
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {fts}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop("search_fts_documents")
    for fts, column in FIELDS:
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{CONTENT}', "
            "content_rowid='document_id', tokenize='ascii', detail='none')"
        )
        for statement in _triggers(fts, [column]):
            op.execute(statement)
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608 - constants


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for fts, _column in FIELDS:
        _drop(fts)
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_documents USING fts5("
        + ", ".join(OLD_TEXT)
        + f", content='{CONTENT}', content_rowid='document_id', tokenize='ascii',"
        " detail='column')"
    )
    for statement in _triggers("search_fts_documents", OLD_TEXT):
        op.execute(statement)
    op.execute("INSERT INTO search_fts_documents(search_fts_documents) VALUES ('rebuild')")
