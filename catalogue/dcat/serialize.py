"""Writing rdflib graphs as Turtle, JSON-LD, RDF/XML or N-Triples, fast and streamed.

The graphs are built with rdflib (the API); their triples are handed to Oxigraph's serializers
(``pyoxigraph``), which write them about a hundred times faster than rdflib's own Turtle
serializer and stream: the whole-catalogue export writes dataset after dataset through one
serializer, in constant memory. Each graph's triples are grouped by subject (the dataset first)
so that Turtle comes out as one block per resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from catalogue.dcat.vocab import PREFIXES


@dataclass(frozen=True)
class RdfFormat:
    key: str  # the URL extension and the CLI's --format
    media_type: str
    ox_format: ox.RdfFormat
    label: str
    prefixes: bool = True


FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat("ttl", "text/turtle", ox.RdfFormat.TURTLE, "Turtle"),
    "jsonld": RdfFormat(
        "jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, "JSON-LD", prefixes=False
    ),
    "rdf": RdfFormat("rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML, "RDF/XML"),
    "nt": RdfFormat(
        "nt", "application/n-triples", ox.RdfFormat.N_TRIPLES, "N-Triples", prefixes=False
    ),
}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS.values()}
#: what the catalogue's URLs answer with when asked by extension (N-Triples is for the export)
URL_FORMATS = ("ttl", "jsonld", "rdf")
#: characters XML 1.0 cannot carry (C0 controls but tab and newlines, U+FFFE/U+FFFF, lone
#: surrogates): dropped from literals in every format, so that the formats say the same
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Literal text as every format carries it: without the characters XML cannot hold, and with
    line ends as ``\\n`` (XML parsers turn a carriage return into a newline, so a text typed in
    a browser, ``\\r\\n``, would read back differently from RDF/XML than from Turtle)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_IN_XML.sub("", text)


class TermConverter:
    """rdflib terms to Oxigraph terms. IRIs repeat (predicates, classes, vocabularies), so they
    are converted once; the cache is emptied when it grows past ``limit`` so that a long export
    keeps constant memory."""

    def __init__(self, limit: int = 50_000) -> None:
        self._iris: dict[str, ox.NamedNode] = {}
        self._limit = limit

    def iri(self, value: str) -> ox.NamedNode:
        node = self._iris.get(value)
        if node is None:
            if len(self._iris) >= self._limit:
                self._iris.clear()
            node = self._iris[value] = ox.NamedNode(value)
        return node

    def term(self, term: Node) -> Any:
        if isinstance(term, URIRef):
            return self.iri(str(term))
        if isinstance(term, Literal):
            text = clean_text(str(term))
            if term.language:
                return ox.Literal(text, language=term.language)
            if term.datatype is not None:
                return ox.Literal(text, datatype=self.iri(str(term.datatype)))
            return ox.Literal(text)
        if isinstance(term, BNode):
            return ox.BlankNode(str(term))
        raise TypeError(f"not an RDF term: {term!r}")

    def triples(self, graph: Graph, first: Node | None = None) -> Iterator[ox.Triple]:
        """The graph's triples, grouped by subject: ``first`` (the resource the graph is about)
        leads, the others follow in IRI order."""
        by_subject: dict[Node, list[tuple[Node, Node]]] = {}
        for subject, predicate, obj in graph:
            by_subject.setdefault(subject, []).append((predicate, obj))
        order = sorted(by_subject, key=lambda s: (s != first, isinstance(s, BNode), str(s)))
        term = self.term
        for subject in order:
            ox_subject = term(subject)
            for predicate, obj in by_subject[subject]:
                yield ox.Triple(ox_subject, term(predicate), term(obj))


def _prefixes(fmt: RdfFormat) -> dict[str, str] | None:
    return PREFIXES if fmt.prefixes else None


def serialize(graph: Graph, fmt: RdfFormat, first: Node | None = None) -> bytes:
    """One document."""
    data = ox.serialize(
        TermConverter().triples(graph, first), format=fmt.ox_format, prefixes=_prefixes(fmt)
    )
    return data or b""


def serialize_many(
    graphs: Iterable[tuple[Graph, Node | None]], fmt: RdfFormat, output: IO[bytes]
) -> None:
    """Write a sequence of graphs (each with the node it is about) as one document, graph by
    graph, to a binary stream: nothing but the graph being written is held in memory."""
    converter = TermConverter()

    def triples() -> Iterator[ox.Triple]:
        for graph, first in graphs:
            yield from converter.triples(graph, first)

    ox.serialize(triples(), output, fmt.ox_format, prefixes=_prefixes(fmt))
