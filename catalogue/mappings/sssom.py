"""SSSOM: the mappings of a dataset (or of the whole catalogue) as an SSSOM/TSV file, and the
import of such a file into a dataset's open draft.

An export is a metadata block — YAML, each line prefixed with ``#`` — followed by a
tab-separated table with the columns of :data:`COLUMNS`. Subjects are the variables (and
permissible values) of a dataset, named by the IRIs the DCAT-AP records and CSVW dictionaries
use (:class:`catalogue.dcat.graph.Iris`, from the ``BASE_URL`` setting, never from the request's
``Host``), which answer with the variable's RDF or page:
``<base>/datasets/<identifier>/variables/<name>`` and ``…/<name>/values/<code>``. A dataset's
export writes them as CURIEs with the prefix ``harmonyvar`` (that dataset's variables); the
catalogue export with ``harmonyds`` (``<base>/datasets/``), as in
``harmonyds:aml-trial/variables/hb_dx``. The ``curie_map`` declares every prefix the file uses
(SKOS and semapv are SSSOM built-ins). Exports stream: rows are read from the database in
batches and written as they come.

An import reads the same format back (any prefixes, as long as the ``curie_map`` declares
them): every row must name a variable (or value) of the draft and a loaded term; a file with
any problem changes nothing, and every problem is reported with its line, its column and a
message.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import yaml
from sqlalchemy import case, select

from catalogue.datasets import services as datasets
from catalogue.dcat.graph import Iris
from catalogue.dictionary.records import Problem
from catalogue.mappings import workflow as review
from catalogue.mappings.services import (
    author_of,
    parse_confidence,
    parse_justification,
    parse_predicate,
)
from catalogue.models import (
    Dataset,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingStatus,
    Variable,
    VersionStatus,
)
from core.db import get_session, transactional
from core.errors import Conflict, FileRejected, InvalidInput, NotFound
from core.files import FileProblem, check_header, csv_rows, csv_writer, decode_text
from core.models import Organisation
from core.policies import Actor
from ontologies.identifiers import PREFIX_MAP, is_iri
from ontologies.models import Term
from ontologies.services import resolve_curie

COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "author_label",
    "mapping_date",
    "comment",
)
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
# prefixes every SSSOM reader knows without a curie_map entry
BUILT_IN_PREFIXES = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "semapv": "https://w3id.org/semapv/vocab/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sssom": "https://w3id.org/sssom/",
}
VARIABLE_PREFIX = "harmonyvar"
DATASETS_PREFIX = "harmonyds"
DEFAULT_LICENSE = "https://creativecommons.org/publicdomain/zero/1.0/"
MEDIA_TYPE = "text/tab-separated-values"
STATUS_CHOICES = ("accepted", "suggested", "rejected", "all")
BATCH = 2000
LISTED_PROBLEMS = 200
METADATA_MAX_CHARS = 1_000_000  # the YAML block: PyYAML reads it at about a MB a second
_SUBJECT_PATH = re.compile(
    r"(?:^|/datasets/(?P<dataset>[^/]+)/variables/)(?P<name>[^/]+)(?:/values/(?P<code>[^/]+))?$"
)


@dataclass
class SssomExport:
    """A file to send: its name and its text, in chunks (a generator: nothing is read from the
    database before the first chunk is asked for)."""

    filename: str
    chunks: Iterator[str]


# --- export ---------------------------------------------------------------------------------


def _subject_local(name: str, code: str | None) -> str:
    """The part of a subject's IRI after :func:`variables_iri`: what
    :meth:`Iris.variable <catalogue.dcat.graph.Iris.variable>` and ``variable_value`` append
    (a test holds the two together)."""
    local = quote(name, safe="")
    return local if code is None else f"{local}/values/{quote(code, safe='')}"


def variables_iri(base_url: str, identifier: str) -> str:
    return Iris(base_url.rstrip("/")).variables_prefix(identifier)


def _object_prefixes(curies: set[str]) -> dict[str, str]:
    """IRI prefixes of the CURIE prefixes in ``curies`` (from our prefix map, else from a
    stored term's IRI)."""
    found: dict[str, str] = {}
    samples: dict[str, str] = {}
    for curie in curies:
        prefix = curie.split(":", 1)[0]
        if prefix in PREFIX_MAP:
            found[prefix] = PREFIX_MAP[prefix]
        else:
            samples.setdefault(prefix, curie)
    if samples:
        for curie, iri in get_session().execute(
            select(Term.curie, Term.iri).where(Term.curie.in_(list(samples.values())))
        ):
            local = curie.split(":", 1)[1]
            if iri.endswith(local):
                found[curie.split(":", 1)[0]] = iri[: -len(local)]
    return dict(sorted(found.items()))


def _header(metadata: dict[str, Any]) -> str:
    text = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    return "".join(f"# {line}\n" for line in text.splitlines())


def _value_label(values: Any, code: str) -> str | None:
    for value in values or []:
        if str(value.get("code")) == code:
            return str(value.get("label") or "") or None
    return None


def _clean(text: Any) -> str:
    if text is None:
        return ""
    return " ".join(str(text).split()) if isinstance(text, str) else str(text)


def _rows_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv_writer(buffer, delimiter="\t", lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _mapping_columns() -> list[Any]:
    return [
        Variable.name,
        Variable.label,
        # the permissible values are needed only for the labels of values' mappings
        case((Mapping.value_code.is_(None), None), else_=Variable.permissible_values).label(
            "values"
        ),
        Mapping.value_code,
        Mapping.predicate,
        Mapping.object_curie,
        Term.label,
        Mapping.justification,
        Mapping.confidence,
        Mapping.author_label,
        Mapping.mapping_date,
        Mapping.comment,
        Mapping.status,
    ]


def _status_filter(status: str | None) -> list[Any]:
    chosen = (status or "accepted").strip().lower()
    if chosen not in STATUS_CHOICES:
        raise InvalidInput.field("status", "Use accepted, suggested, rejected or all.")
    return [] if chosen == "all" else [Mapping.status == MappingStatus(chosen)]


def _table_row(subject_id: str, row: Any, author: str | None, negatable: bool) -> list[str]:
    (name, label, values, code, predicate, curie, term_label, justification) = row[:8]
    (confidence, _author_label, mapping_date, comment, status) = row[8:]
    subject_label = label or name
    if code is not None:
        subject_label = f"{subject_label} = {_value_label(values, code) or code}"
    cells = [
        subject_id,
        _clean(subject_label),
        predicate.value,
        curie,
        _clean(term_label),
        justification.value,
        "" if confidence is None else f"{confidence:.6g}",
        _clean(author),
        mapping_date.isoformat() if mapping_date else "",
        _clean(comment),
    ]
    if negatable:
        cells.append("Not" if status is MappingStatus.REJECTED else "")
    return cells


def export_dataset(
    actor: Actor,
    identifier: str,
    *,
    base_url: str,
    status: str | None = "accepted",
    number: int | None = None,
    license: str = DEFAULT_LICENSE,
) -> SssomExport:
    """The mappings of the version of a dataset the actor sees (``number``: that version) as
    SSSOM/TSV; ``status``: accepted (default), suggested, rejected or all. Rejected mappings
    are negated (``predicate_modifier`` ``Not``). Authors are named for the dataset's editors;
    everyone else sees the custodian organisation.

    :raises NotFound: when the actor may not see the dataset (checked before streaming).
    :raises InvalidInput: for an unknown ``status``.
    """
    version = datasets.get_version(actor, identifier, number)
    conditions = [Variable.version_id == version.id, *_status_filter(status)]
    negatable = (status or "accepted").lower() in ("rejected", "all")
    dataset = version.dataset
    editor = datasets.can_edit(actor, dataset)
    organisation = dataset.organisation.name
    base = base_url.rstrip("/")
    session = get_session()
    curies = set(
        session.scalars(
            select(Mapping.object_curie)
            .distinct()
            .join(Variable, Variable.id == Mapping.variable_id)
            .where(*conditions)
        )
    )
    curie_map = {
        **_object_prefixes(curies),
        VARIABLE_PREFIX: variables_iri(base, dataset.identifier),
    }
    metadata = {
        "curie_map": curie_map,
        "mapping_set_id": f"{base}/api/v1/datasets/{quote(dataset.identifier, safe='')}"
        f"/mappings.sssom.tsv",
        "mapping_set_version": str(version.number),
        "mapping_set_title": f"Mappings of the variables of “{version.title}”",
        "license": license,
        "publication_date": dt.date.today().isoformat(),
    }
    columns = [*COLUMNS, "predicate_modifier"] if negatable else list(COLUMNS)
    statement = (
        select(*_mapping_columns())
        .join(Variable, Variable.id == Mapping.variable_id)
        .outerjoin(Term, Term.curie == Mapping.object_curie)
        .where(*conditions)
        .order_by(
            Variable.position, Mapping.value_code.is_not(None), Mapping.value_code, Mapping.id
        )
    )

    def generate() -> Iterator[str]:
        yield _header(metadata) + "\t".join(columns) + "\n"
        result = get_session().execute(statement.execution_options(yield_per=BATCH))
        for partition in result.partitions():
            rows = []
            for row in partition:
                subject = f"{VARIABLE_PREFIX}:{_subject_local(row[0], row[3])}"
                author = (row[9] or organisation) if editor else organisation
                rows.append(_table_row(subject, row, author, negatable))
            yield _rows_text(rows)

    filename = f"{dataset.identifier}-v{version.number}.sssom.tsv"
    return SssomExport(filename, generate())


def export_catalogue(actor: Actor, *, base_url: str, license: str = DEFAULT_LICENSE) -> SssomExport:
    """The accepted mappings of every published dataset (its latest published version) as one
    SSSOM/TSV file, authors named by their custodian organisation. Public."""
    base = base_url.rstrip("/")
    conditions = [
        Dataset.status == DatasetStatus.PUBLISHED,
        DatasetVersion.status == VersionStatus.PUBLISHED,
        Mapping.status == MappingStatus.ACCEPTED,
    ]
    session = get_session()

    def joined(statement: Any) -> Any:
        return (
            statement.join(Variable, Variable.id == Mapping.variable_id)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(*conditions)
        )

    curies = set(session.scalars(joined(select(Mapping.object_curie).distinct())))
    curie_map = {**_object_prefixes(curies), DATASETS_PREFIX: f"{base}/datasets/"}
    metadata = {
        "curie_map": curie_map,
        "mapping_set_id": f"{base}/api/v1/mappings.sssom.tsv",
        "mapping_set_title": "Mappings of the variables of the datasets in the HARMONY catalogue",
        "license": license,
        "publication_date": dt.date.today().isoformat(),
    }
    statement = (
        joined(select(*_mapping_columns(), Dataset.identifier, Organisation.name))
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .outerjoin(Term, Term.curie == Mapping.object_curie)
        .order_by(
            Dataset.identifier,
            Variable.position,
            Mapping.value_code.is_not(None),
            Mapping.value_code,
            Mapping.id,
        )
    )

    def generate() -> Iterator[str]:
        yield _header(metadata) + "\t".join(COLUMNS) + "\n"
        result = get_session().execute(statement.execution_options(yield_per=BATCH))
        for partition in result.partitions():
            rows = []
            for row in partition:
                identifier, organisation = row[-2], row[-1]
                local = f"{quote(identifier, safe='')}/variables/{_subject_local(row[0], row[3])}"
                rows.append(_table_row(f"{DATASETS_PREFIX}:{local}", row[:-2], organisation, False))
            yield _rows_text(rows)

    return SssomExport("harmony-catalogue.sssom.tsv", generate())


# --- import ---------------------------------------------------------------------------------


@dataclass
class SssomImportReport:
    """What an import read and changed; ``rows``: mapping rows read."""

    dataset: str
    version: int
    filename: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows negated with predicate_modifier Not, stored as rejected mappings
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "file": self.filename,
            "imported": not self.problems,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "problem_count": len(self.problems),
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message}
                for p in self.problems[:LISTED_PROBLEMS]
            ],
        }


