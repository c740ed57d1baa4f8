"""Our bundled disease vocabulary (ontologies/data/haem-diseases.ttl): its shape on its own, and
its agreement with OncoTree, read from the shared reference folder.

Against OncoTree: every OncoTree node whose NCIt code is one of ours must name the same entity
as our term (OncoTree's name equals our label or one of our synonyms, compared loosely), and
wherever OncoTree holds two of our codes as ancestor and descendant, ours must too.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, Namespace

OURS = Path(__file__).resolve().parents[2] / "ontologies" / "data" / "haem-diseases.ttl"
SHARED = Path(
    os.environ.get("HARMONY_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared"
)
ONCOTREE = SHARED / "ontologies" / "oncotree-2025-10-03-myeloid-lymphoid.json"

OBO = "http://purl.obolibrary.org/obo/"
OIO = Namespace("http://www.geneontology.org/formats/oboInOwl#")
HV = Namespace("https://w3id.org/harmony/vocab#")
HEADER = URIRef("https://w3id.org/harmony/ontologies/haem-diseases.ttl")
CC_BY_4 = URIRef("https://creativecommons.org/licenses/by/4.0/")
ROOT = "C27134"  # Hematopoietic and Lymphoid Cell Neoplasm
MYELOID, LYMPHOID = "C9290", "C7065"

ISSUE_ABBREVIATIONS = (
    "AML",
    "APL",
    "MDS",
    "CMML",
    "CML",
    "PV",
    "ET",
    "PMF",
    "B-ALL",
    "T-ALL",
    "CLL",
    "SLL",
    "DLBCL",
    "FL",
    "MCL",
    "MZL",
    "MALT lymphoma",
    "BL",
    "WM",
    "HCL",
    "MM",
    "SMM",
    "MGUS",
    "PCL",
    "cHL",
    "NLPHL",
    "PTCL",
    "AITL",
    "ALCL",
    "MF",
    "ATLL",
    "ENKTL",
    "T-PLL",
    "JMML",
    "MPAL",
    "MPN",
)

# OncoTree ancestor -> descendant pairs (NCIt codes) that our hierarchy deliberately does not
# follow. OncoTree files therapy-related myeloid neoplasms (TMN), and with them therapy-related
# MDS, under its AML node, after the WHO 2016 chapter "AML and related neoplasms". Ours keeps
# is-a: t-MN is a myeloid neoplasm and t-MDS an MDS, neither is an AML (t-AML is below both).
DELIBERATE_DEVIATIONS = {
    ("C3171", "C27912"): "therapy-related myeloid neoplasm is not a kind of AML",
    ("C3171", "C27722"): "therapy-related MDS is not a kind of AML",
}

# Expected lower bound of our codes that OncoTree also uses; guards against silent drift.
MIN_CODES_IN_ONCOTREE = 150


@dataclass
class Term:
    code: str
    label: str
    parents: set[str] = field(default_factory=set)
    synonyms: set[str] = field(default_factory=set)  # exact, related and abbreviations
    abbreviations: set[str] = field(default_factory=set)
    xrefs: set[str] = field(default_factory=set)


@dataclass
class Node:
    code: str
    name: str
    nci: list[str]
    ancestors: list[str]  # OncoTree codes, root first


def normalise(name: str) -> str:
    """Lowercase, accents and British spellings folded, punctuation and spaces dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    for british, american in (
        ("leukaem", "leukem"),
        ("haem", "hem"),
        ("aemia", "emia"),
        ("tumour", "tumor"),
        ("centre", "center"),
        ("paediatric", "pediatric"),
        ("smouldering", "smoldering"),
    ):
        text = text.replace(british, american)
    return re.sub(r"[^a-z0-9]+", "", text)


@cache
def _graph() -> Graph:
    graph = Graph()
    graph.parse(OURS, format="turtle")
    return graph


def _code(iri: URIRef) -> str:
    assert str(iri).startswith(OBO + "NCIT_C"), f"not an NCIt class IRI: {iri}"
    return str(iri).removeprefix(OBO + "NCIT_")


