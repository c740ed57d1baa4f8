"""The worker-local cache of labels and hierarchy that search pages read: a new ontology
version is seen at once, in this worker and in another one."""

from __future__ import annotations

from sqlalchemy import update

from core.db import get_session
from ontologies import hierarchy_cache
from ontologies.models import Ontology, Term, TermEdge
from tests.ontologies.conftest import load_bytes, tiny_ttl

AML, APL, TRM, ROOT = "NCIT:C3171", "NCIT:C3182", "NCIT:C9999", "NCIT:C27134"


def test_labels_parents_ancestors_and_roots(app, tiny):
    with app.app_context():
        assert hierarchy_cache.labels([AML, "NCIT:C0"]) == {AML: "Acute Myeloid Leukemia"}
        assert hierarchy_cache.parents([TRM, ROOT, "NCIT:C0"]) == {
            TRM: ("NCIT:C3171", "NCIT:C3247"),
            ROOT: (),
            "NCIT:C0": (),
        }
        assert hierarchy_cache.ancestors([APL])[APL] == {APL, AML, ROOT}
        assert hierarchy_cache.ancestors(["NCIT:C0"])["NCIT:C0"] == frozenset()
        assert hierarchy_cache.roots("TINY") == (ROOT,)
        assert hierarchy_cache.terms([AML, "NCIT:C0"]) == {AML: ("Acute Myeloid Leukemia", "TINY")}
        # APL below AML; TRM below AML and MDS; AML, APL, TRM and MDS below the root
        assert hierarchy_cache.narrower_counts([AML, APL, "NCIT:C0"]) == {
            AML: 2,
            APL: 0,
            "NCIT:C0": 0,
        }


def test_a_new_version_loaded_here_is_seen_at_once(app, tiny):
    with app.app_context():
        assert hierarchy_cache.labels([AML])[AML] == "Acute Myeloid Leukemia"
        load_bytes(app, tiny_ttl(version="2", aml_label="AML (renamed)"), "tiny.ttl", prefix="TINY")
        assert hierarchy_cache.labels([AML])[AML] == "AML (renamed)"


def test_a_load_by_another_worker_is_seen_on_the_next_request(app, tiny):
    with app.app_context():
        assert hierarchy_cache.parents([APL])[APL] == (AML,)
        assert hierarchy_cache.labels([APL])[APL] == "Acute Promyelocytic Leukemia"
    with app.app_context():
        # what another worker's load leaves in the database, without this worker's forget():
        # changed rows and a new stamp on the ontology
        session = get_session()
        session.execute(update(Term).where(Term.curie == APL).values(label="APL (changed)"))
        session.execute(
            update(TermEdge).where(TermEdge.child_curie == APL).values(parent_curie=ROOT)
        )
        session.execute(update(Ontology).values(term_count=Ontology.term_count + 1))
        session.commit()
    with app.app_context():  # the next request
        assert hierarchy_cache.labels([APL])[APL] == "APL (changed)"
        assert hierarchy_cache.parents([APL])[APL] == (ROOT,)


def test_children_and_a_new_version_of_them(app, tiny):
    with app.app_context():
        assert hierarchy_cache.children([AML, ROOT, TRM, "NCIT:C0"]) == {
            AML: (APL, TRM),
            ROOT: (AML, "NCIT:C3247"),
            TRM: (),
            "NCIT:C0": (),
        }
        load_bytes(
            app,
            tiny_ttl(
                version="2",
                extra='obo:NCIT_C99001 a owl:Class ; rdfs:label "X"@en ; '
                "rdfs:subClassOf obo:NCIT_C3171 .",
            ),
            "tiny.ttl",
            prefix="TINY",
        )
        assert hierarchy_cache.children([AML])[AML] == (APL, "NCIT:C99001", TRM)