def rejected(report: SssomImportReport) -> FileRejected:
    """The 422 of an SSSOM file with problems: nothing was written; the problems by line and
    column."""
    return FileRejected(report, "The mappings", listed=LISTED_PROBLEMS)


class _Rejected(Exception):
    """One cell's problem (the column and message)."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class _Row:
    line: int
    variable: Variable
    code: str | None
    curie: str
    predicate: Any
    justification: Any
    confidence: float | None
    author_label: str | None
    mapping_date: dt.date
    comment: str | None
    status: MappingStatus


def _read_lines(data: bytes) -> list[str]:
    """The lines of the file (UTF-8, UTF-16 or UTF-32; any line ending).

    :raises FileRejected: for bytes that are not text, naming the line."""
    try:
        text = decode_text(data)
    except FileProblem as exc:
        raise rejected(
            SssomImportReport(
                "",
                0,
                "",
                problems=[
                    Problem(
                        exc.line,
                        None,
                        f"{exc.message[0].upper()}{exc.message[1:]} (in Excel, “CSV UTF-8”, "
                        "then use tabs between the columns).",
                    )
                ],
            )
        ) from None
    lines = io.StringIO(text, newline=None).read().split("\n")
    if lines[-1] == "":  # the end of the last line, not a line
        lines.pop()
    return lines


def _table(lines: list[str], start: int, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    """(line, cells) of the table that starts at ``lines[start]``; [] with the problem for a
    table that cannot be read (a duplicate column, a quote left open, a cell too long).

    :raises FileTooLarge: for more rows than we read."""
    try:
        table = list(csv_rows("\n".join(lines[start:]), delimiter="\t", first_line=start + 1))
        if table:
            check_header(table[0][1], line=table[0][0])
    except FileProblem as exc:
        problems.append(Problem(exc.line, exc.column, exc.message))
        return []
    return table


def _metadata(lines: list[str], problems: list[Problem]) -> tuple[dict[str, str], int]:
    """The curie_map of the ``#`` block and the index of the table's header line."""
    block: list[str] = []
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        block.append(lines[start][1:])
        start += 1
    curie_map: dict[str, str] = {}
    if sum(len(line) for line in block) > METADATA_MAX_CHARS:
        problems.append(
            Problem(
                1,
                None,
                f"The metadata block (# lines) is longer than {METADATA_MAX_CHARS:,} characters: "
                "an SSSOM file's metadata needs a few hundred.",
            )
        )
        return {}, start
    if block:
        try:
            metadata = yaml.safe_load(textwrap.dedent("\n".join(block))) or {}
        except RecursionError:
            problems.append(Problem(1, None, "The metadata block is nested too deeply to read."))
            return {}, start
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problems.append(
                Problem(line, None, f"The metadata block is not valid YAML ({exc}).".strip())
            )
            return {}, start
        if not isinstance(metadata, dict):
            problems.append(Problem(1, None, "The metadata block must be YAML keys and values."))
            return {}, start
        declared = metadata.get("curie_map") or {}
        if not isinstance(declared, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in declared.items()
        ):
            problems.append(
                Problem(1, None, "The curie_map must map each prefix to an IRI (prefix: IRI).")
            )
        else:
            curie_map = dict(declared)
    return curie_map, start


