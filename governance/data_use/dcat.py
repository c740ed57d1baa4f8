"""A published dataset's data-use conditions in its DCAT record, as an ODRL offer whose rules name
the DUO terms (``catalogue.extensions.register_dcat_contributor``).

The shape (``p``: ``<dataset IRI>#data-use``; DS AML with IRB, MOR, GS and TS)::

    <dataset> odrl:hasPolicy <dataset#data-use> .
    <dataset#data-use> a odrl:Offer, odrl:Policy ;
        odrl:uid <dataset#data-use> ;
        odrl:target <dataset> ;
        odrl:assigner <organisation> ;                  # the custodian
        dct:identifier "revision 3" ;
        odrl:permission [ a odrl:Permission ;
            odrl:action odrl:use ;
            odrl:constraint [ a odrl:Constraint ;        # the permission
                odrl:leftOperand odrl:purpose ; odrl:operator odrl:isA ;
                odrl:rightOperand obo:DUO_0000007 ] ,
              [ a odrl:Constraint ;                       # DS: the diseases
                odrl:leftOperand odrl:purpose ; odrl:operator odrl:isAnyOf ;
                odrl:rightOperand obo:NCIT_C3171 ] ,
              [ a odrl:Constraint ;                       # a restricting modifier
                odrl:leftOperand odrl:purpose ; odrl:operator odrl:isA ;
                odrl:rightOperand obo:DUO_0000022 ] ,
              [ a odrl:Constraint ;                       # GS: where
                odrl:leftOperand odrl:spatial ; odrl:operator odrl:isAnyOf ;
                odrl:rightOperand "EEA" ; rdfs:seeAlso obo:DUO_0000022 ] ,
              [ a odrl:Constraint ;                       # TS: how long
                odrl:leftOperand odrl:elapsedTime ; odrl:operator odrl:lteq ;
                odrl:rightOperand "P24M"^^xsd:duration ; rdfs:seeAlso obo:DUO_0000025 ] ;
            odrl:duty [ a odrl:Duty ; odrl:action obo:DUO_0000021 ] ,   # IRB, PUB, COL, RTN
              [ a odrl:Duty ; odrl:action obo:DUO_0000024 ;              # MOR
                odrl:constraint [ a odrl:Constraint ;
                  odrl:leftOperand odrl:dateTime ; odrl:operator odrl:gteq ;
                  odrl:rightOperand "2026-06-01"^^xsd:date ] ] ] .

Modifiers that oblige the user to do something (PUB, COL, IRB, RTN, MOR) are duties whose
action is the DUO term; the others restrict the use and are constraints ``purpose isA <DUO
term>`` (all constraints of a rule hold together), with their parameters as constraints on
ODRL's own left operands (``spatial``, ``elapsedTime``, ``recipient``) that point back to the
DUO term with ``rdfs:seeAlso``. DCAT-AP 3 leaves ``odrl:Policy`` open, so the record stays valid
under its SHACL shapes (tested).
"""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD
from sqlalchemy import select

from catalogue.models import Dataset
from core.db import get_session
from governance.data_use import vocabulary
from governance.data_use.models import DataUseConditions
from ontologies.identifiers import expand

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
#: modifiers that oblige the user to act (duties); the others restrict the use (constraints)
DUTIES = frozenset({"PUB", "COL", "IRB", "RTN", "MOR"})
#: a modifier's parameter as a constraint on one of ODRL's left operands
PARAM_OPERANDS = {
    "regions": (ODRL.spatial, ODRL.isAnyOf),
    "users": (ODRL.recipient, ODRL.isAnyOf),
    "institutions": (ODRL.recipient, ODRL.isAnyOf),
    "projects": (ODRL.purpose, ODRL.isAnyOf),
    "topic": (ODRL.purpose, ODRL.isA),
}
#: where a graph keeps the conditions it has read (see :func:`_conditions_for`)
_CACHE = "_harmony_data_use"


