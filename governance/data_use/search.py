"""The ``data_use`` search facet: datasets whose conditions use a DUO term (a permission or a
modifier), with counts; several terms are alternatives (OR), and the facet combines with the
others by AND like every facet.

The condition is an ``EXISTS`` on :class:`~governance.data_use.models.DataUseTerm` keyed by
the search document's dataset, with the selected terms as one expanding bound parameter
(:class:`~catalogue.search.facets.ListFacet`): one cached statement serves every selection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select

from catalogue.search import facets
from catalogue.search.facets import FacetValue, ListFacet
from governance.data_use import vocabulary
from governance.data_use.models import DataUseTerm

#: the documents as the counts join them (made once: an alias builds its columns anew)


class DataUseFacet(ListFacet):
    name, label = "data_use", "Data-use conditions"

    def check(self, values: list[str]) -> list[str]:
        curies = []
        for value in values:
            curie = vocabulary.duo_curie(value)
            if curie is None or curie not in vocabulary.TERMS:
                raise self.invalid(
                    f"“{value}” is not a DUO permission or modifier the catalogue knows "
                    "(e.g. DUO:0000007 for DS, DUO:0000021 for IRB)."
                )
            curies.append(curie)
        return list(dict.fromkeys(curies))

    def condition(self, document: Any, selection: list[str]) -> Any:
        return exists(
            select(DataUseTerm.dataset_id).where(
                DataUseTerm.dataset_id == document.c.dataset_id,
                DataUseTerm.term.in_(self.selected()),
            )
        )

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        return (
            select(DataUseTerm.term, func.count())
            .select_from(candidates)
            .join(DataUseTerm, DataUseTerm.dataset_id == candidates.c.dataset_id)
            .where(where)
            .group_by(DataUseTerm.term)
        )

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = dict(rows)
        chosen = set(selection or [])
        return [
            FacetValue(curie, duo.title, counted.get(curie, 0), selected=curie in chosen)
            for curie, duo in vocabulary.TERMS.items()
            if counted.get(curie) or curie in chosen
        ]


FACET = DataUseFacet()


def register() -> None:
    """Add the facet to the search (once, however many applications are made)."""
    if not any(f.name == FACET.name for f in facets.facets()):
        facets.register_facet(FACET)
