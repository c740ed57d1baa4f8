"""Saved research purposes: a researcher's named purposes, to search by fit

Revision ID: d4a1f0c8b2e5
Revises: 4a5fd15b20ce
Create Date: 2026-12-07 06:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "d4a1f0c8b2e5"
down_revision: str | None = "4a5fd15b20ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_purposes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_purposes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_purposes")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_saved_purposes_user_id_name")),
    )
    with op.batch_alter_table("saved_purposes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_purposes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_purposes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_purposes_user_id"))
    op.drop_table("saved_purposes")
