"""search index: facet tables

Every disease term a document is tagged with, with its ancestors, as rows (the disease filter
and a query naming a disease read one indexed range per term instead of joining the dataset
diseases with the closure), and the groups of the variables vocabularies a document has
variables for as a set on the document (the "has variables for" facet's first level). The
documents lose their (is_draft, organisation) index: a common word reads most documents, and
through that index each one cost a lookup. ``harmony catalogue reindex`` fills the new rows.

Revision ID: 4d7a2c9e81b6
Revises: 90d28615e174
Create Date: 2026-11-29 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d7a2c9e81b6"
down_revision: str | None = "90d28615e174"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_search_documents_draft_organisation")
        batch_op.add_column(
            sa.Column("variable_groups", sa.Text(), nullable=False, server_default=" ")
        )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.alter_column("variable_groups", server_default=None)
    op.create_table(
        "search_document_diseases",
        sa.Column("term_curie", sa.String(length=120), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name=op.f("fk_search_document_diseases_document_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "term_curie", "document_id", name=op.f("pk_search_document_diseases")
        ),
    )
    op.create_index(
        op.f("ix_search_document_diseases_document_id"),
        "search_document_diseases",
        ["document_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_search_document_diseases_document_id"), table_name="search_document_diseases"
    )
    op.drop_table("search_document_diseases")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_column("variable_groups")
        batch_op.create_index(
            "ix_search_documents_draft_organisation", ["is_draft", "organisation_id"], unique=False
        )
