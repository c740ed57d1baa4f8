"""Catalogue use cases: the public summary of what the alliance holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from catalogue.models import Dataset, DatasetStatus, DatasetVersion, VersionStatus
from core import services as accounts
from core.db import get_session


@dataclass(frozen=True)
class CatalogueSummary:
    organisations: int
    datasets: int
    patients: int


def catalogue_summary() -> CatalogueSummary:
    """Counts for the home page and ``GET /api/v1/summary`` (public): organisations, published
    datasets, and the patients their current versions declare (retired datasets not counted)."""
    counts = accounts.account_counts()
    datasets, patients = (
        get_session()
        .execute(
            select(func.count(), func.coalesce(func.sum(DatasetVersion.patients), 0))
            .select_from(DatasetVersion)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(
                Dataset.status == DatasetStatus.PUBLISHED,
                DatasetVersion.status == VersionStatus.PUBLISHED,
            )
        )
        .one()
    )
    return CatalogueSummary(
        organisations=counts["organisations"], datasets=datasets, patients=int(patients or 0)
    )
