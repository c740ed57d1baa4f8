"""The graphs of what a dataset's record names besides the dataset: its variables (and their
permissible values) and its publisher. Each is what its IRI answers to RDF clients.

A **variable** (``{BASE_URL}/datasets/{id}/variables/{name}``) is what the CSVW dictionary
describes as a column of the dataset's data, so it is a ``csvw:Column`` with the column's
terms, plus what a harmonisation needs to read it without the dictionary::

    <…/variables/hb_dx> a csvw:Column ;
        csvw:name "hb_dx" ; csvw:title "hb_dx", "Haemoglobin at diagnosis"@en ;
        rdfs:label "Haemoglobin at diagnosis"@en ; dct:description "…"@en ;
        csvw:datatype xsd:decimal ; schema:unitText "g/dL" ; csvw:null "-9" ;
        dct:isPartOf <…/datasets/aml-x> ; rdfs:isDefinedBy <…/dictionary.csvw.json> ;
        skos:exactMatch <https://w3id.org/harmony/hv/HV_0000045> .
    [] a owl:Axiom ; owl:annotatedSource <…/hb_dx> ; owl:annotatedProperty skos:exactMatch ;
        owl:annotatedTarget <…HV_0000045> ;
        sssom:mapping_justification semapv:ManualMappingCuration ; sssom:confidence 0.9 .

Its permissible values (``…/variables/{name}/values/{code}``) are ``schema:PropertyValue``\\ s
(as in the CSVW document), each with the terms it is mapped to. The mappings are the accepted
ones, with their SKOS predicate as it is (the SSSOM exports say the same), and each mapping's
provenance as SSSOM writes mappings in RDF: an ``owl:Axiom`` on the triple.

A **publisher** (``{BASE_URL}/organisations/{id}``) is the ``foaf:Agent`` of the dataset
records (:func:`catalogue.dcat.graph.add_agent`), with the datasets it publishes now
(``dct:publisher`` pointing at it, each with its title).
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef

from catalogue.dcat.csvw import DATATYPES, column_name
from catalogue.dcat.graph import Iris, add_agent, new_graph
from catalogue.dcat.services import PublicOrganisation, PublicVariable, TermMapping
from catalogue.dcat.vocab import (
    CSVW,
    DCAT,
    DCT,
    OWL,
    RDF,
    RDFS,
    SCHEMA,
    SEMAPV,
    SKOS,
    SSSOM,
    XSD,
)
from catalogue.models import ValueType

#: CSVW's built-in datatypes as XSD datatypes (a coded variable is a string of its codes)
XSD_DATATYPES = {
    "integer": XSD.integer,
    "decimal": XSD.decimal,
    "date": XSD.date,
    "datetime": XSD.dateTime,
    "boolean": XSD.boolean,
    "string": XSD.string,
}


def _text(value: str) -> Literal:
    return Literal(value, lang="en")


def _curie_iri(curie: str, namespaces: dict[str, URIRef]) -> URIRef:
    """``skos:exactMatch`` → the SKOS IRI (the mapping columns hold these CURIEs)."""
    prefix, _, local = curie.partition(":")
    return URIRef(namespaces[prefix] + local)


_NAMESPACES = {"skos": URIRef(str(SKOS)), "semapv": URIRef(str(SEMAPV))}


def _add_mapping(graph: Graph, subject: URIRef, mapping: TermMapping, author: str) -> None:
    """``subject <predicate> term``, the term's label, and the mapping's provenance as an
    annotated axiom (what sssom-py writes for a mapping in RDF)."""
    predicate = _curie_iri(mapping.predicate, _NAMESPACES)
    term = URIRef(mapping.iri)
    graph.add((subject, predicate, term))
    graph.add((term, RDF.type, SKOS.Concept))
    graph.add((term, SKOS.notation, Literal(mapping.curie)))
    if mapping.label:
        graph.add((term, SKOS.prefLabel, _text(mapping.label)))
    axiom = BNode()
    graph.add((axiom, RDF.type, OWL.Axiom))
    graph.add((axiom, OWL.annotatedSource, subject))
    graph.add((axiom, OWL.annotatedProperty, predicate))
    graph.add((axiom, OWL.annotatedTarget, term))
    justification = _curie_iri(mapping.justification, _NAMESPACES)
    graph.add((axiom, SSSOM.mapping_justification, justification))
    if mapping.confidence is not None:
        confidence = Literal(repr(float(mapping.confidence)), datatype=XSD.double)
        graph.add((axiom, SSSOM.confidence, confidence))
    if mapping.mapping_date is not None:
        day = Literal(mapping.mapping_date.isoformat(), datatype=XSD.date)
        graph.add((axiom, SSSOM.mapping_date, day))
    graph.add((axiom, SSSOM.author_label, Literal(author)))


def add_variable(graph: Graph, published: PublicVariable, iris: Iris) -> URIRef:
    """The variable, the terms it and its values are mapped to, and the dataset it belongs to
    (by its IRI, type and title: enough to name it)."""
    record = published.record
    row = published.variable
    identifier = record.identifier
    add = graph.add
    subject = iris.variable(identifier, row.name)
    dataset = iris.dataset(identifier)
    add((subject, RDF.type, CSVW.Column))
    add((subject, DCT.identifier, Literal(row.name)))
    add((subject, CSVW.name, Literal(column_name(row.name))))
    add((subject, CSVW.title, Literal(row.name)))
    label = row.label or row.name
    if label != row.name:
        add((subject, CSVW.title, _text(label)))
    add((subject, RDFS.label, _text(label)))
    add((subject, DCT.title, _text(label)))
    if row.description:
        add((subject, DCT.description, _text(row.description)))
    value_type = ValueType(getattr(row.value_type, "value", row.value_type))
    add((subject, CSVW.datatype, XSD_DATATYPES[DATATYPES[value_type]]))
    if row.unit:
        add((subject, SCHEMA.unitText, Literal(row.unit)))
    if row.minimum not in (None, ""):
        add((subject, SCHEMA.minValue, Literal(str(row.minimum))))
    if row.maximum not in (None, ""):
        add((subject, SCHEMA.maxValue, Literal(str(row.maximum))))
    for code in row.missing_codes or []:
        add((subject, CSVW.null, Literal(str(code))))
    add((subject, DCT.isPartOf, dataset))
    csvw_document = iris.csvw(identifier)
    add((subject, RDFS.isDefinedBy, csvw_document))
    add((dataset, RDF.type, DCAT.Dataset))
    add((dataset, DCT.title, _text(record.version.title)))
    if record.retired:
        add((subject, OWL.deprecated, Literal(True)))
    author = record.publisher.name
    by_code: dict[str | None, list[TermMapping]] = {}
    for mapping in published.mappings:
        by_code.setdefault(mapping.value_code, []).append(mapping)
    for mapping in by_code.pop(None, []):
        _add_mapping(graph, subject, mapping, author)
    for value in row.permissible_values or []:
        code = str(value.get("code", ""))
        node = iris.variable_value(identifier, row.name, code)
        add((subject, SCHEMA.valueReference, node))
        add((node, RDF.type, SCHEMA.PropertyValue))
        add((node, SCHEMA.value, Literal(code)))
        if value.get("label"):
            add((node, SCHEMA.name, _text(str(value["label"]))))
        add((node, DCT.isPartOf, subject))
        for mapping in by_code.get(code, []):
            _add_mapping(graph, node, mapping, author)
    return subject


def variable_graph(published: PublicVariable, iris: Iris) -> Graph:
    graph = new_graph()
    add_variable(graph, published, iris)
    return graph


def variable_value_graph(published: PublicVariable, code: str, iris: Iris) -> tuple[Graph, URIRef]:
    """The document of one permissible value: the variable's whole description (a value means
    nothing without its variable), the value first."""
    graph = variable_graph(published, iris)
    return graph, iris.variable_value(published.record.identifier, published.variable.name, code)


def organisation_graph(organisation: PublicOrganisation, iris: Iris) -> Graph:
    graph = new_graph()
    agent = add_agent(graph, organisation.publisher, iris)
    for identifier, title in organisation.datasets:
        dataset = iris.dataset(identifier)
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, DCT.title, _text(title)))
        graph.add((dataset, DCT.publisher, agent))
    return graph
