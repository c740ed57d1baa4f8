"""dataset versions publication indexes

Revision ID: b5e1d0a7c3f2
Revises: 668972cd8230
Create Date: 2026-11-29 10:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b5e1d0a7c3f2"
down_revision: str | None = "668972cd8230"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dataset_versions_dataset_published", ["dataset_id", "published_at"], unique=False
        )
        batch_op.create_index("ix_dataset_versions_published_at", ["published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_versions_published_at")
        batch_op.drop_index("ix_dataset_versions_dataset_published")
