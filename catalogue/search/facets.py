"""Facets: what search results can be narrowed by, with counts.

A facet reads its query parameters (repeat one for OR: ``country=DE&country=NL``), checks them
(an unknown value is a 422 naming the parameter), turns them into a SQL condition on a search
document, and counts the candidates per value. Facets combine with AND; the counts of a facet
are taken with every *other* facet's selection applied, so that its values stay alternatives
one can add (OR) — the usual faceted-search behaviour.

Other packages add facets with :func:`register_facet` (governance will add data-use
permissions): a facet may store what it needs in its own tables, keyed by the document's
``version_id`` or ``id``, which the candidates carry.

Search builds its statement once per *shape* and runs it with each search's values as bound
parameters (see :mod:`catalogue.search.services`). A facet that writes its selection into its
condition (``column.in_(selection)``) works as it is: by default its shape is the selection
itself, so that a statement is shared only by searches selecting the same values. The built-in
facets name their parameters instead (:meth:`Facet.param`, values from
:meth:`Facet.parameters`), so that their shape is only how many values are selected.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pycountry
from sqlalchemy import Integer, String, and_, bindparam, case, func, literal_column, or_, select

from catalogue.models import (
    DATA_MODEL_LABELS,
    SOURCE_TYPE_LABELS,
    AgeGroup,
    DataModel,
    SourceType,
)
from catalogue.search.engine import base as engine
from catalogue.search.models import SearchDocumentDisease, SearchDocumentTerm
from core.db import get_session
from core.errors import InvalidInput
from core.models import Organisation
from core.services import organisation_names
from ontologies import hierarchy_cache
from ontologies.identifiers import UnknownIdentifier, normalise_curie

AGE_GROUP_LABELS = {
    AgeGroup.PAEDIATRIC: "Paediatric",
    AgeGroup.ADULT: "Adult",
    AgeGroup.ELDERLY: "Elderly",
}
DISEASE_ONTOLOGY = "HAEM"
#: between an organisation's id and its name in the custodian facet's rows (ASCII unit
#: separator: in neither)
NAME_SEPARATOR = "\x1f"
#: the vocabulary whose top terms the "has variables for" facet offers to begin with
VARIABLE_ONTOLOGY = "HV"


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    parents: list[str] = field(default_factory=list)  # hierarchical facets: parents listed too
    selected: bool = False


class Facet:
    """One facet. ``name`` is its key in the response; ``params`` the query parameters it
    reads (its name, unless it says otherwise)."""

    name: str = ""
    label: str = ""
    hierarchical = False
    #: whether the facet's parameter (its name) may repeat, for OR (the OpenAPI document)
    repeatable = True
    #: the query parameters' descriptions for the OpenAPI document, by parameter
    descriptions: dict[str, str] = {}
    #: the search page's box for this facet, when not the generic one: a template included
    #: with ``facet``, ``values`` and ``box`` (what :meth:`page_context` returns)
    template: str | None = None
    #: where the box goes among the facets on the page (smaller first; stable otherwise)
    page_order = 100

    @property
    def params(self) -> tuple[str, ...]:
        return (self.name,)

    def bind(self, actor: Any, selection: Any) -> Any:
        """The selection made ready for ``actor`` before the statements are built (a facet
        whose meaning depends on the caller loads what it needs here: the caller's saved
        purpose, say). By default the selection as parsed.

        :raises InvalidInput: naming the parameter, for a value that means nothing for this
            caller.
        """
        return selection

    def parse(self, args: dict[str, list[str]]) -> Any:
        """The selection from the query parameters (None: nothing selected).

        :raises InvalidInput: naming the parameter, for a value the facet does not know.
        """
        values = [v.strip() for v in args.get(self.name, []) if v.strip()]
        return self.check(list(dict.fromkeys(values))) if values else None

    def check(self, values: list[str]) -> Any:
        return values

    def shape(self, selection: Any) -> Hashable:
        """What of the selection (None: nothing selected) changes the statements of
        :meth:`condition` and :meth:`counts`; the rest must come from :meth:`parameters`. By
        default the selection itself."""
        return _hashable(selection)

    def page_context(self, actor: Any, selection: Any) -> dict[str, Any]:
        """What the facet's own :attr:`template` needs on the search page (as ``box``)."""
        return {}

    def parameters(self, selection: Any) -> dict[str, Any]:
        """The values of the parameters :meth:`condition` and :meth:`counts` bind by name
        (:meth:`param`) for this selection (None: nothing selected)."""
        return {}

    def param_name(self, key: str) -> str:
        """The name of this facet's parameter ``key`` (in :meth:`parameters`)."""
        return f"facet_{self.name}_{key}"

    def param(self, key: str, **kwargs: Any) -> Any:
        """A bound parameter of this facet, named after it (its value from
        :meth:`parameters`)."""
        return bindparam(self.param_name(key), **kwargs)

    def condition(self, document: Any, selection: Any) -> Any:
        """A SQL condition on ``document`` (search_documents, aliased) for the selection, or
        None when this selection filters nothing (it only annotates or counts)."""
        raise NotImplementedError

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        """``SELECT value, count`` over ``candidates`` (the CTE) filtered by ``where`` (or a
        list of such selects, whose rows :meth:`values` gets together; an empty list counts
        nothing)."""
        raise NotImplementedError

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        """The facet's values from the rows of :meth:`counts`, labelled, in display order."""
        raise NotImplementedError

    # --- the same in a search engine (catalogue.search.engine.base) -------------------------
    # A facet without these makes every search the SQL statement's (the engine is bypassed
    # while it is selected, or always when its counts have no engine form).

    def engine_clause(self, selection: Any) -> Any:
        """The engine clause (:data:`catalogue.search.engine.base.Clause`) for the selection,
        or None when it filters nothing (as :meth:`condition`).

        :raises catalogue.search.engine.base.Unsupported: no engine form.
        """
        from catalogue.search.engine.base import Unsupported

        raise Unsupported(f"facet {self.name} has no engine clause")

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        """What the engine counts for this facet (``TermsCount`` …; empty: nothing), whose
        rows :meth:`engine_rows` turns into the rows :meth:`values` reads.

        :raises catalogue.search.engine.base.Unsupported: no engine form.
        """
        from catalogue.search.engine.base import Unsupported

        raise Unsupported(f"facet {self.name} has no engine counts")

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        """The engine's rows as :meth:`counts` would give them (by default the same)."""
        return rows

    def invalid(self, message: str, param: str | None = None) -> InvalidInput:
        return InvalidInput.field(param or self.name, message)


