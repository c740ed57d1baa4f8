"""The DUO codes a dataset's data-use conditions are written in, explained for custodians, and
the one reader of the conditions' JSON shape.

Every permission and modifier the catalogue accepts is a :class:`DuoTerm` here: its CURIE,
its DUO shorthand and label (as in the DUO release the catalogue bundles), an explanation in
plain words of our own, and the parameters it needs (:class:`Param`). The form, the badges,
the API's labels and the DCAT export all read this table.

:func:`parse_conditions` turns the JSON shape::

    {"permission": "DUO:0000007", "diseases": ["NCIT:C3171"],
     "modifiers": [{"term": "DUO:0000024", "date": "2026-06-01"}, {"term": "DUO:0000021"}]}

into the compatibility check's :class:`~governance.matching.check.Conditions`, in canonical
form (diseases and list parameters sorted, modifiers in the table's order), so that the same
conditions always give the same JSON and the same signature. What it refuses it names by
field: ``permission``, ``diseases``, ``diseases[0]``, ``modifiers[2].date`` …
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pycountry
from sqlalchemy import select

from core.db import get_session
from core.errors import InvalidInput
from core.text import plural
from governance.matching.check import Conditions, Modifier
from ontologies.identifiers import OBO, UnknownIdentifier, normalise_curie
from ontologies.models import Term

#: the disease hierarchy DS terms come from (the datasets' own)
DISEASE_ONTOLOGY = "HAEM"
#: region codes GS accepts besides ISO 3166-1 alpha-2 country codes
REGIONS = {
    "EU": "the European Union",
    "EEA": "the European Economic Area",
    "EUROPE": "Europe",
}
MAX_MONTHS = 600  # 50 years
MAX_NAMES = 100  # named users, projects or institutions of one modifier
MAX_NAME_LENGTH = 200
MAX_TOPIC_LENGTH = 300
MAX_DISEASES = 100
#: keys of the GET answer that a client may send back unchanged: they are read-only
READ_ONLY_KEYS = frozenset({"revision", "code", "label", "disease_terms"})
READ_ONLY_MODIFIER_KEYS = frozenset({"code", "label"})


@dataclass(frozen=True)
class Param:
    """A parameter a modifier needs. ``kind``: ``date`` (ISO date), ``months`` (a whole
    number 1…600), ``regions`` (country or region codes), ``names`` (a list of names),
    ``text`` (one short text)."""

    name: str
    kind: str
    label: str
    hint: str

    def describe(self, value: Any) -> str:
        """The value as a badge's tooltip says it: "until 2026-06-01", "24 months" …"""
        if value is None:
            return ""
        if self.kind == "date":
            return f"until {value.isoformat() if hasattr(value, 'isoformat') else value}"
        if self.kind == "months":
            try:
                return plural(int(value), "month")
            except (TypeError, ValueError):  # not a number of months: shown as it is
                return str(value)
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)


@dataclass(frozen=True)
class DuoTerm:
    curie: str
    code: str  # DUO shorthand
    label: str  # DUO label
    explanation: str  # our own plain words
    kind: str  # "permission" or "modifier"
    params: tuple[Param, ...] = ()

    @property
    def iri(self) -> str:
        return OBO + self.curie.replace(":", "_")

    @property
    def title(self) -> str:
        """Shorthand and label together, as a facet or a heading names it."""
        return f"{self.code} – {self.label}"  # noqa: RUF001 - an en dash between code and label

    def summary(self, params: Mapping[str, Any] | None = None) -> str:
        """One line for a tooltip: "MOR until 2026-06-01", "GS EU, NO"."""
        parts = [self.code]
        for param in self.params:
            described = param.describe((params or {}).get(param.name))
            if described:
                parts.append(described)
        return " ".join(parts)


def _term(
    curie: str, code: str, label: str, kind: str, explanation: str, *params: Param
) -> DuoTerm:
    return DuoTerm(curie, code, label, explanation, kind, tuple(params))


