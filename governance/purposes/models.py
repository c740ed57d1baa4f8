"""A researcher's saved research purposes: named descriptions of what they want to do with
data, in the shape the compatibility check reads (:class:`governance.matching.check.Purpose`),
kept on their profile to search by fit and, later, to request access with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.models import new_public_id

NAME_MAX = 100


class SavedPurpose(Base):
    """One named purpose of one user. ``purpose`` is the JSON of
    :class:`governance.matching.schemas.PurposeSchema` (terms, diseases, commercial …);
    ``revision`` counts changes (the ETag); the name is unique per user, compared as typed
    after trimming."""

    __tablename__ = "saved_purposes"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    purpose: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)
