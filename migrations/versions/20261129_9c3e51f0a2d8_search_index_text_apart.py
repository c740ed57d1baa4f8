"""search index: text apart from the facet columns

The index is derived data: this revision drops the documents' table with its full-text
machinery and creates it again in two tables, the narrow one that facets and sorts scan
(thousands of rows for a common word) and the text one that the full-text indexes read, with a
tsvector per field on PostgreSQL (a field's matches come from its own GIN index). The index is
empty afterwards: ``harmony catalogue reindex`` fills it.

Revision ID: 9c3e51f0a2d8
Revises: b5e1d0a7c3f2
Create Date: 2026-11-29 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "9c3e51f0a2d8"
down_revision: str | None = "b5e1d0a7c3f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = ("text_title", "text_keywords", "text_description", "text_variables")
FIELD_VECTORS = (
    ("title_tsv", "text_title", "A"),
    ("keywords_tsv", "text_keywords", "B"),
    ("description_tsv", "text_description", "C"),
    ("variables_tsv", "text_variables", "D"),
)


def _drop_documents() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_fts_documents_{suffix}")
        op.execute("DROP TABLE IF EXISTS search_fts_documents")
    op.drop_table("search_document_terms")


def _create_terms() -> None:
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


def _documents_table(*extra: sa.Column) -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("is_draft", sa.Boolean(), nullable=False),
        sa.Column("has_draft", sa.Boolean(), nullable=False),
        *extra[:1],
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
        *extra[1:],
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


def upgrade() -> None:
    _drop_documents()
    op.drop_table("search_documents")
    _documents_table()
    op.create_table(
        "search_document_texts",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *(sa.Column(c, sa.Text(), nullable=False) for c in TEXT),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name=op.f("fk_search_document_texts_document_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_search_document_texts")),
    )
    _create_terms()
    if op.get_bind().dialect.name == "sqlite":
        # column-level detail: which field holds a word is all search asks (no phrases, no
        # bm25), and the lists are much shorter than with positions
        op.execute(
            "CREATE VIRTUAL TABLE search_fts_documents USING fts5("
            + ", ".join(TEXT)
            + ", content='search_document_texts', content_rowid='document_id',"
            " tokenize='ascii', detail='column')"
        )
        for statement in _fts_triggers():
            op.execute(statement)
    else:
        for column, source, weight in FIELD_VECTORS:
            op.execute(
                f"ALTER TABLE search_document_texts ADD COLUMN {column} tsvector GENERATED "
                f"ALWAYS AS ({_tsvector(source, weight)}) STORED"
            )
            op.execute(
                f"CREATE INDEX ix_search_document_texts_{column} ON search_document_texts "
                f"USING gin ({column})"
            )
        ranked = " || ".join(_tsvector(s, w) for _c, s, w in FIELD_VECTORS[:3])
        everything = " || ".join(_tsvector(s, w) for _c, s, w in FIELD_VECTORS)
        op.execute(
            "ALTER TABLE search_document_texts ADD COLUMN ranked_tsv tsvector "
            f"GENERATED ALWAYS AS ({ranked}) STORED"
        )
        op.execute(
            "ALTER TABLE search_document_texts ADD COLUMN all_tsv tsvector "
            f"GENERATED ALWAYS AS ({everything}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_search_document_texts_all_tsv ON search_document_texts "
            "USING gin (all_tsv)"
        )


def _tsvector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple'::regconfig, {column}), '{weight}')"


def _fts_triggers() -> list[str]:
    fts, table, names = "search_fts_documents", "search_document_texts", ", ".join(TEXT)
    new = ", ".join(f"new.{c}" for c in TEXT)
    old = ", ".join(f"old.{c}" for c in TEXT)
    insert_new = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.document_id, {new});"  # noqa: S608
    delete_old = (
        f"INSERT INTO {fts}({fts}, rowid, {names}) "  # noqa: S608 - this file's constants
        f"VALUES ('delete', old.document_id, {old});"
    )
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert_new} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete_old} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "
        f"{delete_old} {insert_new} END",
    ]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_fts_documents_{suffix}")
        op.execute("DROP TABLE IF EXISTS search_fts_documents")
    op.drop_table("search_document_terms")
    op.drop_table("search_document_texts")
    op.drop_table("search_documents")
    # the documents as the previous revision made them, empty
    _documents_table(
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *(sa.Column(c, sa.Text(), nullable=False) for c in TEXT),
    )
    _create_terms()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts_documents USING fts5("
            + ", ".join(TEXT)
            + ", content='search_documents', content_rowid='id', tokenize='ascii')"
        )
        names = ", ".join(TEXT)
        new = ", ".join(f"new.{c}" for c in TEXT)
        old = ", ".join(f"old.{c}" for c in TEXT)
        fts = "search_fts_documents"
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON search_documents BEGIN "  # noqa: S608
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON search_documents BEGIN "  # noqa: S608
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON search_documents BEGIN "  # noqa: S608
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
    else:
        text = " || ".join(_tsvector(c, w) for c, w in zip(TEXT[:3], "ABC", strict=True))
        variables = _tsvector("text_variables", "D")
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN text_tsv tsvector "
            f"GENERATED ALWAYS AS ({text}) STORED"
        )
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN all_tsv tsvector "
            f"GENERATED ALWAYS AS ({text} || {variables}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_search_documents_all_tsv ON search_documents USING gin (all_tsv)"
        )
