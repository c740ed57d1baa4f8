"""Our own data-dictionary template (CSV or XLSX), and OMOP CDM-style variable lists.

Template columns (header row, any order, case-insensitive; * = required):
``name*``, ``label*``, ``value_type*`` (integer, decimal, categorical, boolean, date, datetime,
text), ``description``, ``form``, ``time_point``, ``unit`` (UCUM), ``permissible_values``
(``code=label`` pairs separated by ``|``, a pair may end in ``@CURIE`` to map the value),
``missing_codes`` (separated by ``|``), ``term`` (CURIE the variable maps to).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from catalogue.dictionary.records import (
    DictionaryReading,
    PermissibleValue,
    Problem,
    VariableRecord,
)
from catalogue.dictionary.units import unit_problem
from catalogue.models import ValueType
from core.files import (
    FileProblem,
    check_header,
    csv_rows,
    decode_text,
    sniff_delimiter,
    workbook_rows,
)
from core.text import number_word

TEMPLATE_COLUMNS = (
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
TEMPLATE_REQUIRED = ("name", "label", "value_type")
OMOP_COLUMNS = ("concept_id", "concept_name", "domain_id", "vocabulary_id")
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
CURIE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:\S+$")
VALUE_TYPE_ALIASES = {
    "int": "integer",
    "float": "decimal",
    "number": "decimal",
    "numeric": "decimal",
    "double": "decimal",
    "string": "text",
    "str": "text",
    "bool": "boolean",
    "category": "categorical",
    "enum": "categorical",
}


def _table_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of a CSV or the first sheet of an XLSX workbook.

    :raises FileProblem: (a ValueError) for a file that is neither, naming the line.
    :raises FileTooLarge: for a file that unfolds into more than we read.
    """
    if filename.lower().endswith((".xlsx", ".xlsm")):
        for number, row in workbook_rows(data):
            yield number, ["" if cell is None else cell.strip() for cell in row]
        return
    text = decode_text(data)
    for line, cells in csv_rows(text, delimiter=sniff_delimiter(text)):
        yield line, [c.strip() for c in cells]


def _header(
    reading: DictionaryReading,
    rows: Iterator[tuple[int, list[str]]],
    known: tuple[str, ...],
    required: tuple[str, ...],
) -> dict[str, int] | None:
    try:
        line, header = next(rows)
    except StopIteration:
        reading.problems.append(Problem(1, None, "the file is empty"))
        return None
    check_header(header, line=line)
    positions = {h.strip().lower().replace(" ", "_"): i for i, h in enumerate(header) if h.strip()}
    missing = [c for c in required if c not in positions]
    if missing:
        reading.problems.append(
            Problem(
                1,
                None,
                f"missing the required {number_word(len(missing), 'column')}: "
                + ", ".join(missing),
            )
        )
        return None
    unknown = [h for h in positions if h not in known]
    if unknown:
        reading.notes.append(Problem(1, None, "columns ignored: " + ", ".join(unknown)))
    return positions


def read_template(data: bytes, filename: str = "dictionary.csv") -> DictionaryReading:
    """Read our CSV/XLSX template (see the module docstring for its columns)."""
    reading = DictionaryReading()
    try:
        rows = _table_rows(data, filename)
        positions = _header(reading, rows, TEMPLATE_COLUMNS, TEMPLATE_REQUIRED)
        if positions is None:
            return reading
        seen: dict[str, int] = {}
        for line, cells in rows:
            if not any(cells):
                continue
            reading.rows += 1

            def cell(column: str, cells: list[str] = cells) -> str:
                index = positions.get(column)
                return cells[index].strip() if index is not None and index < len(cells) else ""

            def problem(column: str | None, message: str, line: int = line) -> None:
                reading.problems.append(Problem(line, column, message))

            name = cell("name")
            if not name:
                problem("name", "the variable has no name")
                continue
            if not NAME_PATTERN.match(name):
                problem(
                    "name",
                    f"“{name}” is not a variable name (letters, digits, _ and ., "
                    "starting with a letter)",
                )
            if name in seen:
                problem("name", f"“{name}” is defined twice (first on row {seen[name]})")
                continue
            seen[name] = line
            raw_type = cell("value_type").lower()
            raw_type = VALUE_TYPE_ALIASES.get(raw_type, raw_type)
            try:
                value_type = ValueType(raw_type)
            except ValueError:
                problem(
                    "value_type",
                    f"unknown value type “{cell('value_type')}” (use one of "
                    + ", ".join(v.value for v in ValueType)
                    + ")",
                )
                continue
            record = VariableRecord(
                name=name,
                label=cell("label") or name,
                value_type=value_type,
                row=line,
                description=cell("description") or None,
                form=cell("form") or None,
                time_point=cell("time_point") or None,
                unit=cell("unit") or None,
                source_type="template",
            )
            if record.unit and (message := unit_problem(record.unit)):
                problem("unit", message)
            values = cell("permissible_values")
            if values:
                try:
                    record.permissible_values = parse_values(values)
                except ValueError as exc:
                    problem("permissible_values", str(exc))
                    continue
            if value_type is ValueType.CATEGORICAL and not record.permissible_values:
                problem(
                    "permissible_values", "a categorical variable lists its values (code=label|…)"
                )
            record.missing_codes = [
                c.strip() for c in cell("missing_codes").split("|") if c.strip()
            ]
            term = cell("term")
            if term:
                if not CURIE_PATTERN.match(term):
                    problem("term", f"“{term}” is not a CURIE such as HV:0000001 or NCIT:C3171")
                else:
                    record.mappings.append(term)
            reading.variables.append(record)
    except FileProblem as exc:
        reading.problems.append(Problem(exc.line, exc.column, exc.message))
    return reading


