"""What the statistics keep between requests.

A published version never changes (a change opens a new draft version), so its figures —
how many variables its dictionary has, how many of them are mapped — are counted once, the
first time the dashboard needs them, and read from here afterwards: counting them again for ten
thousand datasets means reading a million variables on every request. Rows of versions that
are superseded or retired later stay, unused; deleting a dataset deletes them.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class VersionFigures(Base):
    __tablename__ = "stats_version_figures"

    version_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    variables: Mapped[int] = mapped_column(Integer)
    mapped: Mapped[int] = mapped_column(Integer)  # variables with an accepted mapping of their own
