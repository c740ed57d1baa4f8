"""Search, the use case: datasets (and their variables) that match a query text and facets.

One statement finds everything about the candidates at once — the page of hits, the total and
every facet's counts: the candidates (visible to the actor, matching every part of the query)
are a materialised CTE carrying one flag per selected facet, and the page, the total and each
facet's counts are ``UNION ALL``-ed selections of it. A few small statements then fill in the
page (titles and snippets, diseases, the variables that matched), never one per hit.

That statement depends on the search's *shape* (how many parts and words, which parts name
terms, which facets are selected and how, the sort, who asks), not on its values: it is built
once per shape (:class:`_Plan`, :data:`STATEMENTS`) and run with the values of each search as
named parameters (:meth:`_Plan.values`).

Relevance is a score the two databases compute alike: per query word, 1 for holding it, plus
7 when the title holds it, 3 the keywords, 1 the description (8, 4, 2 for a word in one of
them, 1 for a word only in the variables); per part of the query that names a term, 6 more
when the dataset is tagged with it (or below it) and 1 when it has variables for it. Ties go by
PostgreSQL's ``ts_rank`` (weights A-D) where it runs, then the most recently updated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)

from catalogue import extensions, policies
from catalogue.search import hits
from catalogue.search.backends import EXTRA_TIERS, TIER_FIELDS, backend_for
from catalogue.search.facets import (
    Facet,
    FacetValue,
    covering,
    facets,
    tagged_with,
)
from catalogue.search.hits import Hit
from catalogue.search.models import SearchDocument
from catalogue.search.query import Interpretation, interpret
from core.db import get_session, query_timeout
from core.errors import InvalidInput
from core.permissions import Permission
from core.policies import Actor, require

SORTS = {
    "relevance": "Relevance",
    "patients": "Patients (most first)",
    "updated": "Recently updated",
    "title": "Title (A–Z)",  # noqa: RUF001 - a typographic dash
}
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
TAG_SCORE = 6
COVER_SCORE = 1
BASE_PARAMS = ("q", "sort", "page", "per_page")
#: the text fields of a search document (catalogue.search.engine.base.FIELDS)
TEXT_FIELDS = ("title", "keywords", "description", "variables")
log = logging.getLogger("harmony.search")
#: the documents as the statements name them (made once: an alias builds its columns anew)
DOCUMENT: Any = SearchDocument.__table__.alias("d")


@dataclass
class SearchQuery:
    q: str = ""
    selections: dict[str, Any] = field(default_factory=dict)  # facet name → its selection
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass
class SearchResult:
    query: SearchQuery
    interpretation: Interpretation
    items: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


# --- reading the parameters -----------------------------------------------------------------


def parse_query(args: Mapping[str, Sequence[str]]) -> SearchQuery:
    """The search's parameters from a query string (every value a list: a parameter may
    repeat).

    :raises InvalidInput: naming the parameter: an unknown parameter, value, sort or range.
    """
    known = set(BASE_PARAMS) | {p for f in facets() for p in f.params}
    unknown = sorted(set(args) - known)
    if unknown:
        raise InvalidInput.field(
            unknown[0], "Unknown parameter; search takes " + ", ".join(sorted(known)) + "."
        )
    for name in BASE_PARAMS:
        if len(args.get(name, [])) > 1:
            raise InvalidInput.field(name, "Give it once.")
    query = SearchQuery(q=(_first(args, "q") or "").strip()[:500])
    sort = _first(args, "sort")
    if sort:
        if sort not in SORTS:
            raise InvalidInput.field("sort", "Sort by one of: " + ", ".join(SORTS) + ".")
        query.sort = sort
    query.page = _integer(args, "page", 1, 1, MAX_PAGE)
    query.per_page = _integer(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    selections = {}
    for facet in facets():
        selection = facet.parse({p: list(args.get(p, [])) for p in facet.params})
        if selection is not None:
            selections[facet.name] = selection
    query.selections = selections
    return query


def _first(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    return values[0] if values else None


def _integer(
    args: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int
) -> int:
    raw = (_first(args, name) or "").strip()
    if not raw:
        return default  # a blank field of the search form: the default, as documented
    if not re.fullmatch(r"[+-]?[0-9]+", raw):  # not int()'s "1_000" or other scripts' digits
        raise InvalidInput.field(name, "A whole number.")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput.field(name, f"Between {low} and {high:,}.")
    return value


# --- searching ------------------------------------------------------------------------------


def _visible(own: list[str] | None, d: Any) -> Any:
    """Who sees drafts (:func:`catalogue.policies.current_documents`), with the caller's
    organisations as a bound parameter: one cached statement serves every custodian."""
    return policies.current_documents(
        own, d.c, organisations=bindparam("own", expanding=True, type_=String)
    )


def search(actor: Actor, query: SearchQuery) -> SearchResult:
    """Datasets the actor may see that match ``query``, one page of them, with the total and
    the facets' counts.

    :raises ServiceUnavailable: (503) when the statements take longer than the query timeout.
    """
    require(actor, Permission.DATASET_READ)
    with query_timeout(settings=backend_for(get_session()).settings):
        return _search(actor, query)


@dataclass
class _Plan:
    """What the main statement is built from: its shape (what changes the SQL) apart from its
    values (bound parameters, by name)."""

    own: list[str] | None
    meaning: Interpretation
    query: SearchQuery
    registered: list[Facet]
    backend: Any
    relevance: bool

    @property
    def ranks(self) -> bool:
        return self.relevance and bool(self.meaning.keys) and self.backend.ranks

    def shape(self) -> Hashable:
        return (
            self.backend.name,
            None if self.own is None else bool(self.own),
            self.relevance,
            self.query.sort,
            tuple((len(p.groups), bool(p.terms)) for p in self.meaning.parts),
            self.ranks,
            tuple(
                (type(f), f.name, f.shape(self.query.selections.get(f.name)))
                for f in self.registered
            ),
        )

    def values(self) -> dict[str, Any]:
        backend, query = self.backend, self.query
        values: dict[str, Any] = {}
        if self.own:
            values["own"] = self.own
        for i, part in enumerate(self.meaning.parts):
            if part.terms:
                values[f"terms_{i}"] = part.curies
            if self.relevance:
                for j, group in enumerate(part.groups):
                    values[f"group_{i}_{j}"] = backend.group_expression(group)
            elif part.terms and part.groups:
                values[f"words_{i}"] = backend.groups_expression(part.groups)
        plain = [g for p in self.meaning.parts if not p.terms for g in p.groups]
        if plain and not self.relevance:
            values["plain"] = backend.groups_expression(plain)
        for facet in self.registered:
            values.update(facet.parameters(query.selections.get(facet.name)))
        if self.ranks:
            values["rank_query"] = backend.rank_expression(self.meaning.keys)
            values["cutoff_offset"] = query.page * query.per_page - 1
        values["page_limit"] = query.per_page
        values["page_offset"] = (query.page - 1) * query.per_page
        return values


class _Statements:
    """The main statements built so far, by shape (least recently used forgotten first):
    building one costs ~5 ms of Python, running a built one with new values nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._built: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, shape: Hashable) -> Any:
        with self._lock:
            statement = self._built.get(shape)
            if statement is not None:
                self._built.move_to_end(shape)
            return statement

    def put(self, shape: Hashable, statement: Any) -> None:
        with self._lock:
            self._built[shape] = statement
            while len(self._built) > self.size:
                self._built.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._built.clear()