def parse_values(text: str) -> list[PermissibleValue]:
    """``"1=Male|2=Female@NCIT:C16576"`` → permissible values, the second mapped.

    :raises ValueError: for a value without ``code=label`` or a code used twice.
    """
    values: list[PermissibleValue] = []
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        term = None
        if "@" in part:
            part, _, term = part.rpartition("@")
            term = term.strip()
            if not CURIE_PATTERN.match(term):
                raise ValueError(f"“{term}” is not a CURIE")
        code, sep, label = part.partition("=")
        if not sep or not code.strip() or not label.strip():
            raise ValueError(f"“{part}” is not “code=label”")
        values.append(PermissibleValue(code.strip(), label.strip(), term))
    codes = [v.code for v in values]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"the code {', '.join(twice)} is used twice")
    return values


OMOP_DOMAIN_TYPES = {
    "measurement": ValueType.DECIMAL,
    "observation": ValueType.TEXT,
    "condition": ValueType.BOOLEAN,
    "drug": ValueType.BOOLEAN,
    "procedure": ValueType.BOOLEAN,
    "device": ValueType.BOOLEAN,
    "person": ValueType.TEXT,
    "death": ValueType.DATE,
    "specimen": ValueType.TEXT,
    "visit": ValueType.DATE,
}


def read_omop(data: bytes, filename: str = "concepts.csv") -> DictionaryReading:
    """An OMOP CDM-style concept list: ``concept_id``, ``concept_name``, ``domain_id``,
    ``vocabulary_id`` (and optionally ``concept_code``, ``unit``, ``variable_name``). Each row
    becomes a variable that arrives mapped to ``OMOP:<concept_id>``."""
    reading = DictionaryReading()
    known = (*OMOP_COLUMNS, "concept_code", "unit", "variable_name", "standard_concept")
    try:
        rows = _table_rows(data, filename)
        positions = _header(reading, rows, known, OMOP_COLUMNS)
        if positions is None:
            return reading
        seen: dict[str, int] = {}
        for line, cells in rows:
            if not any(cells):
                continue
            reading.rows += 1

            def cell(column: str, cells: list[str] = cells) -> str:
                index = positions.get(column)
                return cells[index].strip() if index is not None and index < len(cells) else ""

            concept_id = cell("concept_id")
            if not concept_id.isdigit():
                reading.problems.append(
                    Problem(
                        line, "concept_id", f"“{concept_id}” is not an OMOP concept id (digits)"
                    )
                )
                continue
            name = cell("variable_name") or re.sub(
                r"[^a-z0-9]+", "_", cell("concept_name").lower()
            ).strip("_")
            if not name:
                reading.problems.append(Problem(line, "concept_name", "the concept has no name"))
                continue
            if name in seen:
                name = f"{name}_{concept_id}"
            seen[name] = line
            domain = cell("domain_id").lower()
            record = VariableRecord(
                name=name[:120],
                label=cell("concept_name") or name,
                row=line,
                value_type=OMOP_DOMAIN_TYPES.get(domain, ValueType.TEXT),
                form=cell("domain_id") or None,
                unit=cell("unit") or None,
                source_type="omop",
                description=f"{cell('vocabulary_id')} {cell('concept_code')}".strip() or None,
            )
            record.mappings.append(f"OMOP:{concept_id}")
            reading.variables.append(record)
    except FileProblem as exc:
        reading.problems.append(Problem(exc.line, exc.column, exc.message))
    return reading
