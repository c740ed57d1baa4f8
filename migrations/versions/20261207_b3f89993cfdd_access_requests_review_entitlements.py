"""Access requests, their review (sign-offs, votes, recusals, decisions), entitlements and
acceptances, reports; committees get a quorum and a default; a data platform role

Revision ID: b3f89993cfdd
Revises: b7d3e5a9c1f4
Create Date: 2026-12-07 08:59:47.217135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "b3f89993cfdd"
down_revision: str | None = "b7d3e5a9c1f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = ("researcher", "custodian", "dac_member", "dac_chair", "admin")


def _role_check(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_role_grants_role"), type_="check")
        batch_op.create_check_constraint(
            "role", "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"
        )


def upgrade() -> None:
    _role_check((*ROLES, "platform"))
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "under_review",
                "returned",
                "approved",
                "rejected",
                "withdrawn",
                "closed",
                name="request_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("applicant_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("committee_id", sa.String(length=32), nullable=True),
        sa.Column("amends_id", sa.String(length=32), nullable=True),
        sa.Column("amendment", sa.JSON(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("lay_summary", sa.Text(), nullable=False),
        sa.Column("scientific_abstract", sa.Text(), nullable=False),
        sa.Column("public_benefit", sa.Text(), nullable=False),
        sa.Column("purpose", sa.JSON(), nullable=False),
        sa.Column("ethics_reference", sa.String(length=200), nullable=True),
        sa.Column("ethics_document_sha256", sa.String(length=64), nullable=True),
        sa.Column("ethics_document_filename", sa.String(length=255), nullable=True),
        sa.Column("ethics_document_size", sa.Integer(), nullable=True),
        sa.Column("processing_country", sa.String(length=2), nullable=True),
        sa.Column("processing_environment", sa.Text(), nullable=False),
        sa.Column("data_justification", sa.Text(), nullable=False),
        sa.Column("publication_plan", sa.Text(), nullable=False),
        sa.Column("team_training", sa.Text(), nullable=False),
        sa.Column("requested_months", sa.Integer(), nullable=True),
        sa.Column("funding", sa.Text(), nullable=False),
        sa.Column("conflicts_of_interest", sa.Text(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("return_comments", sa.Text(), nullable=True),
        sa.Column("submitted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state_changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["access_requests.id"],
            name=op.f("fk_access_requests_amends_id_access_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["users.id"],
            name=op.f("fk_access_requests_applicant_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_access_requests_committee_id_committees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_access_requests_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_access_requests_reference")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_requests_amends_id"), ["amends_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_requests_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_requests_committee_id"), ["committee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_requests_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_requests_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_requests_state_changed_at"), ["state_changed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_requests_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "dataset_committees",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("committee_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_dataset_committees_committee_id_committees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_committees_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_dataset_committees")),
    )
    with op.batch_alter_table("dataset_committees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_committees_committee_id"), ["committee_id"], unique=False
        )

    op.create_table(
        "request_acceptances",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("terms_text", sa.Text(), nullable=False),
        sa.Column("accepted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_acceptances_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_acceptances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_acceptances")),
        sa.UniqueConstraint(
            "request_id",
            "user_id",
            "terms_sha256",
            name=op.f("uq_request_acceptances_request_id_user_id_terms_sha256"),
        ),
    )
    with op.batch_alter_table("request_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_acceptances_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_acceptances_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "request_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "pending_signoff",
                "signed_off",
                "declined",
                "approved",
                "rejected",
                "granted",
                name="request_dataset_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column("check_outcome", sa.String(length=16), nullable=True),
        sa.Column("check_reasons", sa.JSON(), nullable=True),
        sa.Column("check_obligations", sa.JSON(), nullable=True),
        sa.Column("check_conditions_revision", sa.Integer(), nullable=True),
        sa.Column("check_ontology_versions", sa.JSON(), nullable=True),
        sa.Column("checked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agreement_id", sa.String(length=32), nullable=True),
        sa.Column("signoff_required", sa.Boolean(), nullable=False),
        sa.Column("override_justification", sa.Text(), nullable=True),
        sa.Column("override_by_id", sa.String(length=32), nullable=True),
        sa.Column("override_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state_changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_request_datasets_agreement_id_agreements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_request_datasets_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"],
            ["users.id"],
            name=op.f("fk_request_datasets_override_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_datasets_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_datasets")),
        sa.UniqueConstraint(
            "request_id", "dataset_id", name=op.f("uq_request_datasets_request_id_dataset_id")
        ),
    )
    with op.batch_alter_table("request_datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_datasets_check_outcome"), ["check_outcome"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_datasets_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_datasets_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_request_datasets_state"), ["state"], unique=False)

    op.create_table(
        "request_decisions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "approve",
                "approve_with_conditions",
                "reject",
                "return",
                name="decision_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("dataset_outcomes", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("review_notes", sa.JSON(), nullable=False),
        sa.Column("required_reports", sa.JSON(), nullable=False),
        sa.Column("decided_by_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_request_decisions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_decisions_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_decisions")),
        sa.UniqueConstraint(
            "request_id", "round", name=op.f("uq_request_decisions_request_id_round")
        ),
    )
    with op.batch_alter_table("request_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_decisions_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_members",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("affiliation", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("is_applicant", sa.Boolean(), nullable=False),
        sa.Column("added_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invited_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_members_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_members_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_members")),
        sa.UniqueConstraint(
            "request_id", "email_key", name=op.f("uq_request_members_request_id_email_key")
        ),
    )
    with op.batch_alter_table("request_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_members_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_request_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "request_recusals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("ground", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_request_recusals_member_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_recusals_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_recusals")),
        sa.UniqueConstraint(
            "request_id",
            "round",
            "member_id",
            name=op.f("uq_request_recusals_request_id_round_member_id"),
        ),
    )
    with op.batch_alter_table("request_recusals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_recusals_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "progress",
                "final",
                "publication",
                name="report_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("submitted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("doi", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_reports_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_request_reports_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_reports")),
    )
    with op.batch_alter_table("request_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_reports_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_request_reports_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_votes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column(
            "choice",
            sa.Enum(
                "approve",
                "reject",
                "abstain",
                name="vote_choice",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_request_votes_member_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_votes_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_votes")),
        sa.UniqueConstraint(
            "request_id",
            "round",
            "member_id",
            name=op.f("uq_request_votes_request_id_round_member_id"),
        ),
    )
    with op.batch_alter_table("request_votes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_votes_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "entitlements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "awaiting_acceptance",
                "active",
                "revoked",
                "ended",
                name="entitlement_state",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("activated_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.String(length=32), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("reminded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_entitlements_dataset_id_datasets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["request_decisions.id"],
            name=op.f("fk_entitlements_decision_id_request_decisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_entitlements_request_id_access_requests"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_entitlements_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_entitlements_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlements")),
        sa.UniqueConstraint(
            "request_id",
            "user_id",
            "dataset_id",
            name=op.f("uq_entitlements_request_id_user_id_dataset_id"),
        ),
    )
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entitlements_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entitlements_ends_on"), ["ends_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_entitlements_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entitlements_state"), ["state"], unique=False)
        batch_op.create_index(
            "ix_entitlements_user_dataset", ["user_id", "dataset_id"], unique=False
        )

    op.create_table(
        "request_signoffs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("request_dataset_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_dataset_id"],
            ["request_datasets.id"],
            name=op.f("fk_request_signoffs_request_dataset_id_request_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_signoffs_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_signoffs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_signoffs")),
        sa.UniqueConstraint(
            "request_dataset_id", "round", name=op.f("uq_request_signoffs_request_dataset_id_round")
        ),
    )
    with op.batch_alter_table("request_signoffs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_signoffs_request_dataset_id"),
            ["request_dataset_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_request_signoffs_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("committees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quorum", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    op.execute("DELETE FROM role_grants WHERE role = 'platform'")
    _role_check(ROLES)
    with op.batch_alter_table("committees", schema=None) as batch_op:
        batch_op.drop_column("is_default")
        batch_op.drop_column("quorum")

    with op.batch_alter_table("request_signoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_signoffs_request_id"))
        batch_op.drop_index(batch_op.f("ix_request_signoffs_request_dataset_id"))

    op.drop_table("request_signoffs")
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.drop_index("ix_entitlements_user_dataset")
        batch_op.drop_index(batch_op.f("ix_entitlements_state"))
        batch_op.drop_index(batch_op.f("ix_entitlements_request_id"))
        batch_op.drop_index(batch_op.f("ix_entitlements_ends_on"))
        batch_op.drop_index(batch_op.f("ix_entitlements_dataset_id"))

    op.drop_table("entitlements")
    with op.batch_alter_table("request_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_votes_request_id"))

    op.drop_table("request_votes")
    with op.batch_alter_table("request_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_reports_request_id"))
        batch_op.drop_index(batch_op.f("ix_request_reports_due_on"))

    op.drop_table("request_reports")
    with op.batch_alter_table("request_recusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_recusals_request_id"))

    op.drop_table("request_recusals")
    with op.batch_alter_table("request_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_request_members_request_id"))

    op.drop_table("request_members")
    with op.batch_alter_table("request_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_decisions_request_id"))

    op.drop_table("request_decisions")
    with op.batch_alter_table("request_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_datasets_state"))
        batch_op.drop_index(batch_op.f("ix_request_datasets_request_id"))
        batch_op.drop_index(batch_op.f("ix_request_datasets_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_request_datasets_check_outcome"))

    op.drop_table("request_datasets")
    with op.batch_alter_table("request_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_acceptances_user_id"))
        batch_op.drop_index(batch_op.f("ix_request_acceptances_request_id"))

    op.drop_table("request_acceptances")
    with op.batch_alter_table("dataset_committees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_committees_committee_id"))

    op.drop_table("dataset_committees")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_updated_at"))
        batch_op.drop_index(batch_op.f("ix_access_requests_state_changed_at"))
        batch_op.drop_index(batch_op.f("ix_access_requests_state"))
        batch_op.drop_index(batch_op.f("ix_access_requests_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_access_requests_committee_id"))
        batch_op.drop_index(batch_op.f("ix_access_requests_applicant_id"))
        batch_op.drop_index(batch_op.f("ix_access_requests_amends_id"))

    op.drop_table("access_requests")
