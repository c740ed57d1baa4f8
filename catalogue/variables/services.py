"""A variable's page and the harmonisation matrix: what one variable is, and which variables
of which datasets carry the same concept.

Both read "carries a term" by the catalogue's one coverage rule
(:mod:`catalogue.mappings.coverage`): an *accepted* mapping of the variable (or of one of its
permissible values) to the term or to a narrower one, with a predicate that says the variable
holds the term's information (exact, close or broad match). So a variable's "same concept in
other datasets", a cell of the matrix, search's "Has variables for" filter and a term page's
usage list agree.

Who sees what:

- a variable page follows its dataset's page (:func:`catalogue.datasets.services.get_version`):
  a published or retired dataset's variables are public; an open draft's variables are for the
  dataset's editors (custodians of its organisation, administrators), and anybody else gets
  404 — also for a variable that exists only in a draft;
- "the same concept in other datasets" and the matrix read published versions of published
  datasets only (:func:`catalogue.standards.scope.published_versions`), the same for everyone:
  they answer a harmonisation question about what the alliance offers, not about work in
  progress.

Every list here is read in a fixed number of queries, whatever its length (no query per row or
per cell); the matrix is one query for its datasets, one for its terms and one for its cells.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, cast, func, not_, select

from catalogue.datasets import services as datasets
from catalogue.dictionary import services as dictionary
from catalogue.mappings.coverage import COVERING_PREDICATES
from catalogue.models import (
    Dataset,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingJustification,
    MappingPredicate,
    MappingStatus,
    ValueType,
    Variable,
    VersionStatus,
)
from catalogue.standards import ranking
from catalogue.standards import services as standards
from catalogue.standards.scope import published_versions
from catalogue.variables.units import describe_unit
from core.db import get_session
from core.errors import Forbidden, InvalidInput, NotFound
from core.models import Organisation
from core.permissions import Permission
from core.policies import Actor, can
from ontologies.identifiers import UnknownIdentifier, normalise_curie
from ontologies.models import Term, TermClosure

#: how many variables of other datasets a variable's page lists per term (the rest are counted
#: and found through the search's term filter)
SAME_CONCEPT_LISTED = 50
MAX_DATASETS = 50
MAX_TERMS = 500
SUGGESTED_DATASETS = 8
#: what a request without rows or without columns is told (the page asks for them step by step)
NO_TERMS = "Choose a standard set or at least one term."
NO_DATASETS = "Choose at least one published dataset."

PREDICATE_WORDS = {
    MappingPredicate.EXACT: "exact match",
    MappingPredicate.CLOSE: "close match",
    MappingPredicate.BROAD: "broad match",
    MappingPredicate.NARROW: "narrow match",
    MappingPredicate.RELATED: "related match",
}
#: what each predicate says about the variable and the term, for a reader who does not know SKOS
PREDICATE_MEANINGS = {
    MappingPredicate.EXACT: "the variable is the term",
    MappingPredicate.CLOSE: "the variable is nearly the term; fine for most analyses",
    MappingPredicate.BROAD: "the variable is narrower than the term (a special case of it)",
    MappingPredicate.NARROW: "the variable is broader than the term (it holds more besides)",
    MappingPredicate.RELATED: "the variable is related to the term, but not the same thing",
}
JUSTIFICATION_WORDS = {
    MappingJustification.MANUAL: "chosen by a person",
    MappingJustification.LEXICAL: "matched by the words of its name (lexical matching)",
    MappingJustification.LOGICAL: "derived by logical reasoning",
    MappingJustification.COMPOSITE: "found by several methods together",
    MappingJustification.UNSPECIFIED: "method not stated",
    MappingJustification.IMPORTED: "carried over from an earlier reviewed mapping",
}
VALUE_TYPE_WORDS = {
    ValueType.INTEGER: "Whole number",
    ValueType.DECIMAL: "Decimal number",
    ValueType.CATEGORICAL: "Categorical (a list of values)",
    ValueType.BOOLEAN: "Yes / no",
    ValueType.DATE: "Date",
    ValueType.DATETIME: "Date and time",
    ValueType.TEXT: "Text",
}
#: the coverage predicates, best first: a variable reached through several mappings shows the
#: strongest claim
_PREDICATE_RANK = {p: i for i, p in enumerate(COVERING_PREDICATES)}


# --- a variable elsewhere ---------------------------------------------------------------------


@dataclass(slots=True)
class VariableRef:
    """A published variable as lists show it: enough to answer "can I pool this with mine?"
    (its dataset, unit and value set) without opening it. A matrix of 50 datasets and 500
    terms holds tens of thousands of them, so the value set comes as its JSON text, read only
    when shown (:attr:`permissible_values`), with its length counted by the database."""

    identifier: str  # its dataset's
    dataset_title: str
    custodian: str
    organisation_id: str
    version_number: int
    name: str
    label: str
    value_type: ValueType
    unit: str | None
    minimum: str | None
    maximum: str | None
    value_count: int
    values_json: str | None
    predicate: MappingPredicate  # the strongest covering mapping
    via: str | None  # the narrower term it is mapped to, when not the term itself
    through_value: str | None  # the value whose mapping carries the term (variable unmapped)

    @property
    def permissible_values(self) -> list[dict[str, Any]]:
        """``[{code, label}]`` in the dictionary's order."""
        if not self.value_count or not self.values_json:
            return []
        values = json.loads(self.values_json)
        return values if isinstance(values, list) else []

    @property
    def unit_words(self) -> str | None:
        return describe_unit(self.unit)

    @property
    def value_type_words(self) -> str:
        return VALUE_TYPE_WORDS.get(self.value_type, str(self.value_type))

    @property
    def predicate_words(self) -> str:
        return PREDICATE_WORDS[self.predicate]

    def csv_text(self) -> str:
        """``name`` with its unit in brackets (the matrix's CSV cells)."""
        return f"{self.name} [{self.unit}]" if self.unit else self.name


