"""Which of a list of terms a dataset version "has variables for".

A version covers a term T when one of its variables — or one of a variable's permissible
values — has an *accepted* mapping to T or to a term below T (the closure table answers "below"
in one indexed join), with a predicate that says the variable carries T's information:
``exactMatch``, ``closeMatch``, or ``broadMatch`` (the variable is narrower than the term, so a
variable mapped ``broadMatch`` to "Cytogenetics" covers "Cytogenetics"). ``narrowMatch`` (the
variable is broader: it may hold T among other things) and ``relatedMatch`` do not count.

Search (the ``term`` filter and ``/api/v1/search/variables``), the standard-variable-set
coverage and feasibility all ask this module, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, select

from catalogue.models import Mapping, MappingPredicate, MappingStatus, Variable
from core.db import get_session
from ontologies.models import TermClosure

COVERING_PREDICATES = (MappingPredicate.EXACT, MappingPredicate.CLOSE, MappingPredicate.BROAD)


def covering_rows(terms: Iterable[str]) -> Select[str, str, str]:
    """``(version_id, term, variable name)`` for every variable that covers one of ``terms``
    (CURIEs), possibly several rows per pair. Narrow it further with ``.where(…)`` on
    ``Variable.version_id``."""
    return (
        select(Variable.version_id, TermClosure.ancestor_curie, Variable.name)
        .select_from(TermClosure)
        .join(Mapping, Mapping.object_curie == TermClosure.descendant_curie)
        .join(Variable, Variable.id == Mapping.variable_id)
        .where(
            TermClosure.ancestor_curie.in_(list(dict.fromkeys(terms))),
            Mapping.status == MappingStatus.ACCEPTED,
            Mapping.predicate.in_(COVERING_PREDICATES),
        )
    )


@cache
def covering_rows_of_versions() -> Any:
    """``(version_id, term, variable name, variable id)``, each once, of the variables of a
    few versions (the parameter ``versions``) that cover one of ``terms`` (a parameter too):
    :func:`covering_rows` read from the variables' side: the versions' variables first (a
    materialised CTE), then their mappings and the closure. Left to itself, PostgreSQL may
    walk every mapping of a common term across the whole catalogue and keep the few that
    belong to these versions (seconds for a page of 25 datasets over a million variables).
    Built once, with the tables' columns: every page of search hits that names a term asks
    it."""
    variables: Any = Variable.__table__
    mappings: Any = Mapping.__table__
    closure: Any = TermClosure.__table__
    own = (
        select(variables.c.id, variables.c.version_id, variables.c.name)
        .where(variables.c.version_id.in_(bindparam("versions", expanding=True)))
        .cte("own_variables")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(
            own.c.version_id,
            closure.c.ancestor_curie.label("term"),
            own.c.name,
            own.c.id.label("variable_id"),
        )
        .select_from(own)
        .join(mappings, mappings.c.variable_id == own.c.id)
        .join(closure, closure.c.descendant_curie == mappings.c.object_curie)
        .where(
            closure.c.ancestor_curie.in_(bindparam("terms", expanding=True)),
            mappings.c.status == MappingStatus.ACCEPTED,
            mappings.c.predicate.in_(COVERING_PREDICATES),
        )
        .distinct()
    )


def covered_terms(
    terms: Iterable[str], version_ids: Iterable[str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """``{version_id: {term: [variable names …]}}`` of the versions that cover at least one of
    ``terms`` (all versions, or only ``version_ids``). Names come in alphabetical order, once."""
    query: Any
    values: dict[str, Any] = {}
    if version_ids is None:
        query = covering_rows(terms).distinct()
    else:
        query = covering_rows_of_versions()
        values = {"terms": list(dict.fromkeys(terms)), "versions": list(dict.fromkeys(version_ids))}
    found: dict[str, dict[str, set[str]]] = {}
    for row in get_session().execute(query, values):
        version_id, term, name = row[0], row[1], row[2]  # (and the variable's id, of versions)
        found.setdefault(version_id, {}).setdefault(term, set()).add(name)
    return {
        version: {term: sorted(names) for term, names in by_term.items()}
        for version, by_term in found.items()
    }


def covers_any(version_id_column: Any, terms: Iterable[str]) -> Any:
    """A SQL condition: the version in ``version_id_column`` covers at least one of ``terms``
    (for filters; OR within the list)."""
    wanted = list(dict.fromkeys(terms))
    return exists(
        select(1)
        .select_from(TermClosure)
        .join(Mapping, Mapping.object_curie == TermClosure.descendant_curie)
        .join(Variable, Variable.id == Mapping.variable_id)
        .where(
            and_(
                TermClosure.ancestor_curie.in_(wanted),
                Mapping.status == MappingStatus.ACCEPTED,
                Mapping.predicate.in_(COVERING_PREDICATES),
                Variable.version_id == version_id_column,
            )
        )
    )
