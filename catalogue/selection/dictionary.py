"""A selection's combined data dictionary: one table of every chosen variable of every dataset
in it (the whole dictionary of a dataset in which no variable was chosen), from each dataset's
latest published version, for a researcher to read across datasets in one spreadsheet.

Columns (:data:`COLUMNS`): the dataset (identifier, title, version), the variable (name,
label, description, type, unit), its permissible values as ``code=label`` pairs separated by
``|`` (``@CURIE`` after a value an accepted mapping names a term for, as in the dictionary
template), its missing codes, and the terms of its accepted mappings each with its predicate
(``skos:exactMatch NCIT:C12345 (label)``, separated by `` | ``).

Only what the reader may see is written: the owner's datasets that have a published version
(retired ones too: they chose them and see them listed), a share link's published datasets
only. A chosen name the latest version no longer has is not written (the selection's page
shows it as unavailable). The rows are read in batches as the response is streamed; the
written files go through :func:`catalogue.dictionary.export.csv_lines` and
:func:`~catalogue.dictionary.export.xlsx_bytes`, which neutralise cells a spreadsheet would run
as formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalogue.models import DatasetVersion, Mapping, MappingStatus, Variable, VersionStatus
from catalogue.selection import services
from core.db import get_session
from core.policies import Actor
from ontologies.models import Term

COLUMNS = (
    "dataset",
    "dataset_title",
    "dataset_version",
    "variable",
    "label",
    "description",
    "value_type",
    "unit",
    "permissible_values",
    "missing_codes",
    "mapped_terms",
)
#: variables read (and their mappings looked up) at a time
BATCH = 1000


@dataclass(frozen=True)
class CombinedDictionary:
    """A combined dictionary ready to be written: ``rows()`` yields the header, then one row
    per variable; ``filename(extension)`` names the download."""

    selection: services.SelectionView

    def filename(self, extension: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.selection.name.lower()).strip("-")[:60]
        return f"selection-{slug or 'datasets'}-dictionary.{extension}"

    def rows(self) -> Iterator[list[str]]:
        yield list(COLUMNS)
        for dataset in self.selection.datasets:
            if dataset.version is None:
                continue
            chosen = [v.name for v in dataset.variables]
            yield from _dataset_rows(dataset, chosen)


def owner_dictionary(actor: Actor, selection_id: str | None = None) -> CombinedDictionary:
    """The combined dictionary of one of the caller's selections (the current one when
    ``selection_id`` is None). Authorization happens here, before anything is streamed.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for a ``selection_id`` the caller has no selection of.
    """
    return CombinedDictionary(services.list_selection(actor, selection_id))


def shared_dictionary(token: str) -> CombinedDictionary:
    """The combined dictionary of the selection a share link opens (its published datasets).

    :raises NotFound: for an unknown or revoked token.
    """
    return CombinedDictionary(services.shared_selection(token))


def _version_id(dataset_id: str, number: int) -> str | None:
    return get_session().scalar(
        select(DatasetVersion.id).where(
            DatasetVersion.dataset_id == dataset_id,
            DatasetVersion.number == number,
            DatasetVersion.status != VersionStatus.DRAFT,
        )
    )


def _dataset_rows(dataset: services.SelectedDataset, chosen: list[str]) -> Iterator[list[str]]:
    """The rows of one dataset: the chosen variables (all when none were chosen) of its latest
    published version, in dictionary order, read :data:`BATCH` at a time."""
    assert dataset.version is not None  # noqa: S101 - the caller skips unpublished ones
    version_id = _version_id(dataset.id, dataset.version)
    if version_id is None:
        return
    session = get_session()
    v: Any = Variable.__table__
    last = -1
    while True:
        statement = (
            select(
                v.c.id,
                v.c.position,
                v.c.name,
                v.c.label,
                v.c.description,
                v.c.value_type,
                v.c.unit,
                v.c.permissible_values,
                v.c.missing_codes,
            )
            .where(v.c.version_id == version_id, v.c.position > last)
            .order_by(v.c.position)
            .limit(BATCH)
        )
        if chosen:
            statement = statement.where(v.c.name.in_(chosen))
        batch = session.execute(statement).all()
        if not batch:
            return
        terms = _mapped_terms([row.id for row in batch])
        for row in batch:
            variable_terms, value_terms = terms.get(row.id, ([], {}))
            yield [
                dataset.identifier,
                dataset.title,
                str(dataset.version),
                row.name,
                row.label,
                row.description or "",
                getattr(row.value_type, "value", row.value_type) or "",
                row.unit or "",
                "|".join(
                    f"{p['code']}={p['label']}"
                    + (f"@{value_terms[str(p['code'])]}" if str(p["code"]) in value_terms else "")
                    for p in row.permissible_values or []
                ),
                "|".join(str(c) for c in row.missing_codes or []),
                " | ".join(variable_terms),
            ]
        last = batch[-1].position


def _mapped_terms(variable_ids: list[int]) -> dict[int, tuple[list[str], dict[str, str]]]:
    """variable id → (its accepted mappings as "predicate CURIE (label)", value code →
    CURIE), in one query for a batch of variables."""
    m: Any = Mapping.__table__
    t: Any = Term.__table__
    found: dict[int, tuple[list[str], dict[str, str]]] = {}
    rows = get_session().execute(
        select(m.c.variable_id, m.c.value_code, m.c.predicate, m.c.object_curie, t.c.label)
        .join(t, t.c.curie == m.c.object_curie)
        .where(m.c.variable_id.in_(variable_ids), m.c.status == MappingStatus.ACCEPTED.value)
        .order_by(m.c.id)
    )
    for variable_id, code, predicate, curie, label in rows:
        variable_terms, value_terms = found.setdefault(variable_id, ([], {}))
        if code is None:
            written = f"{getattr(predicate, 'value', predicate)} {curie} ({label})"
            if written not in variable_terms:
                variable_terms.append(written)
        else:
            value_terms.setdefault(code, curie)
    return found
