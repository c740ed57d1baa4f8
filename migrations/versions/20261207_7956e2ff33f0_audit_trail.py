"""audit trail: append-only, hash-chained audit_events and their chain head (core.audit)

``audit_events`` refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) by trigger: only the
database's owner, by dropping the trigger, can change it, and ``harmony audit verify`` finds what
they changed. ``audit_head`` holds the newest (seq, hash); every append locks it. The head's
updates are of course allowed.

The dataset history kept so far (``dataset_changes``) is copied into the chain in its order
(time, then id) as ``dataset.<action>`` events about object ``dataset``/<dataset id>: its
``{"field": {"old", "new"}}`` changes split into ``before``/``after``, anything else (the counts
of an import, a mapping's ids) into ``context`` with ``{"version": n}``. ``dataset_changes``
stays: the dataset pages read it until they read the trail.

Note for later revisions: a SQLite batch operation on ``audit_events`` rebuilds the table and
loses its triggers; create them again after one.

Revision ID: 7956e2ff33f0
Revises: 5e0c1d2b7a94
Create Date: 2026-12-07 03:10:00.000000
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db
from core.audit import GENESIS, event_hash, plain

revision: str = "7956e2ff33f0"
down_revision: str | None = "5e0c1d2b7a94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "audit_events is append-only: its rows are never changed or deleted"


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("actor_label", sa.String(length=600), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_events_object", ["object_type", "object_id", "seq"], unique=False
        )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    seq, last_hash = _copy_dataset_history()
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": last_hash}])
    _protect()


def _protect() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSED} (% refused)', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} "
                f"ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSED} ({operation} refused)'); "
                "END"
            )


# --- the dataset history, copied into the chain ------------------------------------------------

CHANGES = sa.table(
    "dataset_changes",
    sa.column("id", sa.Integer),
    sa.column("dataset_id", sa.String),
    sa.column("version_number", sa.Integer),
    sa.column("at", core.db.UTCDateTime(timezone=True)),
    sa.column("actor_id", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("summary", sa.String),
    sa.column("changes", sa.JSON),
)
EVENTS = sa.table(
    "audit_events",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("seq", sa.Integer),
            ("at", core.db.UTCDateTime(timezone=True)),
            ("actor_id", sa.String),
            ("actor_label", sa.String),
            ("action", sa.String),
            ("object_type", sa.String),
            ("object_id", sa.String),
            ("before", sa.JSON),
            ("after", sa.JSON),
            ("summary", sa.String),
            ("context", sa.JSON),
            ("reason", sa.Text),
            ("request_id", sa.String),
            ("prev_hash", sa.String),
            ("hash", sa.String),
        )
    ),
)
BATCH = 1000


def _split(changes: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``{"field": {"old", "new"}}`` into before/after; whatever else into context."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for key, value in (changes or {}).items() if isinstance(changes, dict) else ():
        if isinstance(value, dict) and set(value) == {"old", "new"}:
            before[key], after[key] = value["old"], value["new"]
        else:
            context[key] = value
    return before, after, context


def _events(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    rows = connection.execute(sa.select(CHANGES).order_by(CHANGES.c.at, CHANGES.c.id)).mappings()
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        before, after, context = _split(row["changes"])
        if row["version_number"] is not None:
            context["version"] = row["version_number"]
        event = {
            "seq": seq,
            "at": row["at"],
            "actor_id": row["actor_id"],
            "actor_label": (row["actor_label"] or "")[:600],
            "action": f"dataset.{row['action']}"[:80],
            "object_type": "dataset",
            "object_id": row["dataset_id"],
            "before": plain(before),
            "after": plain(after),
            "summary": (row["summary"] or row["action"])[:500],
            "context": plain(context),
            "reason": None,
            "request_id": None,
            "prev_hash": prev,
        }
        event["hash"] = prev = event_hash(event)
        yield event


def _copy_dataset_history() -> tuple[int, str]:
    connection = op.get_bind()
    if not sa.inspect(connection).has_table("dataset_changes"):
        return 0, GENESIS
    seq, last = 0, GENESIS
    batch: list[dict[str, Any]] = []
    # read everything first: one connection cannot interleave a streaming read and writes
    for event in list(_events(connection)):
        batch.append(event)
        seq, last = event["seq"], event["hash"]
        if len(batch) == BATCH:
            connection.execute(EVENTS.insert(), batch)
            batch = []
    if batch:
        connection.execute(EVENTS.insert(), batch)
    return seq, last


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_object")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))
    op.drop_table("audit_events")
