"""Parsers that turn ontology files into plain term records, without holding an RDF graph.

rdflib parses every RDF syntax (RDF/XML, Turtle, JSON-LD, N-Triples) into a store; ours keeps no
triples, it hands each one to a collector that remembers only what a term needs (labels,
synonyms, parents, cross-references …). That keeps memory proportional to the terms, not to the
triples, so large files load in one pass. OncoTree's JSON tree has its own reader.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXParseException, handler

from rdflib import BNode, Graph, Literal, URIRef, plugin
from rdflib.exceptions import ParserError
from rdflib.parser import InputSource, Parser
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.parsers.rdfxml import RDFXMLParser, create_parser
from rdflib.store import Store

from ontologies.identifiers import compress, expand, normalise_curie
from ontologies.models import SynonymKind

OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
DCT = "http://purl.org/dc/terms/"
DCE = "http://purl.org/dc/elements/1.1/"
OBO = "http://purl.obolibrary.org/obo/"
HVV = "https://w3id.org/harmony/vocab#"

FORMATS = {
    "xml": "xml",
    "owl": "xml",
    "rdf": "xml",
    "rdfxml": "xml",
    "rdf/xml": "xml",
    "ttl": "turtle",
    "turtle": "turtle",
    "jsonld": "json-ld",
    "json-ld": "json-ld",
    "nt": "nt",
    "ntriples": "nt",
    "n-triples": "nt",
    "oncotree": "oncotree",
}
EXTENSIONS = {
    ".owl": "xml",
    ".rdf": "xml",
    ".xml": "xml",
    ".ttl": "turtle",
    ".jsonld": "json-ld",
    ".nt": "nt",
    ".json": "oncotree",
}

SYNONYM_PROPERTIES = {
    OIO + "hasExactSynonym": SynonymKind.EXACT,
    OIO + "hasRelatedSynonym": SynonymKind.RELATED,
    OIO + "hasBroadSynonym": SynonymKind.RELATED,
    OIO + "hasNarrowSynonym": SynonymKind.RELATED,
    OIO + "shorthand": SynonymKind.ABBREVIATION,
    SKOS + "altLabel": SynonymKind.EXACT,
    SKOS + "hiddenLabel": SynonymKind.RELATED,
    HVV + "abbreviation": SynonymKind.ABBREVIATION,
}
ABBREVIATION_TYPES = {
    OBO + "OMO_0003000",
    OIO + "abbreviation",
    "abbreviation",
    OBO + "OMO_0003001",
}  # OMO abbreviation and acronym
LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label")
TERM_TYPES = {OWL + "Class", SKOS + "Concept"}
HEADER_TYPES = {OWL + "Ontology", SKOS + "ConceptScheme"}
XREF_MATCHES = {SKOS + "exactMatch", SKOS + "closeMatch"}


class OntologyFormatError(ValueError):
    """A file that cannot be read; says where (line and column, or JSON path)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ):
        where = []
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        if path is not None:
            where.append(f"at {path}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line, self.column, self.path = line, column, path


class UnsupportedFormat(ValueError):
    """A format we do not read."""


@dataclass
class TermRecord:
    curie: str
    iri: str
    label: str
    definition: str | None = None
    synonyms: list[tuple[str, SynonymKind]] = field(default_factory=list)
    xrefs: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)  # CURIEs
    obsolete: bool = False
    replaced_by: str | None = None
    value_type: str | None = None
    unit: str | None = None


@dataclass
class ParsedOntology:
    prefix: str
    name: str
    iri: str | None
    version: str | None
    licence: str | None
    source_url: str | None
    description: str | None
    terms: dict[str, TermRecord]
    content_hash: str
    warnings: list[str] = field(default_factory=list)


Progress = Callable[[int], None]  # called with the number of bytes read since the last call


