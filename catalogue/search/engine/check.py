"""Check mode (``SEARCH_ENGINE_CHECK``, on in the tests): every search is answered by the engine
*and* by the SQL statement, and fails when they disagree on anything a user sees:

- the total;
- every facet's values (value, label, count, parents, selected, in order), each built by the
  facet from its own rows (:meth:`~catalogue.search.facets.Facet.values`);
- the page. For the sorts by date, title and patients the same ids in the same order. For
  relevance the *points* (the sum of the query's :class:`~.base.Score` clauses that hold,
  computed here from the documents themselves, :func:`holds`) must be the same at every
  position of the page; documents of equal points may come in another order, as each engine
  breaks their ties by its own text rank (BM25 here, ``ts_rank`` on PostgreSQL, none on
  SQLite) — so a group of equal points must be the same *set* of documents unless it reaches
  past either end of the page (where the engines may have picked different members of it).
  Every document of either page must hold the query's filter and selected facets.

:func:`holds` is also the clause language's reference meaning, on a document's fields.
"""

from __future__ import annotations

from typing import Any

from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    Clause,
    EngineDocument,
    EngineQuery,
    Everything,
    Match,
    Not,
    Range,
    Terms,
)
from catalogue.search.engine.documents import documents


def holds(clause: Clause, document: EngineDocument) -> bool:
    """Whether ``clause`` holds for ``document`` (what every engine must answer)."""
    fields = document.fields
    if isinstance(clause, Match):
        present = set(str(fields.get(clause.field) or "").split())
        return any(k in present for k in clause.keys)
    if isinstance(clause, Terms):
        value = fields.get(clause.field)
        values = [value] if isinstance(value, str) else list(value or [])
        return any(v in values for v in clause.values)
    if isinstance(clause, Range):
        number = fields.get(clause.field)
        if number is None:
            return False
        return (clause.low is None or number >= clause.low) and (
            clause.high is None or number <= clause.high
        )
    if isinstance(clause, AllOf):
        return all(holds(c, document) for c in clause.clauses)
    if isinstance(clause, AnyOf):
        return any(holds(c, document) for c in clause.clauses)
    if isinstance(clause, Not):
        return not holds(clause.clause, document)
    if isinstance(clause, Everything):
        return True
    raise TypeError(f"not a clause: {clause!r}")


def points(query: EngineQuery, document: EngineDocument) -> float:
    return sum(s.points for s in query.scores if holds(s.clause, document))


def compare(plan: Any, question: EngineQuery, engine: Any, statement: Any) -> None:
    """Raise AssertionError naming the first difference between the engine's answer and the
    statement's (both :class:`~catalogue.search.services.Found`)."""
    where = f"search {plan.query!r}"
    if engine.total != statement.total:
        raise AssertionError(
            f"{where}: the engine finds {engine.total} hits, the SQL statement {statement.total}"
        )
    selections = plan.query.selections
    for facet in plan.registered:
        selection = selections.get(facet.name)
        mine = facet.values(engine.rows.get(facet.name, []), selection)
        theirs = facet.values(statement.rows.get(facet.name, []), selection)
        if mine != theirs:
            raise AssertionError(
                f"{where}: facet {facet.name} differs: engine {mine!r}, SQL {theirs!r}"
            )
    if question.sort != "relevance":
        if engine.ids != statement.ids:
            raise AssertionError(
                f"{where}: the page differs (sort {question.sort}): engine {engine.ids}, "
                f"SQL {statement.ids}"
            )
        return
    _compare_relevance(where, question, engine.ids, statement.ids, engine.total)


def _compare_relevance(
    where: str, question: EngineQuery, mine: list[int], theirs: list[int], total: int
) -> None:
    if len(mine) != len(theirs):
        raise AssertionError(f"{where}: the page has {len(mine)} hits, in SQL {len(theirs)}")
    found = {d.id: d for d in documents([*mine, *theirs])}
    wanted = AllOf((question.filter, *(c for _n, c in question.facets)))
    for document_id in {*mine, *theirs}:
        document = found.get(document_id)
        if document is None or not holds(wanted, document):
            raise AssertionError(f"{where}: document {document_id} does not match the query")
    mine_points = [points(question, found[i]) for i in mine]
    their_points = [points(question, found[i]) for i in theirs]
    if mine_points != their_points:
        ours = list(zip(mine, mine_points, strict=True))
        statement = list(zip(theirs, their_points, strict=True))
        raise AssertionError(
            f"{where}: the points along the page differ: engine {ours}, SQL {statement}"
        )
    if not mine_points:
        return
    # a group of equal points may go on before the page's first hit or after its last
    cut = set()
    if question.offset > 0:
        cut.add(mine_points[0])
    if question.offset + len(mine) < total:
        cut.add(mine_points[-1])
    for value in set(mine_points) - cut:
        a = {i for i, p in zip(mine, mine_points, strict=True) if p == value}
        b = {i for i, p in zip(theirs, their_points, strict=True) if p == value}
        if a != b:
            raise AssertionError(
                f"{where}: the hits of {value} points differ: engine {sorted(a)}, SQL {sorted(b)}"
            )
