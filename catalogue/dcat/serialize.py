"""Writing rdflib graphs as Turtle, N-Triples, JSON-LD or RDF/XML, fast and streamed.

The graphs are built with rdflib (the API). rdflib's own Turtle serializer takes about 200 µs a
triple, which would make the whole-catalogue export take minutes, so:

- **Turtle and N-Triples** are written here, straight from the graphs' triples grouped by
  subject (:class:`~catalogue.dcat.store.GroupedStore`): each IRI is rendered once (as a
  prefixed name where it is a plain local name of a known namespace) and kept, literals are
  escaped with a translation table. This is as fast as Oxigraph writing triples it already
  holds (``bench/bench_dcat.py`` measures both side by side) — handing rdflib's terms to
  Oxigraph first costs more than writing them: each ``pyoxigraph.Triple`` takes microseconds to
  make;
- **JSON-LD and RDF/XML** go through Oxigraph's serializers (``pyoxigraph``), which stream too.

Every writer takes a sequence of graphs and writes them as one document, graph by graph, to a
binary stream: the whole-catalogue export holds one dataset's graph at a time. Literals lose the
characters XML cannot carry and carriage returns, in every format, so that all formats say the
same thing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from catalogue.dcat.store import GroupedStore
from catalogue.dcat.vocab import PREFIXES, RDF, XSD

GraphItem = tuple[Graph, Node | None]  # a graph and the resource it is about (written first)


@dataclass(frozen=True)
class RdfFormat:
    key: str  # the URL extension and the CLI's --format
    media_type: str
    label: str
    write: Callable[[Iterable[GraphItem], IO[bytes]], None]


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


def subject_groups(graph: Graph, first: Node | None) -> Iterator[tuple[Node, Iterable[Any]]]:
    """(subject, its (predicate, object) pairs), ``first`` first, then in the order the subjects
    were added (graphs in a :class:`GroupedStore`) or by IRI (any other store)."""
    store = graph.store
    groups: dict[Node, Any]
    if isinstance(store, GroupedStore):
        groups = store.subjects
    else:
        groups = {}
        for s, p, o in graph:
            groups.setdefault(s, {})[(p, o)] = None
        groups = {s: groups[s] for s in sorted(groups, key=lambda s: (isinstance(s, BNode), s))}
    if first is not None and first in groups:
        yield first, groups[first]
    for subject, pairs in groups.items():
        if subject != first and pairs:
            yield subject, pairs


# --- Turtle and N-Triples ---------------------------------------------------------------------

#: one pass over a literal's text: escapes for Turtle and N-Triples strings, and the characters
#: XML cannot carry dropped (as :func:`clean_text` does)
_STRING_TABLE: dict[int, str | None] = {
    **dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)]),
    **dict.fromkeys(range(55296, 57344)),
    0xFFFE: None,
    0xFFFF: None,
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\t"): "\\t",
}
#: characters an IRIREF may not hold (they are percent-encoded if an IRI has them)
_NOT_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_BLANK_LABEL = re.compile(r"[^A-Za-z0-9_]")
_NAMESPACES = {iri: prefix for prefix, iri in PREFIXES.items()}


def _iriref(iri: str) -> str:
    if _NOT_IN_IRIREF.search(iri):
        iri = _NOT_IN_IRIREF.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), iri)
    return f"<{iri}>"


class TermWriter:
    """Renders terms as Turtle (``prefixed=True``) or N-Triples, remembering IRIs (they repeat:
    predicates, classes, vocabularies). The memory is emptied when it grows past ``limit``, so
    that a long export keeps constant memory."""

    def __init__(self, *, prefixed: bool, limit: int = 10_000) -> None:
        self.prefixed = prefixed
        self._iris: dict[URIRef, str] = {}  # keyed by URIRef: rdflib terms never equal a str
        self._datatypes: dict[URIRef, str] = {}
        self._limit = limit
        if prefixed:
            self._iris[RDF.type] = "a"  # only ever a predicate here

    def iri(self, iri: URIRef) -> str:
        text = self._iris.get(iri)
        if text is None:
            if len(self._iris) >= self._limit:
                self._iris.clear()
            text = self._iris[iri] = self._render_iri(iri)
        return text

    def _render_iri(self, iri: URIRef) -> str:
        if self.prefixed:
            cut = max(iri.rfind("#"), iri.rfind("/")) + 1
            prefix = _NAMESPACES.get(iri[:cut]) if cut else None
            if prefix is not None and _LOCAL_NAME.match(iri, cut):
                return f"{prefix}:{iri[cut:]}"
        return _iriref(iri)

    def term(self, term: Node) -> str:
        kind = type(term)
        if kind is URIRef or (kind is not Literal and isinstance(term, URIRef)):
            return self.iri(term)  # type: ignore[arg-type]
        if kind is Literal or isinstance(term, Literal):
            text = str(term)
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            text = '"' + text.translate(_STRING_TABLE) + '"'
            language = term._language  # type: ignore[attr-defined]
            if language:
                return f"{text}@{language}"
            datatype = term._datatype  # type: ignore[attr-defined]
            if datatype is None:
                return text
            suffix = self._datatypes.get(datatype)
            if suffix is None:
                suffix = self._datatypes[datatype] = (
                    "" if datatype == XSD.string else "^^" + self.iri(datatype)
                )
            return text + suffix
        if isinstance(term, BNode):
            return "_:b" + _BLANK_LABEL.sub("_", str(term))
        raise TypeError(f"not an RDF term: {term!r}")


def _turtle_prefixes() -> str:
    return "".join(f"@prefix {prefix}: <{iri}> .\n" for prefix, iri in PREFIXES.items())


def write_turtle(graphs: Iterable[GraphItem], output: IO[bytes]) -> None:
    """Turtle: the prefixes once, then a block per resource (``;`` between predicates, ``,``
    between objects of one predicate)."""
    writer = TermWriter(prefixed=True)
    term = writer.term
    known = writer._iris  # the inner loop looks IRIs up itself: most are there already
    output.write(_turtle_prefixes().encode())
    for graph, first in graphs:
        out: list[str] = []
        for subject, pairs in subject_groups(graph, first):
            by_predicate: dict[Node, list[str]] = {}
            for predicate, obj in pairs:
                text = known.get(obj) if type(obj) is URIRef else None
                if text is None:
                    text = term(obj)
                objects = by_predicate.get(predicate)
                if objects is None:
                    by_predicate[predicate] = [text]
                else:
                    objects.append(text)
            statements = [
                (known.get(predicate) or term(predicate)) + " " + " , ".join(objects)  # type: ignore[call-overload]
                for predicate, objects in by_predicate.items()
            ]
            out.append(term(subject) + " " + " ;\n\t".join(statements) + " .\n")
        output.write("".join(out).encode())


def write_ntriples(graphs: Iterable[GraphItem], output: IO[bytes]) -> None:
    writer = TermWriter(prefixed=False)
    term = writer.term
    for graph, first in graphs:
        out: list[str] = []
        for subject, pairs in subject_groups(graph, first):
            head = term(subject) + " "
            out.extend(f"{head}{term(p)} {term(o)} .\n" for p, o in pairs)
        output.write("".join(out).encode())


# --- JSON-LD and RDF/XML, through Oxigraph ----------------------------------------------------


class OxigraphConverter:
    """rdflib terms to Oxigraph terms, IRIs converted once (with the same bounded memory)."""

    def __init__(self, limit: int = 10_000) -> None:
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
            return ox.BlankNode(_BLANK_LABEL.sub("_", str(term)))
        raise TypeError(f"not an RDF term: {term!r}")

    def triples(self, graphs: Iterable[GraphItem]) -> Iterator[ox.Triple]:
        term = self.term
        for graph, first in graphs:
            for subject, pairs in subject_groups(graph, first):
                ox_subject = term(subject)
                for predicate, obj in pairs:
                    yield ox.Triple(ox_subject, term(predicate), term(obj))


def _oxigraph_writer(
    fmt: ox.RdfFormat, prefixes: bool
) -> Callable[[Iterable[GraphItem], IO[bytes]], None]:
    def write(graphs: Iterable[GraphItem], output: IO[bytes]) -> None:
        triples = OxigraphConverter().triples(graphs)
        ox.serialize(triples, output, fmt, prefixes=PREFIXES if prefixes else None)

    return write


FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat("ttl", "text/turtle", "Turtle", write_turtle),
    "jsonld": RdfFormat(
        "jsonld", "application/ld+json", "JSON-LD", _oxigraph_writer(ox.RdfFormat.JSON_LD, False)
    ),
    "rdf": RdfFormat(
        "rdf", "application/rdf+xml", "RDF/XML", _oxigraph_writer(ox.RdfFormat.RDF_XML, True)
    ),
    "nt": RdfFormat("nt", "application/n-triples", "N-Triples", write_ntriples),
}


def serialize(graph: Graph, fmt: RdfFormat, first: Node | None = None) -> bytes:
    """One document of one graph."""
    buffer = io.BytesIO()
    fmt.write([(graph, first)], buffer)
    return buffer.getvalue()


def serialize_many(graphs: Iterable[GraphItem], fmt: RdfFormat, output: IO[bytes]) -> None:
    """A sequence of graphs (each with the node it is about) as one document, written graph by
    graph to a binary stream: nothing but the graph being written is held in memory."""
    fmt.write(graphs, output)