PERMISSIONS: dict[str, DuoTerm] = {
    t.curie: t
    for t in (
        _term(
            "DUO:0000004", "NRES", "no restriction", "permission",
            "Anyone may use the data for any purpose; consent sets no limit.",
        ),
        _term(
            "DUO:0000042", "GRU", "general research use", "permission",
            "The data may be used for any kind of research, including methods development, "
            "but not for purposes other than research.",
        ),
        _term(
            "DUO:0000006", "HMB", "health or medical or biomedical research", "permission",
            "The data may be used for research about health, medicine or biology. Studies of "
            "population origins or ancestry on their own are not covered.",
        ),
        _term(
            "DUO:0000007", "DS", "disease specific research", "permission",
            "The data may be used only for research on the diseases named below (or on a more "
            "specific form of one of them).",
        ),
        _term(
            "DUO:0000011", "POA", "population origins or ancestry research only", "permission",
            "The data may be used only to study where populations come from or people's "
            "ancestry.",
        ),
    )
}  # fmt: skip

MODIFIERS: dict[str, DuoTerm] = {
    t.curie: t
    for t in (
        _term(
            "DUO:0000012", "RS", "research specific restrictions", "modifier",
            "Use is limited to research on one topic, which you name.",
            Param("topic", "text", "Research topic", "The topic the research must be about."),
        ),
        _term(
            "DUO:0000015", "NMDS", "no general methods research", "modifier",
            "The data may not be used to develop general methods or software, only for the "
            "permitted research itself.",
        ),
        _term(
            "DUO:0000016", "GSO", "genetic studies only", "modifier",
            "The data may be used for genetic studies only.",
        ),
        _term(
            "DUO:0000018", "NPUNCU", "not for profit, non commercial use only", "modifier",
            "Only not-for-profit organisations may use the data, and not for any commercial "
            "purpose.",
        ),
        _term(
            "DUO:0000045", "NPU", "not for profit organisation use only", "modifier",
            "Only not-for-profit organisations (universities, hospitals, public institutes) "
            "may use the data.",
        ),
        _term(
            "DUO:0000046", "NCU", "non-commercial use only", "modifier",
            "The data may not be used for commercial purposes, whoever uses them.",
        ),
        _term(
            "DUO:0000019", "PUB", "publication required", "modifier",
            "Those who use the data must make their results public.",
        ),
        _term(
            "DUO:0000020", "COL", "collaboration required", "modifier",
            "Those who use the data must work together with the study team that collected "
            "them.",
        ),
        _term(
            "DUO:0000021", "IRB", "ethics approval required", "modifier",
            "Each use needs the approval of an ethics committee (IRB/ERB) first.",
        ),
        _term(
            "DUO:0000022", "GS", "geographical restriction", "modifier",
            "The data may be used only in the countries or regions you list.",
            Param(
                "regions", "regions", "Countries or regions",
                "Two-letter country codes (NL, DE …) or EU, EEA, EUROPE; separated by commas.",
            ),
        ),
        _term(
            "DUO:0000024", "MOR", "publication moratorium", "modifier",
            "Results may not be published before the date you give.",
            Param("date", "date", "Not published before", "The first day results may appear."),
        ),
        _term(
            "DUO:0000025", "TS", "time limit on use", "modifier",
            "Each user may keep and use the data for a limited time only.",
            Param("months", "months", "Months", "The longest use, in months (1 to 600)."),
        ),
        _term(
            "DUO:0000026", "US", "user specific restriction", "modifier",
            "Only the people you name may use the data.",
            Param("users", "names", "Named users", "One name per line."),
        ),
        _term(
            "DUO:0000027", "PS", "project specific restriction", "modifier",
            "The data may be used only in the projects you name.",
            Param("projects", "names", "Named projects", "One project per line."),
        ),
        _term(
            "DUO:0000028", "IS", "institution specific restriction", "modifier",
            "Only the institutions you name may use the data.",
            Param("institutions", "names", "Named institutions", "One institution per line."),
        ),
        _term(
            "DUO:0000029", "RTN", "return to database or resource", "modifier",
            "Those who use the data must give back what they derive from them (results, "
            "cleaned or enriched data) to this resource.",
        ),
        _term(
            "DUO:0000043", "CC", "clinical care use", "modifier",
            "The data may also be used for the clinical care of patients, not only for "
            "research.",
        ),
        _term(
            "DUO:0000044", "NPOA", "population origins or ancestry research prohibited",
            "modifier",
            "The data may not be used to study population origins or ancestry.",
        ),
    )
}  # fmt: skip

