"""The statistics as CSV: one row per cell of every breakdown, figures as the caller may see
them (``<10`` below the small-cell threshold, except for administrators)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from catalogue.stats.services import AllianceStats
from core.files import csv_writer

COLUMNS = (
    "breakdown",
    "value",
    "label",
    "datasets",
    "patients",
    "cumulative_datasets",
    "cumulative_patients",
)


def csv_rows(stats: AllianceStats) -> Iterator[tuple[object, ...]]:
    yield COLUMNS
    yield ("total", "", "Published datasets", stats.datasets, stats.patients.value, "", "")
    for name, rows in (
        ("disease", stats.diseases),
        ("country", stats.countries),
        ("source_type", stats.source_types),
        ("custodian", stats.custodians),
        ("age_group", stats.age_groups),
    ):
        for row in rows:
            yield (name, row.value, row.label, row.datasets, row.patients.value, "", "")
    for month in stats.growth:
        yield (
            "month",
            month.month,
            month.month,
            month.datasets,
            month.patients.value,
            month.cumulative_datasets,
            month.cumulative_patients.value,
        )
    share = f"{stats.variables.share:.4f}"
    yield ("variables", "variables", "Variables", stats.variables.variables, "", "", "")
    yield ("variables", "mapped", f"Mapped ({share})", stats.variables.mapped, "", "", "")


def to_csv(stats: AllianceStats) -> str:
    """The whole export (a few hundred rows at most), with a BOM so that spreadsheets read the
    names as UTF-8. Text that a spreadsheet would run as a formula is neutralised; the counts
    are numbers and stay numbers."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    for row in csv_rows(stats):
        writer.writerow(row)
    return "\ufeff" + out.getvalue()