class ListFacet(Facet):
    """A facet whose selection is a list of values, bound as one list (``selected()``): its
    statement is the same whatever and however many values are selected."""

    def shape(self, selection: Any) -> Hashable:
        return selection is not None

    def parameters(self, selection: Any) -> dict[str, Any]:
        return {self.param_name("values"): list(selection)} if selection else {}

    def selected(self) -> Any:
        """The selected values, as one parameter expanding to the list."""
        return self.param("values", expanding=True, type_=String)


class ColumnFacet(ListFacet):
    """A single-valued column of the document; values from a fixed list."""

    column: str = ""
    choices: dict[str, str] = {}

    def check(self, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in self.choices]
        if unknown:
            raise self.invalid(
                f"Unknown {self.label.lower()} {', '.join(unknown)}; use one of: "
                + ", ".join(self.choices)
                + "."
            )
        return values

    def condition(self, document: Any, selection: list[str]) -> Any:
        return document.c[self.column].in_(self.selected())

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        value = candidates.c[self.column]
        return select(value, func.count()).where(where, value.is_not(None)).group_by(value)

    # the engine's field of the same name (catalogue.search.engine.base.FIELDS)
    def engine_clause(self, selection: list[str]) -> Any:
        return engine.Terms(self.column, tuple(selection))

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        return (engine.TermsCount(self.column),)

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = dict(rows)
        chosen = set(selection or [])
        return [
            FacetValue(value, label, counted.get(value, 0), selected=value in chosen)
            for value, label in self.choices.items()
            if counted.get(value) or value in chosen
        ]


