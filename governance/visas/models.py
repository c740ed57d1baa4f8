"""The keys that sign GA4GH Passport visas (:mod:`governance.visas.services`).

A key's life: created and at once the signer (``activated_at``); retired by a rotation
(``retired_at``: it signs no more, and its private half is erased — it is never needed again);
still published in the JWKS until ``removed_at`` (set at retirement to the end of the grace
period, so that the visas it signed keep verifying until they expire), then gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

KID_MAX = 64
ALGORITHM = "RS256"


class VisaSigningKey(Base):
    """One RSA key pair. ``kid`` is the RFC 7638 thumbprint of ``public_jwk`` (so a key's name
    says which key it is, and two keys can never share one); ``private_key`` is the PKCS #8
    PEM encrypted with a key derived from ``SECRET_KEY`` (see :mod:`governance.visas.keys`),
    never the PEM itself, and NULL once the key is retired."""

    __tablename__ = "visa_signing_keys"

    kid: Mapped[str] = mapped_column(String(KID_MAX), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10), default=ALGORITHM)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column()
    removed_at: Mapped[dt.datetime | None] = mapped_column()

    def is_signing(self) -> bool:
        return self.retired_at is None

    def is_published(self, now: dt.datetime) -> bool:
        return self.removed_at is None or self.removed_at > now

    def state(self, now: dt.datetime) -> str:
        """``signing``, ``published`` (retired, still in the JWKS) or ``removed``."""
        if self.is_signing():
            return "signing"
        return "published" if self.is_published(now) else "removed"
