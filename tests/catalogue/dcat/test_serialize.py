"""Graphs built with rdflib, written through Oxigraph: every format reads back as the same graph,
whatever the text holds."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from catalogue.dcat.graph import safe_iri
from catalogue.dcat.serialize import FORMATS, clean_text, serialize, serialize_many
from tests.catalogue.dcat.conftest import RDFLIB_FORMATS

EX = "http://example.org/"
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40
)  # any character a custodian may type, quotes, backslashes, newlines and emoji included
languages = st.sampled_from(["en", "de", "nl", "en-GB"])
literals = st.one_of(
    texts.map(Literal),
    st.tuples(texts, languages).map(lambda t: Literal(t[0], lang=t[1])),
    st.integers(min_value=0, max_value=10**12).map(
        lambda n: Literal(str(n), datatype=XSD.nonNegativeInteger)
    ),
    st.dates().map(lambda d: Literal(d.isoformat(), datatype=XSD.date)),
)
local_names = st.text(alphabet="abcXYZ019-_.~", min_size=1, max_size=12).map(
    lambda name: name.replace("~", "%7E")
)
# RDF/XML writes a predicate as an XML element: its local name must be an XML name (ours are
# all vocabulary terms such as dct:title or vcard:organization-name)
predicate_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,11}", fullmatch=True)


def expected(graph: Graph) -> Graph:
    """What every format can carry: the text without characters XML forbids."""
    cleaned = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal):
            o = Literal(clean_text(str(o)), lang=o.language, datatype=o.datatype)
        cleaned.add((s, p, o))
    return cleaned


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(local_names, predicate_names, literals), min_size=1, max_size=8))
def test_every_format_reads_back_as_the_same_graph(triples):
    graph = Graph()
    node = BNode()
    for subject, predicate, obj in triples:
        graph.add((URIRef(EX + "s/" + subject), URIRef(EX + "p/" + predicate), obj))
        graph.add((URIRef(EX + "s/" + subject), URIRef(EX + "p/part"), node))
    graph.add((node, URIRef(EX + "p/label"), Literal("a part")))
    for fmt in FORMATS.values():
        data = serialize(graph, fmt, URIRef(EX + "s/" + triples[0][0]))
        back = Graph().parse(data=data, format=RDFLIB_FORMATS[fmt.media_type])
        assert back.isomorphic(expected(graph)), fmt.key


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_many_graphs_stream_as_one_document(key):
    graphs = []
    for n in range(3):
        graph = Graph()
        graph.add((URIRef(f"{EX}d{n}"), URIRef(EX + "title"), Literal(f"Dataset {n}", lang="en")))
        graph.add((URIRef(EX + "catalogue"), URIRef(EX + "dataset"), URIRef(f"{EX}d{n}")))
        graphs.append((graph, URIRef(f"{EX}d{n}")))
    output = io.BytesIO()
    serialize_many(graphs, FORMATS[key], output)
    back = Graph().parse(data=output.getvalue(), format=RDFLIB_FORMATS[FORMATS[key].media_type])
    assert len(back) == 6
    assert len(set(back.objects(URIRef(EX + "catalogue"), URIRef(EX + "dataset")))) == 3


def test_turtle_groups_each_resource():
    graph = Graph()
    subject = URIRef(EX + "dataset")
    for n in range(3):
        graph.add((subject, URIRef(EX + "keyword"), Literal(f"k{n}")))
    graph.add((URIRef(EX + "other"), URIRef(EX + "p"), Literal("x")))
    text = serialize(graph, FORMATS["ttl"], subject).decode()
    body = [line for line in text.splitlines() if not line.startswith("@prefix")]
    assert body[0].startswith(f"<{EX}dataset>")  # the resource the graph is about comes first
    assert text.count(f"<{EX}dataset>") == 1


@pytest.mark.parametrize(
    ("typed", "iri"),
    [
        ("https://trials.example.org/aml-x", "https://trials.example.org/aml-x"),
        ("  https://trials.example.org/aml x  ", "https://trials.example.org/aml%20x"),
        ("https://example.org/50%off", "https://example.org/50%25off"),
        ("https://example.org/a%20b", "https://example.org/a%20b"),
        ("https://example.org/größe?q=ü", "https://example.org/gr%C3%B6%C3%9Fe?q=%C3%BC"),
        ("https://example.org/{id}", "https://example.org/%7Bid%7D"),
        ("www.example.org", None),
        ("javascript:alert(1)", None),
        ("mailto:x@example.org", None),
        ("", None),
    ],
)
def test_addresses_custodians_type_become_valid_iris(typed, iri):
    result = safe_iri(typed)
    assert (str(result) if result is not None else None) == iri
    if result is not None:
        serialize(Graph().add((result, URIRef(EX + "p"), Literal("x"))), FORMATS["nt"])