class SetFacet(Facet):
    """A multi-valued column stored as a space-delimited set (`` DE NL ``)."""

    column: str = ""
    #: in a search engine: the field of each value, and the field counted (either that, or
    #: the set as stored, whichever has fewer values to count)
    engine_field: str = ""
    engine_count_field: str = ""

    def shape(self, selection: Any) -> Hashable:
        return len(selection) if selection else 0

    def parameters(self, selection: Any) -> dict[str, Any]:
        # the values were checked: plain codes without LIKE wildcards
        return {self.param_name(str(i)): f"% {v} %" for i, v in enumerate(selection or [])}

    def condition(self, document: Any, selection: list[str]) -> Any:
        column = document.c[self.column]
        return or_(*(column.like(self.param(str(i), type_=String)) for i in range(len(selection))))

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        value = candidates.c[self.column]
        return select(value, func.count()).where(where).group_by(value)

    def engine_clause(self, selection: list[str]) -> Any:
        return engine.Terms(self.engine_field, tuple(selection))

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        # per set as stored, or per value (a row per value is a set of one: values() adds
        # them up alike)
        return (engine.TermsCount(self.engine_count_field),)

    def totals(self, rows: Iterable[tuple[str, int]]) -> dict[str, int]:
        """Counts per value from counts per set (a candidate counts once under each value)."""
        found: dict[str, int] = {}
        for members, count in rows:
            for value in (members or "").split():
                found[value] = found.get(value, 0) + count
        return found

    def label_of(self, value: str) -> str:
        return value

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = self.totals(rows)
        chosen = set(selection or [])
        for value in chosen:
            counted.setdefault(value, 0)
        items = [
            FacetValue(v, self.label_of(v), n, selected=v in chosen) for v, n in counted.items()
        ]
        return sorted(items, key=lambda i: (-i.count, i.label))


class SourceTypeFacet(ColumnFacet):
    name, label, column = "source_type", "Source type", "source_type"
    choices = {t.value: SOURCE_TYPE_LABELS[t] for t in SourceType}


class DataModelFacet(ColumnFacet):
    name, label, column = "data_model", "Data model", "data_model"
    choices = {m.value: DATA_MODEL_LABELS[m] for m in DataModel}


class AgeGroupFacet(SetFacet):
    name, label, column = "age_group", "Age group", "age_groups"
    engine_field, engine_count_field = "age_group", "age_groups_set"  # a few sets

    def check(self, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in AGE_GROUP_LABELS]
        if unknown:
            raise self.invalid(
                f"Unknown age group {', '.join(unknown)}; use one of: "
                + ", ".join(AGE_GROUP_LABELS)
                + "."
            )
        return values

    def label_of(self, value: str) -> str:
        return AGE_GROUP_LABELS.get(value, value)  # type: ignore[call-overload]

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        order = list(AGE_GROUP_LABELS)
        return sorted(
            super().values(rows, selection),
            key=lambda i: order.index(i.value) if i.value in order else 99,  # type: ignore[arg-type]
        )


class CountryFacet(SetFacet):
    name, label, column = "country", "Country", "countries"
    engine_field, engine_count_field = "country", "country"  # ~30 values, ~2,000 sets

    def check(self, values: list[str]) -> list[str]:
        codes = []
        for value in values:
            code = value.upper()
            if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
                raise self.invalid(
                    f"“{value}” is not an ISO 3166-1 alpha-2 country code (DE, FR, NL …)."
                )
            codes.append(code)
        return codes

    def label_of(self, value: str) -> str:
        country = pycountry.countries.get(alpha_2=value)
        return country.name if country is not None else value


