"""agreements: data-sharing agreements, the datasets they cover, expiry reminders

``agreements``: one row per version of an agreement (reference + version unique), its status
(draft, active, expired, terminated, superseded; stored by value), dates, permitted DUO uses,
obligations, signatories (JSON), the signed document's SHA-256, size and name (the file lives
under the instance folder), the version it supersedes and its revision (ETag).
``agreement_datasets``: the datasets each version covers. ``agreement_reminders``: the expiry
reminders announced (once per agreement and lead time) and when their mail went out.

Revision ID: 4a5fd15b20ce
Revises: 172a7163a3f9
Create Date: 2026-12-07 05:55:26.115999
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "4a5fd15b20ce"
down_revision: str | None = "172a7163a3f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "expired",
                "terminated",
                "superseded",
                name="agreement_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("permitted_uses", sa.JSON(), nullable=False),
        sa.Column("acknowledgement", sa.Text(), nullable=True),
        sa.Column("publication_review_days", sa.Integer(), nullable=True),
        sa.Column("return_of_results", sa.Boolean(), nullable=False),
        sa.Column("return_of_results_text", sa.Text(), nullable=True),
        sa.Column("moratorium_until", sa.Date(), nullable=True),
        sa.Column("moratorium_months", sa.Integer(), nullable=True),
        sa.Column("requires_custodian_signoff", sa.Boolean(), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document_filename", sa.String(length=255), nullable=True),
        sa.Column("document_uploaded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("document_uploaded_by_id", sa.String(length=32), nullable=True),
        sa.Column("supersedes_id", sa.String(length=32), nullable=True),
        sa.Column("activated_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_agreements_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_agreements_document_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreements_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["agreements.id"],
            name=op.f("fk_agreements_supersedes_id_agreements"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("reference", "version", name=op.f("uq_agreements_reference_version")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agreements_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agreements_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agreements_supersedes_id"), ["supersedes_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agreements_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "agreement_datasets",
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_datasets_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_agreement_datasets_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "dataset_id", name=op.f("pk_agreement_datasets")),
    )
    with op.batch_alter_table("agreement_datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_datasets_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "agreement_reminders",
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_reminders_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "days_before", name=op.f("pk_agreement_reminders")),
    )


def downgrade() -> None:
    op.drop_table("agreement_reminders")
    with op.batch_alter_table("agreement_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_datasets_dataset_id"))

    op.drop_table("agreement_datasets")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_updated_at"))
        batch_op.drop_index(batch_op.f("ix_agreements_supersedes_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_status"))
        batch_op.drop_index(batch_op.f("ix_agreements_reference"))
        batch_op.drop_index(batch_op.f("ix_agreements_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_expires_on"))

    op.drop_table("agreements")