def detect_format(filename: str | None, explicit: str | None) -> str:
    """:raises UnsupportedFormat: for a format or file extension we do not read."""
    if explicit:
        fmt = FORMATS.get(explicit.strip().lower())
        if fmt is None:
            raise UnsupportedFormat(
                f"Unknown format {explicit!r}; use one of: owl (RDF/XML), turtle, jsonld, nt, "
                "oncotree."
            )
        return fmt
    suffix = Path(filename or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise UnsupportedFormat(
            f"Cannot tell the format of {filename or 'the upload'!r} from its extension; name it "
            ".owl/.rdf (RDF/XML), .ttl, .jsonld, .nt or .json (OncoTree), or give the format."
        )
    return EXTENSIONS[suffix]


class _HashingReader(io.RawIOBase):
    """Reads a binary stream while hashing its content and reporting progress."""

    def __init__(self, raw: IO[bytes], progress: Progress | None):
        self.raw, self.progress = raw, progress
        self.sha = hashlib.sha256()
        self.newlines = 0
        self.ends_with_newline = True

    @property
    def lines(self) -> int:
        """Lines read so far (the last one counts even without a final newline)."""
        return self.newlines + (0 if self.ends_with_newline else 1)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.raw.read(len(buffer))
        if not chunk:
            return 0
        self.sha.update(chunk)
        self.newlines += chunk.count(b"\n")
        self.ends_with_newline = chunk.endswith(b"\n")
        if self.progress:
            self.progress(len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _Collector:
    """Keeps, per subject, only the statements a term or the ontology header needs."""

    def __init__(self) -> None:
        self.types: dict[Any, set[str]] = defaultdict(set)
        self.values: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.sub_properties: dict[str, set[str]] = defaultdict(set)
        self.narrower: list[tuple[Any, Any]] = []
        self.axioms: dict[Any, dict[str, Any]] = defaultdict(dict)

    WANTED = {
        *LABEL_PROPERTIES,
        *SYNONYM_PROPERTIES,
        *XREF_MATCHES,
        RDFS + "subClassOf",
        SKOS + "broader",
        SKOS + "definition",
        OBO + "IAO_0000115",
        OIO + "id",
        OIO + "hasDbXref",
        OWL + "deprecated",
        OBO + "IAO_0100001",
        DCT + "isReplacedBy",
        OIO + "consider",
        SKOS + "notation",
        HVV + "valueType",
        HVV + "unit",
        DCT + "title",
        DCE + "title",
        DCT + "description",
        DCE + "description",
        OWL + "versionInfo",
        OWL + "versionIRI",
        DCT + "license",
        DCT + "source",
        RDFS + "comment",
        SKOS + "inScheme",
    }
    AXIOM = {
        OWL + "annotatedSource",
        OWL + "annotatedProperty",
        OWL + "annotatedTarget",
        OIO + "hasSynonymType",
    }

    def add(self, s: Any, p: Any, o: Any) -> None:
        predicate = str(p)
        if predicate == RDF + "type":
            self.types[s].add(str(o))
        elif predicate in self.AXIOM:
            self.axioms[s][predicate] = o
        elif predicate == RDFS + "subPropertyOf":
            self.sub_properties[str(s)].add(str(o))
        elif predicate == SKOS + "narrower":
            self.narrower.append((s, o))
        elif predicate in self.WANTED or predicate in self.sub_properties:
            self.values[s][predicate].append(o)
        elif isinstance(o, Literal):
            # maybe a sub-property of a synonym property declared later in the file
            self.values[s][predicate].append(o)


class _CollectingStore(Store):
    """An rdflib store that stores nothing: each parsed triple goes to the collector."""

    context_aware = True
    graph_aware = True

    def __init__(self, collector: _Collector):
        super().__init__()
        self.collector = collector
        self.count = 0

    def add(self, triple: Any, context: Any = None, quoted: bool = False) -> None:
        s, p, o = triple
        self.collector.add(s, p, o)
        self.count += 1

    def addN(self, quads: Any) -> None:
        for s, p, o, _ in quads:
            self.add((s, p, o))

    def add_graph(self, graph: Any) -> None:
        pass

    def bind(
        self, prefix: Any, namespace: Any, override: bool = True, replace: bool = False
    ) -> None:
        pass

    def namespace(self, prefix: Any) -> None:
        return None

    def prefix(self, namespace: Any) -> None:
        return None

    def namespaces(self) -> Iterator[Any]:
        return iter(())

    def contexts(self, triple: Any = None) -> Any:
        return iter(())

    def triples(self, pattern: Any, context: Any = None) -> Iterator[Any]:
        return iter(())

    def __len__(self, context: Any = None) -> int:
        return self.count


def parse_file(
    stream: IO[bytes],
    fmt: str,
    *,
    prefix: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> ParsedOntology:
    """Read an ontology from a binary stream in format ``fmt`` (see :func:`detect_format`).

    :raises OntologyFormatError: naming the line (or JSON path) of the first problem.
    """
    reader = _HashingReader(stream, progress)
    buffered = io.BufferedReader(reader, buffer_size=1 << 20)
    if fmt == "oncotree":
        return _parse_oncotree(buffered, reader, prefix=prefix, name=name)
    collector = _Collector()
    graph = Graph(store=_CollectingStore(collector))
    try:
        source: IO[bytes] = buffered
        fast = None
        if fmt == "turtle":
            # rdflib reads a whole Turtle file before parsing it, and so do we: then the plain
            # Turtle that ontology tools write takes the fast path, anything else rdflib's parser
            data = buffered.read()
            fast = _parse_simple_turtle(data)
            source = io.BytesIO(data)
            del data
        if fast is not None:
            collector = fast
        else:
            graph.parse(source=source, format=RDF_XML if fmt == "xml" else fmt)
    except BadSyntax as exc:
        raise OntologyFormatError(_bad_syntax_message(exc), line=exc.lines + 1) from exc
    except SAXParseException as exc:
        raise OntologyFormatError(
            exc.getMessage(), line=exc.getLineNumber(), column=exc.getColumnNumber()
        ) from exc
    except json.JSONDecodeError as exc:
        raise OntologyFormatError(exc.msg, line=exc.lineno, column=exc.colno) from exc
    except ParserError as exc:
        raise OntologyFormatError(str(exc), line=_ntriples_bad_line(stream)) from exc
    except UnicodeDecodeError as exc:
        raise OntologyFormatError(f"the file is not UTF-8 text ({exc.reason})") from exc
    except RecursionError as exc:
        raise OntologyFormatError(_TOO_DEEP, line=reader.lines or None) from exc
    except Exception as exc:  # rdflib raises many kinds of error for broken input
        if isinstance(exc, IndexError | EOFError):
            raise OntologyFormatError(
                "the file ends in the middle of a statement", line=reader.lines
            ) from exc
        raise OntologyFormatError(
            f"cannot read the file as {fmt}: {exc}", line=reader.lines or None
        ) from exc
    return _build(collector, reader.sha.hexdigest(), prefix=prefix, name=name)


# --- RDF/XML --------------------------------------------------------------------------------

RDF_XML = "harmony-rdfxml"
_TOO_DEEP = "the file is nested too deeply to read"


class _WholeText(handler.ContentHandler):
    """Hands rdflib's RDF/XML handler the text of an element in one piece.

    Expat reports an entity's replacement text as a call of its own, and rdflib adds each
    call to the text read so far: a document that repeats an entity (``&a;&a;…``, or a
    "billion laughs" of entities inside entities) costs time quadratic in its length. Expat
    stops the exponential kind after a few MB (its amplification limit: a parse error);
    joining the pieces once makes the rest linear. External entities are never fetched
    (Python's SAX reader leaves them out by default)."""

    def __init__(self, inner: Any):
        super().__init__()
        self._inner = inner
        self._text: list[str] = []

    def _flush(self) -> None:
        if self._text:
            text = "".join(self._text)
            self._text.clear()
            self._inner.characters(text)

    def setDocumentLocator(self, locator: Any) -> None:
        self._inner.setDocumentLocator(locator)

    def startDocument(self) -> None:
        self._inner.startDocument()

    def endDocument(self) -> None:
        self._flush()
        self._inner.endDocument()

    def startPrefixMapping(self, prefix: Any, uri: Any) -> None:
        self._flush()
        self._inner.startPrefixMapping(prefix, uri)

    def endPrefixMapping(self, prefix: Any) -> None:
        self._flush()
        self._inner.endPrefixMapping(prefix)

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> None:
        self._flush()
        self._inner.startElementNS(name, qname, attrs)

    def endElementNS(self, name: Any, qname: Any) -> None:
        self._flush()
        self._inner.endElementNS(name, qname)

    def characters(self, content: str) -> None:
        self._text.append(content)

    def ignorableWhitespace(self, whitespace: str) -> None:
        self._flush()
        self._inner.ignorableWhitespace(whitespace)

    def processingInstruction(self, target: str, data: str) -> None:
        self._flush()
        self._inner.processingInstruction(target, data)

    def skippedEntity(self, name: str) -> None:
        self._flush()
        self._inner.skippedEntity(name)


class RdfXmlParser(RDFXMLParser):
    """rdflib's RDF/XML parser reading through :class:`_WholeText`."""

    def parse(self, source: InputSource, sink: Graph, **args: Any) -> None:
        self._parser = create_parser(source, sink)
        self._parser.setContentHandler(_WholeText(self._parser.getContentHandler()))
        self._parser.parse(source)


plugin.register(RDF_XML, Parser, __name__, "RdfXmlParser")


# --- a fast path for plain Turtle ------------------------------------------------------------

_IRI_CHARS = r"""[^<>"{}|^`\\\x00-\x20]*"""
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*"
_PREFIX = r"(?:[A-Za-z][A-Za-z0-9_-]*)?"
_END = r"(?=[ \t\r\n;,.\#]|\Z)"  # what may follow a name or literal on the fast path
_TURTLE_TOKEN = re.compile(
    rf"""
    [ \t\r\n]*  # white space before a token belongs to it: half as many matches
    (?:(?P<space>\#[^\r\n]*|\Z)
    |<(?P<iri>{_IRI_CHARS})>
    |(?P<long>\"\"\"|\'\'\')
    |(?:"(?P<dq>(?:[^"\\\n\r]|\\.)*)"|'(?P<sq>(?:[^'\\\n\r]|\\.)*)')
        (?:@(?P<lang>[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*)
          |\^\^(?:<(?P<dtiri>{_IRI_CHARS})>|(?P<dtname>{_PREFIX}:{_NAME})))?{_END}
    |_:(?P<bnode>{_NAME}){_END}
    |(?P<pname>{_PREFIX}:(?:{_NAME})?){_END}
    |(?P<a>a)(?=[ \t\r\n])
    |(?P<punct>[;,.])
    |@prefix[ \t\r\n]+(?P<declare>{_PREFIX}):[ \t\r\n]*<(?P<namespace>{_IRI_CHARS})>[ \t\r\n]*\.
    |(?P<other>.))
    """,
    re.VERBOSE | re.DOTALL,
)
_STRING_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = dict(zip("abfrtvn\\\"'", "\a\b\f\r\t\v\n\\\"'", strict=True))
RDF_TYPE = URIRef(RDF + "type")


class _NotSimple(Exception):
    """The Turtle uses something the fast path leaves to rdflib."""


def _absolute(iri: str) -> str:
    # rdflib resolves a reference against the base unless it has a scheme; leave those to it
    colon = iri.find(":")
    slash = iri.find("/")
    if colon < 0 or (0 <= slash < colon):
        raise _NotSimple
    return iri


def _unescape(match: re.Match[str]) -> str:
    character = match.group(1)
    if character not in _ESCAPED:
        raise _NotSimple  # \u and \U escapes, or an error rdflib reports
    return _ESCAPED[character]


def _parse_simple_turtle(data: bytes) -> _Collector | None:
    """The statements of a Turtle document, for the plain Turtle that ontology tools write:
    ``@prefix`` lines and triples of IRIs, prefixed names, labelled blank nodes and quoted
    literals (with a language or a datatype), separated by ``;``, ``,`` and ``.``.

    rdflib's Turtle parser turns such a document into exactly these terms (the same rdflib
    ``URIRef``, ``Literal`` and ``BNode`` values, in the same order) but is several times
    slower. For anything else (collections, ``[ ]`` blank nodes, long strings, numbers,
    ``@base``, relative IRIs, unusual escapes, syntax errors …) this returns None and the caller
    lets rdflib parse the whole document, so that it reads everything it read before and reports
    errors as before.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text[:1] == "\ufeff":
        text = text[1:]
    collector = _Collector()
    add = collector.add
    namespaces: dict[str, str] = {}
    iris: dict[str, URIRef] = {}
    bnodes: dict[str, BNode] = {}

    def iri(value: str) -> URIRef:
        node = iris.get(value)
        if node is None:
            node = iris[value] = URIRef(_absolute(value))
        return node

    names: dict[str, URIRef] = {}  # prefixed name → IRI, while the prefixes stay the same

    def name(value: str) -> URIRef:
        node = names.get(value)
        if node is None:
            prefix, _, local = value.partition(":")
            if prefix not in namespaces:
                raise _NotSimple  # rdflib reports the unbound prefix
            node = names[value] = iri(namespaces[prefix] + local)
        return node

    # states: 0 subject, 1 verb, 2 object, 3 after an object, 4 verb or end after ";"
    state = 0
    subject: Any = None
    predicate: Any = None
    try:
        for match in _TURTLE_TOKEN.finditer(text):
            kind = match.lastgroup
            if kind == "space":
                continue
            node: Any = None
            if kind == "pname":
                node = name(match.group("pname"))
            elif kind in ("dq", "sq", "lang", "dtiri", "dtname"):
                if state != 2:
                    raise _NotSimple
                value = match.group("dq")
                if value is None:
                    value = match.group("sq")
                if "\\" in value:
                    value = _STRING_ESCAPE.sub(_unescape, value)
                if match.group("dtiri") is not None:
                    node = Literal(value, datatype=iri(match.group("dtiri")))
                elif match.group("dtname") is not None:
                    node = Literal(value, datatype=name(match.group("dtname")))
                else:
                    node = Literal(value, lang=match.group("lang"))
            elif kind == "iri":
                node = iri(match.group("iri"))
            elif kind == "bnode":
                label = match.group("bnode")
                node = bnodes.get(label)
                if node is None:
                    node = bnodes[label] = BNode()
            elif kind == "a":
                if state not in (1, 4):
                    raise _NotSimple
                predicate, state = RDF_TYPE, 2
                continue
            elif kind == "punct":
                mark = match.group("punct")
                if state == 3 and mark == ",":
                    state = 2
                elif state == 3 and mark == ";":
                    state = 4
                elif state in (3, 4) and mark == ".":
                    state = 0
                else:
                    raise _NotSimple
                continue
            elif kind == "namespace" and state == 0:
                if match.group("declare") == "_":
                    raise _NotSimple
                namespaces[match.group("declare")] = _absolute(match.group("namespace"))
                names.clear()
                continue
            else:
                raise _NotSimple
            if state == 0:
                if isinstance(node, Literal):
                    raise _NotSimple
                subject, state = node, 1
            elif state in (1, 4):
                if not isinstance(node, URIRef):
                    raise _NotSimple
                predicate, state = node, 2
            elif state == 2:
                add(subject, predicate, node)
                state = 3
            else:
                raise _NotSimple
    except _NotSimple:
        return None
    return collector if state == 0 else None


def _bad_syntax_message(exc: BadSyntax) -> str:
    text = str(exc)
    match = re.search(r"Bad syntax \((.*?)\)", text)
    return match.group(1) if match else text.splitlines()[0]


def _ntriples_bad_line(stream: IO[bytes]) -> int | None:
    """N-Triples errors carry no line number: find the first line rdflib refuses."""
    from rdflib.plugins.parsers.ntriples import W3CNTriplesParser

    try:
        stream.seek(0)
    except (OSError, ValueError):
        return None

    class _Nothing:
        def triple(self, *args: Any) -> None:
            pass

    for number, raw in enumerate(stream, start=1):
        line = raw.decode("utf-8", errors="replace")
        try:
            W3CNTriplesParser(_Nothing()).parsestring(line)  # type: ignore[arg-type]
        except ParserError:
            return number
    return None


def _text(values: list[Any], prefer_lang: str = "en") -> str | None:
    """The best literal: English first, then no language, then any."""
    literals = [v for v in values if isinstance(v, Literal)]
    for wanted in (prefer_lang, None):
        for value in literals:
            language = value.language or None
            if language == wanted or (wanted and (language or "").startswith(wanted + "-")):
                return str(value).strip()
    return str(literals[0]).strip() if literals else None


def _synonym_kind_of(
    predicate: str, sub_properties: dict[str, set[str]], seen: frozenset[str] = frozenset()
) -> SynonymKind | None:
    if predicate in SYNONYM_PROPERTIES:
        return SYNONYM_PROPERTIES[predicate]
    for parent in sub_properties.get(predicate, ()):
        if parent not in seen:
            kind = _synonym_kind_of(parent, sub_properties, seen | {predicate})
            if kind is not None:
                return kind
    return None


def _build(
    collector: _Collector, content_hash: str, *, prefix: str | None, name: str | None
) -> ParsedOntology:
    values = collector.values
    header = next((s for s, types in collector.types.items() if types & HEADER_TYPES), None)
    subjects = [
        s
        for s, types in collector.types.items()
        if isinstance(s, URIRef) and types & TERM_TYPES and str(s) != OWL + "Thing"
    ]
    warnings: list[str] = []
    # which predicates carry synonyms (standard ones and sub-properties declared in the file)
    synonym_predicates = {
        p: k
        for p in {p for s in subjects for p in values.get(s, {})}
        if (k := _synonym_kind_of(p, collector.sub_properties)) is not None
    }
    abbreviation_axioms: set[tuple[str, str, str]] = set()
    for axiom in collector.axioms.values():
        synonym_type = axiom.get(OIO + "hasSynonymType")
        if synonym_type is not None and str(synonym_type) in ABBREVIATION_TYPES:
            abbreviation_axioms.add(
                (
                    str(axiom.get(OWL + "annotatedSource")),
                    str(axiom.get(OWL + "annotatedProperty")),
                    str(axiom.get(OWL + "annotatedTarget")),
                )
            )

    iri_to_curie: dict[str, str] = {}
    for subject in subjects:
        iri = str(subject)
        declared = _text(values.get(subject, {}).get(OIO + "id", []))
        curie = None
        for candidate in (declared, compress(iri)):
            if candidate:
                try:
                    curie = normalise_curie(candidate)
                    break
                except ValueError:
                    continue
        if curie is None:
            if not prefix:
                raise OntologyFormatError(
                    f"no known prefix covers {iri}; give the ontology's prefix (--prefix) so its "
                    "terms can be named PREFIX:local-id"
                )
            local = re.split(r"[/#]", iri.rstrip("/#"))[-1]
            local = re.sub(rf"^{re.escape(prefix)}[_:]", "", local, flags=re.IGNORECASE)
            curie = f"{prefix.upper()}:{local}"
        iri_to_curie[iri] = curie

    terms: dict[str, TermRecord] = {}
    dropped_parents = 0
    main_prefix = Counter(c.split(":", 1)[0] for c in iri_to_curie.values()).most_common(1)
    stubs = 0
    skipped = {
        iri_to_curie[str(s)]
        for s in subjects
        if main_prefix
        and not iri_to_curie[str(s)].startswith(main_prefix[0][0] + ":")
        and not any(_text(values.get(s, {}).get(p, [])) for p in LABEL_PROPERTIES)
    }
    for subject in subjects:
        iri = str(subject)
        curie = iri_to_curie[iri]
        props = values.get(subject, {})
        label = next((t for p in LABEL_PROPERTIES if (t := _text(props.get(p, [])))), None)
        if not label:
            if main_prefix and not curie.startswith(main_prefix[0][0] + ":"):
                stubs += 1  # a class of another ontology, only declared here: not ours to load
                continue
            warnings.append(f"{curie} has no label; its CURIE is used instead")
            label = curie
        canonical = expand(curie)
        if canonical and canonical != iri and _text(props.get(OIO + "id", [])):
            iri = canonical  # the id is authoritative (DUO's release has a mistyped class IRI)
        synonyms: list[tuple[str, SynonymKind]] = []
        seen_synonyms: set[tuple[str, SynonymKind]] = set()
        for predicate, kind in synonym_predicates.items():
            for value in props.get(predicate, []):
                if not isinstance(value, Literal) or (
                    value.language and not value.language.startswith("en")
                ):
                    continue
                text = str(value).strip()
                if (iri, predicate, text) in abbreviation_axioms:
                    kind_here = SynonymKind.ABBREVIATION
                else:
                    kind_here = kind
                if text and text != label and (text, kind_here) not in seen_synonyms:
                    seen_synonyms.add((text, kind_here))
                    synonyms.append((text, kind_here))
        parents = set()
        for predicate in (RDFS + "subClassOf", SKOS + "broader"):
            for value in props.get(predicate, []):
                if isinstance(value, URIRef):
                    parent = iri_to_curie.get(str(value))
                    if parent and parent != curie and parent not in skipped:
                        parents.add(parent)
                    elif str(value) != OWL + "Thing":
                        dropped_parents += 1
        xrefs = {str(v).strip() for v in props.get(OIO + "hasDbXref", []) if str(v).strip()}
        for predicate in XREF_MATCHES:
            for value in props.get(predicate, []):
                if isinstance(value, URIRef) and (xref := compress(str(value))):
                    xrefs.add(xref)
        deprecated = any(str(v).lower() in {"true", "1"} for v in props.get(OWL + "deprecated", []))
        replaced = next(
            iter(props.get(OBO + "IAO_0100001", []) + props.get(DCT + "isReplacedBy", [])), None
        )
        replaced_by = None
        if replaced is not None:
            text = str(replaced)
            replaced_by = iri_to_curie.get(text) or compress(text) or text
            try:
                replaced_by = normalise_curie(replaced_by)
            except ValueError:
                replaced_by = None
        terms[curie] = TermRecord(
            curie=curie,
            iri=iri,
            label=label[:500],
            definition=_text(
                props.get(OBO + "IAO_0000115", []) + props.get(SKOS + "definition", [])
            ),
            synonyms=synonyms,
            xrefs=xrefs - {curie},
            parents=parents,
            obsolete=deprecated or label.lower().startswith("obsolete "),
            replaced_by=replaced_by,
            value_type=_text(props.get(HVV + "valueType", [])),
            unit=_text(props.get(HVV + "unit", [])),
        )
    for broader, narrower in collector.narrower:
        child, parent = iri_to_curie.get(str(narrower)), iri_to_curie.get(str(broader))
        if child and parent and child != parent:
            terms[child].parents.add(parent)
    if stubs:
        warnings.append(f"{stubs} unlabelled classes of other ontologies were left out")
    if dropped_parents:
        warnings.append(f"{dropped_parents} parent links point outside the file and were left out")
    if not terms:
        raise OntologyFormatError("the file holds no OWL classes or SKOS concepts")

    head = values.get(header, {}) if header is not None else {}
    common_prefix = Counter(c.split(":", 1)[0] for c in terms).most_common(1)[0][0]
    title = _text(
        head.get(DCT + "title", [])
        + head.get(DCE + "title", [])
        + head.get(RDFS + "label", [])
        + head.get(SKOS + "prefLabel", [])
    )
    version = _text(head.get(OWL + "versionInfo", []))
    if not version and head.get(OWL + "versionIRI"):
        version = str(head[OWL + "versionIRI"][0]).rstrip("/").split("/")[-2]
    licence = next((str(v) for v in head.get(DCT + "license", [])), None)
    source = next((str(v) for v in head.get(DCT + "source", [])), None)
    return ParsedOntology(
        prefix=(prefix or common_prefix).upper(),
        name=name or title or (prefix or common_prefix).upper(),
        iri=str(header) if isinstance(header, URIRef) else None,
        version=version,
        licence=licence,
        source_url=source,
        description=_text(
            head.get(DCT + "description", [])
            + head.get(DCE + "description", [])
            + head.get(RDFS + "comment", [])
        ),
        terms=terms,
        content_hash=content_hash,
        warnings=warnings,
    )


# --- OncoTree --------------------------------------------------------------------------------

ONCOTREE_IRI = "http://oncotree.mskcc.org/api/tumorTypes/search/code/"
ONCOTREE_MAX_DEPTH = 100


def _parse_oncotree(
    buffered: IO[bytes], reader: _HashingReader, *, prefix: str | None, name: str | None
) -> ParsedOntology:
    try:
        data = json.load(io.TextIOWrapper(buffered, encoding="utf-8"))
    except RecursionError as exc:
        raise OntologyFormatError(_TOO_DEEP) from exc
    except json.JSONDecodeError as exc:
        raise OntologyFormatError(exc.msg, line=exc.lineno, column=exc.colno) from exc
    except UnicodeDecodeError as exc:
        raise OntologyFormatError(f"the file is not UTF-8 text ({exc.reason})") from exc
    if isinstance(data, list):
        roots = {str(i): node for i, node in enumerate(data)}
    elif isinstance(data, dict) and "code" in data and "children" in data:
        roots = {"$": data}
    elif isinstance(data, dict):
        roots = data
    else:
        raise OntologyFormatError("expected an object of OncoTree nodes", path="$")
    terms: dict[str, TermRecord] = {}

    def visit(node: Any, path: str, parent: str | None, depth: int = 0) -> None:
        if depth > ONCOTREE_MAX_DEPTH:
            raise OntologyFormatError(
                f"nested more than {ONCOTREE_MAX_DEPTH} levels deep (OncoTree has about ten)",
                path=path,
            )
        if not isinstance(node, dict):
            raise OntologyFormatError("expected an OncoTree node (an object)", path=path)
        for key in ("code", "name"):
            if not isinstance(node.get(key), str) or not node[key].strip():
                raise OntologyFormatError(f"missing or empty {key!r}", path=f"{path}.{key}")
        code = node["code"].strip()
        curie = f"ONCOTREE:{code}"
        refs = node.get("externalReferences") or {}
        if not isinstance(refs, dict):
            raise OntologyFormatError("expected an object", path=f"{path}.externalReferences")
        xrefs: set[str] = set()
        for source, ids in refs.items():
            if not isinstance(ids, list):
                raise OntologyFormatError(
                    "expected a list", path=f"{path}.externalReferences.{source}"
                )
            label = {"NCI": "NCIT"}.get(source, source.upper())
            xrefs.update(f"{label}:{i}" for i in ids if isinstance(i, str) and i)
        record = terms.get(curie)
        if record is None:
            record = TermRecord(
                curie=curie, iri=ONCOTREE_IRI + code, label=node["name"].strip(), xrefs=xrefs
            )
            terms[curie] = record
        if parent:
            record.parents.add(parent)
        history = node.get("history") or []
        if isinstance(history, list):
            for old in history:
                if isinstance(old, str) and old and old != code:
                    record.synonyms.append((old, SynonymKind.RELATED))
        children = node.get("children") or {}
        if isinstance(children, list):
            children = {str(i): c for i, c in enumerate(children)}
        if not isinstance(children, dict):
            raise OntologyFormatError("expected an object of child nodes", path=f"{path}.children")
        for key, child in children.items():
            visit(child, f"{path}.children.{key}", curie, depth + 1)

    for key, node in roots.items():
        visit(node, "$" if key == "$" else f"$.{key}", None)
    return ParsedOntology(
        prefix=(prefix or "ONCOTREE").upper(),
        name=name or "OncoTree",
        iri="http://oncotree.mskcc.org/",
        version=None,
        licence="CC BY 4.0",
        source_url="https://oncotree.mskcc.org/",
        description="Cancer type classification of Memorial Sloan Kettering Cancer Center.",
        terms=terms,
        content_hash=reader.sha.hexdigest(),
    )