class CustodianFacet(ListFacet):
    name, label = "custodian", "Custodian organisation"

    def check(self, values: list[str]) -> list[str]:
        known = set(
            get_session().scalars(select(Organisation.id).where(Organisation.id.in_(values)))
        )
        unknown = [v for v in values if v not in known]
        if unknown:
            raise self.invalid(f"No organisation {', '.join(unknown)}.")
        return values

    def condition(self, document: Any, selection: list[str]) -> Any:
        return document.c.organisation_id.in_(self.selected())

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        # the organisation's name comes along (``id<US>name``): no second statement for labels
        value = candidates.c.organisation_id
        return (
            select(value + NAME_SEPARATOR + Organisation.name, func.count())
            .join_from(candidates, Organisation, Organisation.id == value)
            .where(where)
            .group_by(value, Organisation.name)
        )

    def engine_clause(self, selection: list[str]) -> Any:
        return engine.Terms("organisation_id", tuple(selection))

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        return (engine.TermsCount("organisation_id"),)

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        """``id<US>name`` rows, as :meth:`counts` gives them: the names from the worker's copy
        (:func:`core.services.organisation_names`; an organisation that is gone is left out, as
        the statement's join leaves it)."""
        if not rows:
            return []
        names = organisation_names(value for value, _n in rows)
        return [
            (value + NAME_SEPARATOR + names[value], count)
            for value, count in rows
            if value in names
        ]

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted: dict[str, int] = {}
        names: dict[str, str] = {}
        for value, count in rows:
            identifier, _sep, name = value.partition(NAME_SEPARATOR)
            counted[identifier], names[identifier] = count, name
        chosen = set(selection or [])
        unnamed = sorted(chosen - names.keys())  # selected, but no candidate left
        if unnamed:
            for identifier, name in get_session().execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(unnamed))
            ):
                names[identifier] = name
        for value in chosen:
            counted.setdefault(value, 0)
        items = [
            FacetValue(v, names.get(v, v), n, selected=v in chosen) for v, n in counted.items()
        ]
        return sorted(items, key=lambda i: (-i.count, i.label))


def parse_curies(facet: Facet, values: list[str], ontology: str | None) -> list[str]:
    """CURIEs (or IRIs) of loaded terms, normalised; of ``ontology`` when given.

    :raises InvalidInput: naming the facet's parameter.
    """
    curies = []
    for value in values:
        try:
            curies.append(normalise_curie(value))
        except UnknownIdentifier as exc:
            raise facet.invalid(str(exc)) from exc
    curies = list(dict.fromkeys(curies))
    rows = {c: prefix for c, (_label, prefix) in hierarchy_cache.terms(curies).items()}
    unknown = [c for c in curies if c not in rows]
    if unknown:
        raise facet.invalid(f"No loaded term {', '.join(unknown)}.")
    if ontology is not None:
        other = [c for c in curies if rows[c] != ontology]
        if other:
            raise facet.invalid(f"Not in the disease hierarchy ({ontology}): {', '.join(other)}.")
    return curies


def tagged_with(document: Any, curies: Any) -> Any:
    """The document's version is tagged with one of ``curies`` (a list, or a parameter
    expanding to one) or a term below one (the index keeps every tag with its ancestors: one
    indexed range per term)."""
    return document.c.id.in_(
        select(SearchDocumentDisease.document_id).where(
            SearchDocumentDisease.term_curie.in_(curies)
        )
    )


def covering(document: Any, curies: Any) -> Any:
    """The document's version has variables for one of ``curies`` (or a term below one), by
    :mod:`catalogue.coverage`'s rule, which the index applied when it wrote the document's
    terms (every ancestor of every covering mapping): one indexed range per term, where the
    rule run live would read every mapping below a group such as "Blood counts and chemistry"
    (a second on a million variables)."""
    return document.c.id.in_(
        select(SearchDocumentTerm.document_id).where(SearchDocumentTerm.term_curie.in_(curies))
    )


