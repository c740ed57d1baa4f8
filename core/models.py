"""Accounts: organisations, users, role grants, data access committees, sessions and tokens."""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
import uuid

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.db import Base, utcnow


def new_public_id() -> str:
    """Stable, URL-safe, unguessable identifier (also the base of RDF IRIs)."""
    return uuid.uuid4().hex


def casefold_key(text: str) -> str:
    """The one form that names (and emails) differing only in case or in how their accents are
    composed share: NFC, then Python's full case folding ("Straße" and "STRASSE", "Ärztekammer"
    and "ärztekammer" alike). Computed here, not by the database, whose lower() is ASCII-only on
    SQLite, so that both databases apply the same rule; a UNIQUE constraint on the stored key
    makes it hold even when two writers race past the services' check."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text.strip()).casefold())


def enum_column(cls: type[enum.Enum], name: str, *, length: int = 32) -> Enum:
    """The column type of every enumeration in a model: stored by value (``"draft"``, not
    ``"DRAFT"``), as a plain string column of ``length`` characters with a CHECK constraint named
    after ``name``, the same on both databases (no native PostgreSQL enum type, whose changes
    need their own migration steps). Use as ``mapped_column(enum_column(Status, "status"))``.
    Adding a member changes the CHECK constraint: it needs a migration."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class OrganisationKind(enum.StrEnum):
    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    INDUSTRY = "industry"
    REGISTRY = "registry"
    TRIAL_GROUP = "trial_group"
    REGULATOR = "regulator"
    HTA_BODY = "hta_body"
    PATIENT_ORGANISATION = "patient_organisation"
    OTHER = "other"


class Role(enum.StrEnum):
    RESEARCHER = "researcher"
    CUSTODIAN = "custodian"
    DAC_MEMBER = "dac_member"
    DAC_CHAIR = "dac_chair"
    ADMIN = "admin"
    # a data platform's service account: asks whether a user may use a dataset now
    PLATFORM = "platform"


ROLE_LABELS = {
    Role.RESEARCHER: "Researcher",
    Role.CUSTODIAN: "Data custodian",
    Role.DAC_MEMBER: "DAC member",
    Role.DAC_CHAIR: "DAC chair",
    Role.ADMIN: "Administrator",
    Role.PLATFORM: "Data platform (service account)",
}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(300))
    # casefold_key(name), set with the name: makes names unique whatever their case
    name_key: Mapped[str] = mapped_column(String(1000), unique=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, "organisation_kind")
    )
    city: Mapped[str | None] = mapped_column(String(200))
    ror_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @validates("name")
    def _set_name_key(self, _attribute: str, value: str) -> str:
        self.name_key = casefold_key(value)
        return value


class DataAccessCommittee(Base):
    __tablename__ = "committees"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(300))
    # casefold_key(name), set with the name: makes names unique whatever their case
    name_key: Mapped[str] = mapped_column(String(1000), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # how many eligible (non-recused) members' votes a decision needs; None: a majority of them
    quorum: Mapped[int | None] = mapped_column(Integer)
    # the committee that reviews requests for datasets not assigned to another one
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="committee")

    @validates("name")
    def _set_name_key(self, _attribute: str, value: str) -> str:
        self.name_key = casefold_key(value)
        return value


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    email: Mapped[str] = mapped_column(String(320))  # as given (lower-cased by the services)
    # casefold_key(email), set with the email: makes emails unique whatever their case
    email_key: Mapped[str] = mapped_column(String(1000), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
        order_by="RoleGrant.granted_at",
    )

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.id

    @validates("email")
    def _set_email_key(self, _attribute: str, value: str) -> str:
        self.email_key = casefold_key(value)
        return value

    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}

    def has_role(self, role: Role) -> bool:
        return role in self.roles()

    def custodian_of(self) -> set[str]:
        return {
            g.organisation_id for g in self.grants if g.role is Role.CUSTODIAN and g.organisation_id
        }

    def committees(self, *roles: Role) -> set[str]:
        wanted = set(roles) or {Role.DAC_MEMBER, Role.DAC_CHAIR}
        return {g.committee_id for g in self.grants if g.role in wanted and g.committee_id}


class RoleGrant(Base):
    """One role held by one user, scoped to an organisation (custodian) or committee (DAC)."""

    __tablename__ = "role_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    committee_id: Mapped[str | None] = mapped_column(
        ForeignKey("committees.id", ondelete="RESTRICT"), index=True
    )
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
    committee: Mapped[DataAccessCommittee | None] = relationship(back_populates="grants")

    __table_args__ = (
        CheckConstraint(
            "(role = 'custodian') = (organisation_id IS NOT NULL)",
            name="custodian_has_organisation",
        ),
        CheckConstraint(
            "(role IN ('dac_member', 'dac_chair')) = (committee_id IS NOT NULL)",
            name="dac_role_has_committee",
        ),
    )


class UserSession(Base):
    """A browser login. The cookie holds a random secret; only its hash is stored here, so
    revoking the record (logout, password change, deactivation) makes a stolen cookie useless."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A personal API token; shown once, stored as a SHA-256 hash of its 256-bit secret."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class LoginFailures(Base):
    """Failed password checks (logins and the current password of a password change), counted
    per (account, address) and per address so that every web worker and host sees the same
    counts. ``key`` is a SHA-256 of the counter's name: neither emails nor addresses are kept
    here in the clear. Counts older than the forgetting time start again from one."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failed_at: Mapped[dt.datetime] = mapped_column(index=True)
