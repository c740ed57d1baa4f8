"""data-use conditions of datasets (GA4GH DUO) and their terms for the search facet

One row of data_use_conditions per dataset (its permission, diseases and modifiers, a revision
counting the changes, the signature of the content); data_use_terms holds every DUO term of a
dataset's conditions, indexed by term, for the ``data_use`` search facet.

Revision ID: b7d3e5a9c1f4
Revises: d4a1f0c8b2e5
Create Date: 2026-12-07 06:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "b7d3e5a9c1f4"
down_revision: str | None = "d4a1f0c8b2e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_use_conditions",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=20), nullable=False),
        sa.Column("diseases", sa.JSON(), nullable=False),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_data_use_conditions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_data_use_conditions_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_data_use_conditions")),
    )
    with op.batch_alter_table("data_use_conditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_use_conditions_signature"), ["signature"], unique=False
        )
    op.create_table(
        "data_use_terms",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_data_use_terms_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "term", name=op.f("pk_data_use_terms")),
    )
    with op.batch_alter_table("data_use_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_use_terms_term"), ["term"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_use_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_use_terms_term"))
    op.drop_table("data_use_terms")
    with op.batch_alter_table("data_use_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_use_conditions_signature"))
    op.drop_table("data_use_conditions")
