"""Search documents carry a revision: a search engine holding a copy of them checks it is in step

Revision ID: 70014a2bc612
Revises: 7e383d14878c
Create Date: 2026-12-10 09:00:00

Every write of a search document gives it a new random ``revision``; a search engine
(``catalogue.search.engine``) keeps each document's revision beside its copy, so that
comparing the count and sum of revisions (cheap) tells whether it missed a change, and which
documents it missed. Existing rows start at 0: the engine is rebuilt from them anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "70014a2bc612"
down_revision: str | None = "7e383d14878c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "search_documents",
        sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
    )
    # the count and sum of revisions from the index alone, not the table's wide rows
    op.create_index(
        op.f("ix_search_documents_revision"), "search_documents", ["revision"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_search_documents_revision"), table_name="search_documents")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_column("revision")