TERMS: dict[str, DuoTerm] = {**PERMISSIONS, **MODIFIERS}
BY_CODE: dict[str, DuoTerm] = {t.code: t for t in TERMS.values()}
#: a modifier's place in the table: the order modifiers are stored and shown in
MODIFIER_ORDER = {curie: i for i, curie in enumerate(MODIFIERS)}

#: DUO codes that DUO itself has retired, with what to use instead
OBSOLETE: dict[str, str] = {
    "DUO:0000002": "a retired grouping class, not a code to use",
    "DUO:0000003": "a retired grouping class, not a code to use",
    "DUO:0000005": "GRU-CC was split: use GRU (DUO:0000042) with the modifier CC (DUO:0000043)",
    "DUO:0000014": "RU was retired: use GRU (DUO:0000042) or HMB (DUO:0000006)",
}


def term(curie: str) -> DuoTerm | None:
    return TERMS.get(curie)


# --- reading the JSON shape -----------------------------------------------------------------


class _Errors:
    """The problems of one input, by field, reported together."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            if len(self.by_field) == 1:
                ((name, messages),) = self.by_field.items()
                raise InvalidInput(self.by_field, detail=f"{name}: {' '.join(messages)}")
            raise InvalidInput(self.by_field)


def duo_curie(value: Any) -> str | None:
    """A DUO CURIE from a CURIE, an IRI or a shorthand code (None when it is none of them)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.upper() in BY_CODE:
        return BY_CODE[text.upper()].curie
    try:
        curie = normalise_curie(text)
    except UnknownIdentifier:
        return None
    return curie if curie.startswith("DUO:") else None


def _which(value: Any, table: Mapping[str, DuoTerm], what: str) -> tuple[str | None, str | None]:
    """(CURIE, None) of a term of ``table``, or (None, why not)."""
    curie = duo_curie(value)
    if curie is None:
        return None, f"Give a DUO {what} as a CURIE (e.g. {next(iter(table))}), an IRI or its code."
    if curie in OBSOLETE:
        return None, f"{curie} is obsolete in DUO ({OBSOLETE[curie]})."
    if curie not in table:
        other = "modifier" if what == "permission" else "permission"
        if curie in TERMS and TERMS[curie].kind == other:
            return None, f"{curie} ({TERMS[curie].code}) is a {other}, not a {what}."
        return None, f"{curie} is not a DUO {what} the catalogue knows; use one of: " + ", ".join(
            f"{t.code} ({t.curie})" for t in table.values()
        ) + "."
    return curie, None


def _names(value: Any, name: str, errors: _Errors, what: str) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        errors.add(name, f"Give a non-empty list of {what}.")
        return None
    if len(value) > MAX_NAMES:
        errors.add(name, f"At most {MAX_NAMES} {what}.")
        return None
    names: list[str] = []
    for j, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            errors.add(f"{name}[{j}]", "Give a non-empty text.")
        elif len(item.strip()) > MAX_NAME_LENGTH:
            errors.add(f"{name}[{j}]", f"At most {MAX_NAME_LENGTH} characters.")
        else:
            names.append(" ".join(item.split()))
    return tuple(sorted(set(names))) if len(names) == len(value) else None


def _regions(value: Any, name: str, errors: _Errors) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        errors.add(name, "Give a non-empty list of country codes (NL, DE …) or EU, EEA, EUROPE.")
        return None
    codes: list[str] = []
    for j, item in enumerate(value):
        code = item.strip().upper() if isinstance(item, str) else ""
        if code in REGIONS or (
            re.fullmatch(r"[A-Z]{2}", code) and pycountry.countries.get(alpha_2=code) is not None
        ):
            codes.append(code)
        else:
            errors.add(
                f"{name}[{j}]",
                f"“{item}” is neither an ISO 3166-1 two-letter country code nor EU, EEA or EUROPE.",
            )
    return tuple(sorted(set(codes))) if len(codes) == len(value) else None