def _predicate_rank(m: Any = Mapping) -> Any:
    """SQL: the rank of a mapping's predicate in :data:`COVERING_PREDICATES` (0 is best);
    ``m``: the mappings (the model, or a subquery's columns)."""
    return case(
        *[(m.predicate == p, rank) for p, rank in _PREDICATE_RANK.items()],
        else_=len(_PREDICATE_RANK),
    )


def _carrying_columns(m: Any = Mapping) -> list[Any]:
    """Aggregates over one variable's covering mappings ``m`` of one term (``TermClosure``'s
    ancestor): whether one names the term itself, whether the variable itself (not only a
    value) is mapped, a narrower term and a value that carry it, the best predicate."""
    return [
        func.max(case((m.object_curie == TermClosure.ancestor_curie, 1), else_=0)).label("direct"),
        func.max(case((m.value_code.is_(None), 1), else_=0)).label("itself"),
        func.min(case((m.object_curie != TermClosure.ancestor_curie, m.object_curie))).label("via"),
        func.min(m.value_code).label("value_code"),
        func.min(_predicate_rank(m)).label("predicate_rank"),
    ]


def _covering() -> list[ColumnElement[bool]]:
    return [
        Mapping.status == MappingStatus.ACCEPTED,
        Mapping.predicate.in_(COVERING_PREDICATES),
    ]


def _ref(row: Any, column: Any = None) -> VariableRef:
    """A row of :func:`_carrying_columns` and the variable's own columns as a
    :class:`VariableRef` (positional: a matrix makes tens of thousands); its dataset from the
    row's :data:`_REF_COLUMNS`, or from the matrix ``column`` it belongs to."""
    dataset = row if column is None else column
    return VariableRef(
        dataset.identifier,
        row.title if column is None else column.title,
        dataset.custodian,
        dataset.organisation_id,
        row.number if column is None else column.version_number,
        row.name,
        row.label,
        row.value_type,
        row.unit,
        row.minimum,
        row.maximum,
        row.value_count or 0,
        row.values_json,
        _BY_RANK[min(row.predicate_rank, len(_BY_RANK) - 1)],
        None if row.direct else row.via,
        None if row.itself else row.value_code,
    )