@cache
def _terms() -> dict[str, Term]:
    graph = _graph()
    terms = {}
    for cls in graph.subjects(RDF.type, OWL.Class):
        code = _code(cls)
        names = list(graph.objects(cls, RDFS.label))
        assert len(names) == 1 and isinstance(names[0], Literal), f"{code}: one label expected"
        assert names[0].language == "en", f"{code}: the label must be English (@en)"
        assert list(graph.objects(cls, OIO.id)) == [Literal(f"NCIT:{code}")], code
        abbreviations = {str(v) for v in graph.objects(cls, HV.abbreviation)}
        synonyms = abbreviations | {
            str(v)
            for p in (OIO.hasExactSynonym, OIO.hasRelatedSynonym)
            for v in graph.objects(cls, p)
        }
        terms[code] = Term(
            code=code,
            label=str(names[0]),
            parents={_code(p) for p in graph.objects(cls, RDFS.subClassOf)},
            synonyms=synonyms,
            abbreviations=abbreviations,
            xrefs={str(v) for v in graph.objects(cls, OIO.hasDbXref)},
        )
    return terms


@cache
def _ancestors() -> dict[str, frozenset[str]]:
    terms = _terms()
    found: dict[str, frozenset[str]] = {}

    def visit(code: str, path: tuple[str, ...]) -> frozenset[str]:
        assert code not in path, f"cycle: {' -> '.join((*path, code))}"
        if code not in found:
            above: set[str] = set()
            for parent in terms[code].parents:
                above |= {parent} | visit(parent, (*path, code))
            found[code] = frozenset(above)
        return found[code]

    for code in terms:
        visit(code, ())
    return found


@cache
def _oncotree() -> dict[str, Node]:
    data = json.loads(ONCOTREE.read_text(encoding="utf-8"))
    nodes: dict[str, Node] = {}

    def walk(node: dict, ancestors: list[str]) -> None:
        refs = node.get("externalReferences") or {}
        nodes[node["code"]] = Node(
            node["code"], node["name"], list(refs.get("NCI") or []), ancestors
        )
        children = node.get("children") or {}
        for child in children.values() if isinstance(children, dict) else children:
            walk(child, [*ancestors, node["code"]])

    for root in data.values() if "code" not in data else [data]:
        walk(root, [])
    return nodes


@pytest.fixture(scope="module")
def terms() -> dict[str, Term]:
    return _terms()


@pytest.fixture(scope="module")
def oncotree() -> dict[str, Node]:
    if not ONCOTREE.is_file():
        pytest.skip(
            f"the OncoTree reference file is not at {ONCOTREE}; put the shared reference folder "
            "beside the checkout or point HARMONY_SHARED_DIR at it"
        )
    return _oncotree()


def shared_codes(terms: dict[str, Term], oncotree: dict[str, Node]) -> dict[str, list[Node]]:
    """Our codes that OncoTree nodes carry as their NCIt reference, with those nodes."""
    found: dict[str, list[Node]] = {}
    for node in oncotree.values():
        for code in node.nci:
            if code in terms:
                found.setdefault(code, []).append(node)
    return found


# --- the file on its own --------------------------------------------------------------------


def test_header_names_the_source_version_and_licence():
    graph = _graph()
    assert (HEADER, RDF.type, OWL.Ontology) in graph
    assert graph.value(HEADER, OWL.versionInfo) == Literal("2025.1")
    assert graph.value(HEADER, DCTERMS.license) == CC_BY_4
    assert isinstance(graph.value(HEADER, DCTERMS.source), URIRef)
    assert graph.value(HEADER, DCTERMS.title) and graph.value(HEADER, DCTERMS.description)
    citation = str(graph.value(HEADER, DCTERMS.bibliographicCitation))
    assert "NCI Thesaurus" in citation and "CC BY 4.0" in citation


def test_abbreviation_property_is_an_exact_synonym_for_obo_tools():
    graph = _graph()
    assert (HV.abbreviation, RDF.type, OWL.AnnotationProperty) in graph
    assert (HV.abbreviation, RDFS.subPropertyOf, OIO.hasExactSynonym) in graph


def test_enough_terms_each_with_a_distinct_label(terms):
    assert len(terms) >= 120
    labels = [normalise(t.label) for t in terms.values()]
    repeated = sorted({t.label for t in terms.values() if labels.count(normalise(t.label)) > 1})
    assert not repeated, f"labels used more than once: {repeated}"