def _param(param: Param, value: Any, name: str, errors: _Errors) -> Any:
    """The checked value of one parameter (None after adding an error)."""
    if param.kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        errors.add(name, "Give a date as YYYY-MM-DD.")
        return None
    if param.kind == "months":
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_MONTHS:
            return value
        errors.add(name, f"Give a whole number of months from 1 to {MAX_MONTHS}.")
        return None
    if param.kind == "regions":
        return _regions(value, name, errors)
    if param.kind == "names":
        return _names(value, name, errors, param.label.lower())
    if isinstance(value, str) and value.strip() and len(value.strip()) <= MAX_TOPIC_LENGTH:
        return " ".join(value.split())
    errors.add(name, f"Give a text of 1 to {MAX_TOPIC_LENGTH} characters.")
    return None


def _modifier(item: Any, i: int, errors: _Errors) -> Modifier | None:
    where = f"modifiers[{i}]"
    if not isinstance(item, dict):
        errors.add(where, 'Give an object such as {"term": "DUO:0000021"}.')
        return None
    if "term" not in item:
        errors.add(f"{where}.term", "Name the modifier's DUO term.")
        return None
    curie, problem = _which(item["term"], MODIFIERS, "modifier")
    if curie is None:
        errors.add(f"{where}.term", problem or "Unknown.")
        return None
    duo = MODIFIERS[curie]
    allowed = {"term", *READ_ONLY_MODIFIER_KEYS, *(p.name for p in duo.params)}
    for key in item:
        if key not in allowed:
            takes = ", ".join(p.name for p in duo.params) or "no parameter"
            errors.add(f"{where}.{key}", f"Unknown field: {duo.code} takes {takes}.")
    params: dict[str, Any] = {}
    for param in duo.params:
        name = f"{where}.{param.name}"
        if item.get(param.name) is None:
            errors.add(name, f"{duo.code} needs {param.label.lower()} ({param.hint})")
            continue
        value = _param(param, item[param.name], name, errors)
        if value is not None:
            params[param.name] = value
    return Modifier(term=curie, params=params)


def check_diseases(curies: Sequence[str], errors: _Errors) -> None:
    """Each CURIE a current term of the disease hierarchy (one query)."""
    if not curies:
        return
    rows = get_session().execute(
        select(Term.curie, Term.is_obsolete).where(
            Term.curie.in_(sorted(set(curies))), Term.ontology_prefix == DISEASE_ONTOLOGY
        )
    )
    found = {curie: bool(obsolete) for curie, obsolete in rows}
    for j, curie in enumerate(curies):
        if curie not in found:
            errors.add(
                f"diseases[{j}]", f"{curie} is not in the haematological-malignancy hierarchy."
            )
        elif found[curie]:
            errors.add(f"diseases[{j}]", f"{curie} is obsolete in the disease hierarchy.")