_BY_RANK = tuple(COVERING_PREDICATES)
_REF_COLUMNS = (
    Dataset.identifier,
    DatasetVersion.title,
    DatasetVersion.number,
    Organisation.name.label("custodian"),
    Dataset.organisation_id,
    Variable.name,
    Variable.label,
    Variable.value_type,
    Variable.unit,
    Variable.minimum,
    Variable.maximum,
    # the value set's text and length, not the parsed list (see VariableRef)
    cast(Variable.permissible_values, Text).label("values_json"),
    func.coalesce(func.json_array_length(Variable.permissible_values), 0).label("value_count"),
    Variable.position,
)


# --- a variable's page ------------------------------------------------------------------------


@dataclass
class Concept:
    """One term this variable is mapped to, and the other published variables that carry it
    (at most :data:`SAME_CONCEPT_LISTED` listed, ``total`` counted)."""

    curie: str
    predicate: MappingPredicate  # this variable's mapping to it
    others: list[VariableRef] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.others)

    @property
    def datasets(self) -> int:
        return len({o.identifier for o in self.others})


@dataclass
class VariablePage:
    dataset: Dataset
    version: DatasetVersion
    latest: DatasetVersion | None  # the latest published version
    entry: dictionary.VariableEntry
    editor: bool
    versions: list[DatasetVersion]  # the versions holding a variable of this name, that one sees
    concepts: list[Concept]
    terms: dict[str, Term]  # every term the page names, by CURIE
    removed_in_draft: bool = False  # an editor sees the published one: the draft dropped it

    @property
    def variable(self) -> Variable:
        return self.entry.variable

    @property
    def is_draft(self) -> bool:
        return self.version.status is VersionStatus.DRAFT

    @property
    def is_current(self) -> bool:
        """The version the dataset's page shows by default (its address has no ``version``)."""
        return self.is_draft or self.version is self.latest

    @property
    def default_version(self) -> DatasetVersion | None:
        """The version this page shows without ``?version``: the last one holding the
        variable that the reader sees (an editor's draft first), unless the dataset's latest
        published version dropped it (then none: every address names its version)."""
        if self.versions and self.versions[-1].status is VersionStatus.DRAFT:
            return self.versions[-1]
        return self.latest if self.latest in self.versions else None

    def link_number(self, version: DatasetVersion) -> int | None:
        """``version``'s number for a link, or None for the default address."""
        return None if version is self.default_version else version.number

    @property
    def unit_words(self) -> str | None:
        return describe_unit(self.variable.unit)

    @property
    def value_type_words(self) -> str:
        return VALUE_TYPE_WORDS.get(self.variable.value_type, str(self.variable.value_type))

    @property
    def accepted(self) -> list[Any]:
        """The accepted mappings of the variable itself (not of its values)."""
        return [
            m
            for m in self.entry.mappings
            if m.status == MappingStatus.ACCEPTED and m.subject_value is None
        ]

    @property
    def pending(self) -> list[Any]:
        """Its other mappings (suggested, rejected), for its editors."""
        return [m for m in self.entry.mappings if m.status != MappingStatus.ACCEPTED]

    def value_mappings(self, code: Any) -> list[Any]:
        """The accepted mappings of one permissible value."""
        return [
            m
            for m in self.entry.mappings
            if m.status == MappingStatus.ACCEPTED and m.subject_value == str(code)
        ]

    @property
    def other_datasets(self) -> list[str]:
        """The datasets (identifiers) of the variables listed under "the same concept", in
        order of first appearance: the matrix link's columns."""
        seen: dict[str, None] = {}
        for concept in self.concepts:
            for other in concept.others:
                seen.setdefault(other.identifier, None)
        return list(seen)


