"""A worker-local cache of what search pages ask of the term store on every request: labels,
parents, ancestors and the top terms of a vocabulary.

Terms change only when an ontology is loaded, and every load stamps its ontology
(``loaded_at``, ``term_count``). The cache checks the stamp of all ontologies (one small
statement) once per database session — a request, or a command — and forgets everything when
it changed, so that a load by another worker is seen on the next request; a load in this
worker calls :func:`forget` itself. Entries
are filled lazily for the terms asked about, with one statement per kind for the missing ones.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from functools import cache
from typing import Any

from sqlalchemy import func, select

from core.db import get_session
from ontologies.models import Ontology, Term, TermClosure, TermEdge

#: forget everything beyond this many cached terms (a 200,000-term ontology browsed at random)
MAX_ENTRIES = 100_000

_lock = threading.Lock()
_stamp: Any = None
_forgotten = 0  # how many times everything was forgotten (see stamp)
_terms: dict[str, tuple[str, str]] = {}  # curie → (label, ontology prefix)
_narrower: dict[str, int] = {}
_parents: dict[str, tuple[str, ...]] = {}
_children: dict[str, tuple[str, ...]] = {}
_ancestors: dict[str, frozenset[str]] = {}
_roots: dict[str, tuple[str, ...]] = {}


def _fresh() -> None:
    """Forget everything when an ontology was loaded since the cache was filled (checked once
    per database session)."""
    global _stamp, _forgotten
    session = get_session()
    if "hierarchy_stamp" in session.info:
        return
    stamp = tuple(session.execute(_stamp_statement()).one())
    with _lock:
        if (
            stamp != _stamp
            or len(_terms) + len(_parents) + len(_children) + len(_ancestors) > MAX_ENTRIES
        ):
            _terms.clear()
            _narrower.clear()
            _parents.clear()
            _children.clear()
            _ancestors.clear()
            _roots.clear()
            _stamp = stamp
            _forgotten += 1
        session.info["hierarchy_stamp"] = (stamp, _forgotten)


@cache
def _stamp_statement() -> Any:
    """The stamp's statement, built once with the table's columns (the first statement of
    every search)."""
    ontologies: Any = Ontology.__table__
    return select(
        func.count(ontologies.c.prefix),
        func.max(ontologies.c.loaded_at),
        func.sum(ontologies.c.term_count),
    )


def forget() -> None:
    """Drop every cached entry (tests; after changes that bypass the loaders)."""
    global _stamp, _forgotten
    with _lock:
        _terms.clear()
        _narrower.clear()
        _parents.clear()
        _children.clear()
        _ancestors.clear()
        _roots.clear()
        _stamp = None
        _forgotten += 1
    get_session().info.pop("hierarchy_stamp", None)


def stamp() -> Hashable:
    """The stamp of the loaded ontologies as this database session read it (once), with a
    count of :func:`forget` calls: a key for what other modules derive from the term store and
    keep, so that a load, or a forget, leaves theirs behind too. It is this session's reading,
    not the worker's latest, so that what a session derives is never filed under a newer stamp
    than the data it read."""
    _fresh()
    return get_session().info["hierarchy_stamp"]


def terms(curies: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``(label, ontology prefix)`` of each known term among ``curies`` (unknown ones are left
    out)."""
    _fresh()
    wanted = set(curies)
    missing = sorted(wanted - _terms.keys())
    if missing:
        rows = get_session().execute(
            select(Term.curie, Term.label, Term.ontology_prefix).where(Term.curie.in_(missing))
        )
        found = {c: (label or c, prefix) for c, label, prefix in rows}
        with _lock:
            _terms.update(found)
    return {c: _terms[c] for c in wanted if c in _terms}


def labels(curies: Iterable[str]) -> dict[str, str]:
    """The label of each known term among ``curies`` (unknown ones are left out)."""
    return {c: label for c, (label, _prefix) in terms(curies).items()}


def narrower_counts(curies: Iterable[str]) -> dict[str, int]:
    """How many terms lie below each of ``curies`` (0 for a leaf or an unknown term)."""
    _fresh()
    wanted = set(curies)
    missing = sorted(wanted - _narrower.keys())
    if missing:
        found = dict.fromkeys(missing, 0)
        for curie, count in get_session().execute(
            select(TermClosure.ancestor_curie, func.count())
            .where(TermClosure.ancestor_curie.in_(missing), TermClosure.depth > 0)
            .group_by(TermClosure.ancestor_curie)
        ):
            found[curie] = count
        with _lock:
            _narrower.update(found)
    return {c: _narrower[c] for c in wanted}


def parents(curies: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every direct parent of each of ``curies`` (an empty tuple for a root or an unknown
    term)."""
    _fresh()
    wanted = set(curies)
    missing = sorted(wanted - _parents.keys())
    if missing:
        found: dict[str, list[str]] = {c: [] for c in missing}
        for child, parent in get_session().execute(
            select(TermEdge.child_curie, TermEdge.parent_curie).where(
                TermEdge.child_curie.in_(missing)
            )
        ):
            found[child].append(parent)
        with _lock:
            _parents.update({c: tuple(sorted(ps)) for c, ps in found.items()})
    return {c: _parents[c] for c in wanted}


def children(curies: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every direct child of each of ``curies`` (an empty tuple for a leaf or an unknown
    term)."""
    _fresh()
    wanted = set(curies)
    missing = sorted(wanted - _children.keys())
    if missing:
        found: dict[str, list[str]] = {c: [] for c in missing}
        for parent, child in get_session().execute(
            select(TermEdge.parent_curie, TermEdge.child_curie).where(
                TermEdge.parent_curie.in_(missing)
            )
        ):
            found[parent].append(child)
        with _lock:
            _children.update({c: tuple(sorted(cs)) for c, cs in found.items()})
    return {c: _children[c] for c in wanted}


def ancestors(curies: Iterable[str]) -> dict[str, frozenset[str]]:
    """The closure's ancestors of each of ``curies`` (as the closure table holds them: the
    term itself at depth 0 included); an empty set for a term the store does not know."""
    _fresh()
    wanted = set(curies)
    missing = sorted(wanted - _ancestors.keys())
    if missing:
        found: dict[str, set[str]] = {c: set() for c in missing}
        for descendant, ancestor in get_session().execute(
            select(TermClosure.descendant_curie, TermClosure.ancestor_curie).where(
                TermClosure.descendant_curie.in_(missing)
            )
        ):
            found[descendant].add(ancestor)
        with _lock:
            _ancestors.update({c: frozenset(a) for c, a in found.items()})
    return {c: _ancestors[c] for c in wanted}


def roots(prefix: str) -> tuple[str, ...]:
    """The current terms of ontology ``prefix`` that have no parent."""
    _fresh()
    if prefix not in _roots:
        found = tuple(
            get_session().scalars(
                select(Term.curie)
                .where(
                    Term.ontology_prefix == prefix,
                    Term.is_obsolete.is_(False),
                    ~select(TermEdge.child_curie)
                    .where(TermEdge.child_curie == Term.curie)
                    .exists(),
                )
                .order_by(Term.curie)
            )
        )
        with _lock:
            _roots[prefix] = found
    return _roots[prefix]
