"""Literal text as every RDF format carries it, written out by hand: characters XML 1.0 cannot
hold are dropped, line ends become ``\\n``, tabs, newlines and everything else stay."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from catalogue.dcat.serialize import FORMATS, clean_text, serialize
from tests.catalogue.dcat.conftest import RDFLIB_FORMATS

EX = "http://example.org/"
# (what a custodian typed, what every format must read back)
CASES = [
    ("Line one\r\nline two\rline three\n", "Line one\nline two\nline three\n"),
    (
        "NUL\x00 bell\x07 vertical tab\x0b form feed\x0c escape\x1b end",
        "NUL bell vertical tab form feed escape end",
    ),
    ("tab\tand newline\nstay", "tab\tand newline\nstay"),
    ("non-characters \ufffe\uffff gone", "non-characters  gone"),
    ("lone surrogates \ud800 and \udfff gone", "lone surrogates  and  gone"),
    ('Größe ≥ 3 · 白血病 🩸 "quoted" \\ back', 'Größe ≥ 3 · 白血病 🩸 "quoted" \\ back'),
    ("DEL\x7f and C1\x85 stay", "DEL\x7f and C1\x85 stay"),
]


@pytest.mark.parametrize(("typed", "carried"), CASES)
def test_clean_text(typed, carried):
    assert clean_text(typed) == carried


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_every_format_carries_the_cleaned_text(key):
    fmt = FORMATS[key]
    subject = URIRef(EX + "dataset")
    graph = Graph()
    for n, (typed, _) in enumerate(CASES):
        graph.add((subject, URIRef(f"{EX}text{n}"), Literal(typed)))
        graph.add((subject, URIRef(f"{EX}title{n}"), Literal(typed, lang="en")))
    back = Graph().parse(data=serialize(graph, fmt, subject), format=RDFLIB_FORMATS[fmt.media_type])
    for n, (_, carried) in enumerate(CASES):
        assert back.value(subject, URIRef(f"{EX}text{n}")) == Literal(carried), n
        assert back.value(subject, URIRef(f"{EX}title{n}")) == Literal(carried, lang="en"), n
