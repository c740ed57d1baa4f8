"""Selections: a researcher's datasets and variables collected while searching

Revision ID: 5c2e8a4f7b13
Revises: b3f89993cfdd
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "5c2e8a4f7b13"
down_revision: str | None = "b3f89993cfdd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_selections_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selections")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_selections_user_id_name")),
    )
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selections_user_id"), ["user_id"], unique=False)
    op.create_table(
        "selection_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("selection_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_selection_items_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["selection_id"],
            ["selections.id"],
            name=op.f("fk_selection_items_selection_id_selections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_items")),
        sa.UniqueConstraint(
            "selection_id", "dataset_id", name=op.f("uq_selection_items_selection_id_dataset_id")
        ),
    )
    with op.batch_alter_table("selection_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_selection_items_dataset_id"), ["dataset_id"], unique=False
        )
    op.create_table(
        "selection_variables",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("added_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["selection_items.id"],
            name=op.f("fk_selection_variables_item_id_selection_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_variables")),
        sa.UniqueConstraint("item_id", "name", name=op.f("uq_selection_variables_item_id_name")),
    )


def downgrade() -> None:
    op.drop_table("selection_variables")
    with op.batch_alter_table("selection_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_items_dataset_id"))
    op.drop_table("selection_items")
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selections_user_id"))
    op.drop_table("selections")
