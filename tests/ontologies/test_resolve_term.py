"""resolve_term: what a form's typed text names — a CURIE, one term's label or synonym, or a
422 naming the field."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.policies import SYSTEM
from ontologies import services
from tests.ontologies.conftest import load_bytes, tiny_ttl


def resolve(app, typed, **options):
    with app.app_context():
        return services.resolve_term(SYSTEM, typed, **options)


@pytest.mark.parametrize(
    "typed",
    ["NCIT:C3171", "ncit:C3171", "http://purl.obolibrary.org/obo/NCIT_C3171"],
)
def test_a_curie_or_iri_of_a_loaded_term_is_that_term(app, tiny, typed):
    assert resolve(app, typed) == "NCIT:C3171"


@pytest.mark.parametrize(
    "typed", ["Acute Myeloid Leukemia", "acute myeloid leukaemia", " AML ", "apl"]
)
def test_a_label_synonym_or_abbreviation_names_its_term(app, tiny, typed):
    expected = "NCIT:C3182" if typed == "apl" else "NCIT:C3171"
    assert resolve(app, typed) == expected


@pytest.mark.parametrize("typed", ["Acute Myeloid", "Leukemia of some kind", "NCIT:C0000001"])
def test_anything_else_is_refused_naming_the_field(app, tiny, typed):
    with pytest.raises(InvalidInput) as refused:
        resolve(app, typed, field="disease_add", what="disease", example="NCIT:C3171")
    (message,) = refused.value.errors["disease_add"]
    assert message.startswith(f"No disease is called “{typed}”.")
    assert "(e.g. NCIT:C3171)" in message


def test_a_name_two_terms_share_is_refused_with_both(app):
    shared = (
        'obo:NCIT_C7777 a owl:Class ; rdfs:label "Myeloid Sarcoma"@en ; '
        'oboInOwl:hasExactSynonym "Acute Myeloid Leukaemia" .'
    )
    load_bytes(app, tiny_ttl(extra=shared), "tiny.ttl", prefix="TINY")
    with pytest.raises(InvalidInput) as refused:
        resolve(app, "Acute Myeloid Leukaemia", field="term_add")
    (message,) = refused.value.errors["term_add"]
    assert "NCIT:C3171" in message and "NCIT:C7777" in message
    # a label is one term's even where another term has it as a synonym
    assert resolve(app, "Myeloid Sarcoma") == "NCIT:C7777"


def test_the_ontologies_are_tried_in_turn(app, tiny):
    with pytest.raises(InvalidInput):
        resolve(app, "AML", ontology="HV")
    assert resolve(app, "AML", ontology=("HV", None)) == "NCIT:C3171"
    assert resolve(app, "AML", ontology=("TINY",)) == "NCIT:C3171"
