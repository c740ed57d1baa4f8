"""The bundled HARMONY core-variable scheme (ontologies/data/harmony-variables.ttl) is well formed.

The file is written by hand, so these tests check what a reviewer would otherwise have to check by
eye: the SKOS structure the loader relies on, value types, UCUM units, and cross-references whose
format and check digits can be verified offline. That a code means what the concept means cannot
be tested here; the file only holds codes that were checked against their source.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from ontologies.identifiers import compress

VARIABLES_FILE = (
    Path(__file__).resolve().parents[2] / "ontologies" / "data" / "harmony-variables.ttl"
)
SCHEME = URIRef("https://w3id.org/harmony/hv/")
HV_IRI = re.compile(r"^https://w3id\.org/harmony/hv/HV_(\d{7})$")
HVV = Namespace("https://w3id.org/harmony/vocab#")
OIO = Namespace("http://www.geneontology.org/formats/oboInOwl#")

VALUE_TYPES = {"integer", "decimal", "categorical", "boolean", "date", "datetime", "text"}
REQUIRED_ABBREVIATIONS = {
    "Hb",
    "WBC",
    "ANC",
    "PLT",
    "LDH",
    "β2M",
    "B2M",
    "FLT3-ITD",
    "ECOG PS",
    "OS",
    "EFS",
    "PFS",
    "NRM",
    "MRD",
    "CR",
    "CRi",
    "PR",
    "ISS",
    "R-ISS",
    "IPSS-R",
    "IPSS-M",
    "IPI",
    "CLL-IPI",
    "FLC",
}
GROUP_LABELS = {
    "Demographics",
    "Diagnosis",
    "Blood counts and chemistry",
    "Cytogenetics",
    "Molecular markers",
    "Scores and stages",
    "Treatment",
    "Response",
    "Outcomes",
}
LOINC_XREF = re.compile(r"^LOINC:(\d{1,7})-(\d)$")
NCIT_XREF = re.compile(r"^NCIT:C\d+$")
MATCH_IRI = {
    "LOINC": re.compile(r"^https://loinc\.org/\d{1,7}-\d/$"),
    "NCIT": re.compile(r"^http://purl\.obolibrary\.org/obo/NCIT_C\d+$"),
}


# --- helpers ------------------------------------------------------------------------------------


@cache
def graph() -> Graph:
    g = Graph()
    g.parse(VARIABLES_FILE, format="turtle")
    return g


def concepts() -> list[URIRef]:
    return sorted(s for s in graph().subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef))


def is_group(concept: URIRef) -> bool:
    """Groups organise the variables; only variables carry a value type."""
    return graph().value(concept, HVV.valueType) is None


def variables() -> list[URIRef]:
    return [c for c in concepts() if not is_group(c)]


def groups() -> list[URIRef]:
    return [c for c in concepts() if is_group(c)]


def label(concept: URIRef) -> str:
    return str(graph().value(concept, SKOS.prefLabel))


def broader(concept: URIRef) -> set[URIRef]:
    return {o for o in graph().objects(concept, SKOS.broader) if isinstance(o, URIRef)}


def loinc_check_digit(code: str) -> int:
    """The Mod 10 check digit of a LOINC code's number part (LOINC Users' Guide, appendix).

    Counting from the right, the digits in odd positions form a number that is doubled; the
    digits in even positions are written in front of the product; the check digit is what the
    sum of all those digits needs to reach the next multiple of ten. It catches any single
    mistyped digit and most swaps of neighbouring digits (not 09 <-> 90).
    """
    digits = code[::-1]
    odd = "".join(reversed(digits[0::2]))
    even = "".join(reversed(digits[1::2]))
    total = sum(int(d) for d in even + str(int(odd) * 2))
    return (10 - total % 10) % 10


def loinc_is_valid(xref: str) -> bool:
    match = LOINC_XREF.match(xref)
    return bool(match) and loinc_check_digit(match.group(1)) == int(match.group(2))


@cache
def _ucum_parser():
    from ucumvert import get_ucum_parser

    return get_ucum_parser()


def is_ucum(unit: str) -> bool:
    """A unit is valid when ucumvert's grammar of the UCUM specification parses it: a real check of
    the syntax (prefixes, 10*n powers, ``/``, ``.``, exponents, brackets) and of the atoms."""
    if not unit or unit != unit.strip() or " " in unit:
        return False
    try:
        _ucum_parser().parse(unit)
    except Exception:  # lark raises several error types for text that is not UCUM
        return False
    return True


# --- the checkers themselves --------------------------------------------------------------------


@pytest.mark.parametrize(
    "xref", ["LOINC:718-7", "LOINC:6690-2", "LOINC:777-3", "LOINC:2532-0", "LOINC:1952-1"]
)
def test_loinc_check_digit_accepts_known_codes(xref):
    assert loinc_is_valid(xref)


@pytest.mark.parametrize(
    "xref", ["LOINC:718-6", "LOINC:6960-2", "LOINC:777-4", "LOINC:2523-0", "LOINC:7187", "718-7"]
)
def test_loinc_check_digit_rejects_mistyped_codes(xref):
    assert not loinc_is_valid(xref)


@pytest.mark.parametrize("unit", ["g/dL", "10*9/L", "%", "umol/L", "mg/(24.h)", "kg/m2", "mo"])
def test_ucum_check_accepts_ucum(unit):
    assert is_ucum(unit)


@pytest.mark.parametrize("unit", ["grams per litre", "furlongs", "x10^9/l ", "", "g/dL "])
def test_ucum_check_rejects_other_text(unit):
    assert not is_ucum(unit)


# --- the scheme ---------------------------------------------------------------------------------


def test_scheme_header_names_title_version_licence_and_creator():
    g = graph()
    assert (SCHEME, RDF.type, SKOS.ConceptScheme) in g
    assert str(g.value(SCHEME, DCTERMS.title)) == (
        "HARMONY core variables for haematological malignancy research"
    )
    assert g.value(SCHEME, DCTERMS.description)
    assert str(g.value(SCHEME, OWL.versionInfo)) == "2025.1"
    assert g.value(SCHEME, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert str(g.value(SCHEME, DCTERMS.creator)) == "HARMONY Alliance"


def test_annotation_properties_are_declared():
    g = graph()
    for prop in (HVV.abbreviation, HVV.valueType, HVV.unit):
        assert (prop, RDF.type, OWL.AnnotationProperty) in g, prop
        assert g.value(prop, SKOS.prefLabel) is None
        assert g.value(prop, URIRef("http://www.w3.org/2000/01/rdf-schema#label")), prop
        assert g.value(prop, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")), prop
    assert (
        HVV.abbreviation,
        URIRef("http://www.w3.org/2000/01/rdf-schema#subPropertyOf"),
        SKOS.altLabel,
    ) in g


def test_there_are_at_least_120_variables_besides_the_groups():
    assert len(variables()) >= 120
    assert {label(g) for g in groups()} >= GROUP_LABELS


def test_every_concept_is_a_well_formed_member_of_the_scheme():
    g = graph()
    numbers = []
    for concept in concepts():
        match = HV_IRI.match(str(concept))
        assert match, concept
        numbers.append(int(match.group(1)))
        assert (concept, SKOS.inScheme, SCHEME) in g, concept
        pref = list(g.objects(concept, SKOS.prefLabel))
        assert len(pref) == 1 and isinstance(pref[0], Literal), concept
        assert pref[0].language == "en" and str(pref[0]).strip() == str(pref[0]) != "", concept
        notation = [str(n) for n in g.objects(concept, SKOS.notation)]
        assert notation == [compress(str(concept))] == [f"HV:{match.group(1)}"], concept
        definition = list(g.objects(concept, SKOS.definition))
        assert len(definition) == 1 and definition[0].language == "en", concept
        for alt in g.objects(concept, SKOS.altLabel):
            assert alt.language == "en" and str(alt).strip(), (concept, alt)
    assert sorted(numbers) == list(range(1, len(numbers) + 1)), "HV numbers have gaps"


def test_every_variable_has_one_value_type_from_the_list_and_groups_have_none():
    g = graph()
    for concept in variables():
        types = [str(t) for t in g.objects(concept, HVV.valueType)]
        assert len(types) == 1 and types[0] in VALUE_TYPES, (label(concept), types)
    for concept in groups():
        assert g.value(concept, HVV.unit) is None, label(concept)
        assert any(True for _ in g.subjects(SKOS.broader, concept)), f"{label(concept)} is empty"


def test_labels_are_unique():
    seen: dict[str, URIRef] = {}
    for concept in concepts():
        key = label(concept).casefold()
        assert key not in seen, f"{label(concept)!r} names {seen.get(key)} and {concept}"
        seen[key] = concept


def test_no_label_synonym_or_abbreviation_names_two_concepts():
    g = graph()
    owners: dict[str, set[URIRef]] = defaultdict(set)
    for concept in concepts():
        for prop in (SKOS.prefLabel, SKOS.altLabel, HVV.abbreviation):
            for name in g.objects(concept, prop):
                owners[str(name).casefold()].add(concept)
    shared = {name: sorted(map(label, c)) for name, c in owners.items() if len(c) > 1}
    assert not shared


def test_the_usual_abbreviations_are_there():
    found = {str(a) for a in graph().objects(None, HVV.abbreviation)}
    assert found >= REQUIRED_ABBREVIATIONS, REQUIRED_ABBREVIATIONS - found
    hb = next(c for c in concepts() if Literal("Hb") in graph().objects(c, HVV.abbreviation))
    assert label(hb) == "Haemoglobin"
    assert Literal("Hemoglobin", lang="en") in graph().objects(hb, SKOS.altLabel)


# --- hierarchy ----------------------------------------------------------------------------------


def test_every_broader_concept_is_in_the_file():
    known = set(concepts())
    for concept in concepts():
        for parent in graph().objects(concept, SKOS.broader):
            assert parent in known, (label(concept), parent)
            assert parent != concept


def test_the_hierarchy_has_no_cycles():
    state: dict[URIRef, str] = {}

    def visit(concept: URIRef, path: tuple[str, ...]) -> None:
        if state.get(concept) == "done":
            return
        assert state.get(concept) != "open", " -> ".join((*path, label(concept)))
        state[concept] = "open"
        for parent in broader(concept):
            visit(parent, (*path, label(concept)))
        state[concept] = "done"

    for concept in concepts():
        visit(concept, ())


def test_top_concepts_are_the_groups_and_every_concept_reaches_one():
    g = graph()
    top_of = set(g.subjects(SKOS.topConceptOf, SCHEME))
    has_top = set(g.objects(SCHEME, SKOS.hasTopConcept))
    assert top_of == has_top
    assert {label(c) for c in top_of} == GROUP_LABELS
    roots = {c for c in concepts() if not broader(c)}
    assert roots == top_of, "a concept without broader must be a top concept and vice versa"
    assert all(is_group(c) for c in top_of)
    for concept in concepts():
        seen, todo = set(), [concept]
        while todo:
            current = todo.pop()
            seen.add(current)
            todo.extend(broader(current) - seen)
        assert seen & top_of, f"{label(concept)} reaches no top concept"


def test_some_variables_belong_to_two_groups():
    assert any(len(broader(c)) > 1 for c in variables())


# --- units --------------------------------------------------------------------------------------


def test_every_unit_is_ucum_and_belongs_to_a_numeric_variable():
    g = graph()
    units = {}
    for concept in concepts():
        values = [str(u) for u in g.objects(concept, HVV.unit)]
        assert len(values) <= 1, label(concept)
        if values:
            units[label(concept)] = values[0]
            assert str(g.value(concept, HVV.valueType)) in {"integer", "decimal"}, label(concept)
    bad = {name: unit for name, unit in units.items() if not is_ucum(unit)}
    assert not bad
    assert units["Haemoglobin"] == "g/dL"
    assert units["White blood cell count"] == "10*9/L"


# --- cross-references ---------------------------------------------------------------------------


def xrefs() -> dict[URIRef, set[str]]:
    return {c: {str(x) for x in graph().objects(c, OIO.hasDbXref)} for c in concepts()}


def test_every_loinc_xref_has_the_right_format_and_check_digit():
    codes = [x for found in xrefs().values() for x in found if x.startswith("LOINC:")]
    assert "LOINC:718-7" in codes
    bad = [x for x in codes if not loinc_is_valid(x)]
    assert not bad


def test_every_ncit_xref_has_the_right_format():
    codes = [x for found in xrefs().values() for x in found if x.startswith("NCIT:")]
    assert codes
    assert all(NCIT_XREF.match(x) for x in codes), codes


def test_xrefs_are_loinc_or_ncit_only():
    for concept, found in xrefs().items():
        assert all(x.split(":", 1)[0] in {"LOINC", "NCIT"} for x in found), label(concept)


def test_match_iris_agree_with_the_xref_strings():
    g = graph()
    for concept, found in xrefs().items():
        exact = {str(o) for o in g.objects(concept, SKOS.exactMatch)}
        close = {str(o) for o in g.objects(concept, SKOS.closeMatch)}
        assert not exact & close, label(concept)
        for iri in exact | close:
            prefix = compress(iri).split(":", 1)[0]
            assert MATCH_IRI[prefix].match(iri), (label(concept), iri)
        assert {compress(iri) for iri in exact | close} == found, label(concept)


def test_group_concepts_carry_no_cross_references():
    for concept in groups():
        assert not xrefs()[concept], label(concept)