def _expand(value: str, column: str, curie_map: dict[str, str]) -> tuple[str, str | None]:
    """(IRI, local part after a declared prefix) for a CURIE or an IRI."""
    if is_iri(value):
        return value, None
    prefix, colon, local = value.partition(":")
    if not colon or not prefix or not local:
        raise _Rejected(column, f"“{value}” is not a CURIE (prefix:identifier) or an IRI.")
    if prefix in curie_map:
        return curie_map[prefix] + local, local
    if prefix in BUILT_IN_PREFIXES:
        return BUILT_IN_PREFIXES[prefix] + local, local
    raise _Rejected(
        column,
        f"The prefix “{prefix}” of “{value}” is not declared in the curie_map of the "
        "metadata block (# curie_map: …).",
    )


@transactional
def import_sssom(
    actor: Actor, identifier: str, data: bytes, filename: str, if_match: str | None
) -> SssomImportReport:
    """Add the mappings of an SSSOM/TSV file to the open draft: all or nothing.

    Each row names a subject of the draft (a variable, or one of its values, by the IRIs or
    CURIEs the exports use — or any declared prefix whose local part is the variable's name,
    optionally followed by ``/values/<code>``) and a loaded term. Rows are accepted mappings;
    ``predicate_modifier`` ``Not`` stores a rejected one. A subject already mapped to the same
    term is updated; the open suggestions of subjects that get an accepted mapping are
    withdrawn. ``author_label`` and ``mapping_date`` are kept when the file has them (else the
    importer and today).

    :raises FileRejected: (422) listing every problem by line and column; nothing is
        written.
    """
    version = datasets.editable_version(actor, identifier, if_match)
    report = SssomImportReport(version.dataset.identifier, version.number, filename)
    lines = _read_lines(data)
    problems = report.problems
    curie_map, start = _metadata(lines, problems)
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        problems.append(Problem(start, None, "The file has no table (a header row of columns)."))
        raise rejected(report)
    table = _table(lines, start, problems)
    if not table:
        raise rejected(report)
    header_line, header = table[0][0], [h.strip() for h in table[0][1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    for column in missing:
        problems.append(Problem(header_line, column, f"The required column “{column}” is missing."))
    if missing or problems:
        raise rejected(report)
    position = {name: i for i, name in enumerate(header)}
    session = get_session()
    variables = {
        v.name: v
        for v in session.scalars(select(Variable).where(Variable.version_id == version.id))
    }
    author_id, actor_label = author_of(actor)
    rows: list[_Row] = []
    objects: dict[str, list[tuple[int, str]]] = {}  # CURIE → (line, cell) that named it
    seen: dict[tuple[int, str | None, str], int] = {}
    for line, cells in table[1:]:
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1

        def cell(column: str, cells: list[str] = cells) -> str:
            i = position.get(column)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            rows.append(
                _read_row(line, cell, curie_map, variables, report.dataset, actor_label, objects)
            )
        except _Rejected as exc:
            problems.append(Problem(line, exc.column, exc.message))
    terms = _known_terms(list(objects))
    for curie, places in objects.items():
        if curie not in terms:
            for line, value in places:
                problems.append(Problem(line, "object_id", f"No term “{value}” is loaded."))
        elif terms[curie]:
            for line, value in places:
                problems.append(Problem(line, "object_id", f"The term “{value}” is obsolete."))
    for row in rows:
        key = (row.variable.id, row.code, row.curie)
        if key in seen:
            problems.append(
                Problem(row.line, "object_id", f"Repeats the mapping of line {seen[key]}.")
            )
        seen.setdefault(key, row.line)
    if problems:
        problems.sort(key=lambda p: (p.row, p.column or ""))
        raise rejected(report)
    _write(rows, report, author_id)
    if report.added or report.updated or report.rejected:
        datasets.record_change(
            actor,
            version.dataset,
            version,
            "mappings_imported",
            f"Imported mappings from {filename or 'an SSSOM file'}: {report.added} added, "
            f"{report.updated} updated, {report.unchanged} unchanged.",
            context={k: v for k, v in report.as_json().items() if isinstance(v, int)},
        )
    session.commit()
    return report


def _read_row(
    line: int,
    cell: Any,
    curie_map: dict[str, str],
    variables: dict[str, Variable],
    identifier: str,
    actor_label: str,
    objects: dict[str, list[tuple[int, str]]],
) -> _Row:
    subject = cell("subject_id")
    if not subject:
        raise _Rejected("subject_id", "The subject_id is empty.")
    iri, local = _expand(subject, "subject_id", curie_map)
    match = _SUBJECT_PATH.search(iri) or (_SUBJECT_PATH.fullmatch(local) if local else None)
    if match is None:
        raise _Rejected("subject_id", f"“{subject}” names no variable of a dataset.")
    other = unquote(match.group("dataset") or identifier)
    if other != identifier:
        raise _Rejected(
            "subject_id", f"“{subject}” is a variable of dataset “{other}”, not of “{identifier}”."
        )
    name = unquote(match.group("name"))
    variable = variables.get(name)
    if variable is None:
        raise _Rejected("subject_id", f"The draft has no variable “{name}” (from “{subject}”).")
    code = unquote(match.group("code")) if match.group("code") else None
    if code is not None and code not in {
        str(v.get("code")) for v in variable.permissible_values or []
    }:
        raise _Rejected("subject_id", f"Variable “{name}” has no permissible value “{code}”.")
    predicate_text = cell("predicate_id")
    try:
        predicate_iri = _expand(predicate_text, "predicate_id", curie_map)[0]
        predicate = parse_predicate(predicate_iri if predicate_text else "")
    except InvalidInput:
        raise _Rejected(
            "predicate_id",
            f"“{predicate_text}” is not a mapping predicate: use skos:exactMatch, "
            "skos:closeMatch, skos:broadMatch, skos:narrowMatch or skos:relatedMatch.",
        ) from None
    object_text = cell("object_id")
    if not object_text:
        raise _Rejected("object_id", "The object_id is empty.")
    object_iri = _expand(object_text, "object_id", curie_map)[0]
    try:
        curie = resolve_curie(object_iri)
    except NotFound:
        raise _Rejected(
            "object_id", f"No loaded ontology covers “{object_text}” ({object_iri})."
        ) from None
    justification_text = cell("mapping_justification")
    if not justification_text:
        raise _Rejected("mapping_justification", "The mapping_justification is empty.")
    try:
        justification_iri = _expand(justification_text, "mapping_justification", curie_map)[0]
        justification = parse_justification(justification_iri)
    except InvalidInput as exc:
        messages = (exc.errors or {}).get("mapping_justification", [exc.detail])
        raise _Rejected("mapping_justification", " ".join(messages)) from None
    try:
        confidence = parse_confidence(cell("confidence"))
    except InvalidInput:
        raise _Rejected(
            "confidence", f"“{cell('confidence')}” is not a confidence (a number from 0 to 1)."
        ) from None
    date_text = cell("mapping_date")
    try:
        mapping_date = dt.date.fromisoformat(date_text) if date_text else dt.date.today()
    except ValueError:
        raise _Rejected("mapping_date", f"“{date_text}” is not a date (YYYY-MM-DD).") from None
    modifier = cell("predicate_modifier")
    if modifier and modifier != "Not":
        raise _Rejected(
            "predicate_modifier", f"“{modifier}” is not a modifier; use Not or leave it empty."
        )
    objects.setdefault(curie, []).append((line, object_text))
    return _Row(
        line=line,
        variable=variable,
        code=code,
        curie=curie,
        predicate=predicate,
        justification=justification,
        confidence=confidence,
        author_label=cell("author_label") or actor_label,
        mapping_date=mapping_date,
        comment=cell("comment") or None,
        status=MappingStatus.REJECTED if modifier == "Not" else MappingStatus.ACCEPTED,
    )


def _known_terms(curies: list[str]) -> dict[str, bool]:
    """CURIE → is obsolete, for the stored terms among ``curies``."""
    found: dict[str, bool] = {}
    for i in range(0, len(curies), 900):
        for curie, obsolete in get_session().execute(
            select(Term.curie, Term.is_obsolete).where(Term.curie.in_(curies[i : i + 900]))
        ):
            found[curie] = obsolete
    return found


def _write(rows: list[_Row], report: SssomImportReport, author_id: str | None) -> None:
    session = get_session()
    variable_ids = list({row.variable.id for row in rows})
    existing: dict[tuple[int, str | None, str], Mapping] = {}
    for i in range(0, len(variable_ids), 900):
        for stored in session.scalars(
            select(Mapping).where(Mapping.variable_id.in_(variable_ids[i : i + 900]))
        ):
            existing[(stored.variable_id, stored.value_code, stored.object_curie)] = stored
    mapped_subjects: set[tuple[int, str | None]] = set()
    for row in rows:
        key = (row.variable.id, row.code, row.curie)
        values = {
            "predicate": row.predicate,
            "justification": row.justification,
            "confidence": row.confidence,
            "status": row.status,
            "comment": row.comment,
        }
        found = existing.get(key)
        if row.status is MappingStatus.ACCEPTED:
            mapped_subjects.add((row.variable.id, row.code))
        if found is not None and all(getattr(found, k) == v for k, v in values.items()):
            report.unchanged += 1
            continue
        if row.status is MappingStatus.REJECTED:
            report.rejected += 1
        elif found is None or found.status is not MappingStatus.ACCEPTED:
            report.added += 1  # new, or a suggestion the file confirms
        else:
            report.updated += 1
        mapping = found
        if mapping is None:
            mapping = Mapping(
                variable_id=row.variable.id,
                value_code=row.code,
                object_curie=row.curie,
                status=row.status,
            )
            session.add(mapping)
            existing[key] = mapping
        elif mapping.status is not row.status:
            # a stored mapping moves as the review table says (accept or reject)
            action = "accept" if row.status is MappingStatus.ACCEPTED else "reject"
            if not review.move(mapping, action):
                raise Conflict(
                    f"Line {row.line}: a {mapping.status.value} mapping cannot be {action}ed."
                )
        del values["status"]
        for k, v in values.items():
            setattr(mapping, k, v)
        mapping.author_id = author_id
        mapping.author_label = row.author_label
        mapping.mapping_date = row.mapping_date
        mapping.reason = None
    session.flush()
    # the open suggestions of subjects that now have an accepted mapping were alternatives
    for other in list(existing.values()):
        if (
            other.status is MappingStatus.SUGGESTED
            and (other.variable_id, other.value_code) in mapped_subjects
        ):
            session.delete(other)