def variable_page(
    actor: Actor, identifier: str, name: str, number: int | None = None
) -> VariablePage:
    """Everything a variable's page shows, in a fixed number of queries.

    Without ``number``, the version the dataset's page shows: the open draft for its editors
    (or, when the draft no longer has the variable, the latest published version, flagged
    ``removed_in_draft``), else the latest published version.

    :raises NotFound: for an unknown dataset, version or variable, and for anything the actor
        may not see (another organisation's draft, a variable only a draft has).
    """
    version = datasets.get_version(actor, identifier, number)
    dataset = version.dataset
    removed_in_draft = False
    try:
        variable = dictionary.find_variable(version, name)
    except NotFound:
        latest = datasets.latest_published(dataset)
        if number is not None or version.status is not VersionStatus.DRAFT or latest is None:
            raise
        variable = dictionary.find_variable(latest, name)  # NotFound again when it never was
        version, removed_in_draft = latest, True
    editor = datasets.can_edit(actor, dataset)
    entry = dictionary.variable_entries(actor, version, [variable])[0]
    own_terms = [
        m for m in entry.mappings if m.status == MappingStatus.ACCEPTED and m.subject_value is None
    ]
    concepts = [Concept(m.object_id, m.mapping.predicate) for m in own_terms]
    concepts = list({c.curie: c for c in concepts}.values())
    _fill_same_concept(concepts, exclude=(dataset.id, variable.name))
    curies = {m.object_id for m in entry.mappings}
    curies.update(o.via for c in concepts for o in c.others if o.via)
    return VariablePage(
        dataset=dataset,
        version=version,
        latest=datasets.latest_published(dataset),
        entry=entry,
        editor=editor,
        versions=_versions_holding(actor, dataset, variable.name),
        concepts=concepts,
        terms=standards.terms_by_curie(curies),
        removed_in_draft=removed_in_draft,
    )


def _versions_holding(actor: Actor, dataset: Dataset, name: str) -> list[DatasetVersion]:
    """The dataset's versions that have a variable called ``name``, oldest first; a draft only
    for those who see it."""
    holding = set(
        get_session().scalars(
            select(Variable.version_id)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .where(DatasetVersion.dataset_id == dataset.id, Variable.name == name)
        )
    )
    drafts = can(actor, Permission.DATASET_READ_DRAFT, dataset)
    return [
        v
        for v in dataset.versions  # loaded already, in order
        if v.id in holding and (drafts or v.status is not VersionStatus.DRAFT)
    ]


def _fill_same_concept(concepts: list[Concept], *, exclude: tuple[str, str]) -> None:
    """For each concept, the published variables that carry its term (or a narrower one),
    except the variable ``exclude`` (dataset id, name) itself in any version: one query for
    all concepts, each listing at most :data:`SAME_CONCEPT_LISTED` (by dataset title, then
    dictionary order) and counting all."""
    if not concepts:
        return
    scope = published_versions().subquery("scope")
    dataset_id, name = exclude
    carrying = (
        select(
            TermClosure.ancestor_curie.label("term"),
            Variable.id.label("variable_id"),
            *_carrying_columns(),
        )
        .select_from(TermClosure)
        .join(Mapping, Mapping.object_curie == TermClosure.descendant_curie)
        .join(Variable, Variable.id == Mapping.variable_id)
        .join(scope, scope.c.version_id == Variable.version_id)
        .where(
            TermClosure.ancestor_curie.in_([c.curie for c in concepts]),
            *_covering(),
            not_(and_(scope.c.dataset_id == dataset_id, Variable.name == name)),
        )
        .group_by(TermClosure.ancestor_curie, Variable.id)
        .subquery("carrying")
    )
    order = (
        func.lower(DatasetVersion.title),
        Dataset.identifier,
        Variable.position,
    )
    ranked = (
        select(
            carrying,
            *_REF_COLUMNS,
            func.row_number().over(partition_by=carrying.c.term, order_by=order).label("row"),
            func.count().over(partition_by=carrying.c.term).label("total"),
        )
        .join(Variable, Variable.id == carrying.c.variable_id)
        .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .subquery("ranked")
    )
    rows = get_session().execute(
        select(ranked)
        .where(ranked.c.row <= SAME_CONCEPT_LISTED)
        .order_by(ranked.c.term, ranked.c.row)
    )
    by_term = {c.curie: c for c in concepts}
    for row in rows:
        concept = by_term[row.term]
        concept.total = int(row.total)
        concept.others.append(_ref(row))


