"""Data-sharing agreements: what a custodian organisation signed with the alliance, which of
its datasets it covers, for which uses, under which obligations, from when until when.

An agreement is identified by its reference (``DSA-2026-014``) and a version number: an
amendment is a new row with the same reference and the next number, which ``supersedes`` the
one before; old versions stay readable. The state (:class:`AgreementStatus`) is changed only
through the workflow (:mod:`governance.agreements.workflow`).

The signed document is a file outside the database (see :mod:`governance.agreements.documents`);
the row holds its SHA-256, size and original name, and the file is named by the SHA-256.
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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models import Organisation, enum_column, new_public_id


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    SUPERSEDED = "superseded"  # an amendment of it was activated


class SignatorySide(enum.StrEnum):
    CUSTODIAN = "custodian"
    ALLIANCE = "alliance"


class Agreement(Base):
    """One version of a data-sharing agreement."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("reference", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    reference: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    counterparty: Mapped[str] = mapped_column(String(200))
    status: Mapped[AgreementStatus] = mapped_column(
        enum_column(AgreementStatus, "agreement_status", length=16),
        default=AgreementStatus.DRAFT,
        index=True,
    )
    title: Mapped[str | None] = mapped_column(String(300))
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # DUO CURIEs of the uses the agreement permits
    permitted_uses: Mapped[list[str]] = mapped_column(JSON, default=list)
    # obligations of whoever receives the data
    acknowledgement: Mapped[str | None] = mapped_column(Text)
    publication_review_days: Mapped[int | None] = mapped_column(Integer)
    return_of_results: Mapped[bool] = mapped_column(Boolean, default=False)
    return_of_results_text: Mapped[str | None] = mapped_column(Text)
    moratorium_until: Mapped[dt.date | None] = mapped_column(Date)
    moratorium_months: Mapped[int | None] = mapped_column(Integer)
    requires_custodian_signoff: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"name", "role", "side": "custodian"|"alliance", "signed_on": "YYYY-MM-DD"}]
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # the signed document (a file named by its SHA-256 under AGREEMENT_DOCUMENTS_DIR)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_filename: Mapped[str | None] = mapped_column(String(255))
    document_uploaded_at: Mapped[dt.datetime | None]
    document_uploaded_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    supersedes_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), index=True
    )
    activated_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]  # expired, terminated or superseded
    termination_reason: Mapped[str | None] = mapped_column(Text)
    # bumped by every change: the ETag for If-Match
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    datasets: Mapped[list[AgreementDataset]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementDataset.dataset_id", lazy="selectin"
    )

    @property
    def dataset_ids(self) -> list[str]:
        return [d.dataset_id for d in self.datasets]

    @property
    def has_document(self) -> bool:
        return self.document_sha256 is not None


class AgreementDataset(Base):
    """A dataset an agreement covers (a dataset of the agreement's organisation)."""

    __tablename__ = "agreement_datasets"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AgreementReminder(Base):
    """A reminder of an agreement's expiry, announced once per agreement and lead time;
    ``mailed_at`` once the custodians' mail went out (delivery is at least once, the mail once).
    """

    __tablename__ = "agreement_reminders"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    days_before: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[dt.datetime | None]
