"""Import a whole data dictionary into a dataset's open draft: one call, all or nothing.

The readers (:mod:`~catalogue.dictionary.redcap`, :mod:`~catalogue.dictionary.template`) turn
the file into variable records and the problems they see in the file alone; this module checks
what needs the database (the terms a file names), compares the records with the variables the
draft has (by name), and writes the difference with bulk statements below the ORM (PostgreSQL
``COPY``, SQLite ``executemany``) inside the session's one transaction.

Rules a custodian can rely on (the README says the same):

- Any problem and nothing is written; the report lists every problem with its row and column.
- Variables are matched by name. A variable the file no longer has is removed with its
  mappings, but only when the caller confirmed it (``confirm_removals``): a file that would
  remove variables or drop mappings is otherwise refused with :class:`RemovalsUnconfirmed`
  (409, listing what would go) before anything is written. Fields that a format does not
  describe keep their stored values (the template has no REDCap section or validation range,
  REDCap has no time point or missing-value codes, an OMOP list has neither), so that
  importing one format after another loses nothing.
- Mappings are never dropped by a re-import, except a permissible value's mappings when that
  value's code disappears or its label changes (the term no longer names what the code
  means), and the mappings of removed variables — both confirmed like removed variables.
  Mappings that arrive with the file are added as accepted (an identical suggested or
  rejected one is accepted instead).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Text, bindparam, cast, delete, func, select, type_coerce, update
from sqlalchemy import text as sql_text

from catalogue.datasets import services as datasets
from catalogue.dictionary.records import (
    DictionaryReading,
    Problem,
    VariableRecord,
)
from catalogue.dictionary.redcap import read_redcap
from catalogue.dictionary.template import NAME_PATTERN, read_omop, read_template
from catalogue.dictionary.units import unit_problem
from catalogue.models import (
    MAPPING_FIELDS,
    VARIABLE_FIELDS,
    DatasetVersion,
    Mapping,
    MappingJustification,
    MappingPredicate,
    MappingStatus,
    ValueType,
    Variable,
)
from core import jobs
from core.db import get_session, insert_rows, transactional, utcnow
from core.errors import Conflict, FileRejected, NotFound, UnsupportedMediaType
from core.files import FileProblem, csv_rows, decode_text, sniff_delimiter, workbook_rows
from core.jobs import Job
from core.models import User
from core.policies import Actor
from core.text import plural
from ontologies.identifiers import canonical_prefix
from ontologies.models import Term, TermXref
from ontologies.services import resolve_curie

FORMATS = ("template", "redcap", "omop")
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
LISTED_PROBLEMS = 1000  # a report lists at most this many problems (and notes); counts are exact
ANALYZE_AFTER = 1000  # rows written by an import before PostgreSQL's statistics are refreshed
CHUNK = 900  # identifiers per IN (…) list: below every database's parameter limit

# the variable columns an import compares and writes (besides name and position)
JSON_FIELDS = ("permissible_values", "missing_codes")
FIELDS = VARIABLE_FIELDS
# the fields each format describes; the others keep their stored values on a re-import
CARRIED = {
    "template": {
        "label",
        "description",
        "form",
        "time_point",
        "value_type",
        "unit",
        "permissible_values",
        "missing_codes",
    },
    "redcap": {
        "label",
        "description",
        "form",
        "section",
        "value_type",
        "minimum",
        "maximum",
        "multiple",
        "source_type",
        "permissible_values",
    },
    "omop": {"label", "description", "form", "value_type", "source_type"},
}
# column lengths of the variables table: longer identifiers are refused, longer texts shortened
LIMITS = {"name": 200, "form": 200, "time_point": 100, "minimum": 60, "maximum": 60}
TEXT_LIMITS = {"label": 500, "section": 300}
VALUE_CODE_LIMIT = 100
# the column a term of each format comes from, for problems
TERM_COLUMNS = {
    "template": ("term", "permissible_values"),
    "redcap": ("Field Annotation", "Field Annotation"),
    "omop": ("concept_id", "concept_id"),
}
JUSTIFICATIONS = {
    "template": MappingJustification.MANUAL,
    "redcap": MappingJustification.IMPORTED,
    "omop": MappingJustification.IMPORTED,
}
# OMOP vocabulary_id → the prefix of our CURIEs
OMOP_VOCABULARIES = {
    "snomed": "SNOMEDCT",
    "icd10cm": "ICD10",
    "icd10": "ICD10",
    "ncit": "NCIT",
    "loinc": "LOINC",
    "hpo": "HP",
    "mesh": "MESH",
}
ANNOTATION_TERM = re.compile(r"@TERM(?:\(([^)\s]+)\))?=(?:'([^']*)'|\"([^\"]*)\"|(\S+))", re.I)
# a unit runs to the next action tag or the end of the line (a wrong one is quoted whole)
ANNOTATION_UNIT = re.compile(r"@UNIT=(?:'([^']*)'|\"([^\"]*)\"|([^\n]*?)(?=\s+@|\s*$|\s*\n))", re.I)
ANNOTATED = re.compile(r"@(?:TERM|UNIT)\b", re.I)
# field notes REDCap dictionaries use for a unit, in words
UNIT_WORDS = {
    "years": "a",
    "year": "a",
    "months": "mo",
    "month": "mo",
    "weeks": "wk",
    "week": "wk",
    "days": "d",
    "day": "d",
    "hours": "h",
    "hour": "h",
    "minutes": "min",
    "percent": "%",
}
NUMERIC = {ValueType.INTEGER, ValueType.DECIMAL}
UNIT_LIKELY = re.compile(r"[A-Za-z%]")
UNIT_UNLIKELY = re.compile(r"\s")
EMPTY_JSON = "[]"
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def rejected(report: ImportReport) -> FileRejected:
    """The 422 of a dictionary with problems: nothing was written; the problems by row and
    column."""
    return FileRejected(report, "The dictionary", listed=LISTED_PROBLEMS)


@dataclass
class ImportReport:
    """What an import read, changed and found. ``rows``: data rows read from the file."""

    dataset: str
    version: int
    format: str
    filename: str
    rows: int = 0
    variables: int = 0  # variables the file describes
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    mappings_added: int = 0
    mappings_removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    # what the file removes (or would remove, for a refusal): set when anything goes
    removals: Removals | None = None

    @property
    def imported(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": self.filename,
            "rows": self.rows,
            "variables": self.variables,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "mappings_added": self.mappings_added,
            "mappings_removed": self.mappings_removed,
        }

    def as_json(self) -> dict[str, Any]:
        def listed(items: list[Problem]) -> list[dict[str, Any]]:
            return [
                {"row": p.row, "column": p.column, "message": p.message}
                for p in items[:LISTED_PROBLEMS]
            ]

        return {
            "dataset": self.dataset,
            "version": self.version,
            "imported": self.imported,
            **self.counts(),
            "problem_count": len(self.problems),
            "problems": listed(self.problems),
            "note_count": len(self.notes),
            "notes": listed(self.notes),
            "seconds": round(self.seconds, 3),
            "removals": self.removals.as_json() if self.removals is not None else None,
        }

    def summary(self) -> str:
        return (
            f"Imported the dictionary from {self.filename} ({self.format}): {self.added} added, "
            f"{self.changed} changed, {self.removed} removed, {self.unchanged} unchanged."
        )


@dataclass(frozen=True)
class RemovedVariable:
    """A variable of the draft that the file no longer has, with its number of mappings."""

    name: str
    label: str
    mappings: int


@dataclass(frozen=True)
class DroppedMapping:
    """A mapping an import deletes, and why (its variable goes, or its value's code went or
    got a new label)."""

    variable: str
    value: str | None
    term: str
    term_label: str | None
    status: str
    why: str


@dataclass
class Removals:
    """What an import removes from the draft: the counts are exact, the lists hold the first
    :data:`LISTED_PROBLEMS` in dictionary order."""

    variable_count: int = 0
    mapping_count: int = 0
    variables: list[RemovedVariable] = field(default_factory=list)
    mappings: list[DroppedMapping] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.variable_count or self.mapping_count)

    def sentence(self) -> str:
        """ "2 variables and 5 mappings", "1 mapping" …"""
        parts = []
        if self.variable_count:
            parts.append(plural(self.variable_count, "variable"))
        if self.mapping_count:
            parts.append(plural(self.mapping_count, "mapping"))
        return " and ".join(parts) or "nothing"

    def as_json(self) -> dict[str, Any]:
        return {
            "variable_count": self.variable_count,
            "mapping_count": self.mapping_count,
            "variables": [
                {"name": v.name, "label": v.label, "mappings": v.mappings} for v in self.variables
            ],
            "mappings": [
                {
                    "variable": m.variable,
                    "subject_value": m.value,
                    "object_id": m.term,
                    "object_label": m.term_label,
                    "status": m.status,
                    "why": m.why,
                }
                for m in self.mappings
            ],
        }


class RemovalsUnconfirmed(Conflict):
    """409: the file would remove variables or drop mappings, and the caller did not confirm
    it, so nothing was written. ``report`` says what would go (``report.removals``) and what
    else the file would change; ``revision`` is the dataset's ETag the comparison was made
    against: a confirmation that quotes it is refused (412) if the dataset changed since."""

    title, slug = "Confirmation needed", "removals-unconfirmed"

    def __init__(self, report: ImportReport, revision: str):
        self.report = report
        self.revision = revision
        removals = report.removals or Removals()
        super().__init__(
            f"Importing {report.filename} would delete {removals.sentence()} of the draft "
            "(listed in report.removals). Nothing was written: send the file again with "
            "confirm_removals=true (and this If-Match) to go ahead."
        )


@dataclass
class _Incoming:
    """A record ready to write: its column values and the mappings it brings."""

    record: VariableRecord
    values: dict[str, Any]
    # (value code or None for the variable, resolved CURIE, predicate, comment)
    mappings: list[tuple[str | None, str, MappingPredicate, str | None]] = field(
        default_factory=list
    )


# --- entry point ----------------------------------------------------------------------------


@transactional
def import_dictionary(
    actor: Actor,
    identifier: str,
    data: bytes,
    filename: str,
    fmt: str | None = None,
    if_match: str | None = None,
    *,
    confirm_removals: bool = False,
    on_phase: Callable[[str], None] | None = None,
) -> ImportReport:
    """Replace the open draft's dictionary with the file's, keeping what did not change.

    ``fmt``: ``template``, ``redcap``, ``omop`` or None (recognised from the header row).
    ``confirm_removals``: the caller has seen what the file removes and wants it; without it,
    a file that would remove variables or drop mappings changes nothing.

    :raises NotFound, Forbidden, PreconditionFailed, Conflict: as
        :func:`catalogue.datasets.editable_version` (the draft is checked before the file).
    :raises UnsupportedMediaType: for an unknown format or file extension.
    :raises FileRejected: (422) for any problem in the file; nothing is written.
    :raises RemovalsUnconfirmed: (409) the file would remove variables or drop mappings and
        ``confirm_removals`` is false; nothing is written.
    """
    started = time.perf_counter()
    phase = on_phase or (lambda _name: None)
    version = datasets.editable_version(actor, identifier, if_match)
    kind = _kind_of(filename)
    fmt = _check_format(fmt, kind)
    phase("reading")
    text, problem = _text_of(data, kind)
    fmt = fmt or detect_format(data if kind == "xlsx" else text or "", kind)
    report = ImportReport(
        dataset=version.dataset.identifier, version=version.number, format=fmt, filename=filename
    )
    if problem is not None:
        report.problems.append(problem)
        raise rejected(report)
    reading = _read(fmt, data, text, filename, kind)
    report.rows = reading.rows
    report.notes.extend(reading.notes)
    report.problems.extend(reading.problems)
    phase("checking")
    incoming = _prepare(fmt, reading, text, report)
    _check_terms(fmt, incoming, report)
    report.problems.sort(key=lambda p: p.row)
    report.notes.sort(key=lambda p: p.row)
    if report.problems:
        raise rejected(report)
    report.variables = len(incoming)
    phase("writing")
    changed = _write(actor, version, fmt, incoming, report, confirm_removals=confirm_removals)
    if changed:
        datasets.record_change(
            actor,
            version.dataset,
            version,
            "dictionary_imported",
            report.summary(),
            context=report.counts(),
        )
    get_session().commit()
    report.seconds = time.perf_counter() - started
    return report


# --- formats and files ----------------------------------------------------------------------


def submit_import(
    actor: Actor,
    identifier: str,
    data: bytes,
    filename: str,
    fmt: str | None,
    if_match: str | None,
    *,
    confirm_removals: bool = False,
    hold_for_page: bool = False,
) -> Job:
    """Queue the import of a large file as a job for the worker (``JOBS_INLINE_MAX_KB``):
    the checks that need no file answer at once, the rest when the job runs. The job follows
    the same rule as an import in the request: removals need ``confirm_removals``, else the
    job fails with the 409 problem listing them. ``hold_for_page``: the upload page sent it,
    so a refused file is kept for the page's confirmation (:mod:`catalogue.dictionary.
    pending`); an API client sends its file again instead.

    :raises NotFound, Forbidden, Conflict, PreconditionFailed: as :func:`import_dictionary`.
    """
    datasets.editable_version(actor, identifier, if_match)
    params: dict[str, Any] = {
        "dataset": identifier,
        "filename": filename,
        "format": fmt,
        "if_match": if_match,
    }
    if confirm_removals:
        params["confirm_removals"] = True
    if hold_for_page:
        params["hold_for_page"] = True
    return jobs.submit_job(
        actor,
        "dictionary_import",
        f"Import of {filename or 'a dictionary'} into {identifier}",
        params,
        data,
    )


@jobs.handler("dictionary_import")
def _import_job(job: jobs.JobContext) -> dict[str, Any]:
    """A dictionary import run by the job worker, as its owner, all or nothing."""
    params = job.params
    try:
        report = import_dictionary(
            job.actor,
            params["dataset"],
            job.data or b"",
            params["filename"],
            params.get("format"),
            params.get("if_match"),
            confirm_removals=bool(params.get("confirm_removals")),
            on_phase=job.progress.phases(["reading", "checking", "writing"]),
        )
    except RemovalsUnconfirmed as exc:
        if params.get("hold_for_page") and isinstance(job.actor, User):
            from catalogue.dictionary import pending

            pending.hold(
                job.actor,
                params["dataset"],
                exc,
                job.data or b"",
                params.get("format"),
            )
            exc.detail = (
                f"Importing {exc.report.filename} would delete "
                f"{(exc.report.removals or Removals()).sentence()} of the draft, so nothing was "
                "written yet. Open the dataset's dictionary page to see what would go and "
                "confirm it (the file is kept there for "
                f"{plural(pending.keep_minutes(), 'minute')})."
            )
        raise
    return {
        **report.as_json(),
        "summary": report.summary(),
        "dataset_url": f"/datasets/{params['dataset']}",
    }


def _kind_of(filename: str) -> str:
    """``csv`` or ``xlsx`` from the file name. :raises UnsupportedMediaType: otherwise."""
    name = filename.lower()
    if name.endswith(XLSX_EXTENSIONS):
        return "xlsx"
    if name.endswith(CSV_EXTENSIONS) or "." not in name.rsplit("/", 1)[-1]:
        return "csv"
    raise UnsupportedMediaType(
        f"“{filename}” is not a dictionary file we read: send CSV (.csv) or Excel (.xlsx)."
    )


def _check_format(fmt: str | None, kind: str) -> str | None:
    if fmt is None or not fmt.strip():
        return None
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise UnsupportedMediaType(
            f"Unknown dictionary format “{fmt}”: use one of {', '.join(FORMATS)} "
            "(or leave it out to recognise it from the header row)."
        )
    return fmt


def _text_of(data: bytes, kind: str) -> tuple[str | None, Problem | None]:
    """The text of a CSV file (UTF-8, UTF-16 or UTF-32), or the problem that it is not text
    (naming its line)."""
    if kind == "xlsx":
        return None, None
    if data[:4] == b"PK\x03\x04":
        return None, Problem(
            1, None, "this is an Excel workbook, not CSV text: name it .xlsx or save it as CSV"
        )
    try:
        return decode_text(data), None
    except FileProblem as exc:
        return None, Problem(exc.line, exc.column, exc.message)


def _header_cells(data: bytes | str, kind: str) -> list[str]:
    """The header row's cells ([] for a file the readers will explain is broken).

    :raises FileTooLarge: for a workbook that unfolds into more than we read."""
    try:
        if isinstance(data, bytes) and kind == "xlsx":
            for _line, row in workbook_rows(data):
                return ["" if c is None else c for c in row]
            return []
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        for _line, cells in csv_rows(text, delimiter=sniff_delimiter(text)):
            return cells
    except FileProblem:
        pass
    return []


def detect_format(data: bytes | str, kind: str = "csv") -> str:
    """``redcap`` for REDCap's column headings, ``omop`` for ``concept_id`` and
    ``concept_name``, else ``template``."""
    header = {c.strip().lower().replace(" ", "_") for c in _header_cells(data, kind)}
    if "variable_/_field_name" in header:
        return "redcap"
    if {"concept_id", "concept_name"} <= header:
        return "omop"
    return "template"


def _read(fmt: str, data: bytes, text: str | None, filename: str, kind: str) -> DictionaryReading:
    if fmt == "redcap":
        if kind == "xlsx":
            text = _workbook_as_csv(data)
            if text is None:
                reading = DictionaryReading()
                reading.problems.append(Problem(1, None, "not a readable Excel workbook"))
                return reading
        return read_redcap(text or "")
    if fmt == "omop":
        return read_omop(data, filename)
    return read_template(data, filename)


def _workbook_as_csv(data: bytes) -> str | None:
    """A REDCap dictionary saved from Excel, as the CSV REDCap exports (one line per row:
    line breaks inside cells become spaces so that rows keep their numbers).

    :raises FileTooLarge: for a workbook that unfolds into more than we read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # an internal text, not a download
    try:
        for _line, row in workbook_rows(data):
            writer.writerow(["" if c is None else re.sub(r"\s*\n\s*", " ", c).strip() for c in row])
    except FileProblem:
        return None
    return out.getvalue()


# --- turning records into rows --------------------------------------------------------------


def _prepare(
    fmt: str, reading: DictionaryReading, text: str | None, report: ImportReport
) -> list[_Incoming]:
    annotations = _redcap_annotations(text) if fmt == "redcap" and text else {}
    incoming: list[_Incoming] = []
    for record in reading.variables:
        if fmt == "omop":
            _omop_name(record, report)
        item = _Incoming(record, _values(record))
        if fmt == "redcap":
            _redcap_extras(item, annotations.get(record.name, ""), report)
        elif fmt == "template":
            for curies in record.mappings:
                for curie in curies.split("|"):
                    if curie.strip():
                        item.mappings.append((None, curie.strip(), MappingPredicate.EXACT, None))
            for value in record.permissible_values:
                if value.term:
                    item.mappings.append((value.code, value.term, MappingPredicate.EXACT, None))
        if fmt != "template" and record.unit and (message := unit_problem(record.unit)):
            report.problems.append(Problem(record.row, "unit", message))
        _check_lengths(item, report)
        incoming.append(item)
    return incoming


def _values(record: VariableRecord) -> dict[str, Any]:
    """The record as the variables table stores it (value type by value, JSON as text)."""
    return {
        "label": record.label,
        "description": record.description,
        "form": record.form,
        "section": record.section,
        "time_point": record.time_point,
        "value_type": record.value_type.value,
        "unit": record.unit,
        "minimum": record.minimum,
        "maximum": record.maximum,
        "multiple": record.multiple,
        "source_type": record.source_type,
        "permissible_values": _json(
            [{"code": v.code, "label": v.label} for v in record.permissible_values]
        )
        if record.permissible_values
        else EMPTY_JSON,
        "missing_codes": _json(record.missing_codes) if record.missing_codes else EMPTY_JSON,
    }


def _check_lengths(item: _Incoming, report: ImportReport) -> None:
    record, values = item.record, item.values
    if len(record.name) > LIMITS["name"]:
        report.problems.append(
            Problem(record.row, "name", f"the name is longer than {LIMITS['name']} characters")
        )
    for key in ("form", "time_point", "minimum", "maximum"):
        value = values[key]
        if value is not None and len(value) > LIMITS[key]:
            report.problems.append(
                Problem(record.row, key, f"longer than {LIMITS[key]} characters")
            )
    for key, limit in TEXT_LIMITS.items():
        value = values[key]
        if value is not None and len(value) > limit:
            values[key] = value[: limit - 1] + "…"
            report.notes.append(
                Problem(
                    record.row,
                    key,
                    f"shortened to {limit} characters (the {key} of “{record.name}”)",
                )
            )
    for code, _curie, _p, _c in item.mappings:
        if code is not None and len(code) > VALUE_CODE_LIMIT:
            report.problems.append(
                Problem(
                    record.row,
                    "permissible_values",
                    f"the code “{code[:20]}…” is longer than {VALUE_CODE_LIMIT} characters; "
                    "a value with a term needs a shorter code",
                )
            )


def _omop_name(record: VariableRecord, report: ImportReport) -> None:
    """OMOP names come from concept names; one that starts with a digit gets a ``c_`` prefix so
    that the dictionary exported as our template reads back."""
    if not NAME_PATTERN.match(record.name):
        new = "c_" + re.sub(r"[^A-Za-z0-9_.]", "_", record.name)
        report.notes.append(Problem(record.row, "concept_name", f"named the variable “{new}”"))
        record.name = new


def _redcap_annotations(text: str) -> dict[str, str]:
    """Field name → Field Annotation, for the annotations that name terms or units (a second,
    cheap pass over the file, made only when some annotation does)."""
    if not ANNOTATED.search(text):
        return {}
    rows = csv_rows(text)
    try:
        header = [h.strip().lower() for h in next(rows)[1]]
        name_at = header.index("variable / field name")
        annotation_at = header.index("field annotation")
    except (StopIteration, ValueError):  # FileProblem is a ValueError
        return {}
    found: dict[str, str] = {}
    with contextlib.suppress(FileProblem):  # the reader reports broken CSV
        for _line, row in rows:
            if len(row) > annotation_at and ANNOTATED.search(row[annotation_at]):
                found[row[name_at].strip()] = row[annotation_at]
    return found


def _redcap_extras(item: _Incoming, annotation: str, report: ImportReport) -> None:
    """Terms and units of a REDCap field: ``@TERM=CURIE`` (the field), ``@TERM(code)=CURIE``
    (a choice), ``@UNIT=ucum`` in the Field Annotation; else a field note that is a unit (or
    a word for one, such as “years”) on a number field."""
    record, values = item.record, item.values
    if annotation:
        codes = {v.code for v in record.permissible_values}
        for match in ANNOTATION_TERM.finditer(annotation):
            code = match.group(1)
            curie = next(g for g in match.groups()[1:] if g is not None).strip()
            if code is not None and code not in codes:
                report.problems.append(
                    Problem(
                        record.row,
                        "Field Annotation",
                        f"@TERM({code}) names a choice that “{record.name}” does not have",
                    )
                )
                continue
            item.mappings.append(
                (code, curie, MappingPredicate.EXACT, "from the REDCap field annotation")
            )
        unit_match = ANNOTATION_UNIT.search(annotation)
        if unit_match:
            unit = next(g for g in unit_match.groups() if g is not None).strip()
            if message := unit_problem(unit):
                report.problems.append(Problem(record.row, "Field Annotation", message))
            values["unit"] = unit or None
            return
    note = record.description
    if note and record.source_type == "text" and record.value_type in NUMERIC:
        candidate = UNIT_WORDS.get(note.lower(), note)
        if (
            len(candidate) <= 30
            and not UNIT_UNLIKELY.search(candidate)
            and UNIT_LIKELY.search(candidate)
            and unit_problem(candidate) is None
        ):
            values["unit"] = candidate


# --- the terms a file names -----------------------------------------------------------------


def _check_terms(fmt: str, incoming: list[_Incoming], report: ImportReport) -> None:
    """Resolve each CURIE or IRI the file names and make sure the term store has it (an
    unknown or obsolete term is a problem). OMOP concepts are looked up as ``OMOP:<id>``,
    then as their source vocabulary's code, then through the cross-references of stored
    terms; a concept found nowhere leaves its variable unmapped, with a note."""
    if fmt == "omop":
        _resolve_omop(incoming, report)
        return
    variable_column, value_column = TERM_COLUMNS[fmt]
    resolved: dict[str, str | None] = {}
    for item in incoming:
        for _code, raw, _p, _c in item.mappings:
            if raw not in resolved:
                try:
                    resolved[raw] = resolve_curie(raw)
                except NotFound:
                    resolved[raw] = None
    known = _stored_terms({c for c in resolved.values() if c})
    for item in incoming:
        kept = []
        for code, raw, predicate, comment in item.mappings:
            column = variable_column if code is None else value_column
            curie = resolved[raw]
            where = "the variable" if code is None else f"the value {code}"
            if curie is None or curie not in known:
                report.problems.append(
                    Problem(
                        item.record.row,
                        column,
                        f"unknown term “{raw}” for {where}: no loaded vocabulary has it "
                        "(check the spelling, or ask an administrator to load its ontology)",
                    )
                )
                continue
            obsolete, replaced_by = known[curie]
            if obsolete:
                instead = f"; use {replaced_by} instead" if replaced_by else ""
                report.problems.append(
                    Problem(item.record.row, column, f"the term {curie} is obsolete{instead}")
                )
                continue
            kept.append((code, curie, predicate, comment))
        item.mappings = list(dict.fromkeys(kept))


def _stored_terms(curies: Iterable[str]) -> dict[str, tuple[bool, str | None]]:
    session = get_session()
    found: dict[str, tuple[bool, str | None]] = {}
    for chunk in _chunks(sorted(curies)):
        for curie, obsolete, replaced_by in session.execute(
            select(Term.curie, Term.is_obsolete, Term.replaced_by).where(Term.curie.in_(chunk))
        ):
            found[curie] = (bool(obsolete), replaced_by)
    return found


def _resolve_omop(incoming: list[_Incoming], report: ImportReport) -> None:
    candidates: dict[int, list[str]] = {}
    for index, item in enumerate(incoming):
        record = item.record
        concept = record.mappings[0] if record.mappings else None
        if concept is None:
            continue
        options = [concept]
        vocabulary, _, code = (record.description or "").rpartition(" ")
        if vocabulary and code:
            prefix = OMOP_VOCABULARIES.get(vocabulary.lower()) or canonical_prefix(vocabulary)
            options.append(f"{prefix}:{code}")
        candidates[index] = options
    everything = {c for options in candidates.values() for c in options}
    known = {c for c, (obsolete, _r) in _stored_terms(everything).items() if not obsolete}
    session = get_session()
    via_xref: dict[str, str] = {}
    for chunk in _chunks(sorted(everything - known)):
        rows = session.execute(
            select(TermXref.xref, TermXref.term_curie)
            .join(Term, Term.curie == TermXref.term_curie)
            .where(TermXref.xref.in_(chunk), Term.is_obsolete.is_(False))
            .order_by(TermXref.term_curie)
        )
        for xref, curie in rows:
            via_xref.setdefault(xref, curie)
    for index, options in candidates.items():
        item = incoming[index]
        concept = options[0]
        comment = f"from {concept}" + (
            f" ({item.record.description})" if item.record.description else ""
        )
        direct = next((c for c in options if c in known), None)
        if direct is not None:
            item.mappings.append((None, direct, MappingPredicate.EXACT, comment))
            continue
        related = next((via_xref[c] for c in options if c in via_xref), None)
        if related is not None:
            item.mappings.append((None, related, MappingPredicate.CLOSE, comment))
            continue
        report.notes.append(
            Problem(
                item.record.row,
                "concept_id",
                f"{concept} ({item.record.description or 'no vocabulary code'}) is in no loaded "
                f"vocabulary: “{item.record.name}” was imported without a mapping",
            )
        )


# --- writing --------------------------------------------------------------------------------


def _write(
    actor: Actor,
    version: DatasetVersion,
    fmt: str,
    incoming: list[_Incoming],
    report: ImportReport,
    *,
    confirm_removals: bool = False,
) -> bool:
    """Write the difference between the file and the draft; True when anything changed.

    Stored rows are read as the database holds them (JSON as text, the value type as its
    string), so that comparing 100,000 unchanged variables costs a tuple comparison each.
    The whole difference is worked out before the first write, so that a removal the caller
    has not confirmed is refused with nothing written.

    :raises RemovalsUnconfirmed: for removals without ``confirm_removals``."""
    session = get_session()
    v: Any = Variable.__table__
    stored_columns = [
        cast(v.c[f], Text)
        if f in JSON_FIELDS
        else type_coerce(v.c[f], String)
        if f == "value_type"
        else v.c[f]
        for f in FIELDS
    ]
    existing: dict[str, Any] = {
        row[1]: row
        for row in session.execute(
            select(v.c.id, v.c.name, v.c.position, *stored_columns).where(
                v.c.version_id == version.id
            )
        )
    }
    kept = [i for i, f in enumerate(FIELDS) if f not in CARRIED[fmt] and f != "unit"]
    unit_at = FIELDS.index("unit")
    unit_carried = "unit" in CARRIED[fmt]
    new: list[_Incoming] = []
    updates: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    value_changes: dict[int, set[str]] = {}  # variable id → codes whose mappings stay
    value_reasons: dict[int, dict[str, str]] = {}  # variable id → lost code → why
    ids: dict[str, int] = {}
    unchanged: set[str] = set()
    for position, item in enumerate(incoming):
        name = item.record.name
        old = existing.pop(name, None)
        if old is None:
            new.append(item)
            item.values["position"] = position
            continue
        ids[name] = old[0]
        before = tuple(old[3:])
        after = [item.values[f] for f in FIELDS]
        for i in kept:  # what the format does not describe stays as it is
            after[i] = before[i]
        if after[unit_at] is None and not unit_carried:
            after[unit_at] = before[unit_at]
        if tuple(after) == before or _same(after, before):
            report.unchanged += 1
            unchanged.add(name)
            if old[2] != position:
                moves.append({"b_id": old[0], "position": position})
            continue
        report.changed += 1
        row = dict(zip(FIELDS, after, strict=True))
        for key in JSON_FIELDS:
            row[key] = json.loads(row[key]) if isinstance(row[key], str) else row[key] or []
        row["value_type"] = ValueType(row["value_type"])
        row["multiple"] = bool(row["multiple"])
        updates.append({"b_id": old[0], "position": position, **row})
        old_values = _loaded(before[FIELDS.index("permissible_values")])
        old_pairs = {(p["code"], p["label"]) for p in old_values}
        new_pairs = {(p["code"], p["label"]) for p in row["permissible_values"]}
        if old_pairs - new_pairs:
            value_changes[old[0]] = {code for code, _label in old_pairs & new_pairs}
            value_reasons[old[0]] = _value_reasons(old_pairs - new_pairs, new_pairs)
    gone = sorted(existing.values(), key=lambda row: (row[2], row[1]))  # dictionary order
    removed = [row[0] for row in gone]
    doomed = _doomed_value_mappings(value_changes) if value_changes else []
    report.added = len(new)
    report.removed = len(removed)
    if removed or doomed:
        report.removals = _removals(gone, doomed, value_reasons, {i: n for n, i in ids.items()})
        if not confirm_removals:
            raise RemovalsUnconfirmed(report, datasets.etag(version.dataset))
    if removed:
        report.mappings_removed += _delete_variables(removed)
    if doomed:
        m: Any = Mapping.__table__
        for chunk in _chunks([row[0] for row in doomed]):
            session.execute(delete(m).where(m.c.id.in_(chunk)))
        report.mappings_removed += len(doomed)
    if updates:
        session.execute(
            update(v)
            .where(v.c.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in ("position", *FIELDS)}),
            updates,
        )
    if moves:
        session.execute(
            update(v).where(v.c.id == bindparam("b_id")).values(position=bindparam("position")),
            moves,
        )
    if new:
        _insert_variables(version.id, new)
        if any(item.mappings for item in new):
            wanted = {item.record.name for item in new if item.mappings}
            for variable_id, name in session.execute(
                select(v.c.id, v.c.name).where(v.c.version_id == version.id)
            ):
                if name in wanted:
                    ids[name] = variable_id
    report.mappings_added, gained = _add_mappings(actor, fmt, incoming, ids)
    # a variable that only gained mappings counts as changed
    report.changed += len(gained & unchanged)
    report.unchanged -= len(gained & unchanged)
    if len(new) + len(removed) + len(updates) >= ANALYZE_AFTER:
        _refresh_statistics()
    return bool(
        new or removed or updates or moves or report.mappings_added or report.mappings_removed
    )


def _refresh_statistics() -> None:
    """PostgreSQL plans by its table statistics, which a bulk write makes stale until
    autovacuum comes by: a variables page of a 100,000-variable dataset would be planned as if
    the table were empty (an unmapped-variables page took 20 s instead of 40 ms). ANALYZE in
    the import's transaction counts its own rows and commits (or rolls back) with it."""
    session = get_session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text("ANALYZE variables"))
        session.execute(sql_text("ANALYZE mappings"))


def _loaded(value: Any) -> list[Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return list(value or [])


def _same(after: list[Any], before: tuple[Any, ...]) -> bool:
    """Equal field by field, JSON compared by content (rows the ORM wrote spell it
    differently)."""
    for key, new, old in zip(FIELDS, after, before, strict=True):
        if key in JSON_FIELDS:
            if _loaded(new) != _loaded(old):
                return False
        elif key == "multiple":
            if bool(new) != bool(old):
                return False
        elif new != old:
            return False
    return True


def _insert_variables(version_id: str, new: list[_Incoming]) -> None:
    columns = ("version_id", "name", "position", *FIELDS)
    # plain values: the value type by value, booleans, JSON already text
    rows = (
        (version_id, item.record.name, item.values["position"], *(item.values[f] for f in FIELDS))
        for item in new
    )
    insert_rows(Variable, columns, rows, convert=False)


def _delete_variables(variable_ids: list[int]) -> int:
    """Delete variables and their mappings; the number of mappings deleted."""
    session = get_session()
    m: Any = Mapping.__table__
    v: Any = Variable.__table__
    count = 0
    for chunk in _chunks(variable_ids):
        result: Any = session.execute(delete(m).where(m.c.variable_id.in_(chunk)))
        count += result.rowcount or 0
        session.execute(delete(v).where(v.c.id.in_(chunk)))
    return count


def _value_reasons(lost: set[tuple[str, str]], kept: set[tuple[str, str]]) -> dict[str, str]:
    """Why each lost value's mappings go: its code is gone, or it names something else now."""
    labels = dict(kept)
    reasons = {}
    for code, label in sorted(lost):
        if code in labels:
            reasons[code] = f"the value {code} is now “{labels[code]}” (was “{label}”)"
        else:
            reasons[code] = f"the value {code} (“{label}”) is no longer in the file"
    return reasons


def _doomed_value_mappings(kept: dict[int, set[str]]) -> list[tuple[Any, ...]]:
    """The mappings of permissible values whose code disappeared or got a new label
    (``kept``: variable id → the codes whose mappings stay): (id, variable id, code, term,
    status), in the order they were made."""
    session = get_session()
    m: Any = Mapping.__table__
    doomed: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(kept)):
        for row in session.execute(
            select(m.c.id, m.c.variable_id, m.c.value_code, m.c.object_curie, m.c.status)
            .where(m.c.variable_id.in_(chunk), m.c.value_code.is_not(None))
            .order_by(m.c.variable_id, m.c.id)
        ):
            if row[2] not in kept[row[1]]:
                doomed.append(tuple(row))
    return doomed


def _removals(
    gone: list[Any],
    doomed: list[tuple[Any, ...]],
    value_reasons: dict[int, dict[str, str]],
    names: dict[int, str],
) -> Removals:
    """What goes: the removed variables (``gone``: their stored rows, in dictionary order)
    with their mappings, and the mappings of lost values (``doomed``). Counts are exact; the
    lists stop at :data:`LISTED_PROBLEMS` (a few queries, however many variables go)."""
    session = get_session()
    m: Any = Mapping.__table__
    label_at = 3 + FIELDS.index("label")
    counts: dict[int, int] = {}
    for chunk in _chunks([row[0] for row in gone]):
        for variable_id, count in session.execute(
            select(m.c.variable_id, func.count())
            .where(m.c.variable_id.in_(chunk))
            .group_by(m.c.variable_id)
        ):
            counts[variable_id] = int(count)
    removals = Removals(variable_count=len(gone), mapping_count=sum(counts.values()) + len(doomed))
    removals.variables = [
        RemovedVariable(row[1], row[label_at] or row[1], counts.get(row[0], 0))
        for row in gone[:LISTED_PROBLEMS]
    ]
    listed: list[tuple[str, Any]] = []  # (why, mapping row) in dictionary order
    names_of_gone = {row[0]: row[1] for row in gone}
    mapped = [row[0] for row in gone if counts.get(row[0])]
    for chunk in _chunks(mapped):
        if len(listed) >= LISTED_PROBLEMS:
            break
        rows = session.execute(
            select(m.c.id, m.c.variable_id, m.c.value_code, m.c.object_curie, m.c.status)
            .where(m.c.variable_id.in_(chunk))
            .order_by(m.c.id)
        ).all()
        order = {variable_id: i for i, variable_id in enumerate(chunk)}
        for found in sorted(rows, key=lambda r: (order[r[1]], r[0])):
            listed.append(("its variable is removed", tuple(found)))
    for value_row in doomed:
        why = value_reasons.get(value_row[1], {}).get(value_row[2], "its value changed")
        listed.append((why, value_row))
    listed = listed[:LISTED_PROBLEMS]
    wanted = {row[3] for _why, row in listed}
    labels: dict[str, str] = {}
    for chunk in _chunks(sorted(wanted)):
        query = select(Term.curie, Term.label).where(Term.curie.in_(chunk))
        labels.update((curie, label) for curie, label in session.execute(query))
    removals.mappings = [
        DroppedMapping(
            variable=names_of_gone.get(row[1]) or names.get(row[1], ""),
            value=row[2],
            term=row[3],
            term_label=labels.get(row[3]),
            status=str(getattr(row[4], "value", row[4])),
            why=why,
        )
        for why, row in listed
    ]
    return removals


def _author(actor: Actor) -> tuple[str | None, str]:
    if isinstance(actor, User):
        return actor.id, actor.name
    return None, "system (command line)"


def _add_mappings(
    actor: Actor, fmt: str, incoming: list[_Incoming], ids: dict[str, int]
) -> tuple[int, set[str]]:
    """Add the mappings the file brings: as accepted, unless the same one exists (an
    identical suggested or rejected mapping is accepted instead). Returns how many were added
    or accepted, and the names of the variables that gained any."""
    wanted = [(ids[item.record.name], item) for item in incoming if item.mappings]
    if not wanted:
        return 0, set()
    session = get_session()
    m: Any = Mapping.__table__
    stored: dict[tuple[int, str | None, str], tuple[int, str]] = {}
    for chunk in _chunks([variable_id for variable_id, _ in wanted]):
        for mapping_id, variable_id, code, curie, status in session.execute(
            select(m.c.id, m.c.variable_id, m.c.value_code, m.c.object_curie, m.c.status).where(
                m.c.variable_id.in_(chunk)
            )
        ):
            stored[(variable_id, code, curie)] = (mapping_id, str(getattr(status, "value", status)))
    author_id, author_label = _author(actor)
    justification = JUSTIFICATIONS[fmt]
    today = dt.date.today()
    now = utcnow()
    rows: list[tuple[Any, ...]] = []
    accept: list[dict[str, Any]] = []
    touched: set[str] = set()
    for variable_id, item in wanted:
        for code, curie, predicate, comment in item.mappings:
            found = stored.get((variable_id, code, curie))
            if found is not None:
                if found[1] != MappingStatus.ACCEPTED.value:
                    accept.append({"b_id": found[0]})
                    touched.add(item.record.name)
                continue
            stored[(variable_id, code, curie)] = (0, MappingStatus.ACCEPTED.value)
            touched.add(item.record.name)
            rows.append(
                (
                    variable_id,
                    code,
                    predicate,
                    curie,
                    justification,
                    None,
                    MappingStatus.ACCEPTED,
                    author_id,
                    author_label,
                    today,
                    comment,
                    None,
                    now,
                )
            )
    if accept:
        session.execute(
            update(m)
            .where(m.c.id == bindparam("b_id"))
            .values(
                status=MappingStatus.ACCEPTED,
                justification=justification,
                author_id=author_id,
                author_label=author_label,
                mapping_date=today,
            ),
            accept,
        )
    if rows:
        insert_rows(
            Mapping,
            ("variable_id", *MAPPING_FIELDS),
            rows,
        )
    return len(rows) + len(accept), touched


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
