"""accounts: case-blind unique keys for names and emails; login failure counters

Organisation and committee names and user emails were unique through ``lower()``, which is
ASCII-only on SQLite: "Ärztekammer" and "ärztekammer" could both be stored there, and the same
name twice slipped past the check into a bare constraint error. Each now has a key column —
NFC, then Python's ``str.casefold`` of the value — that the database holds UNIQUE; it replaces
the constraint on the value itself.

Existing rows get their keys here. Of two organisations or committees whose names clash under
the new rule, the later one is renamed "<name> (2)" (and so on) rather than the upgrade failing;
two accounts whose emails clash stop the upgrade with their addresses, for an administrator to
settle (an email is how a person logs in: it is not ours to rename).

``login_failures`` holds the password-guessing counters of core.throttle.

Revision ID: 5e0c1d2b7a94
Revises: 613543371c50
Create Date: 2026-12-07 00:20:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "5e0c1d2b7a94"
down_revision: str | None = "613543371c50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = [("organisations", "name"), ("committees", "name"), ("users", "email")]


def _key(text: str) -> str:
    # The rule of core.models.casefold_key as of this revision (frozen here on purpose).
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text.strip()).casefold())


def _fill_keys(table: str, column: str) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(f"SELECT id, {column} FROM {table} ORDER BY created_at, id")  # noqa: S608 - constants
    ).all()
    seen: dict[str, str] = {}
    for id_, value in rows:
        key = _key(value)
        if key in seen and column == "email":
            raise RuntimeError(
                f"the accounts {seen[key]!r} and {value!r} have the same email address apart from "
                "case; change or merge one of them, then upgrade again"
            )
        new_value, n = value, 1
        while key in seen:
            n += 1
            new_value = f"{value} ({n})"
            key = _key(new_value)
        seen[key] = new_value
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :value, {column}_key = :key WHERE id = :id"),  # noqa: S608
            {"value": new_value, "key": key, "id": id_},
        )


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_last_failed_at"), ["last_failed_at"], unique=False
        )

    for table, column in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f"{column}_key", sa.String(length=1000), nullable=True))
        _fill_keys(table, column)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                f"{column}_key", existing_type=sa.String(length=1000), nullable=False
            )
            batch_op.drop_constraint(f"uq_{table}_{column}", type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_{column}_key"), [f"{column}_key"]
            )


def downgrade() -> None:
    for table, column in reversed(KEYED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_{column}_key"), type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])
            batch_op.drop_column(f"{column}_key")

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_last_failed_at"))
    op.drop_table("login_failures")