#: ~0.5 MB each (with SQLAlchemy's compiled forms); a query mix of 21 searches has 13 shapes
STATEMENTS = _Statements(32)


def _search(actor: Actor, query: SearchQuery) -> SearchResult:
    session = get_session()
    backend = backend_for(session)
    registered = facets()
    query = replace(query, selections=_bind(actor, registered, query.selections))
    meaning = interpret(query.q)
    if query.q and meaning.is_empty:
        # only words that mean nothing to search ("the", "*", "AND"): nothing can match them
        return SearchResult(query, meaning, [], 0, _empty_facets(registered, query))
    relevance = query.sort == "relevance" and not meaning.is_empty
    own = policies.draft_organisations(actor)
    plan = _Plan(
        None if own is None else sorted(own), meaning, query, registered, backend, relevance
    )
    found = _from_engine(plan)
    items: list[Hit] | None = None
    checking = current_app.config.get("SEARCH_ENGINE_CHECK")
    if found is not None:
        if not checking and found.ids:
            # filled in from the database while the engine counts the facets
            items = hits.page_hits(found.ids, meaning, backend)
        found = _engine_counts(plan, found)
        if found is None:
            items = None
    if found is None or checking:
        from_statement = _from_statement(session, plan)
        if found is None:
            found = from_statement
        else:
            from catalogue.search.engine import check

            check.compare(plan, _engine_query(plan), found, from_statement)
    facet_values = {
        f.name: f.values(found.rows[f.name], query.selections.get(f.name)) for f in registered
    }
    if items is None:
        items = hits.page_hits(found.ids, meaning, backend) if found.ids else []
    _annotate(actor, query, items)
    return SearchResult(query, meaning, items, found.total, facet_values)