# --- the harmonisation matrix -----------------------------------------------------------------


@dataclass
class MatrixColumn:
    """A dataset of the matrix: its published version, and — when it came from a selection
    that chose some of its variables — those names (cells then show only them)."""

    dataset_id: str
    identifier: str
    title: str
    custodian: str
    version_id: str
    version_number: int
    patients: int | None
    organisation_id: str = ""
    chosen: frozenset[str] | None = None
    covered: int = 0


@dataclass
class MatrixRow:
    term: Term
    note: str | None
    cells: list[list[VariableRef]]  # one per column, in the columns' order

    @property
    def covered(self) -> int:
        return sum(1 for cell in self.cells if cell)


@dataclass
class Matrix:
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    standard_set: Any = None  # the StandardVariableSet the terms came from, if any
    selection_id: str | None = None

    def share(self, column: MatrixColumn) -> float:
        return column.covered / len(self.rows) if self.rows else 0.0

    @property
    def empty_cells(self) -> int:
        return sum(len(self.columns) - row.covered for row in self.rows)


@dataclass
class MatrixRequest:
    """What a matrix is asked for: dataset identifiers, term CURIEs (or IRIs), a standard set,
    a selection (each optional; datasets and terms are added to what the set and the
    selection bring)."""

    datasets: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    standard_set: str | None = None
    selection: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.datasets or self.terms or self.standard_set or self.selection)


def split_values(values: Iterable[str]) -> list[str]:
    """Comma-separated and repeated values, once each, in the order given."""
    return list(dict.fromkeys(p.strip() for v in values for p in v.split(",") if p.strip()))


#: who provides a selection's contents: catalogue.selection's ``selection_for_matrix`` once it
#: exists (a hook, so that the matrix works before and tests may stand in for it)
SelectionReader = Callable[[Actor, str], list[tuple[str, frozenset[str] | None]]]


def _selection_reader() -> SelectionReader | None:
    from catalogue.selection import services as selection

    reader: SelectionReader | None = getattr(selection, "selection_for_matrix", None)
    return reader


def build_matrix(actor: Actor, request: MatrixRequest) -> Matrix:
    """The grid of ``request``: rows the terms (the set's first, in its order, then the terms
    given), columns the datasets (the selection's first, then those given), cells the
    variables of each dataset's published version that carry the term by the coverage rule.

    :raises InvalidInput: naming every field at once that is wrong: ``datasets`` (none, more
        than :data:`MAX_DATASETS`, or not a published dataset), ``terms`` (none, more than
        :data:`MAX_TERMS`, malformed or not loaded), ``set`` (unknown), ``selection`` (unknown
        or not the caller's, or not available).
    """
    errors: dict[str, list[str]] = {}
    standard_set = None
    rows: list[tuple[str, str | None]] = []  # (curie, note)
    if request.standard_set:
        try:
            standard_set = standards.get_set(actor, request.standard_set)
        except NotFound:
            errors["set"] = [f"There is no standard variable set “{request.standard_set}”."]
        else:
            rows.extend((t.term_curie, t.note) for t in standard_set.terms)
    labelled = _resolve_terms(request.terms, errors, also=[c for c, _ in rows])
    given = _given(request.terms)
    rows.extend((curie, None) for curie in labelled if curie in given)
    rows = _first_of_each(rows, key=lambda r: r[0])
    if not rows and "set" not in errors and "terms" not in errors:
        errors["terms"] = [NO_TERMS]
    elif len(rows) > MAX_TERMS:
        errors.setdefault("terms", []).append(
            f"The matrix shows at most {MAX_TERMS} terms at a time; this asks for {len(rows):,}."
        )
    chosen: dict[str, frozenset[str] | None] = {}
    if request.selection:
        chosen = _selection(actor, request.selection, errors)
        if not chosen and "selection" not in errors and not request.datasets:
            errors["selection"] = ["This selection has no published dataset to compare."]
    columns = _columns(list(chosen), request.datasets, errors)
    for column in columns:
        column.chosen = chosen.get(column.dataset_id)
    if errors:
        raise InvalidInput(errors, detail=_detail(errors))
    matrix_rows = [MatrixRow(labelled[c], note, [[] for _ in columns]) for c, note in rows]
    _fill_cells(matrix_rows, columns)
    return Matrix(columns, matrix_rows, standard_set, request.selection)


