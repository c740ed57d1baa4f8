"""The contract between the search service and a search engine.

The search service (:mod:`catalogue.search.services`) reads the query (words, spellings,
named ontology terms: :mod:`catalogue.search.query`), the caller (which drafts they see) and
the selected facets, and says what it wants as an :class:`EngineQuery` made of the small
clause language below. An engine answers with an :class:`EngineResult`: the page's document
ids in order, the total, and each facet's counts as the same ``(value, count)`` rows the SQL
statement gives, so that every facet builds its values (trees, labels) the same way whoever
counted.

The database stays the source of truth: an engine holds a projection of the search index's
tables (``search_documents`` and their texts, disease and term rows, and the fields other
areas add), written as :class:`EngineDocument` s; losing it loses nothing (it is rebuilt from
the database). A query the engine cannot answer (a facet without an engine form) is answered
by the SQL statement instead.

Field names and kinds are :data:`FIELDS` (plus those areas register with
:func:`register_fields`). Text fields hold the search index's *keys* (normalised, stemmed
words, space separated: :mod:`catalogue.search.text`), so an engine matches exactly what the
SQL backends match; it must not analyse them again (whitespace tokenising only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union

# --- fields ---------------------------------------------------------------------------------

FieldKind = Literal["text", "keyword", "integer"]

#: the fields every engine indexes; keyword fields may hold several values
FIELDS: dict[str, FieldKind] = {
    # text: the search index's keys (search_document_texts.text_*)
    "title": "text",
    "keywords": "text",
    "description": "text",
    "variables": "text",
    # keyword: exact values, filterable and countable
    "visibility": "keyword",  # "published" (published, no open draft), "published_with_draft",
    # or "draft"; with organisation_id this says who sees it (see visible())
    "dataset_id": "keyword",
    "version_id": "keyword",
    "organisation_id": "keyword",
    "source_type": "keyword",
    "data_model": "keyword",
    "country": "keyword",  # each country code
    "age_group": "keyword",  # each age group
    "disease": "keyword",  # each disease tag AND every ancestor (search_document_diseases)
    "term": "keyword",  # each covered term and its ancestors (search_document_terms)
    # the stored set columns verbatim, one value each (" DE NL "): counted exactly as the SQL
    # statement groups them, so the facets' values() read the same rows
    "countries_set": "keyword",
    "age_groups_set": "keyword",
    "diseases_set": "keyword",
    "variable_groups_set": "keyword",
    "title_key": "keyword",  # sort by title
    # integer
    "patients": "integer",  # absent when unknown
    "updated_at": "integer",  # microseconds since the epoch, UTC
    # search_documents.revision: a new random number at every write of the document, so that
    # an engine's copy that missed a change shows (see Stamped)
    "revision": "integer",
}

#: fields added by other areas (data-use terms, agreements …): name → kind
EXTRA_FIELDS: dict[str, FieldKind] = {}
#: what fills them: documents → {document id: {field: values}}
FieldProvider = Callable[[Sequence["EngineDocument"]], dict[int, dict[str, Any]]]
PROVIDERS: list[FieldProvider] = []


def register_fields(fields: dict[str, FieldKind], provider: FieldProvider) -> None:
    """Another area's fields (``data_use`` …) and the function that fills them for a batch of
    documents (called when documents are written; idempotent registration)."""
    for name, kind in fields.items():
        if FIELDS.get(name, kind) != kind or EXTRA_FIELDS.get(name, kind) != kind:
            raise RuntimeError(f"search engine field {name} exists with another kind")
        EXTRA_FIELDS[name] = kind
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def all_fields() -> dict[str, FieldKind]:
    return {**FIELDS, **EXTRA_FIELDS}


@dataclass
class EngineDocument:
    """One search document (a ``search_documents`` row: a published version or an open
    draft) as an engine indexes it: ``fields`` by the names of :func:`all_fields`; a keyword
    field's value is a list of strings, a text field's a string of keys, an integer's an int
    or None."""

    id: int
    fields: dict[str, Any] = field(default_factory=dict)


# --- clauses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """The text field holds any of ``keys`` (one query word and its alternative spellings)."""

    field: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """The keyword field holds any of ``values``."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    """The integer field lies within [low, high] (a missing bound is open; a document without
    the field never matches)."""

    field: str
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class AllOf:
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class AnyOf:
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Not:
    clause: Clause


@dataclass(frozen=True)
class Everything:
    pass


Clause = Union[Match, Terms, Range, AllOf, AnyOf, Not, Everything]  # noqa: UP007


@dataclass(frozen=True)
class Score:
    """Relevance: ``points`` for each document the clause holds for (the points add up)."""

    clause: Clause
    points: float


# --- counts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermsCount:
    """Rows ``(value, documents)`` for each value of a keyword field (only ``include`` ones when
    given)."""

    field: str
    include: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RangeCount:
    """Rows ``(name, documents)`` per bucket ``(name, low, high)`` of an integer field
    (inclusive bounds, None open; empty buckets may be left out)."""

    field: str
    buckets: tuple[tuple[str, int | None, int | None], ...]


@dataclass(frozen=True)
class MatchCount:
    """One row ``(name, documents)``: the documents the clause holds for."""

    name: str
    clause: Clause


Count = Union[TermsCount, RangeCount, MatchCount]  # noqa: UP007

Sort = Literal["relevance", "updated", "title", "patients"]


@dataclass(frozen=True)
class EngineQuery:
    """What the search asks.

    - ``filter``: what every hit holds (who sees it, every part of the query).
    - ``scores``: relevance points (summed); ``rank_keys``: the query's keys, a text rank over
      every text field that only orders documents of equal points.
    - ``facets``: the selected facets' clauses by facet name; a hit holds all of them.
    - ``counts``: what each facet counts. A facet that is not selected counts the hits; a
      selected one counts the documents that hold ``filter`` and every *other* selected facet
      (so that its other values can still be chosen).
    - ``sort``: relevance (points, then rank, then updated, title_key, id), updated (newest
      first, then title_key, id), title (title_key, id), patients (most first, unknown last,
      then title_key, id).
    """

    filter: Clause
    scores: tuple[Score, ...] = ()
    rank_keys: tuple[str, ...] = ()
    facets: tuple[tuple[str, Clause], ...] = ()
    counts: tuple[tuple[str, tuple[Count, ...]], ...] = ()
    sort: Sort = "updated"
    offset: int = 0
    limit: int = 20
    #: an engine that can may count the facets in another thread, while the caller fills
    #: the page in (:class:`DeferredCounts`)
    counts_beside: bool = True


FacetCounts = Mapping[str, list[tuple[str, int]]]


@dataclass
class EngineResult:
    ids: list[int]  # search_documents ids of the page, in order
    total: int
    #: each facet's counts; may be :class:`DeferredCounts`, still being counted
    counts: FacetCounts


class DeferredCounts(Mapping[str, list[tuple[str, int]]]):
    """Facet counts an engine is still computing in another thread (an engine that releases
    Python's lock while it counts), so that the page is filled from the database meanwhile.
    Reading them waits for them, and raises what counting raised."""

    def __init__(self, future: Future[dict[str, list[tuple[str, int]]]]):
        self._future = future

    def resolved(self) -> dict[str, list[tuple[str, int]]]:
        return self._future.result()

    def __getitem__(self, key: str) -> list[tuple[str, int]]:
        return self.resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.resolved())

    def __len__(self) -> int:
        return len(self.resolved())


def visible(own: Iterable[str] | None) -> Clause:
    """Who sees what (:func:`catalogue.policies.current_documents` as a clause): ``own`` None
    sees every draft in place of its published version, an empty set no draft, a set of
    organisations the drafts of those."""
    published = Terms("visibility", ("published",))
    if own is None:
        return AnyOf((published, Terms("visibility", ("draft",))))
    mine = tuple(sorted(own))
    if not mine:
        return AnyOf((published, Terms("visibility", ("published_with_draft",))))
    with_draft = AllOf(
        (Terms("visibility", ("published_with_draft",)), Not(Terms("organisation_id", mine)))
    )
    drafts = AllOf((Terms("visibility", ("draft",)), Terms("organisation_id", mine)))
    return AnyOf((published, with_draft, drafts))


class Unsupported(Exception):
    """The engine cannot answer this query (the service answers it with SQL instead)."""


class EngineUnavailable(Exception):
    """The engine could not be asked: not reachable, timed out, refused the request, or holds
    no index yet. The database still holds everything, so a search can be answered with SQL
    instead; a write that raised it left the engine behind (a rebuild catches it up)."""


class Engine(Protocol):
    """A search engine. Implementations: :mod:`catalogue.search.engine.embedded` (tantivy, the
    default, files under the instance folder), :mod:`catalogue.search.engine.opensearch`."""

    name: str

    def search(self, query: EngineQuery) -> EngineResult:
        """:raises Unsupported: for a query it cannot answer.
        :raises EngineUnavailable: when the engine cannot be asked."""
        ...

    def write(self, documents: Sequence[EngineDocument], deleted: Sequence[int] = ()) -> None:
        """Add or replace ``documents`` (by id) and remove ``deleted`` ids, visible to
        searches once this returns."""
        ...

    def rebuild(
        self, documents: Iterable[EngineDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        """Replace everything with ``documents`` (streamed); the number written."""
        ...

    def count(self) -> int:
        """How many documents it holds (-1: it holds no index at all)."""
        ...


class Stamped(Protocol):
    """What an engine may also answer so that the service can tell whether it missed a
    change (a process that died between a commit and its write to the engine): every
    document's ``revision`` (:data:`FIELDS`), compared with the database's
    (:mod:`catalogue.search.engine.sync`). An engine without these is trusted to be in step."""

    def fingerprint(self) -> tuple[int, int]:
        """``(documents, sum of their revisions)``: cheap, compared every few seconds."""
        ...

    def stamps(self) -> dict[int, int]:
        """Every document's id and revision: read when the fingerprints differ."""
        ...