@dataclass
class Found:
    """What found the page (the SQL statement or an engine): its document ids in order, the
    total, and each facet's rows as :meth:`Facet.values` reads them."""

    ids: list[int]
    total: int
    rows: dict[str, list[tuple[str, int]]]
    #: an engine's counts, before they are read as rows (:func:`_engine_counts`)
    counts: Mapping[str, list[tuple[str, int]]] | None = None


def _from_statement(session: Any, plan: _Plan) -> Found:
    """The main statement (built once per shape), run with this search's values."""
    values = plan.values()
    shape = plan.shape()
    statement = STATEMENTS.get(shape)
    if statement is None:
        statement = _statement(plan)
        STATEMENTS.put(shape, statement)
    elif current_app.config.get("SEARCH_CHECK_STATEMENTS"):
        _check_statement(session, statement, _statement(plan), values)
    page_ids: dict[int, int] = {}
    total = 0
    rows_by_facet: dict[str, list[tuple[str, int]]] = {f.name: [] for f in plan.registered}
    for kind, value, number in session.execute(statement, values).all():
        if kind == "_page":
            page_ids[int(value)] = number
        elif kind == "_total":
            total = number
        elif value is not None:
            rows_by_facet[kind].append((value, number))
    return Found(sorted(page_ids, key=page_ids.__getitem__), total, rows_by_facet)


# --- the same from a search engine ----------------------------------------------------------


def _from_engine(plan: _Plan) -> Found | None:
    """The search answered by the configured engine, or None when the SQL statement must
    answer: no engine (``SEARCH_ENGINE=sql``), no index yet (it is being rebuilt), a facet
    without an engine form, or any engine error (logged: search never fails because of its
    engine)."""
    from catalogue.search.engine import sync

    with _answered_by_sql_on_failure("the search engine failed") as failed:
        engine = sync.engine_for_search()
        if engine is None:
            return None
        answer = engine.search(_engine_query(plan))
    if failed:
        return None
    return Found(list(answer.ids), answer.total, {}, answer.counts)


def _engine_counts(plan: _Plan, found: Found) -> Found | None:
    """``found`` with each facet's rows from the engine's counts (waiting for them when the
    engine counts in another thread), or None when counting failed (then SQL answers, as in
    :func:`_from_engine`)."""
    selections = plan.query.selections
    with _answered_by_sql_on_failure("the search engine failed to count") as failed:
        counts = dict(found.counts or {})
    if failed:
        return None
    rows = {
        f.name: f.engine_rows(counts.get(f.name, []), selections.get(f.name))
        for f in plan.registered
    }
    return Found(found.ids, found.total, rows)


