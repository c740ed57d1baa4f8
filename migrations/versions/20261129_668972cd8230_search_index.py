"""search index

The portable tables come first; then each database gets its own full-text machinery: FTS5
tables with external content kept in step by triggers, and a trigram table, on SQLite; generated
tsvector columns with GIN indexes and the pg_trgm extension on PostgreSQL. The index starts
empty: ``harmony catalogue reindex`` fills it (the service keeps it current afterwards).

Revision ID: 668972cd8230
Revises: 08aad76e6e9a
Create Date: 2026-11-29 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "668972cd8230"
down_revision: str | None = "08aad76e6e9a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_TEXT = ("text_title", "text_keywords", "text_description", "text_variables")
VARIABLE_TEXT = ("version_id", "text_name", "text_label", "text_description")


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("is_draft", sa.Boolean(), nullable=False),
        sa.Column("has_draft", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "title_key",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("patients", sa.Integer(), nullable=True),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("data_model", sa.String(length=40), nullable=True),
        sa.Column("countries", sa.String(length=800), nullable=False),
        sa.Column("age_groups", sa.String(length=200), nullable=False),
        sa.Column("diseases", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("text_title", sa.Text(), nullable=False),
        sa.Column("text_keywords", sa.Text(), nullable=False),
        sa.Column("text_description", sa.Text(), nullable=False),
        sa.Column("text_variables", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_search_documents_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_search_documents_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("version_id", name=op.f("uq_search_documents_version_id")),
    )
    op.create_index(
        op.f("ix_search_documents_dataset_id"), "search_documents", ["dataset_id"], unique=False
    )
    op.create_index(
        op.f("ix_search_documents_organisation_id"),
        "search_documents",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "ix_search_documents_draft_organisation",
        "search_documents",
        ["is_draft", "organisation_id"],
        unique=False,
    )
    op.create_table(
        "search_variables",
        sa.Column("variable_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("text_name", sa.Text(), nullable=False),
        sa.Column("text_label", sa.Text(), nullable=False),
        sa.Column("text_description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variable_id"],
            ["variables.id"],
            name=op.f("fk_search_variables_variable_id_variables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_search_variables_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variable_id", name=op.f("pk_search_variables")),
    )
    op.create_index(
        op.f("ix_search_variables_version_id"), "search_variables", ["version_id"], unique=False
    )
    op.create_table(
        "search_document_terms",
        sa.Column("term_curie", sa.String(length=120), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name=op.f("fk_search_document_terms_document_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term_curie", "document_id", name=op.f("pk_search_document_terms")),
    )
    op.create_index(
        op.f("ix_search_document_terms_document_id"),
        "search_document_terms",
        ["document_id"],
        unique=False,
    )
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("trigram_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index(op.f("ix_search_words_key"), "search_words", ["key"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def _fts_triggers(table: str, fts: str, rowid: str, columns: Sequence[str]) -> list[str]:
    """External-content FTS5 stays in step with its table: insert, delete, update. (The names
    are this file's constants.)"""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{rowid}, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{rowid}, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{rowid}, {old}); "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{rowid}, {new}); END",
    ]


def _sqlite_upgrade() -> None:
    # the text is keys already (lower-case ASCII words): the tokenizer only splits on spaces
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_documents USING fts5("
        + ", ".join(DOCUMENT_TEXT)
        + ", content='search_documents', content_rowid='id', tokenize='ascii')"
    )
    # which variables matched is asked per version and never ranked: no positions needed
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_variables USING fts5("
        + ", ".join(VARIABLE_TEXT)
        + ", content='search_variables', content_rowid='variable_id', tokenize='ascii',"
        " detail='column')"
    )
    for statement in _fts_triggers("search_documents", "search_fts_documents", "id", DOCUMENT_TEXT):
        op.execute(statement)
    for statement in _fts_triggers(
        "search_variables", "search_fts_variables", "variable_id", VARIABLE_TEXT
    ):
        op.execute(statement)
    op.execute(
        "CREATE TABLE search_fts_trigrams (trigram VARCHAR(3) NOT NULL, word VARCHAR(60) NOT NULL "
        "REFERENCES search_words (word) ON DELETE CASCADE, PRIMARY KEY (trigram, word)) "
        "WITHOUT ROWID"
    )
    op.execute("CREATE INDEX search_fts_trigrams_word ON search_fts_trigrams (word)")


def _tsvector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple'::regconfig, {column}), '{weight}')"


def _postgresql_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    text = " || ".join(_tsvector(c, w) for c, w in zip(DOCUMENT_TEXT[:3], "ABC", strict=True))
    variables = _tsvector("text_variables", "D")
    op.execute(
        f"ALTER TABLE search_documents ADD COLUMN text_tsv tsvector "
        f"GENERATED ALWAYS AS ({text}) STORED"
    )
    op.execute(
        f"ALTER TABLE search_documents ADD COLUMN all_tsv tsvector "
        f"GENERATED ALWAYS AS ({text} || {variables}) STORED"
    )
    op.execute("CREATE INDEX ix_search_documents_all_tsv ON search_documents USING gin (all_tsv)")
    names = " || ".join(_tsvector(c, w) for c, w in zip(VARIABLE_TEXT[1:], "ABC", strict=True))
    op.execute(
        f"ALTER TABLE search_variables ADD COLUMN keys_tsv tsvector GENERATED ALWAYS AS ({names}) STORED"
    )
    op.execute("CREATE INDEX ix_search_variables_keys_tsv ON search_variables USING gin (keys_tsv)")
    op.execute("CREATE INDEX ix_search_words_trgm ON search_words USING gin (word gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_words_trgm")
        # pg_trgm stays: other parts of the database may use it
    else:
        op.execute("DROP TABLE IF EXISTS search_fts_trigrams")
        for fts in ("search_fts_variables", "search_fts_documents"):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    op.drop_index(op.f("ix_search_words_key"), table_name="search_words")
    op.drop_table("search_words")
    op.drop_index(op.f("ix_search_document_terms_document_id"), table_name="search_document_terms")
    op.drop_table("search_document_terms")
    op.drop_index(op.f("ix_search_variables_version_id"), table_name="search_variables")
    op.drop_table("search_variables")
    op.drop_index("ix_search_documents_draft_organisation", table_name="search_documents")
    op.drop_index(op.f("ix_search_documents_organisation_id"), table_name="search_documents")
    op.drop_index(op.f("ix_search_documents_dataset_id"), table_name="search_documents")
    op.drop_table("search_documents")
