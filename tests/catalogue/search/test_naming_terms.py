"""What the words of a query name is remembered by each worker until an ontology is loaded:
a load, in this worker or in another one, is seen by the next search."""

from __future__ import annotations

from sqlalchemy import delete, update

from catalogue.search.query import interpret
from core.db import get_session
from ontologies.models import Ontology, TermName
from tests.ontologies.conftest import load_bytes, tiny_ttl

AML, TRM, RICHTER = "NCIT:C3171", "NCIT:C9999", "NCIT:C99001"
RICHTER_TTL = (
    'obo:NCIT_C99001 a owl:Class ; rdfs:label "Richter Transformation"@en ;\n'
    "    rdfs:subClassOf obo:NCIT_C27134 ."
)


def _named(q: str) -> list[str]:
    return [t.curie for t in interpret(q).terms]


def test_a_term_loaded_here_is_named_by_the_next_search(app, tiny):
    with app.app_context():
        assert _named("richter transformation") == []
        assert _named("richter transformation") == []  # asked again: remembered
        assert _named("AML") == [AML]
    load_bytes(app, tiny_ttl(version="2", extra=RICHTER_TTL), "tiny.ttl", prefix="TINY")
    with app.app_context():
        assert _named("richter transformation") == [RICHTER]
        assert _named("AML") == [AML]


def test_a_load_by_another_worker_is_seen_on_the_next_request(app, tiny):
    with app.app_context():
        assert _named("therapy-related myeloid neoplasm") == [TRM]
    with app.app_context():
        # what another worker's load leaves in the database, without this worker's forget():
        # the term's names gone, and a new stamp on the ontology
        session = get_session()
        session.execute(delete(TermName).where(TermName.term_curie == TRM))
        session.execute(update(Ontology).values(term_count=Ontology.term_count + 1))
        session.commit()
    with app.app_context():  # the next request
        assert _named("therapy-related myeloid neoplasm") == []


def test_each_search_gets_its_own_named_terms(app, tiny):
    with app.app_context():
        first = interpret("AML").terms[0]
        first.label = "changed by one caller"
        assert interpret("AML").terms[0].label == "Acute Myeloid Leukemia"
