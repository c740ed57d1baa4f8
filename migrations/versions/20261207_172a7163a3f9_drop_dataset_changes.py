"""dataset history from the audit trail: drop dataset_changes

The dataset pages and the history API read the audit trail (object type ``dataset``) since
the dataset lifecycle runs on the workflow kernel; revision 7956e2ff33f0 copied every row of
``dataset_changes`` into the chain, so nothing is lost by dropping it.

The downgrade creates the table again and refills it from the chain: one row per ``dataset.*``
event of a dataset that still exists (a deleted draft's events stay in the chain only), with
``before``/``after`` joined into ``{"field": {"old", "new"}}`` and the rest of the context
(an import's counts) as they were; the action loses its ``dataset.`` prefix.

Revision ID: 172a7163a3f9
Revises: 7c3e91a4d2f0
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "172a7163a3f9"
down_revision: str | None = "7c3e91a4d2f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_changes_dataset_id"))
    op.drop_table("dataset_changes")


EVENTS = sa.table(
    "audit_events",
    sa.column("seq", sa.Integer),
    sa.column("at", core.db.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("summary", sa.String),
    sa.column("context", sa.JSON),
)
DATASETS = sa.table("datasets", sa.column("id", sa.String))
USERS = sa.table("users", sa.column("id", sa.String))
BATCH = 1000


def _row(event: Any, users: set[str]) -> dict[str, Any]:
    context = dict(event.context or {})
    version = context.pop("version", None)
    before, after = event.before or {}, event.after or {}
    changes: dict[str, Any] = dict(context)
    for key in dict.fromkeys([*before, *after]):
        changes[key] = {"old": before.get(key), "new": after.get(key)}
    return {
        "dataset_id": event.object_id,
        "version_number": version if isinstance(version, int) else None,
        "at": event.at,
        "actor_id": event.actor_id if event.actor_id in users else None,
        "actor_label": (event.actor_label or "")[:320],
        "action": event.action.removeprefix("dataset.")[:40],
        "summary": (event.summary or "")[:500],
        "changes": changes,
    }


def downgrade() -> None:
    changes = op.create_table(
        "dataset_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_dataset_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_changes_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_changes")),
    )
    with op.batch_alter_table("dataset_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_changes_dataset_id"), ["dataset_id"], unique=False
        )
    connection = op.get_bind()
    users = set(connection.scalars(sa.select(USERS.c.id)))
    # read everything first: one connection cannot interleave a streaming read and writes
    events = connection.execute(
        sa.select(EVENTS)
        .where(
            EVENTS.c.object_type == "dataset",
            EVENTS.c.action.like("dataset.%"),
            EVENTS.c.object_id.in_(sa.select(DATASETS.c.id)),
        )
        .order_by(EVENTS.c.seq)
    ).all()
    rows = [_row(event, users) for event in events]
    for start in range(0, len(rows), BATCH):
        connection.execute(changes.insert(), rows[start : start + BATCH])