@contextlib.contextmanager
def _answered_by_sql_on_failure(what: str) -> Iterator[list[bool]]:
    """Around a call to the engine: an :class:`Unsupported` question (logged at debug) or any
    other error (logged, and the engine checked against the database soon) is swallowed and
    the yielded list made true, so that the caller has SQL answer. Search never fails because
    of its engine."""
    from catalogue.search.engine import sync
    from catalogue.search.engine.base import Unsupported

    failed: list[bool] = []
    try:
        yield failed
    except Unsupported as exc:
        log.debug("search answered with SQL: %s", exc)
        failed.append(True)
    except Exception:
        log.exception("%s; the search is answered with SQL", what)
        sync.state().check_due = True
        failed.append(True)


def _group_clause(group: Sequence[str]) -> Any:
    """A query word (its key and its spellings) in any text field."""
    from catalogue.search.engine.base import AnyOf, Match

    keys = tuple(dict.fromkeys(group))
    return AnyOf(tuple(Match(f, keys) for f in TEXT_FIELDS))


def _engine_query(plan: _Plan) -> Any:
    """The plan as an engine query (:mod:`catalogue.search.engine.base`): the same candidates,
    points, facets, counts and order as :func:`_statement`.

    :raises Unsupported: a selected or counted facet has no engine form.
    """
    from catalogue.search.engine.base import (
        AllOf,
        AnyOf,
        EngineQuery,
        Match,
        Score,
        Terms,
        visible,
    )

    meaning, query = plan.meaning, plan.query
    parts: list[Any] = []
    scores: list[Any] = []
    for part in meaning.parts:
        groups = [_group_clause(g) for g in part.groups]
        if part.terms:
            curies = tuple(part.curies)
            tagged, covered = Terms("disease", curies), Terms("term", curies)
            alternatives = [AllOf(tuple(groups))] if groups else []
            parts.append(AnyOf((*alternatives, tagged, covered)))
            if plan.relevance:
                scores += [Score(tagged, TAG_SCORE), Score(covered, COVER_SCORE)]
        else:
            parts.extend(groups)
        if plan.relevance:
            for group, clause in zip(part.groups, groups, strict=True):
                keys = tuple(dict.fromkeys(group))
                scores.append(Score(clause, 1))
                scores.extend(
                    Score(Match(name, keys), extra)
                    for name, extra in zip(TIER_FIELDS, EXTRA_TIERS, strict=True)
                )
    selected = []
    for facet in plan.registered:
        if facet.name in query.selections:
            clause = facet.engine_clause(query.selections[facet.name])
            if clause is not None:
                selected.append((facet.name, clause))
    counts = tuple(
        (f.name, tuple(f.engine_counts(query.selections.get(f.name)))) for f in plan.registered
    )
    sort: Any = query.sort
    if sort == "relevance" and not plan.relevance:
        sort = "updated"  # relevance without words: the most recently updated first
    return EngineQuery(
        filter=AllOf((visible(plan.own), *parts)),
        scores=tuple(scores),
        rank_keys=tuple(meaning.keys) if plan.relevance else (),
        facets=tuple(selected),
        counts=counts,
        sort=sort,
        offset=(query.page - 1) * query.per_page,
        limit=query.per_page,
        counts_beside=_counts_beside(),
    )


def _counts_beside() -> bool:
    """Whether the engine counts the facets in a thread of its own while the page is filled
    in (``SEARCH_ENGINE_COUNTS_BESIDE``; "auto": yes, unless this machine has one core, where
    the two cannot overlap). Measured on the quiet 2-core bench machine, PostgreSQL on the same
    machine, hard mix p95 in-process: 20.4-20.9 ms beside, 22.4-23.3 ms not; SQLite 20.4-20.7
    beside, 26.1-26.7 not. (An earlier measurement with PostgreSQL, 30.6 beside and 25.9 not,
    was taken while other runs loaded the machine: there the counting thread waits for a
    core.)"""
    setting = current_app.config.get("SEARCH_ENGINE_COUNTS_BESIDE", "auto")
    if setting != "auto":
        return bool(setting == "on")
    return (os.cpu_count() or 1) > 1