class DiseaseFacet(ListFacet):
    """Hierarchical: a dataset counts under each of its disease terms and every ancestor of
    them (once, however many of its terms lie below); selecting a term selects what lies
    below it."""

    name, label = "disease", "Disease"
    hierarchical = True

    def check(self, values: list[str]) -> list[str]:
        return parse_curies(self, values, DISEASE_ONTOLOGY)

    def condition(self, document: Any, selection: list[str]) -> Any:
        return tagged_with(document, self.selected())

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        value = candidates.c.diseases
        return select(value, func.count()).where(where).group_by(value)

    def engine_clause(self, selection: list[str]) -> Any:
        return engine.Terms("disease", tuple(selection))  # each tag and its ancestors

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        # the documents under each term (tags and ancestors): far fewer values than the sets
        return (engine.TermsCount("disease"),)

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        """Rows that :meth:`values` turns into these counts: it adds a row's count to every
        ancestor of its terms (and the term), so a term's row gets its count less what the
        rows below it already give it (Möbius inversion over the hierarchy, deepest first;
        a count may be negative). Sums of them give each term's count exactly, whatever the
        polyhierarchy."""
        counted = {curie: count for curie, count in rows if count}
        if not counted:
            return []
        ancestors = hierarchy_cache.ancestors(counted)
        given: dict[str, int] = {}  # what the rows of deeper terms give each term already
        out: list[tuple[str, int]] = []
        for curie in sorted(counted, key=lambda c: (-len(ancestors[c]), c)):
            own = counted[curie] - given.get(curie, 0)
            if own:
                out.append((f" {curie} ", own))
                for ancestor in ancestors[curie]:
                    if ancestor != curie:
                        given[ancestor] = given.get(ancestor, 0) + own
        return out

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        reached = _reached([members for members, _n in rows])
        counted: dict[str, int] = {}
        get = counted.get
        for members, count in rows:
            for curie in reached[members]:
                counted[curie] = get(curie, 0) + count
        for curie in selection or []:
            counted.setdefault(curie, 0)
        return _tree(counted, set(selection or []))


class TermFacet(ListFacet):
    """ "Has variables for": the top terms of the HARMONY variables, each selected term and
    the terms right below a selected one, with the number of candidates that have variables
    for them (through the hierarchy)."""

    name, label = "term", "Has variables for"
    hierarchical = True

    def check(self, values: list[str]) -> list[str]:
        return parse_curies(self, values, None)

    def parameters(self, selection: Any) -> dict[str, Any]:
        """The selected terms, and for the counts the terms right below them too."""
        if not selection:
            return {}
        return {**super().parameters(selection), self.param_name("deeper"): self.deeper(selection)}

    def condition(self, document: Any, selection: list[str]) -> Any:
        return covering(document, self.selected())

    def deeper(self, selection: list[str]) -> list[str]:
        """The selected terms and the terms right below them (what :meth:`counts` counts
        besides the groups), from the worker's hierarchy cache."""
        below = hierarchy_cache.children(selection)
        return sorted(set(selection).union(*below.values()))

    def engine_clause(self, selection: list[str]) -> Any:
        return engine.Terms("term", tuple(selection))  # each covered term and its ancestors

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        groups = engine.TermsCount("variable_groups_set")
        if not selection:
            return (groups,)
        return (groups, engine.TermsCount("term", include=tuple(self.deeper(selection))))

    def roots(self) -> list[str]:
        return list(hierarchy_cache.roots(VARIABLE_ONTOLOGY))

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        """The groups from the documents' sets of groups (one pass, grouped by set); the
        selected terms and the terms right below them from the index's term rows."""
        groups = candidates.c.variable_groups
        queries = [select(groups, func.count()).where(where).group_by(groups)]
        if selection:
            deeper = self.param("deeper", expanding=True, type_=String)
            queries.append(
                select(SearchDocumentTerm.term_curie, func.count())
                .where(
                    SearchDocumentTerm.term_curie.in_(deeper),
                    SearchDocumentTerm.document_id.in_(select(candidates.c.id).where(where)),
                )
                .group_by(SearchDocumentTerm.term_curie)
            )
        return queries

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        roots = set(self.roots())
        counted: dict[str, int] = dict.fromkeys(roots, 0)
        for value, count in rows:
            if value.startswith(" "):  # a set of groups
                for group in value.split():
                    if group in roots:
                        counted[group] += count
            else:
                counted[value] = count
        counted = {c: n for c, n in counted.items() if n or c not in roots}
        for curie in selection or []:
            counted.setdefault(curie, 0)
        return _tree(counted, set(selection or []))