def _conditions_for(graph: Any, identifier: str) -> dict[str, Any] | None:
    """The stored conditions of a dataset. A graph that describes one dataset asks once; a
    graph that describes many (the catalogue export) reads every dataset's conditions at its
    second dataset, in one query, instead of one query per dataset."""
    cache: dict[str, Any] | None = graph.__dict__.get(_CACHE)
    if cache is not None and cache.get("*"):
        return cache.get(identifier)
    statement = select(Dataset.identifier, DataUseConditions).join(
        DataUseConditions, DataUseConditions.dataset_id == Dataset.id
    )
    if cache is None:  # the first dataset of this graph: only its own
        statement = statement.where(Dataset.identifier == identifier)
    found = {
        i: {"permission": r.permission, "diseases": r.diseases, "modifiers": r.modifiers,
            "revision": r.revision}
        for i, r in get_session().execute(statement)
    }  # fmt: skip
    graph.__dict__[_CACHE] = {**found, "*": cache is not None}
    return found.get(identifier)


def _iri(curie: str) -> URIRef:
    return URIRef(expand(curie) or vocabulary.TERMS[curie].iri)


def _constraint(graph: Any, left: URIRef, operator: URIRef, *right: Any) -> BNode:
    node = BNode()
    graph.add((node, RDF.type, ODRL.Constraint))
    graph.add((node, ODRL.leftOperand, left))
    graph.add((node, ODRL.operator, operator))
    for value in right:
        graph.add((node, ODRL.rightOperand, value))
    return node


def add_policy(graph: Any, subject: URIRef, record: Any, iris: Any) -> None:
    """Add the ODRL offer of a published dataset's conditions (nothing when it has none)."""
    shape = _conditions_for(graph, record.identifier)
    if shape is None:
        return
    policy = URIRef(f"{iris.dataset(record.identifier)}#data-use")
    graph.add((subject, ODRL.hasPolicy, policy))
    graph.add((policy, RDF.type, ODRL.Offer))
    graph.add((policy, RDF.type, ODRL.Policy))
    graph.add((policy, ODRL.uid, policy))
    graph.add((policy, ODRL.target, subject))
    graph.add((policy, ODRL.assigner, iris.organisation(record.publisher.id)))
    graph.add((policy, DCTERMS.identifier, Literal(f"revision {shape['revision']}")))
    rule = BNode()
    graph.add((policy, ODRL.permission, rule))
    graph.add((rule, RDF.type, ODRL.Permission))
    graph.add((rule, ODRL.action, ODRL.use))
    graph.add((rule, ODRL.target, subject))
    constraints = [_constraint(graph, ODRL.purpose, ODRL.isA, _iri(shape["permission"]))]
    if shape["diseases"]:
        diseases = [_iri(c) for c in shape["diseases"]]
        constraints.append(_constraint(graph, ODRL.purpose, ODRL.isAnyOf, *diseases))
    for item in shape["modifiers"]:
        duo = vocabulary.TERMS.get(item["term"])
        if duo is None:
            continue
        term_iri = _iri(duo.curie)
        if duo.code in DUTIES:
            duty = BNode()
            graph.add((rule, ODRL.duty, duty))
            graph.add((duty, RDF.type, ODRL.Duty))
            graph.add((duty, ODRL.action, term_iri))
            if duo.code == "MOR" and item.get("date"):
                when = Literal(item["date"], datatype=XSD.date)
                graph.add(
                    (duty, ODRL.constraint, _constraint(graph, ODRL.dateTime, ODRL.gteq, when))
                )
            continue
        constraints.append(_constraint(graph, ODRL.purpose, ODRL.isA, term_iri))
        if duo.code == "TS" and item.get("months"):
            months = Literal(f"P{int(item['months'])}M", datatype=XSD.duration)
            node = _constraint(graph, ODRL.elapsedTime, ODRL.lteq, months)
            graph.add((node, RDFS.seeAlso, term_iri))
            constraints.append(node)
        for name, (left, operator) in PARAM_OPERANDS.items():
            value = item.get(name)
            if not value:
                continue
            values = value if isinstance(value, list) else [value]
            node = _constraint(graph, left, operator, *(Literal(v) for v in values))
            graph.add((node, RDFS.seeAlso, term_iri))
            constraints.append(node)
    for node in constraints:
        graph.add((rule, ODRL.constraint, node))
