"""The disease facet's counts follow the hierarchy as it is now: what the worker remembers of
it is left behind when an ontology is loaded, here or by another worker."""

from __future__ import annotations

from sqlalchemy import delete, update

from catalogue.search.facets import DiseaseFacet
from core.db import get_session
from ontologies.models import Ontology, TermClosure, TermEdge

AML, APL, ROOT = "NCIT:C3171", "NCIT:C3182", "NCIT:C27134"


def _counts(rows: list[tuple[str, int]]) -> dict[str, int]:
    return {v.value: v.count for v in DiseaseFacet().values(rows, None)}


def test_a_dataset_counts_once_under_each_term_above_its_tags(app, tiny):
    with app.app_context():
        # two tags below AML count once for AML and once for the root
        assert _counts([(f" {APL} {AML} ", 3), (f" {APL} ", 2)]) == {APL: 5, AML: 5, ROOT: 5}


def test_a_new_hierarchy_loaded_by_another_worker_is_counted_on_the_next_request(app, tiny):
    with app.app_context():
        assert _counts([(f" {APL} ", 2)]) == {APL: 2, AML: 2, ROOT: 2}
    with app.app_context():
        # another worker's load moved APL from below AML to right below the root
        session = get_session()
        session.execute(
            delete(TermClosure).where(
                TermClosure.descendant_curie == APL, TermClosure.ancestor_curie == AML
            )
        )
        session.execute(
            update(TermEdge).where(TermEdge.child_curie == APL).values(parent_curie=ROOT)
        )
        session.execute(update(Ontology).values(term_count=Ontology.term_count + 1))
        session.commit()
    with app.app_context():  # the next request
        assert _counts([(f" {APL} ", 2)]) == {APL: 2, ROOT: 2}