def parse_conditions(data: Any) -> Conditions:
    """The conditions of the JSON shape, checked and in canonical form (no revision).

    :raises InvalidInput: (422) naming every field that is wrong: exactly one permission of
        NRES, GRU, HMB, DS, POA (obsolete DUO codes refused); DS with one or more current
        terms of the disease hierarchy and the others with none; known modifiers, each once,
        with the parameters they need and no others; no unknown keys.
    """
    errors = _Errors()
    if not isinstance(data, dict):
        raise InvalidInput.field(
            "_body", "Send a JSON object with permission, diseases, modifiers."
        )
    for key in data:
        if key not in {"permission", "diseases", "modifiers", *READ_ONLY_KEYS}:
            errors.add(key, "Unknown field.")
    permission: str | None = None
    if data.get("permission") is None:
        errors.add("permission", "Choose one permission: " + ", ".join(
            f"{t.code} ({t.curie})" for t in PERMISSIONS.values()) + ".")  # fmt: skip
    elif isinstance(data["permission"], list):
        errors.add("permission", "Give exactly one permission.")
    else:
        permission, problem = _which(data["permission"], PERMISSIONS, "permission")
        if problem:
            errors.add("permission", problem)

    diseases: list[str] = []
    raw_diseases = data.get("diseases")
    if raw_diseases is None:
        raw_diseases = []
    if not isinstance(raw_diseases, list):
        errors.add("diseases", "Give a list of disease CURIEs.")
        raw_diseases = []
    elif len(raw_diseases) > MAX_DISEASES:
        errors.add("diseases", f"At most {MAX_DISEASES} diseases.")
        raw_diseases = []
    typed_ok = True
    for j, value in enumerate(raw_diseases):
        try:
            if not isinstance(value, str):
                raise UnknownIdentifier("not a text")
            diseases.append(normalise_curie(value))
        except UnknownIdentifier:
            errors.add(f"diseases[{j}]", "Give a disease as a CURIE (NCIT:C3171) or its IRI.")
            typed_ok = False
    if permission == "DUO:0000007":
        if not raw_diseases and "diseases" not in errors.by_field:
            errors.add("diseases", "Disease-specific research (DS) needs at least one disease.")
        elif typed_ok:
            check_diseases(diseases, errors)
    elif permission is not None and raw_diseases:
        errors.add(
            "diseases",
            f"Only DS names diseases; {PERMISSIONS[permission].code} takes none.",
        )

    modifiers: list[Modifier] = []
    raw_modifiers = data.get("modifiers")
    if raw_modifiers is None:
        raw_modifiers = []
    if not isinstance(raw_modifiers, list):
        errors.add("modifiers", 'Give a list of modifiers such as [{"term": "DUO:0000021"}].')
        raw_modifiers = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw_modifiers):
        modifier = _modifier(item, i, errors)
        if modifier is None:
            continue
        if modifier.term in seen:
            errors.add(
                f"modifiers[{i}].term",
                f"{MODIFIERS[modifier.term].code} is given twice "
                f"(also modifiers[{seen[modifier.term]}]).",
            )
            continue
        seen[modifier.term] = i
        modifiers.append(modifier)
    errors.raise_any()
    return Conditions(
        permission=permission or "",  # there is one: an error was raised otherwise
        diseases=tuple(sorted(set(diseases))),
        modifiers=tuple(sorted(modifiers, key=lambda m: MODIFIER_ORDER[m.term])),
    )


# --- writing the JSON shape -----------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def modifier_json(modifier: Modifier) -> dict[str, Any]:
    """``{"term": CURIE, param: value …}`` (dates as ISO text, lists as lists)."""
    return {"term": modifier.term, **{k: _json_value(v) for k, v in modifier.params.items()}}


def conditions_json(conditions: Conditions) -> dict[str, Any]:
    """The stored JSON shape (without the revision and without labels)."""
    return {
        "permission": conditions.permission,
        "diseases": list(conditions.diseases),
        "modifiers": [modifier_json(m) for m in conditions.modifiers],
    }


def from_stored(
    permission: str,
    diseases: Iterable[str],
    modifiers: Iterable[Mapping[str, Any]],
    revision: int | None = None,
) -> Conditions:
    """Conditions from what the table holds (written by :func:`conditions_json`, so trusted:
    only the dates are turned back into dates and lists into tuples)."""
    built = []
    for item in modifiers:
        duo = MODIFIERS.get(item["term"])
        kinds = {p.name: p.kind for p in duo.params} if duo else {}
        params: dict[str, Any] = {}
        for key, value in item.items():
            if key == "term":
                continue
            if kinds.get(key) == "date" and isinstance(value, str):
                params[key] = dt.date.fromisoformat(value)
            elif isinstance(value, list):
                params[key] = tuple(value)
            else:
                params[key] = value
        built.append(Modifier(term=item["term"], params=params))
    return Conditions(
        permission=permission, diseases=tuple(diseases), modifiers=tuple(built), revision=revision
    )


def labelled(shape: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON shape with each term's shorthand ``code`` and ``label`` added (the permission's
    at the top level, each modifier's in it): what the API and the badges show."""
    out = dict(shape)
    permission = TERMS.get(shape.get("permission") or "")
    out["code"] = permission.code if permission else None
    out["label"] = permission.label if permission else None
    out["modifiers"] = []
    for item in shape.get("modifiers") or []:
        duo = TERMS.get(item.get("term", ""))
        out["modifiers"].append(
            {**item, "code": duo.code if duo else None, "label": duo.label if duo else None}
        )
    return out
