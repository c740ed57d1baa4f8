"""A published dataset's data-use conditions in its DCAT record: an ODRL offer whose rules name
the DUO terms, which keeps the record valid under the official DCAT-AP 3.0.0 SHACL shapes
(this module runs on both databases)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from core.etags import UNCHECKED
from core.models import Role
from core.policies import SYSTEM
from governance.data_use import services
from tests.catalogue.dcat.conftest import parse

SHARED = Path(
    os.environ.get("HARMONY_SHARED_DIR") or Path(__file__).resolve().parents[4] / "shared"
)
SHAPES = SHARED / "dcat-ap" / "dcat-ap-3.0.0-SHACL.ttl"
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
BASE = "http://127.0.0.1:8000"
EVERYTHING = {
    "permission": "DUO:0000007",
    "diseases": ["NCIT:C3171", "NCIT:C3247"],
    "modifiers": [
        {"term": "DUO:0000012", "topic": "Measurable residual disease"},
        {"term": "DUO:0000019"},
        {"term": "DUO:0000021"},
        {"term": "DUO:0000022", "regions": ["EEA", "CH"]},
        {"term": "DUO:0000024", "date": "2026-06-01"},
        {"term": "DUO:0000025", "months": 24},
        {"term": "DUO:0000026", "users": ["Dr A. Jansen"]},
        {"term": "DUO:0000027", "projects": ["HARMONY PLUS"]},
        {"term": "DUO:0000028", "institutions": ["Erasmus MC"]},
        {"term": "DUO:0000045"},
    ],
}


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[None]:
    from tests.conftest import shared_world

    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        make.user(Role.CUSTODIAN, organisation=leiden)
        make.dataset(leiden, identifier="odrl-ds", title="DS trial", publish=True)
        make.dataset(leiden, identifier="odrl-gru", title="GRU registry", publish=True)
        make.dataset(leiden, identifier="odrl-none", title="Cohort", publish=True)
        with app.app_context():
            services.set_conditions(SYSTEM, "odrl-ds", EVERYTHING, UNCHECKED)
            services.set_conditions(
                SYSTEM,
                "odrl-gru",
                {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000029"}]},
                UNCHECKED,
            )
        yield


@pytest.fixture(scope="module")
def shapes() -> Graph:
    if not SHAPES.exists():
        pytest.skip(
            f"the DCAT-AP 3.0.0 shapes are not at {SHAPES}: put ../shared beside the checkout "
            "or point HARMONY_SHARED_DIR at it"
        )
    return Graph().parse(SHAPES)


def record(client, identifier: str) -> Graph:
    return parse(client.get(f"/datasets/{identifier}.ttl"))


def constraints(graph: Graph, node) -> set[tuple]:
    return {
        (
            graph.value(c, ODRL.leftOperand),
            graph.value(c, ODRL.operator),
            frozenset(graph.objects(c, ODRL.rightOperand)),
        )
        for c in graph.objects(node, ODRL.constraint)
    }


def test_the_policy_names_the_permission_the_diseases_and_the_modifiers(client, world):
    graph = record(client, "odrl-ds")
    dataset = URIRef(f"{BASE}/datasets/odrl-ds")
    policy = graph.value(dataset, ODRL.hasPolicy)
    assert policy is not None and (policy, RDF.type, ODRL.Offer) in graph
    assert graph.value(policy, ODRL.target) == dataset
    assert graph.value(policy, ODRL.assigner) is not None
    rule = graph.value(policy, ODRL.permission)
    assert graph.value(rule, ODRL.action) == ODRL.use
    found = constraints(graph, rule)
    assert (ODRL.purpose, ODRL.isA, frozenset({OBO.DUO_0000007})) in found
    assert (ODRL.purpose, ODRL.isAnyOf, frozenset({OBO.NCIT_C3171, OBO.NCIT_C3247})) in found
    assert (ODRL.purpose, ODRL.isA, frozenset({OBO.DUO_0000045})) in found  # NPU
    assert (ODRL.spatial, ODRL.isAnyOf, frozenset({Literal("CH"), Literal("EEA")})) in found
    assert (
        ODRL.elapsedTime,
        ODRL.lteq,
        frozenset({Literal("P24M", datatype=XSD.duration)}),
    ) in found
    duties = {graph.value(d, ODRL.action): d for d in graph.objects(rule, ODRL.duty)}
    assert set(duties) == {OBO.DUO_0000019, OBO.DUO_0000021, OBO.DUO_0000024}  # PUB IRB MOR
    assert constraints(graph, duties[OBO.DUO_0000024]) == {
        (ODRL.dateTime, ODRL.gteq, frozenset({Literal("2026-06-01", datatype=XSD.date)}))
    }


def test_a_dataset_without_conditions_has_no_policy(client, world):
    graph = record(client, "odrl-none")
    assert graph.value(URIRef(f"{BASE}/datasets/odrl-none"), ODRL.hasPolicy) is None


def test_the_catalogue_export_carries_each_datasets_own_policy(client, world):
    graph = parse(client.get("/catalogue.ttl", query_string={"per_page": 100}))
    policies = {
        str(s).rsplit("/", 1)[1]: graph.value(graph.value(p, ODRL.permission), ODRL.action)
        for s, p in graph.subject_objects(ODRL.hasPolicy)
    }
    assert set(policies) == {"odrl-ds", "odrl-gru"}
    gru = graph.value(URIRef(f"{BASE}/datasets/odrl-gru"), ODRL.hasPolicy)
    rule = graph.value(gru, ODRL.permission)
    assert (ODRL.purpose, ODRL.isA, frozenset({OBO.DUO_0000042})) in constraints(graph, rule)
    assert graph.value(graph.value(rule, ODRL.duty), ODRL.action) == OBO.DUO_0000029  # RTN


@pytest.mark.parametrize("identifier", ["odrl-ds", "odrl-gru"])
def test_records_with_a_policy_conform_to_dcat_ap_3(client, world, shapes, identifier):
    graph = record(client, identifier)
    assert graph.value(URIRef(f"{BASE}/datasets/{identifier}"), ODRL.hasPolicy) is not None
    conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text


def test_the_catalogue_with_policies_conforms_to_dcat_ap_3(client, world, shapes):
    graph = parse(client.get("/catalogue.ttl", query_string={"per_page": 100}))
    assert len(set(graph.subject_objects(ODRL.hasPolicy))) == 2
    conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text
