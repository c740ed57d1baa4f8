"""Access requests and their review: what a researcher applies for, what the committee and the
custodians say about it, and the access it leads to.

- :class:`AccessRequest` — one application (or one amendment of an approved one, which points
  at it with ``amends_id`` and keeps its history); its state changes only through the
  ``access_request`` workflow (:mod:`governance.requests.workflow`).
- :class:`RequestMember` — the team: the applicant and the people who will use the data,
  existing users or invited by e-mail (``user_id`` is set when the invitation is taken up).
- :class:`RequestDataset` — each requested dataset, with its own state inside the request
  (:class:`DatasetState`), the variables asked for, the stored result of the consent check,
  the custodian's sign-off and the committee's override.
- :class:`Signoff`, :class:`Vote`, :class:`Recusal`, :class:`Decision` — the review. A review
  *round* starts with each submission; votes and recusals belong to a round, and there is at
  most one decision per round (a unique key: two chairs deciding at once cannot both win).
- :class:`Entitlement` — one person's access to one dataset, from the decision until its end;
  :class:`Acceptance` — a team member's click-through of the agreement's terms and the
  decision's conditions, recorded with the version of the text.
- :class:`RequestReport` — progress and final reports and publications, some required by a date.
- :class:`DatasetCommittee` — which committee reviews requests for a dataset (default: the
  committee marked default).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.models import Dataset
from core.db import Base, utcnow
from core.models import User, enum_column, new_public_id


class RequestState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


OPEN_STATES = (RequestState.SUBMITTED, RequestState.UNDER_REVIEW, RequestState.RETURNED)


class DatasetState(enum.StrEnum):
    """A requested dataset's state inside its request."""

    REQUESTED = "requested"  # in a draft, or awaiting the committee (no sign-off needed)
    PENDING_SIGNOFF = "pending_signoff"  # its agreement asks the custodian to sign off first
    SIGNED_OFF = "signed_off"
    DECLINED = "declined"  # the custodian declined: dropped unless the committee overrides
    APPROVED = "approved"
    REJECTED = "rejected"
    GRANTED = "granted"  # approved, and access started for at least one team member


class VoteChoice(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


class DecisionOutcome(enum.StrEnum):
    APPROVE = "approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions"
    REJECT = "reject"
    RETURN = "return"


class EntitlementState(enum.StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # approved; the person has not accepted terms
    ACTIVE = "active"
    REVOKED = "revoked"
    ENDED = "ended"  # its end date came, or the membership ended


class ReportKind(enum.StrEnum):
    PROGRESS = "progress"
    FINAL = "final"
    PUBLICATION = "publication"


class DatasetCommittee(Base):
    """The committee that reviews requests for a dataset, where it is not the default one."""

    __tablename__ = "dataset_committees"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    committee_id: Mapped[str] = mapped_column(
        ForeignKey("committees.id", ondelete="CASCADE"), index=True
    )


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    # human reference shown everywhere, e.g. "AR-2026-0042" (amendments: "AR-2026-0042-A1")
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, "request_state", length=16),
        default=RequestState.DRAFT,
        index=True,
    )
    applicant_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # the applicant's organisation when the request was made (recusal; the public register)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    committee_id: Mapped[str | None] = mapped_column(
        ForeignKey("committees.id", ondelete="SET NULL"), index=True
    )
    amends_id: Mapped[str | None] = mapped_column(
        ForeignKey("access_requests.id", ondelete="SET NULL"), index=True
    )
    # what an amendment changes: {"add_members": [...], "remove_members": [...],
    # "add_datasets": [...], "extend_months": n}
    amendment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Safe projects
    title: Mapped[str] = mapped_column(String(300), default="")
    lay_summary: Mapped[str] = mapped_column(Text, default="")
    scientific_abstract: Mapped[str] = mapped_column(Text, default="")
    public_benefit: Mapped[str] = mapped_column(Text, default="")
    # the research purpose in the compatibility check's shape (PurposeSchema's JSON)
    purpose: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ethics_reference: Mapped[str | None] = mapped_column(String(200))
    ethics_document_sha256: Mapped[str | None] = mapped_column(String(64))
    ethics_document_filename: Mapped[str | None] = mapped_column(String(255))
    ethics_document_size: Mapped[int | None] = mapped_column(Integer)
    # Safe settings
    processing_country: Mapped[str | None] = mapped_column(String(2))
    processing_environment: Mapped[str] = mapped_column(Text, default="")
    # Safe data
    data_justification: Mapped[str] = mapped_column(Text, default="")
    # Safe outputs
    publication_plan: Mapped[str] = mapped_column(Text, default="")
    # Safe people
    team_training: Mapped[str] = mapped_column(Text, default="")
    requested_months: Mapped[int | None] = mapped_column(Integer)
    funding: Mapped[str] = mapped_column(Text, default="")
    conflicts_of_interest: Mapped[str] = mapped_column(Text, default="")
    # review
    round: Mapped[int] = mapped_column(Integer, default=0)  # +1 at each submission
    return_comments: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None]  # the first submission
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    decided_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # bumped by every change: the ETag for If-Match
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    members: Mapped[list[RequestMember]] = relationship(
        cascade="all, delete-orphan", order_by="RequestMember.added_at", lazy="selectin"
    )
    datasets: Mapped[list[RequestDataset]] = relationship(
        cascade="all, delete-orphan", order_by="RequestDataset.position", lazy="selectin"
    )

    @property
    def dataset_ids(self) -> list[str]:
        return [d.dataset_id for d in self.datasets]

    def current_members(self) -> list[RequestMember]:
        return [m for m in self.members if m.removed_at is None]