def _first_of_each(items: Iterable[Any], *, key: Callable[[Any], Any]) -> list[Any]:
    """``items`` without repeats (by ``key``), each where it first appears."""
    seen: set[Any] = set()
    kept = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            kept.append(item)
    return kept


def _detail(errors: dict[str, list[str]]) -> str:
    return " ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


def _given(values: Sequence[str]) -> set[str]:
    """The CURIEs of ``values`` that are well formed."""
    curies = set()
    for text in split_values(values):
        with contextlib.suppress(UnknownIdentifier):
            curies.add(normalise_curie(text))
    return curies


def _resolve_terms(
    given: Sequence[str], errors: dict[str, list[str]], *, also: Sequence[str] = ()
) -> dict[str, Term]:
    """The terms of ``given`` (CURIEs or IRIs) and of ``also`` (a set's CURIEs), in one query,
    by CURIE in the order given; what in ``given`` is malformed or not loaded is named in
    ``errors["terms"]``."""
    named: dict[str, str] = {}  # CURIE → as given
    bad: list[str] = []
    for text in split_values(given):
        try:
            named.setdefault(normalise_curie(text), text)
        except UnknownIdentifier:
            bad.append(text)
    if len(named) > MAX_TERMS:
        errors["terms"] = [f"The matrix shows at most {MAX_TERMS} terms at a time."]
        named = {}
    known = standards.terms_by_curie([*also, *named])
    bad.extend(text for curie, text in named.items() if curie not in known)
    if bad:
        errors["terms"] = ["Unknown terms: " + ", ".join(dict.fromkeys(bad)) + "."]
    order = [*also, *named]
    return {c: known[c] for c in dict.fromkeys(order) if c in known}


def _selection(
    actor: Actor, selection_id: str, errors: dict[str, list[str]]
) -> dict[str, frozenset[str] | None]:
    reader = _selection_reader()
    if reader is None:
        errors["selection"] = ["Selections cannot be opened in the matrix yet."]
        return {}
    try:
        return dict(reader(actor, selection_id))
    except (NotFound, Forbidden):  # another's selection reads as none at all
        errors["selection"] = [f"You have no selection “{selection_id}”."]
        return {}


