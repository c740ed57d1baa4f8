"""The search index keeps each document's variables with a covering mapping and its object

Revision ID: b3f1c2d4e5a6
Revises: 70014a2bc612
Create Date: 2026-12-11 09:00:00

A page of search hits shows the variables mapped to a term the query names (or below it).
Found from the mappings, PostgreSQL walked every mapping of the term across the catalogue (or
every variable of the page's datasets): 9-14 ms of each such search at 1,000,000 variables.
``search_variable_mappings`` holds, per search document, its variables' accepted covering
mappings (variable and object, not expanded through the hierarchy): one indexed range per hit.
Filled here from the index as it stands; the indexer keeps it in step from now on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3f1c2d4e5a6"
down_revision: str | None = "70014a2bc612"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_variable_mappings",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("object_curie", sa.String(length=120), nullable=False),
        sa.Column("variable_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name=op.f("fk_search_variable_mappings_document_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "document_id", "object_curie", "variable_id", name=op.f("pk_search_variable_mappings")
        ),
    )
    # the coverage rule as it stands (catalogue.mappings.coverage): accepted, covering
    op.execute(
        "INSERT INTO search_variable_mappings (document_id, object_curie, variable_id) "
        "SELECT DISTINCT d.id, m.object_curie, m.variable_id FROM search_documents d "
        "JOIN variables v ON v.version_id = d.version_id "
        "JOIN mappings m ON m.variable_id = v.id "
        "WHERE m.status = 'accepted' "
        "AND m.predicate IN ('skos:exactMatch', 'skos:closeMatch', 'skos:broadMatch')"
    )


def downgrade() -> None:
    op.drop_table("search_variable_mappings")
