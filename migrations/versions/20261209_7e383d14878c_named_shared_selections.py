"""Named, shareable selections: which selection is current, and the share link's token digest

Revision ID: 7e383d14878c
Revises: 95feba084aa6
Create Date: 2026-12-09 09:00:00

A user may now keep several selections; the current one (where the "Add to selection" buttons
put things) is the one most recently made current. Every user had at most one selection
before, so each existing selection is its owner's current one from the moment it was made.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "7e383d14878c"
down_revision: str | None = "95feba084aa6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("made_current_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("share_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("shared_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("share_revoked_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_selections_share_token_hash"), ["share_token_hash"]
        )
    op.execute("UPDATE selections SET made_current_at = created_at")
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.alter_column(
            "made_current_at",
            existing_type=core.db.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    # The older code reads a user's earliest selection as their only one: the others stay
    # (nothing a user made is deleted by a downgrade) and come back after the next upgrade.
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_selections_share_token_hash"), type_="unique")
        batch_op.drop_column("share_revoked_at")
        batch_op.drop_column("shared_at")
        batch_op.drop_column("share_token_hash")
        batch_op.drop_column("made_current_at")