#: (the term store's stamp, {a document's set of disease terms: the terms it counts under})
_REACHED: tuple[Hashable, dict[str | None, tuple[str, ...]]] = (None, {})
MAX_REACHED = 50_000  # distinct sets of diseases remembered (a catalogue has fewer)


def _reached(sets: list[str | None]) -> dict[str | None, tuple[str, ...]]:
    """The terms each set of disease terms (`` C1 C2 ``) counts under: each term and every
    ancestor, once. Remembered per worker for the term store's stamp (a search counts
    hundreds of sets, most of them seen before)."""
    global _REACHED
    stamp = hierarchy_cache.stamp()
    known_stamp, known = _REACHED
    if known_stamp != stamp or len(known) > MAX_REACHED:
        known = {}
        _REACHED = (stamp, known)
    missing = [m for m in sets if m not in known]
    if missing:
        ancestors = hierarchy_cache.ancestors({c for m in missing for c in (m or "").split()})
        for members in missing:
            terms: set[str] = set()
            for curie in (members or "").split():
                terms |= ancestors[curie]
            known[members] = tuple(terms)
    return known


def _tree(counted: dict[str, int], chosen: set[str]) -> list[FacetValue]:
    """Values of a hierarchical facet in tree order (depth first, parents before children,
    largest first among siblings), each with its parents among the values."""
    if not counted:
        return []
    curies = sorted(counted)
    labels = hierarchy_cache.labels(curies)
    above = hierarchy_cache.parents(curies)
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for curie in curies:
        parents[curie] = [p for p in above[curie] if p in counted]
        for parent in parents[curie]:
            children.setdefault(parent, []).append(curie)
        if not parents[curie]:
            roots.append(curie)
    # largest first, then by label; the CURIE last makes every key distinct (the stack below
    # reverses the order, ties included)
    rank = {c: (-counted[c], (labels.get(c) or c).lower(), c) for c in curies}
    out: list[FacetValue] = []
    placed: set[str] = set()

    def place(starts: Iterable[str]) -> None:
        """Depth first from ``starts`` (a stack: each term's children pushed in reverse
        order, so that they come out in order, each after the whole tree of the one before)."""
        stack = sorted(starts, key=rank.__getitem__, reverse=True)
        while stack:
            curie = stack.pop()
            if curie in placed:
                continue
            placed.add(curie)
            out.append(
                FacetValue(
                    curie,
                    labels.get(curie, curie),
                    counted[curie],
                    parents=sorted(parents[curie]),
                    selected=curie in chosen,
                )
            )
            below = children.get(curie)
            if below:
                stack.extend(sorted(below, key=rank.__getitem__, reverse=True))

    place(roots)
    place([c for c in curies if c not in placed])  # cycles, if an ontology has any
    return out


# --- patients: ranges -----------------------------------------------------------------------

PATIENT_RANGES: tuple[tuple[int, int | None], ...] = (
    (0, 99),
    (100, 499),
    (500, 999),
    (1000, 4999),
    (5000, None),
)
MAX_PATIENTS = 10_000_000


def range_value(low: int, high: int | None) -> str:
    return f"{low}-{high}" if high is not None else f"{low}-"


def range_label(low: int, high: int | None) -> str:
    return f"{low:,}–{high:,}" if high is not None else f"{low:,} or more"  # noqa: RUF001