def _bind(actor: Actor, registered: list[Facet], selections: dict[str, Any]) -> dict[str, Any]:
    """Each selection made ready for the caller (:meth:`Facet.bind`), before any statement.

    :raises InvalidInput: naming the parameter (a saved purpose that is not the caller's …).
    """
    bound = dict(selections)
    for facet in registered:
        if facet.name in bound:
            bound[facet.name] = facet.bind(actor, bound[facet.name])
    return bound


def _annotate(actor: Actor, query: SearchQuery, hits: list[Hit]) -> None:
    """What other areas add to a page of hits: the dataset facts (``data_use``,
    ``requestable``, ``requestable_until``, one call per provider for the page), then the hit
    annotators (``fit`` …)."""
    if not hits:
        return
    facts: dict[Any, dict[str, Any]] = extensions.dataset_facts(
        actor,
        [h.dataset_id for h in hits],
    )
    for hit in hits:
        hit.extras.update(facts.get(hit.dataset_id, extensions.DATASET_FACT_DEFAULTS))
    extensions.annotate_hits(actor, query, hits)


def _check_statement(session: Any, cached: Any, fresh: Any, values: dict[str, Any]) -> None:
    """Tests: the statement built for an earlier search of the same shape, run with this
    search's values, is the statement built for this one (same SQL, same parameters)."""
    dialect = session.get_bind().dialect
    a, b = cached.compile(dialect=dialect), fresh.compile(dialect=dialect)
    if a.string != b.string:
        raise AssertionError("a cached search statement differs from a fresh one in its SQL")
    if a.construct_params(values) != b.construct_params(values):
        raise AssertionError(
            "a cached search statement differs from a fresh one in its parameters: a value is "
            "written into the statement instead of bound by name"
        )


