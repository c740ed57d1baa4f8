"""REDCap data dictionaries, as REDCap exports them (CSV, one row per field)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from catalogue.dictionary.records import (
    DictionaryReading,
    PermissibleValue,
    Problem,
    VariableRecord,
)
from catalogue.models import ValueType
from core.files import FileProblem, check_header, csv_rows, decode_text
from core.text import number_word

# REDCap's column headings, and the short names we use for them
COLUMNS = {
    "variable / field name": "name",
    "form name": "form",
    "section header": "section",
    "field type": "type",
    "field label": "label",
    "choices, calculations, or slider labels": "choices",
    "field note": "note",
    "text validation type or show slider number": "validation",
    "text validation min": "min",
    "text validation max": "max",
    "identifier?": "identifier",
    "branching logic (show field only if...)": "branching",
    "required field?": "required",
    "custom alignment": "alignment",
    "question number (surveys only)": "question",
    "matrix group name": "matrix",
    "matrix ranking?": "ranking",
    "field annotation": "annotation",
}
REQUIRED = ("name", "form", "type", "label")
FIELD_TYPES = {
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "file",
    "descriptive",
    "sql",
}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TAGS = re.compile(r"<[^>]+>")


def _validation_type(validation: str) -> ValueType:
    v = validation.strip().lower()
    if v == "integer":
        return ValueType.INTEGER
    if v.startswith("number"):
        return ValueType.DECIMAL
    if v.startswith("datetime"):
        return ValueType.DATETIME
    if v.startswith("date"):
        return ValueType.DATE
    return ValueType.TEXT


def parse_choices(text: str) -> list[tuple[str, str]]:
    """``"1, Yes | 2, No"`` → ``[("1", "Yes"), ("2", "No")]``.

    :raises ValueError: for a choice without a code and a label.
    """
    choices = []
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, sep, label = part.partition(",")
        if not sep or not code.strip() or not label.strip():
            raise ValueError(f"“{part}” is not “code, label”")
        choices.append((code.strip(), label.strip()))
    if not choices:
        raise ValueError("no choices given")
    codes = [c for c, _ in choices]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"the code {', '.join(duplicates)} is used twice")
    return choices


def _plain(text: str) -> str:
    return TAGS.sub("", text or "").strip()


def read_redcap(data: bytes | str) -> DictionaryReading:
    """Read a REDCap data dictionary. Every field type is understood; descriptive fields are
    skipped with a note; problems carry the file's row and the REDCap column name."""
    reading = DictionaryReading()
    try:
        text = decode_text(data) if isinstance(data, bytes) else data
        rows = csv_rows(text)
        try:
            header_line, header = next(rows)
        except StopIteration:
            reading.problems.append(Problem(1, None, "the file is empty"))
            return reading
        check_header(header, line=header_line)
        _read_fields(reading, header, rows)
    except FileProblem as exc:
        reading.problems.append(Problem(exc.line, exc.column, exc.message))
    return reading


def _read_fields(
    reading: DictionaryReading, header: list[str], rows: Iterator[tuple[int, list[str]]]
) -> None:
    keys = [COLUMNS.get(h.strip().lower()) for h in header]
    headings = {k: h.strip() for k, h in zip(keys, header, strict=False) if k}
    missing = [c for c in REQUIRED if c not in headings]
    if missing:
        names = {v: k for k, v in COLUMNS.items()}
        reading.problems.append(
            Problem(
                1,
                None,
                f"missing the required {number_word(len(missing), 'column')}: "
                + ", ".join(f"“{names[m].title()}”" for m in missing),
            )
        )
        return
    seen: dict[str, int] = {}
    section: str | None = None
    form: str | None = None
    for line, values in rows:
        reading.rows += 1
        row = {k: (v or "").strip() for k, v in zip(keys, values, strict=False) if k}
        if not any(row.values()):
            continue
        if row.get("form") != form:
            form, section = row.get("form"), None
        if row.get("section"):
            section = _plain(row["section"])
        name, field_type = row.get("name", ""), row.get("type", "").lower()

        def problem(column: str | None, message: str, line: int = line) -> None:
            reading.problems.append(
                Problem(line, headings.get(column) if column else None, message)
            )

        if not name:
            problem("name", "the field has no name")
            continue
        if not NAME_PATTERN.match(name):
            problem("name", f"“{name}” is not a REDCap field name (lower-case letters, digits, _)")
        if name in seen:
            problem("name", f"“{name}” is defined twice (first on row {seen[name]})")
            continue
        seen[name] = line
        if field_type not in FIELD_TYPES:
            problem(
                "type",
                f"unknown field type “{row.get('type', '')}” (REDCap knows: "
                + ", ".join(sorted(FIELD_TYPES))
                + ")",
            )
            continue
        if field_type == "descriptive":
            reading.notes.append(
                Problem(line, None, f"descriptive field “{name}” holds no data and was skipped")
            )
            continue
        label = _plain(row.get("label", "")) or name
        record = VariableRecord(
            name=name,
            label=label,
            value_type=ValueType.TEXT,
            row=line,
            description=_plain(row.get("note", "")) or None,
            form=form or None,
            section=section,
            source_type=field_type,
            minimum=row.get("min") or None,
            maximum=row.get("max") or None,
        )
        choices_text = row.get("choices", "")
        if field_type in {"dropdown", "radio", "checkbox"}:
            record.value_type = ValueType.CATEGORICAL
            record.multiple = field_type == "checkbox"
            try:
                record.permissible_values = [
                    PermissibleValue(c, lbl) for c, lbl in parse_choices(choices_text)
                ]
            except ValueError as exc:
                problem("choices", f"malformed choices: {exc}")
                continue
        elif field_type == "yesno":
            record.value_type = ValueType.BOOLEAN
            record.permissible_values = [PermissibleValue("1", "Yes"), PermissibleValue("0", "No")]
        elif field_type == "truefalse":
            record.value_type = ValueType.BOOLEAN
            record.permissible_values = [
                PermissibleValue("1", "True"),
                PermissibleValue("0", "False"),
            ]
        elif field_type == "calc":
            record.value_type = ValueType.DECIMAL
            if choices_text:
                record.description = "; ".join(
                    filter(None, [record.description, f"calculated: {choices_text}"])
                )
        elif field_type == "slider":
            record.value_type = ValueType.INTEGER
            record.minimum = record.minimum or "0"
            record.maximum = record.maximum or "100"
            labels = [p.strip() for p in choices_text.split("|")] if choices_text else []
            if labels:
                record.description = "; ".join(
                    filter(None, [record.description, "slider: " + " … ".join(labels)])
                )
        elif field_type == "text":
            record.value_type = _validation_type(row.get("validation", ""))
        elif field_type == "sql":
            reading.notes.append(
                Problem(
                    line,
                    headings.get("choices"),
                    f"the choices of “{name}” come from a database query; it was kept as text",
                )
            )
        for bound in ("min", "max"):
            value = row.get(bound)
            if (
                value
                and record.value_type in {ValueType.INTEGER, ValueType.DECIMAL}
                and not _is_number(value)
            ):
                problem(bound, f"“{value}” is not a number")
        reading.variables.append(record)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
