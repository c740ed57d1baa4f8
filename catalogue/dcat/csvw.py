"""A dataset version's variables as CSV on the Web (W3C CSVW) metadata.

The catalogue holds no patient data, only their layout: one column per variable. So the CSVW
document (``/datasets/{id}/dictionary.csvw.json``) describes a table whose ``url`` is the
*data template* we serve next to it (``/datasets/{id}/data-template.csv``: the header row of
a data file, one column per variable in dictionary order). A custodian's or researcher's CSV of
the data validates against that schema, and CSV2RDF turns its cells into triples whose
predicates are ontology terms.

Each column carries:

- ``@id``: the variable's IRI (``/datasets/{id}/variables/{name}``, which answers with its RDF),
  in the document of the latest published version (the IRI describes the variable as that
  version has it, so an older version's columns do not claim it);
- ``name`` (the variable name, percent-encoded where URI templates need it), ``titles`` (the
  variable name as it heads the data file, and its label), ``dc:description``;
- ``datatype``: integer, decimal, date, datetime, boolean or string; a categorical variable is a
  string whose ``format`` lists its codes;
- ``null``: the empty cell and the variable's missing-value codes;
- ``propertyUrl``: the IRI of the term the variable is mapped to (its accepted
  ``skos:exactMatch``, else ``skos:closeMatch``, mapping), so that variable-level metadata
  travels with the DCAT record; every accepted exact/close/broad mapping is also listed under
  ``skos:exactMatch`` / ``skos:closeMatch`` / ``skos:broadMatch``;
- ``schema:unitText`` (UCUM) and ``schema:valueReference`` (each permissible value with its
  label and, where mapped, its term).

Documents are written as they are read, a batch of variables at a time, so that a 100,000-
variable dictionary streams in constant memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from catalogue.dcat.graph import Iris
from catalogue.dcat.services import PublicRecord
from catalogue.dictionary.export import csv_lines
from catalogue.models import Mapping, MappingPredicate, MappingStatus, ValueType, Variable
from core.db import get_session
from ontologies.models import Term

MEDIA_TYPE = "application/csvm+json"
BATCH = 2000
DATATYPES = {
    ValueType.INTEGER: "integer",
    ValueType.DECIMAL: "decimal",
    ValueType.DATE: "date",
    ValueType.DATETIME: "datetime",
    ValueType.BOOLEAN: "boolean",
    ValueType.TEXT: "string",
    ValueType.CATEGORICAL: "string",
}
#: the mapping predicates that name what a column *is*, best first (for ``propertyUrl``)
PROPERTY_PREDICATES = (MappingPredicate.EXACT, MappingPredicate.CLOSE)
LISTED_PREDICATES = {
    MappingPredicate.EXACT: "skos:exactMatch",
    MappingPredicate.CLOSE: "skos:closeMatch",
    MappingPredicate.BROAD: "skos:broadMatch",
}
_NAME_SAFE = re.compile(r"[A-Za-z0-9_]")


def column_name(variable_name: str) -> str:
    """A CSVW column name for a variable name: URI-template variable characters (letters,
    digits, ``_``) stay, everything else is percent-encoded (UTF-8), and so is a leading ``_``,
    which CSVW reserves."""
    out = []
    for position, char in enumerate(variable_name):
        if _NAME_SAFE.fullmatch(char) and not (position == 0 and char == "_"):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out) or "%20"


def _value(member: Any) -> Any:
    return getattr(member, "value", member)


def _variable_rows(version_id: str) -> Iterator[Sequence[Any]]:
    """Variables of a version in dictionary order, a batch at a time."""
    session = get_session()
    v: Any = Variable.__table__
    last = -1
    while True:
        batch = session.execute(
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
        ).all()
        if not batch:
            return
        yield batch
        last = batch[-1].position


def _accepted_terms(variable_ids: list[int]) -> dict[int, list[tuple[str | None, str, str]]]:
    """variable id → its accepted mappings as (value code, predicate, term IRI), in order."""
    found: dict[int, list[tuple[str | None, str, str]]] = {}
    if not variable_ids:
        return found
    rows = get_session().execute(
        select(Mapping.variable_id, Mapping.value_code, Mapping.predicate, Term.iri)
        .join(Term, Term.curie == Mapping.object_curie)
        .where(Mapping.variable_id.in_(variable_ids), Mapping.status == MappingStatus.ACCEPTED)
        .order_by(Mapping.variable_id, Mapping.id)
    )
    for variable_id, code, predicate, iri in rows:
        found.setdefault(variable_id, []).append((code, _value(predicate), iri))
    return found


def column(
    row: Any, mappings: list[tuple[str | None, str, str]], variable_iri: str | None = None
) -> dict[str, Any]:
    """The CSVW column description of one variable (``variable_iri``: its ``@id``)."""
    value_type = ValueType(_value(row.value_type))
    own = [(p, iri) for code, p, iri in mappings if code is None]
    value_terms: dict[str, str] = {}
    for code, _p, iri in mappings:
        if code is not None:
            value_terms.setdefault(str(code), iri)
    titles = [row.name] + ([row.label] if row.label and row.label != row.name else [])
    description = row.description or row.label or row.name
    result: dict[str, Any] = {"@id": variable_iri} if variable_iri is not None else {}
    result |= {
        "name": column_name(row.name),
        "titles": titles,
        "dc:description": description,
        "datatype": _datatype(value_type, row.permissible_values or []),
        "null": ["", *[str(c) for c in row.missing_codes or []]],
    }
    for predicate in PROPERTY_PREDICATES:
        chosen = next((i for p, i in own if p == predicate.value), None)
        if chosen is not None:
            result["propertyUrl"] = chosen
            break
    for predicate, key in LISTED_PREDICATES.items():
        iris = [i for p, i in own if p == predicate.value]
        if iris:
            result[key] = [{"@id": i} for i in dict.fromkeys(iris)]
    if row.unit:
        result["schema:unitText"] = row.unit
    values = row.permissible_values or []
    if values:
        result["schema:valueReference"] = [_permissible_value(p, value_terms) for p in values]
    return result


def _datatype(value_type: ValueType, values: list[dict[str, Any]]) -> Any:
    """A coded variable (categorical, or a boolean with codes) is a string matching one of its
    codes; the others map onto CSVW's built-in datatypes."""
    if value_type in (ValueType.CATEGORICAL, ValueType.BOOLEAN) and values:
        codes = "|".join(_regex_literal(str(p.get("code", ""))) for p in values)
        return {"base": "string", "format": f"^(?:{codes})$"}
    return DATATYPES[value_type]


