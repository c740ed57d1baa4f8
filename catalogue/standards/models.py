"""Standard variable sets: named, versioned, ordered lists of terms.

A set is what a dataset must hold to compute a risk classification (the inputs of ELN 2022,
R-ISS, IPI …) or to report a core outcome set. Each term of a set may carry a note ("with upper
limit of normal"); the set names its source (citation and URL) and the disease terms it is meant
for. Administrators change sets; an edit bumps ``revision`` (the ETag for ``If-Match``), and the
set's own ``version`` label says which edition of the score it follows. A retired set stays
readable but is no longer offered on the dataset pages.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models import enum_column, new_public_id


class StandardSetStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class StandardVariableSet(Base):
    __tablename__ = "standard_variable_sets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    identifier: Mapped[str] = mapped_column(String(80), unique=True)  # a slug: "r-iss"
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))  # the edition, e.g. "2022"
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # the citation
    source_url: Mapped[str | None] = mapped_column(String(500))
    # what a reader must know: inputs without a term of their own, "a reasonable default" …
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[StandardSetStatus] = mapped_column(
        enum_column(StandardSetStatus, "standard_set_status"), default=StandardSetStatus.ACTIVE
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]

    terms: Mapped[list[StandardSetTerm]] = relationship(
        cascade="all, delete-orphan", order_by="StandardSetTerm.position", lazy="selectin"
    )
    diseases: Mapped[list[StandardSetDisease]] = relationship(
        cascade="all, delete-orphan", order_by="StandardSetDisease.position", lazy="selectin"
    )


class StandardSetTerm(Base):
    """One term of a set, in the set's order."""

    __tablename__ = "standard_set_terms"

    set_id: Mapped[str] = mapped_column(
        ForeignKey("standard_variable_sets.id", ondelete="CASCADE"), primary_key=True
    )
    term_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(300))


class StandardSetDisease(Base):
    """A disease term (HAEM) a set is meant for."""

    __tablename__ = "standard_set_diseases"

    set_id: Mapped[str] = mapped_column(
        ForeignKey("standard_variable_sets.id", ondelete="CASCADE"), primary_key=True
    )
    term_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
