"""A dataset's data-use conditions: one row per dataset (the dataset's, not a version's: consent
does not change with a data freeze), numbered by ``revision``, and one row per DUO term of it
for the search facet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class DataUseConditions(Base):
    """What the patients' consent allows, in DUO: exactly one permission, the diseases of a DS
    permission, and modifiers with their parameters (``[{"term": "DUO:0000024", "date":
    "2026-06-01"}, …]``), in the canonical form of :mod:`governance.data_use.vocabulary`.

    ``revision`` counts the changes of the content (1 for the first conditions); ``signature``
    is the hash of the content without the revision, equal for equal conditions, so that the
    compatibility check of identical conditions is computed once."""

    __tablename__ = "data_use_conditions"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    permission: Mapped[str] = mapped_column(String(20))
    diseases: Mapped[list[str]] = mapped_column(JSON, default=list)
    modifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    signature: Mapped[str] = mapped_column(String(64), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DataUseTerm(Base):
    """A DUO term (the permission or a modifier) of a dataset's conditions: the ``data_use``
    search facet's filter and counts read these rows (one indexed range per term)."""

    __tablename__ = "data_use_terms"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