def test_every_parent_is_a_term_in_the_file(terms):
    missing = {(t.code, p) for t in terms.values() for p in t.parents if p not in terms}
    assert not missing


def test_no_cycles():
    _ancestors()  # raises on the first cycle met


def test_a_single_root_with_myeloid_and_lymphoid_branches(terms):
    roots = [t.code for t in terms.values() if not t.parents]
    assert roots == [ROOT]
    assert terms[ROOT].label == "Hematopoietic and Lymphoid Cell Neoplasm"
    assert terms[MYELOID].parents == {ROOT} and terms[LYMPHOID].parents == {ROOT}
    ancestors = _ancestors()
    assert all(ROOT in ancestors[c] for c in terms if c != ROOT)
    assert MYELOID in ancestors["C3171"] and LYMPHOID in ancestors["C3163"]


def test_the_issue_abbreviations_are_present(terms):
    present = {a for t in terms.values() for a in t.abbreviations}
    missing = sorted(set(ISSUE_ABBREVIATIONS) - present)
    assert not missing, f"abbreviations missing: {missing}"


def test_each_abbreviation_names_one_term(terms):
    seen: dict[str, set[str]] = {}
    for t in terms.values():
        for abbreviation in t.abbreviations:
            seen.setdefault(abbreviation, set()).add(t.code)
    assert {a: codes for a, codes in seen.items() if len(codes) > 1} == {}


def test_british_spellings_are_synonyms(terms):
    for t in terms.values():
        if "Leukemia" in t.label:
            assert t.label.replace("Leukemia", "Leukaemia") in t.synonyms, t.code
        if "Hematopoietic" in t.label:
            assert t.label.replace("Hematopoietic", "Haematopoietic") in t.synonyms, t.code


def test_oncotree_cross_references_are_well_formed(terms):
    for t in terms.values():
        for xref in t.xrefs:
            assert re.fullmatch(r"ONCOTREE:[A-Z0-9/-]+", xref), (t.code, xref)


# --- against OncoTree -----------------------------------------------------------------------


def test_many_of_our_codes_are_known_to_oncotree(terms, oncotree, record_property):
    count = len(shared_codes(terms, oncotree))
    record_property("codes_also_in_oncotree", count)
    assert count >= MIN_CODES_IN_ONCOTREE, f"only {count} of our codes appear in OncoTree"


def test_oncotree_names_the_same_entity_for_each_shared_code(terms, oncotree):
    mismatched = {}
    for code, nodes in shared_codes(terms, oncotree).items():
        ours = {normalise(n) for n in {terms[code].label, *terms[code].synonyms}}
        for node in nodes:
            if normalise(node.name) not in ours:
                mismatched[f"{code} / ONCOTREE:{node.code}"] = (terms[code].label, node.name)
    assert mismatched == {}


def test_shared_codes_carry_the_oncotree_cross_reference(terms, oncotree):
    missing = {
        (code, node.code)
        for code, nodes in shared_codes(terms, oncotree).items()
        for node in nodes
        if f"ONCOTREE:{node.code}" not in terms[code].xrefs
    }
    assert missing == set()


def test_oncotree_cross_references_name_real_nodes(terms, oncotree):
    unknown = {
        (t.code, x)
        for t in terms.values()
        for x in t.xrefs
        if x.startswith("ONCOTREE:") and x.removeprefix("ONCOTREE:") not in oncotree
    }
    assert unknown == set()


def test_oncotree_ancestry_is_kept_and_never_reversed(terms, oncotree):
    ancestors = _ancestors()
    shared = shared_codes(terms, oncotree)
    not_kept, reversed_ = set(), set()
    for code, nodes in shared.items():
        for node in nodes:
            for above in node.ancestors:
                for upper in oncotree[above].nci:
                    if upper not in terms or upper == code:
                        continue
                    if upper not in ancestors[code]:
                        not_kept.add((upper, code))
                    if code in ancestors[upper]:
                        reversed_.add((upper, code))
    assert reversed_ == set()
    assert not_kept == set(DELIBERATE_DEVIATIONS), {
        "not kept and not listed": sorted(not_kept - set(DELIBERATE_DEVIATIONS)),
        "listed but no longer needed": sorted(set(DELIBERATE_DEVIATIONS) - not_kept),
    }
