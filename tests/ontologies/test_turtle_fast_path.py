"""The plain-Turtle fast path reads exactly what rdflib's Turtle parser reads, and leaves
everything else (and every error) to rdflib."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ontologies import loaders
from ontologies.loaders import OntologyFormatError, parse_file

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "ontologies" / "data").glob("*.ttl"))


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(parsed by the fast path where it applies, parsed by rdflib alone, fast path used?)"""
    used = loaders._parse_simple_turtle(data) is not None
    fast = parse_file(io.BytesIO(data), "turtle", prefix="T")
    with monkeypatch.context() as patched:
        patched.setattr(loaders, "_parse_simple_turtle", lambda data: None)
        slow = parse_file(io.BytesIO(data), "turtle", prefix="T")
    return fast, slow, used


def _same(fast: loaders.ParsedOntology, slow: loaders.ParsedOntology) -> None:
    assert fast.terms == slow.terms
    assert (fast.name, fast.iri, fast.version, fast.licence, fast.description) == (
        slow.name,
        slow.iri,
        slow.version,
        slow.licence,
        slow.description,
    )


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_vocabularies_read_the_same_both_ways(path, monkeypatch):
    fast, slow, used = _both(path.read_bytes(), monkeypatch)
    if path.name != "duo.ttl":  # DUO's file uses Turtle the fast path leaves to rdflib
        assert used, f"{path.name} is plain Turtle and should take the fast path"
    assert len(fast.terms) > 40
    _same(fast, slow)


def test_a_generated_polyhierarchy_reads_the_same_both_ways(tmp_path, monkeypatch):
    out = tmp_path / "syn.ttl"
    subprocess.run(  # noqa: S603 - our own generator script
        [sys.executable, str(ROOT / "bench" / "generate_ontology.py"), "--terms", "1500",
         "--descendants", "100", "--format", "ttl", "--out", str(out), "--seed", "7"],
        check=True, capture_output=True,
    )  # fmt: skip
    fast, slow, used = _both(out.read_bytes(), monkeypatch)
    assert used and len(fast.terms) == 1500
    _same(fast, slow)


HEADER = b"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/onto/EX_> .
"""
FALLBACKS = {
    "long string": b'ex:1 a owl:Class ; rdfs:label """multi\nline""" .',
    "anonymous node": b"ex:1 a owl:Class ; rdfs:subClassOf [ a owl:Restriction ] .",
    "collection": b"ex:1 a owl:Class ; owl:unionOf ( ex:2 ex:3 ) .",
    "unicode escape": b'ex:1 a owl:Class ; rdfs:label "caf\\u00e9" .',
    "base": b'@base <http://example.org/onto/> . <EX_1> a owl:Class ; rdfs:label "x" .',
    "number": b'ex:1 a owl:Class ; rdfs:label "x" ; ex:weight 3 .',
}


@pytest.mark.parametrize("body", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_anything_else_is_left_to_rdflib_with_the_same_result(body, monkeypatch):
    fast, slow, used = _both(
        HEADER + body + b"\nex:2 a owl:Class .\nex:3 a owl:Class .\n", monkeypatch
    )
    assert not used
    _same(fast, slow)


def test_plain_statements_with_languages_datatypes_and_escapes(monkeypatch):
    body = (
        b'ex:1 a owl:Class ; rdfs:label "Acute \\"myeloid\\" leukaemia"@en-GB , \'AML\' ;\n'
        b'  rdfs:comment "x"^^<http://www.w3.org/2001/XMLSchema#string> .  # a comment\n'
        b'ex:2 a owl:Class ; rdfs:subClassOf ex:1 ; rdfs:label "child" .\n'
    )
    fast, slow, used = _both(HEADER + body, monkeypatch)
    assert used
    _same(fast, slow)
    child = next(t for t in fast.terms.values() if t.label == "child")
    assert len(child.parents) == 1


def test_broken_turtle_reports_the_line_as_rdflib_does():
    data = HEADER + b'ex:1 a owl:Class ;\n  rdfs:label "ok" .\nex:2 a owl:Class ; rdfs:label "x .\n'
    with pytest.raises(OntologyFormatError) as error:
        parse_file(io.BytesIO(data), "turtle", prefix="T")
    assert error.value.line is not None and error.value.line >= 5