def _columns(
    selected_ids: list[str], identifiers: Sequence[str], errors: dict[str, list[str]]
) -> list[MatrixColumn]:
    """The published versions of the datasets (by internal id from a selection, by public
    identifier as given), in that order, once each. A selection's dataset that is no longer
    published is left out; an identifier that names no published dataset is an error."""
    given = split_values(identifiers)
    if len(given) + len(selected_ids) > MAX_DATASETS * 4:  # do not even look them up
        errors["datasets"] = [f"The matrix compares at most {MAX_DATASETS} datasets at a time."]
        return []
    found: dict[str, MatrixColumn] = {}
    by_identifier: dict[str, MatrixColumn] = {}
    if given or selected_ids:
        rows = get_session().execute(
            _published_columns().where(Dataset.identifier.in_(given) | Dataset.id.in_(selected_ids))
        )
        for row in rows:
            found[row.id] = by_identifier[row.identifier] = _column(row)
    unknown = [i for i in given if i not in by_identifier]
    if unknown:
        errors["datasets"] = [
            ("No published dataset is called " if len(unknown) == 1 else "No published datasets ")
            + ", ".join(f"“{i}”" for i in unknown)
            + "."
        ]
    ordered = [found[i] for i in selected_ids if i in found]
    ordered += [by_identifier[i] for i in given if i in by_identifier]
    columns = _first_of_each(ordered, key=lambda c: c.dataset_id)
    if not columns and "datasets" not in errors and "selection" not in errors:
        errors["datasets"] = [NO_DATASETS]
    elif len(columns) > MAX_DATASETS:
        errors.setdefault("datasets", []).append(
            f"The matrix compares at most {MAX_DATASETS} datasets at a time; this asks for "
            f"{len(columns):,}."
        )
    return columns


def _fill_cells(rows: list[MatrixRow], columns: list[MatrixColumn]) -> None:
    """Every cell in one query: the chosen versions' variables first, with what the cells show
    of them (a materialised CTE, as in
    :func:`catalogue.mappings.coverage.covering_rows_of_versions`, so that PostgreSQL does not
    walk every mapping of a common term across the catalogue), then their covering mappings
    and the closure up to the asked terms. The datasets' own columns are known already
    (``columns``): no join back to the catalogue's big tables."""
    if not rows or not columns:
        return
    own = (
        select(
            Variable.id,
            Variable.version_id,
            Variable.name,
            Variable.label,
            Variable.value_type,
            Variable.unit,
            Variable.minimum,
            Variable.maximum,
            Variable.permissible_values,
            Variable.position,
        )
        .where(Variable.version_id.in_([c.version_id for c in columns]))
        .cte("own_variables")
        .prefix_with("MATERIALIZED")
    )
    # their covering mappings, materialised too: PostgreSQL would otherwise join every mapping
    # of the catalogue to the closure first (300,000 rows for 30 terms) and only then to these
    # variables
    own_mappings = (
        select(own.c.id, Mapping.object_curie, Mapping.value_code, Mapping.predicate)
        .select_from(own)
        .join(Mapping, Mapping.variable_id == own.c.id)
        .where(*_covering())
        .cte("own_mappings")
        .prefix_with("MATERIALIZED")
    )
    carrying = (
        select(
            own_mappings.c.id.label("variable_id"),
            TermClosure.ancestor_curie.label("term"),
            *_carrying_columns(own_mappings.c),
        )
        .select_from(own_mappings)
        .join(TermClosure, TermClosure.descendant_curie == own_mappings.c.object_curie)
        # the asked terms filter the few ancestors of each mapped term; as an index key (what
        # SQLite makes of a plain IN) they would be probed once per mapping and term: 4 million
        # probes for 50 datasets and 500 terms. ``|| ''`` keeps them a filter.
        .where((TermClosure.ancestor_curie + "").in_([r.term.curie for r in rows]))
        .group_by(own_mappings.c.id, TermClosure.ancestor_curie)
        .subquery("carrying")
    )
    # a Core statement on the session's connection: no ORM bookkeeping for thousands of rows
    found = (
        get_session()
        .connection()
        .execute(
            select(
                carrying,
                own.c.version_id,
                own.c.name,
                own.c.label,
                own.c.value_type,
                own.c.unit,
                own.c.minimum,
                own.c.maximum,
                cast(own.c.permissible_values, Text).label("values_json"),
                func.coalesce(func.json_array_length(own.c.permissible_values), 0).label(
                    "value_count"
                ),
            )
            .join(own, own.c.id == carrying.c.variable_id)
            .order_by(own.c.position, own.c.id)
        )
    )
    row_of = {r.term.curie: r for r in rows}
    index_of = {c.version_id: i for i, c in enumerate(columns)}
    for found_row in found:
        i = index_of[found_row.version_id]
        column = columns[i]
        if column.chosen is not None and found_row.name not in column.chosen:
            continue
        row_of[found_row.term].cells[i].append(_ref(found_row, column))
    for i, column in enumerate(columns):
        column.covered = sum(1 for r in rows if r.cells[i])


