"""A dataset version's dictionary written back as our template (CSV or XLSX), and the
downloadable example of the template.

The export is written so that importing it again changes nothing: the template's columns
(see :mod:`catalogue.dictionary.template`), permissible values as ``code=label`` pairs each
followed by ``@CURIE`` when an accepted mapping names a term for the value, and the terms of
the variable's accepted mappings in ``term`` (separated by ``|`` when there are several).
Fields the template has no column for (a REDCap section, validation range) are not written,
and an import of the template leaves them as they are.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.models import DatasetVersion, Mapping, MappingStatus, Variable
from core.db import get_session
from core.files import csv_writer
from core.policies import Actor

COLUMNS = (
    "name",
    "label",
    "value_type",
    "description",
    "form",
    "time_point",
    "unit",
    "permissible_values",
    "missing_codes",
    "term",
)
BATCH = 2000

# the downloadable example: a few variables of an AML trial, with terms of the bundled
# HARMONY variables (HV) and haematological-malignancy (NCIT) vocabularies
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "name": "age_dx",
        "label": "Age at diagnosis",
        "value_type": "integer",
        "description": "Completed years at the date of diagnosis",
        "form": "baseline",
        "time_point": "baseline",
        "unit": "a",
        "missing_codes": "999",
        "term": "HV:0000020",
    },
    {
        "name": "sex",
        "label": "Sex",
        "value_type": "categorical",
        "form": "baseline",
        "time_point": "baseline",
        "permissible_values": "1=Male|2=Female",
        "missing_codes": "9",
        "term": "HV:0000017",
    },
    {
        "name": "who_dx",
        "label": "WHO 2022 diagnosis",
        "value_type": "categorical",
        "form": "baseline",
        "time_point": "baseline",
        "permissible_values": (
            "1=AML with NPM1 mutation@NCIT:C82431|"
            "2=AML with RUNX1::RUNX1T1 fusion@NCIT:C9288|"
            "3=AML, myelodysplasia-related@NCIT:C7600|9=Other AML"
        ),
        "term": "HV:0000028",
    },
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "value_type": "decimal",
        "form": "baseline",
        "time_point": "baseline",
        "unit": "g/dL",
        "missing_codes": "-99",
        "term": "HV:0000045",
    },
    {
        "name": "wbc_dx",
        "label": "White blood cell count at diagnosis",
        "value_type": "decimal",
        "form": "baseline",
        "time_point": "baseline",
        "unit": "10*9/L",
        "term": "HV:0000046",
    },
    {
        "name": "flt3itd",
        "label": "FLT3-ITD",
        "value_type": "boolean",
        "description": "FLT3 internal tandem duplication by fragment analysis",
        "form": "molecular",
        "time_point": "baseline",
        "permissible_values": "1=Present|0=Absent",
        "missing_codes": "9",
        "term": "HV:0000125",
    },
    {
        "name": "ecog",
        "label": "ECOG performance status",
        "value_type": "categorical",
        "form": "baseline",
        "time_point": "baseline",
        "permissible_values": "0=Fully active|1=Restricted|2=Ambulatory|3=Limited self-care"
        "|4=Completely disabled",
        "term": "HV:0000178",
    },
    {
        "name": "resp_ind",
        "label": "Response after induction",
        "value_type": "categorical",
        "form": "response",
        "time_point": "after induction",
        "permissible_values": "1=CR@HV:0000207|2=CRi@HV:0000208|3=PR@HV:0000213|4=Refractory",
        "term": "HV:0000206",
    },
    {
        "name": "os_months",
        "label": "Overall survival",
        "value_type": "decimal",
        "description": "From randomisation to death of any cause or last contact",
        "form": "follow-up",
        "time_point": "follow-up",
        "unit": "mo",
        "term": "HV:0000237",
    },
    {
        "name": "fu_date",
        "label": "Date of last follow-up",
        "value_type": "date",
        "form": "follow-up",
        "time_point": "follow-up",
        "term": "HV:0000227",
    },
)


def template_rows(version: DatasetVersion) -> Iterator[list[str]]:
    """The header, then one row per variable in dictionary order, read in batches."""
    yield list(COLUMNS)
    session = get_session()
    terms = _accepted_terms(version)
    v: Any = Variable.__table__
    last = -1
    while True:
        batch = session.execute(
            select(
                v.c.id,
                v.c.position,
                v.c.name,
                v.c.label,
                v.c.value_type,
                v.c.description,
                v.c.form,
                v.c.time_point,
                v.c.unit,
                v.c.permissible_values,
                v.c.missing_codes,
            )
            .where(v.c.version_id == version.id, v.c.position > last)
            .order_by(v.c.position)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row in batch:
            variable_terms, value_terms = terms.get(row.id, ([], {}))
            yield [
                row.name,
                row.label,
                getattr(row.value_type, "value", row.value_type),
                row.description or "",
                row.form or "",
                row.time_point or "",
                row.unit or "",
                "|".join(
                    f"{p['code']}={p['label']}"
                    + (f"@{value_terms[str(p['code'])]}" if str(p["code"]) in value_terms else "")
                    for p in row.permissible_values or []
                ),
                "|".join(str(c) for c in row.missing_codes or []),
                "|".join(variable_terms),
            ]
        last = batch[-1].position


def _accepted_terms(version: DatasetVersion) -> dict[int, tuple[list[str], dict[str, str]]]:
    """variable id → (terms of the variable, value code → term), from accepted mappings."""
    m: Any = Mapping.__table__
    v: Any = Variable.__table__
    found: dict[int, tuple[list[str], dict[str, str]]] = {}
    rows = get_session().execute(
        select(m.c.variable_id, m.c.value_code, m.c.object_curie)
        .join(v, v.c.id == m.c.variable_id)
        .where(v.c.version_id == version.id, m.c.status == MappingStatus.ACCEPTED.value)
        .order_by(m.c.id)
    )
    for variable_id, code, curie in rows:
        variable_terms, value_terms = found.setdefault(variable_id, ([], {}))
        if code is None:
            if curie not in variable_terms:
                variable_terms.append(curie)
        else:
            value_terms.setdefault(code, curie)
    return found


class _Line:
    """A file-like object that hands back what the csv writer wrote."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def csv_lines(rows: Iterator[list[str]], *, bom: bool = False) -> Iterator[str]:
    """CSV text in pieces of about a hundred rows (for a streamed response); cells that a
    spreadsheet would run as a formula are neutralised (the readers take the mark off again)."""
    line = _Line()
    writer = csv_writer(line, lineterminator="\r\n")
    if bom:  # Excel reads UTF-8 only with it
        yield "\ufeff"
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % 100 == 0:
            yield line.text
            line.text = ""
    if line.text:
        yield line.text


def xlsx_bytes(rows: Iterator[list[str]], title: str = "Dictionary") -> bytes:
    """An XLSX workbook of the rows. Every cell is text (a label such as ``=1+1`` is written as
    text, never as a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    for number, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value or None)
            if value:
                cell.data_type = "s"  # text, even when it starts with "="
            if number == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_version(actor: Actor, identifier: str, version: int | None = None) -> DatasetVersion:
    """The version to export (the one the actor sees, or ``version``).

    :raises NotFound: for a dataset or version the actor may not see."""
    return datasets.get_version(actor, identifier, version)


def export_filename(version: DatasetVersion, extension: str) -> str:
    return f"{version.dataset.identifier}-v{version.number}-dictionary.{extension}"


def example_rows() -> Iterator[list[str]]:
    yield list(COLUMNS)
    for example in EXAMPLE_ROWS:
        yield [example.get(column, "") for column in COLUMNS]
