"""search index: the text table's values stored out of line on PostgreSQL

A common word's documents come from a GIN index, then from the table's rows (to read their
``document_id``): with the text and its tsvectors stored in the rows, that read touched ~2,250
pages for 9,800 documents; with every value larger than a pointer moved to the TOAST table
(``toast_tuple_target = 128``) it touches under 300. Snippets and ranks read those values for
a page of hits only. Rows written before this revision keep their layout until the next
``harmony catalogue reindex``. Nothing changes on SQLite.

Revision ID: d2b7e4c1a9f6
Revises: c4a9e2f71d35
Create Date: 2026-11-29 17:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d2b7e4c1a9f6"
down_revision: str | None = "c4a9e2f71d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_document_texts SET (toast_tuple_target = 128)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_document_texts RESET (toast_tuple_target)")