_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}/])")


def _regex_literal(text: str) -> str:
    """``text`` as a regular expression matching itself, escaping only the syntax characters
    (CSVW formats are ECMAScript expressions, which refuse escapes of other characters)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def _permissible_value(value: dict[str, Any], terms: dict[str, str]) -> dict[str, Any]:
    code = str(value.get("code", ""))
    described: dict[str, Any] = {
        "@type": "schema:PropertyValue",
        "schema:value": code,
        "schema:name": str(value.get("label", "")),
    }
    if code in terms:
        described["schema:sameAs"] = {"@id": terms[code]}
    return described


def csvw_document(record: PublicRecord, iris: Iris) -> Iterator[str]:
    """The CSVW metadata (JSON-LD) of the version a record describes, in pieces."""
    version = record.version
    head: dict[str, Any] = {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "@id": str(iris.csvw(record.identifier, version.number if record.versioned else None)),
        "url": str(iris.data_template(record.identifier, version.number)),
        "dc:title": f"Variables of “{version.title}”, version {version.number}",
        "dc:description": (
            "The layout of the dataset's data: one column per variable, in dictionary order. "
            "Each column's propertyUrl is the ontology term the variable is mapped to. The data "
            "themselves are held by the custodian and shared only for approved research."
        ),
        "dc:source": {"@id": str(iris.dataset(record.identifier))},
        "dc:isFormatOf": {"@id": str(iris.dictionary_csv(record.identifier, version.number))},
        "dc:publisher": record.publisher.name,
        "dc:modified": {
            "@value": (version.published_at or record.first_published_at).isoformat(),
            "@type": "xsd:dateTime",
        },
        "dcat:keyword": [str(k) for k in version.keywords or []],
        "dialect": {"header": True, "encoding": "utf-8"},
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
    yield opening + ',\n "tableSchema": {\n  "columns": ['
    first = True
    current = record.is_current
    for batch in _variable_rows(version.id):
        mappings = _accepted_terms([row.id for row in batch])
        pieces = []
        for row in batch:
            iri = str(iris.variable(record.identifier, row.name)) if current else None
            text = json.dumps(column(row, mappings.get(row.id, []), iri), ensure_ascii=False)
            pieces.append(("\n   " if first else ",\n   ") + text)
            first = False
        yield "".join(pieces)
    yield "\n  ]\n }\n}\n"


def data_template_lines(record: PublicRecord) -> Iterator[str]:
    """The header row of a data file of this version: the variable names in dictionary
    order."""

    def header() -> Iterator[list[str]]:
        names: list[str] = []
        for batch in _variable_rows(record.version.id):
            names.extend(row.name for row in batch)
        yield names

    return csv_lines(header())