class RequestMember(Base):
    """A person on the request's team (the applicant is one, with ``is_applicant``)."""

    __tablename__ = "request_members"
    __table_args__ = (UniqueConstraint("request_id", "email_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(200), default="")
    affiliation: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(200), default="")  # e.g. "statistician"
    is_applicant: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    invited_at: Mapped[dt.datetime | None]
    removed_at: Mapped[dt.datetime | None]

    user: Mapped[User | None] = relationship()


class RequestDataset(Base):
    """One requested dataset inside a request."""

    __tablename__ = "request_datasets"
    __table_args__ = (UniqueConstraint("request_id", "dataset_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[DatasetState] = mapped_column(
        enum_column(DatasetState, "request_dataset_state", length=16),
        default=DatasetState.REQUESTED,
        index=True,
    )
    # variable names asked for (None: the whole dataset)
    variables: Mapped[list[str] | None] = mapped_column(JSON)
    # the consent check, stored at each submission and when the conditions change
    check_outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    check_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    check_obligations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    check_conditions_revision: Mapped[int | None] = mapped_column(Integer)
    check_ontology_versions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    checked_at: Mapped[dt.datetime | None]
    # the agreement in effect when submitted, and whether it asks for the custodian's sign-off
    agreement_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL")
    )
    signoff_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # the committee may keep a declined dataset in the request, with a justification
    override_justification: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_at: Mapped[dt.datetime | None]
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship(lazy="joined")

    @property
    def organisation_id(self) -> str:
        """The custodian organisation of the dataset."""
        return self.dataset.organisation_id


class Signoff(Base):
    """A custodian's sign-off of one requested dataset (in one review round)."""

    __tablename__ = "request_signoffs"
    __table_args__ = (UniqueConstraint("request_dataset_id", "round"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    request_dataset_id: Mapped[str] = mapped_column(
        ForeignKey("request_datasets.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Vote(Base):
    """A committee member's vote in one review round; changeable until the round's decision."""

    __tablename__ = "request_votes"
    __table_args__ = (UniqueConstraint("request_id", "round", "member_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    choice: Mapped[VoteChoice] = mapped_column(enum_column(VoteChoice, "vote_choice", length=16))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    member: Mapped[User] = relationship()


class Recusal(Base):
    """A committee member who may not vote on a request (in one round), and why."""

    __tablename__ = "request_recusals"
    __table_args__ = (UniqueConstraint("request_id", "round", "member_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # "applicant_organisation", "custodian_organisation" or "declared"
    ground: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    member: Mapped[User] = relationship()


class Decision(Base):
    """The chair's decision of one review round. Final: never edited (a mistake is corrected by
    revocation or a new request)."""

    __tablename__ = "request_decisions"
    __table_args__ = (UniqueConstraint("request_id", "round"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[DecisionOutcome] = mapped_column(
        enum_column(DecisionOutcome, "decision_outcome", length=32)
    )
    reasons: Mapped[str] = mapped_column(Text, default="")
    # obligations the applicant must acknowledge before access starts
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # per requested dataset: {dataset_id: "approved" | "rejected"}
    dataset_outcomes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {dataset_id: justification} for approving an `incompatible` or a declined dataset
    overrides: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {dataset_id: note} for each `needs_review` dataset approved
    review_notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # reports the committee requires: [{"kind": "progress", "due_on": "YYYY-MM-DD"}]
    required_reports: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # the votes when decided: {"approve": n, "reject": n, "abstain": n, "eligible": n}
    tally: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    decided_by: Mapped[User | None] = relationship()


class Entitlement(Base):
    """One person's access to one dataset (limited to some variables where the request named
    them), granted by an approval."""

    __tablename__ = "entitlements"
    __table_args__ = (
        Index("ix_entitlements_user_dataset", "user_id", "dataset_id"),
        UniqueConstraint("request_id", "user_id", "dataset_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="RESTRICT"), index=True
    )
    decision_id: Mapped[str | None] = mapped_column(
        ForeignKey("request_decisions.id", ondelete="SET NULL")
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="RESTRICT"), index=True
    )
    variables: Mapped[list[str] | None] = mapped_column(JSON)
    state: Mapped[EntitlementState] = mapped_column(
        enum_column(EntitlementState, "entitlement_state", length=24),
        default=EntitlementState.AWAITING_ACCEPTANCE,
        index=True,
    )
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date, index=True)
    activated_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[dt.datetime | None]  # the 30-day expiry reminder, once
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    dataset: Mapped[Dataset] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    request: Mapped[AccessRequest] = relationship()


class Acceptance(Base):
    """A team member's acceptance of the terms (the agreements' obligations and the decision's
    conditions) of a request, as the text they were shown (its SHA-256 is the version)."""

    __tablename__ = "request_acceptances"
    __table_args__ = (UniqueConstraint("request_id", "user_id", "terms_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    terms_sha256: Mapped[str] = mapped_column(String(64))
    terms_text: Mapped[str] = mapped_column(Text)
    accepted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RequestReport(Base):
    """A progress or final report or a publication on an approved request; a row with
    ``due_on`` and no ``submitted_at`` is one the committee requires and is still awaited."""

    __tablename__ = "request_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind", length=16))
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # publications: a DOI or a URL
    doi: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