def _statement(plan: _Plan) -> Any:
    """The main statement for the plan's shape: every value a named parameter (see
    :meth:`_Plan.values`). The candidates (visible, matching every part of the query, one flag
    per selected facet) are a materialised CTE; the page, the total and each facet's counts
    are ``UNION ALL``-ed selections of them."""
    backend, meaning, query, registered = plan.backend, plan.meaning, plan.query, plan.registered
    relevance = plan.relevance
    d = DOCUMENT
    conditions = [_visible(plan.own, d)]
    source: Any = d
    scores: list[Any] = []

    def words(name: str) -> Any:
        return bindparam(name, type_=String)

    def curies(i: int) -> Any:
        return bindparam(f"terms_{i}", expanding=True, type_=String)

    if relevance:
        # a word's lookups (one per field) say both whether and where it matched
        for i, part in enumerate(meaning.parts):
            found = []
            for j, _group in enumerate(part.groups):
                scored = backend.group_scores(words(f"group_{i}_{j}"), f"word_{len(scores)}")
                if part.terms:
                    source = source.outerjoin(scored, scored.c.id == d.c.id)
                else:
                    source = source.join(scored, scored.c.id == d.c.id)
                found.append(scored)
                scores.append(func.coalesce(scored.c.tier, 0))
            if part.terms:
                tagged = tagged_with(d, curies(i))
                covered = covering(d, curies(i))
                holds = [and_(*(f.c.id.is_not(None) for f in found))] if found else []
                conditions.append(or_(*holds, tagged, covered))
                scores.append(case((tagged, TAG_SCORE), else_=0))
                scores.append(case((covered, COVER_SCORE), else_=0))
    else:
        if any(p.groups for p in meaning.parts if not p.terms):  # the plain words together
            conditions.append(d.c.id.in_(backend.documents_matching(words("plain"))))
        for i, part in enumerate(meaning.parts):
            if part.terms:
                alternatives = [tagged_with(d, curies(i)), covering(d, curies(i))]
                if part.groups:
                    holding = backend.documents_matching(words(f"words_{i}"))
                    alternatives.insert(0, d.c.id.in_(holding))
                conditions.append(or_(*alternatives))
    score = sum(scores[1:], scores[0]) if scores else literal_column("0")
    conditions_of = {
        facet.name: facet.condition(d, query.selections[facet.name])
        for facet in registered
        if facet.name in query.selections
    }
    flags = {
        name: condition.label(f"f_{name}")
        for name, condition in conditions_of.items()
        if condition is not None  # a selection that only annotates or counts
    }
    candidates = (
        select(
            d.c.id,
            d.c.version_id,
            d.c.dataset_id,
            d.c.organisation_id,
            d.c.source_type,
            d.c.data_model,
            d.c.countries,
            d.c.age_groups,
            d.c.diseases,
            d.c.variable_groups,
            d.c.patients,
            d.c.title_key,
            d.c.updated_at,
            score.label("score"),
            *flags.values(),
        )
        .select_from(source)
        .where(*conditions, *_failing_at_most_one(list(flags.values())))
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    # the candidates passing every facet, once: the page, the total and the counts of the
    # facets not selected read these (a fraction of the candidates when facets are selected);
    # only a selected facet's own counts read the candidates that fail it
    passed_all = (
        select(candidates)
        .where(*(candidates.c[f"f_{name}"] for name in flags))
        .cte("passed_all")
        .prefix_with("MATERIALIZED")
        if flags
        else candidates
    )

    def source_for(facet: str) -> tuple[Any, Any]:
        """What a facet's counts read: the candidates passing every facet, or for a selected
        facet the candidates passing every other one."""
        if facet in flags:
            others = [candidates.c[f"f_{name}"] for name in flags if name != facet]
            return candidates, and_(true(), *others)
        return passed_all, true()

    rank: Any = literal_column("0.0")
    if plan.ranks:
        # the rank only orders equal scores, so it is computed only for the candidates that
        # score at least as high as the last hit of this page: the others come after the page
        # whatever their rank
        cutoff = (
            select(passed_all.c.score)
            .order_by(passed_all.c.score.desc())
            .offset(bindparam("cutoff_offset", type_=Integer))
            .limit(1)
            .scalar_subquery()
        )
        rank = case(
            (
                passed_all.c.score >= func.coalesce(cutoff, -1),
                backend.rank(passed_all.c.id, words("rank_query")),
            ),
            else_=literal_column("0.0"),
        )
    passed = select(passed_all, rank.label("rank")).subquery("passed")
    order = _order(passed, "relevance" if relevance else query.sort)
    page = (
        select(passed.c.id, func.row_number().over(order_by=order).label("position"))
        .order_by(*order)
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
        .subquery()
    )
    parts = [
        select(_kind("_page"), cast(page.c.id, String), page.c.position),
        select(_kind("_total"), cast(null(), String), func.count()).select_from(passed_all),
    ]
    for facet in registered:
        counted = facet.counts(*source_for(facet.name), query.selections.get(facet.name))
        for counts in counted if isinstance(counted, list) else [counted]:
            columns = list(counts.subquery().c)
            parts.append(select(_kind(facet.name), cast(columns[0], String), columns[1]))
    return union_all(*parts)


def _failing_at_most_one(flags: list[Any]) -> list[Any]:
    """A condition keeping the documents that fail at most one of the selected facets' flags
    (none when fewer than two are selected): a document failing two is in no count."""
    if len(flags) < 2:
        return []
    failures = [case((flag, 0), else_=1) for flag in flags]
    return [sum(failures[1:], failures[0]) <= 1]


def _kind(name: str) -> Any:
    # facet names are code (see register_facet), never user input
    return literal_column(f"'{name}'", String).label("kind")


def _order(candidates: Any, sort: str) -> list[Any]:
    c = candidates.c
    if sort == "relevance":
        return [c.score.desc(), c.rank.desc(), c.updated_at.desc(), c.title_key, c.id]
    if sort == "patients":
        return [func.coalesce(c.patients, -1).desc(), c.title_key, c.id]
    if sort == "title":
        return [c.title_key, c.id]
    return [c.updated_at.desc(), c.title_key, c.id]  # updated; relevance without a query


def _empty_facets(registered: list[Facet], query: SearchQuery) -> dict[str, list[FacetValue]]:
    return {f.name: f.values([], query.selections.get(f.name)) for f in registered}