def suggested_datasets(curies: Sequence[str]) -> list[MatrixColumn]:
    """The published datasets that cover most of ``curies`` (at most
    :data:`SUGGESTED_DATASETS`), to start a matrix from: the ranking of the feasibility page,
    read as an anonymous caller (published versions only), from the search index when it is
    built."""
    if not curies:
        return []
    ranked = ranking.rank(
        None,
        list(curies),
        page=1,
        per_page=SUGGESTED_DATASETS,
        indexed=ranking.index_ready(),
    )
    if not ranked.rows:
        return []
    version_ids = [r.version_id for r in ranked.rows]
    rows = {
        row.version_id: row
        for row in get_session().execute(
            _published_columns().where(DatasetVersion.id.in_(version_ids))
        )
    }
    return [_column(rows[r.version_id], r.covered) for r in ranked.rows if r.version_id in rows]


def _published_columns() -> Any:
    """The published version of every published dataset, as :class:`MatrixColumn` rows."""
    return (
        select(
            Dataset.id,
            Dataset.identifier,
            DatasetVersion.title,
            Organisation.name,
            DatasetVersion.id.label("version_id"),
            DatasetVersion.number,
            DatasetVersion.patients,
            Dataset.organisation_id,
        )
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .where(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


def _column(row: Any, covered: int = 0) -> MatrixColumn:
    return MatrixColumn(
        row.id,
        row.identifier,
        row.title,
        row.name,
        row.version_id,
        row.number,
        row.patients,
        organisation_id=row.organisation_id,
        covered=covered,
    )


def find_named_datasets(identifiers: Sequence[str]) -> list[MatrixColumn]:
    """The published datasets among ``identifiers`` (for the form's chips, also when the
    matrix itself cannot be built), in one query."""
    wanted = split_values(identifiers)[: MAX_DATASETS * 4]
    if not wanted:
        return []
    rows = get_session().execute(_published_columns().where(Dataset.identifier.in_(wanted)))
    return [_column(r) for r in rows]


def find_datasets(text: str, *, limit: int = 20) -> list[MatrixColumn]:
    """Published datasets that ``text`` names, for the matrix's "Add a dataset" field: the
    one whose identifier it is, else those whose identifier or title contains it (every word
    of it), by title; at most ``limit``."""
    words = [w for w in text.lower().split() if w]
    if not words:
        return []
    query = _published_columns()
    session = get_session()
    exact = session.execute(query.where(func.lower(Dataset.identifier) == text.strip().lower()))
    rows = exact.all()
    if not rows:
        for word in words:
            pattern = f"%{_escape_like(word)}%"
            query = query.where(
                func.lower(DatasetVersion.title).like(pattern, escape="\\")
                | func.lower(Dataset.identifier).like(pattern, escape="\\")
            )
        rows = session.execute(
            query.order_by(func.lower(DatasetVersion.title), Dataset.identifier).limit(limit)
        ).all()
    return [_column(r) for r in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matrix_csv_rows(matrix: Matrix) -> Iterator[list[str]]:
    """The grid as CSV rows: a header (term, label, note, then each dataset's identifier), a
    row per term whose cells name the variables with their units (``hb_dx [g/dL]``, several
    joined by ``; ``, empty where the dataset has none), and a last row with each dataset's
    number of terms covered."""
    yield ["term", "label", "note", *[c.identifier for c in matrix.columns]]
    for row in matrix.rows:
        yield [
            row.term.curie,
            row.term.label,
            row.note or "",
            *["; ".join(v.csv_text() for v in cell) for cell in row.cells],
        ]
    total = len(matrix.rows)
    yield ["", "terms covered", "", *[f"{c.covered} of {total}" for c in matrix.columns]]
