"""Catalogue use cases. For now: the public summary of what the alliance holds."""

from __future__ import annotations

from dataclasses import dataclass

from core import services as accounts


@dataclass(frozen=True)
class CatalogueSummary:
    organisations: int
    datasets: int
    patients: int


def catalogue_summary() -> CatalogueSummary:
    """Counts for the home page and ``GET /api/v1/summary`` (public).

    Datasets arrive with the catalogue issue; until their table exists there are none to count.
    """
    counts = accounts.account_counts()
    return CatalogueSummary(organisations=counts["organisations"], datasets=0, patients=0)
