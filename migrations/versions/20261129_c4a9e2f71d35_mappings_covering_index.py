"""mappings covering index

Which variables carry a term, answered from the index alone (object, status, predicate,
variable): the coverage rule read from the terms' side touches no mapping row.

Revision ID: c4a9e2f71d35
Revises: 7b2d4e6f8a10
Create Date: 2026-11-29 11:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c4a9e2f71d35"
down_revision: str | None = "7b2d4e6f8a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mappings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mappings_object_covering",
            ["object_curie", "status", "predicate", "variable_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("mappings", schema=None) as batch_op:
        batch_op.drop_index("ix_mappings_object_covering")