class PatientsFacet(Facet):
    """Patients, in ranges (``patients_min``/``patients_max`` select any range)."""

    name, label = "patients", "Patients"

    @property
    def params(self) -> tuple[str, ...]:
        return ("patients_min", "patients_max")

    def parse(self, args: dict[str, list[str]]) -> Any:
        bounds: dict[str, int] = {}
        for param in self.params:
            given = [v.strip() for v in args.get(param, []) if v.strip()]
            if not given:
                continue
            if len(given) > 1:
                raise self.invalid("Give it once.", param)
            if not re.fullmatch(r"\+?[0-9]+", given[0]):  # not int()'s "1_000", "٣" or "-0"
                raise self.invalid("A whole number of patients, 0 or more.", param)
            number = int(given[0])
            if not 0 <= number <= MAX_PATIENTS:
                raise self.invalid(f"Between 0 and {MAX_PATIENTS:,}.", param)
            bounds[param] = number
        if not bounds:
            return None
        low, high = bounds.get("patients_min"), bounds.get("patients_max")
        if low is not None and high is not None and low > high:
            raise self.invalid("patients_min is larger than patients_max.", "patients_max")
        return (low, high)

    def shape(self, selection: Any) -> Hashable:
        return None if selection is None else tuple(bound is not None for bound in selection)

    def parameters(self, selection: Any) -> dict[str, Any]:
        low, high = selection if selection else (None, None)
        values = {}
        if low is not None:
            values[self.param_name("min")] = low
        if high is not None:
            values[self.param_name("max")] = high
        return values

    def condition(self, document: Any, selection: tuple[int | None, int | None]) -> Any:
        low, high = selection
        parts = []
        if low is not None:
            parts.append(document.c.patients >= self.param("min", type_=Integer))
        if high is not None:
            parts.append(document.c.patients <= self.param("max", type_=Integer))
        return and_(*parts)

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        patients = candidates.c.patients
        bucket = case(
            *(
                (
                    and_(patients >= low, patients <= high)
                    if high is not None
                    else patients >= low,
                    # inline constants: PostgreSQL compares the grouped expression by its text
                    literal_column(f"'{range_value(low, high)}'"),
                )
                for low, high in PATIENT_RANGES
            ),
            else_=None,
        )
        return select(bucket, func.count()).where(where, patients.is_not(None)).group_by(bucket)

    def engine_clause(self, selection: tuple[int | None, int | None]) -> Any:
        low, high = selection
        return engine.Range("patients", low, high)

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        buckets = tuple((range_value(low, high), low, high) for low, high in PATIENT_RANGES)
        return (engine.RangeCount("patients", buckets),)

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = dict(rows)
        low, high = selection if selection else (None, None)
        out = []
        for a, b in PATIENT_RANGES:
            value = range_value(a, b)
            out.append(
                FacetValue(
                    value,
                    range_label(a, b),
                    counted.get(value, 0),
                    selected=(low, high) == (a, b),
                )
            )
        return out


def _hashable(selection: Any) -> Hashable:
    """A selection as a hashable value (lists as tuples)."""
    if isinstance(selection, list | tuple):
        return tuple(_hashable(v) for v in selection)
    if isinstance(selection, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in selection.items()))
    if isinstance(selection, set | frozenset):
        return frozenset(_hashable(v) for v in selection)
    try:
        hash(selection)
    except TypeError:
        return repr(selection)
    return selection


# --- the registry ---------------------------------------------------------------------------

_FACETS: list[Facet] = []


def register_facet(facet: Facet) -> None:
    """Add a facet (after the built-in ones); its name and parameters must be new."""
    taken = {f.name for f in _FACETS} | {p for f in _FACETS for p in f.params}
    if facet.name in taken or set(facet.params) & taken:
        raise RuntimeError(f"a search facet named {facet.name} exists already")
    _FACETS.append(facet)


def facets() -> list[Facet]:
    return list(_FACETS)


for _facet in (
    DiseaseFacet(),
    SourceTypeFacet(),
    CountryFacet(),
    CustodianFacet(),
    DataModelFacet(),
    AgeGroupFacet(),
    PatientsFacet(),
    TermFacet(),
):
    register_facet(_facet)
