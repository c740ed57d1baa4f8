"""The bundled vocabularies load through our own loader and say what the issue asks of them."""

from __future__ import annotations

import pytest

from core.policies import SYSTEM
from ontologies import bundled, services
from ontologies.loaders import parse_file

DUO_CODES = {
    "GRU",
    "HMB",
    "DS",
    "POA",
    "NRES",
    "NPUNCU",
    "NPU",
    "NCU",
    "IRB",
    "GS",
    "MOR",
    "TS",
    "PUB",
    "COL",
    "RTN",
    "US",
    "PS",
    "IS",
    "RS",
    "NMDS",
    "GSO",
    "CC",
    "NPOA",
}


def parse_bundled(prefix: str):
    vocabulary = next(v for v in bundled.bundled_vocabularies() if v.prefix == prefix)
    with vocabulary.file.open("rb") as handle:
        return parse_file(handle, "turtle", prefix=prefix)


def abbreviations(parsed) -> set[str]:
    return {
        text
        for t in parsed.terms.values()
        for text, kind in t.synonyms
        if kind.value == "abbreviation"
    }


def test_manifest_names_source_and_licence_of_each_file():
    vocabularies = bundled.bundled_vocabularies()
    assert {v.prefix for v in vocabularies} == {"DUO", "HAEM", "HV"}
    for vocabulary in vocabularies:
        assert vocabulary.file.exists() and vocabulary.licence and vocabulary.source_url
        assert vocabulary.attribution


def test_duo_agrees_with_the_official_release(shared_dir):
    ours = parse_bundled("DUO")
    with (shared_dir / "ontologies" / "duo-2021-02-23.owl").open("rb") as handle:
        official = parse_file(handle, "xml")
    assert set(ours.terms) == set(official.terms)
    for curie, term in official.terms.items():
        assert ours.terms[curie].label == term.label, curie
        assert ours.terms[curie].parents == term.parents, curie
    assert abbreviations(ours) >= DUO_CODES


def test_disease_hierarchy_is_big_enough_and_knows_the_abbreviations():
    diseases = parse_bundled("HAEM")
    assert len(diseases.terms) >= 120
    assert {
        "AML",
        "MDS",
        "CMML",
        "CML",
        "B-ALL",
        "CLL",
        "DLBCL",
        "FL",
        "MCL",
        "MM",
        "MGUS",
        "cHL",
    } <= abbreviations(diseases)
    assert all(c.startswith("NCIT:C") for c in diseases.terms)


def test_core_variables_are_big_enough_and_typed():
    variables = parse_bundled("HV")
    typed = [t for t in variables.terms.values() if t.value_type]
    assert len(typed) >= 120
    assert {"Hb", "WBC", "ANC", "LDH", "FLT3-ITD"} <= abbreviations(variables)
    assert any(t.unit == "g/dL" for t in typed)
    assert any(x.startswith("LOINC:") for t in typed for x in t.xrefs)


def test_bundled_vocabularies_load_and_answer_questions(app):
    with app.app_context():
        reports = bundled.load_bundled(SYSTEM)
        assert {r.prefix: r.status for r in reports} == {
            "DUO": "loaded",
            "HAEM": "loaded",
            "HV": "loaded",
        }
        again = bundled.load_bundled(SYSTEM)
        assert {r.status for r in again} == {"unchanged"}
        aml = services.search_terms(SYSTEM, "AML", ontology="HAEM")[0].term
        assert aml.curie == "NCIT:C3171"
        assert services.is_below("NCIT:C3171", "NCIT:C27134")
        hb = services.search_terms(SYSTEM, "Hb", ontology="HV")[0].term
        assert "haemoglobin" in hb.label.lower() or "hemoglobin" in hb.label.lower()
        gru = services.search_terms(SYSTEM, "GRU", ontology="DUO")[0].term
        assert gru.curie == "DUO:0000042"


@pytest.mark.parametrize("q", ["myeloma", "Hodgkin", "myelodysplastic", "CLL"])
def test_disease_autocomplete_finds_the_common_names(app, q):
    with app.app_context():
        bundled.load_bundled(SYSTEM)
        hits = services.search_terms(SYSTEM, q, ontology="HAEM")
        assert hits and hits[0].match in {"exact_label", "exact_synonym", "prefix", "word_prefix"}


def test_labels_rank_before_synonyms_among_prefix_matches(app):
    with app.app_context():
        bundled.load_bundled(SYSTEM)
        hits = services.search_terms(SYSTEM, "myelo", limit=5)
        first = hits[0]
        assert first.match == "prefix"
        assert first.term.label.lower().startswith("myelo")  # a label, not a synonym
