"""A published variable's IRI (``/datasets/{id}/variables/{name}``, the subject of the SSSOM
exports and the ``@id`` of its CSVW column) describes it in RDF: what it is, its unit and
values, the dataset it belongs to, and its accepted mappings with their SKOS predicates. Its
values' IRIs (``…/values/{code}``) answer too. Drafts and unknown names are 404."""

from __future__ import annotations

import json

import pytest
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from catalogue.datasets import services as datasets
from catalogue.dcat import views as dcat_views
from catalogue.dcat.serialize import FORMATS
from catalogue.mappings import services as mappings
from core.policies import SYSTEM
from tests.catalogue.dcat.conftest import DCAT, DCT, iri, parse, retire

CSVW = Namespace("http://www.w3.org/ns/csvw#")
SCHEMA = Namespace("http://schema.org/")
SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
HV = "https://w3id.org/harmony/hv/HV_"
VARIABLES = [
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "description": "Haemoglobin in peripheral blood at diagnosis, before any treatment.",
        "value_type": "decimal",
        "unit": "g/dL",
        "minimum": "3",
        "maximum": "20",
        "missing_codes": ["-9"],
        "mappings": ["HV:0000045"],
    },
    {
        "name": "karyotype",
        "label": "Karyotype",
        "value_type": "categorical",
        "permissible_values": [{"code": "1", "label": "Normal"}, {"code": "2", "label": "Complex"}],
    },
    {"name": "free_text", "label": "free_text", "value_type": "text"},
]


@pytest.fixture
def published(app, make, custodian_org) -> str:
    """A published dataset whose karyotype value 2 is close to a term (by hand, 0.75), and an
    open draft of a second version that adds a variable (not published)."""
    identifier = make.dataset(custodian_org, variables=VARIABLES, title="AML cytogenetics")
    with app.app_context():
        mappings.create_mapping(
            SYSTEM,
            identifier,
            {
                "variable": "karyotype",
                "subject_value": "2",
                "object_id": "HV:0000094",
                "predicate_id": "skos:closeMatch",
                "confidence": 0.75,
            },
            "*",
        )
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
        datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
    return identifier


def variable(identifier: str, name: str) -> URIRef:
    return iri(f"/datasets/{identifier}/variables/{name}")


def test_a_variable_is_a_column_with_its_meaning_unit_and_dataset(client, published):
    graph = parse(client.get(f"/datasets/{published}/variables/hb_dx.ttl"))
    v = variable(published, "hb_dx")
    assert (v, RDF.type, CSVW.Column) in graph
    assert (v, CSVW.name, Literal("hb_dx")) in graph
    assert (v, DCT.identifier, Literal("hb_dx")) in graph
    assert (v, RDFS.label, Literal("Haemoglobin at diagnosis", lang="en")) in graph
    assert (v, CSVW.title, Literal("Haemoglobin at diagnosis", lang="en")) in graph
    assert (v, DCT.description, None) in graph
    assert (v, CSVW.datatype, XSD.decimal) in graph
    assert (v, SCHEMA.unitText, Literal("g/dL")) in graph
    assert (v, SCHEMA.minValue, Literal("3")) in graph and (v, SCHEMA.maxValue, None) in graph
    assert list(graph.objects(v, CSVW.null)) == [Literal("-9")]
    dataset = iri(f"/datasets/{published}")
    assert (v, DCT.isPartOf, dataset) in graph
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert (dataset, DCT.title, Literal("AML cytogenetics", lang="en")) in graph
    assert (v, RDFS.isDefinedBy, iri(f"/datasets/{published}/dictionary.csvw.json")) in graph
    # its mapping: a SKOS triple, the term named, and how the mapping was made (SSSOM)
    term = URIRef(HV + "0000045")
    assert (v, SKOS.exactMatch, term) in graph
    assert (term, SKOS.prefLabel, Literal("Haemoglobin", lang="en")) in graph
    assert (term, SKOS.notation, Literal("HV:0000045")) in graph
    (axiom,) = graph.subjects(OWL.annotatedSource, v)
    assert isinstance(axiom, BNode)
    assert (axiom, OWL.annotatedProperty, SKOS.exactMatch) in graph
    assert (axiom, OWL.annotatedTarget, term) in graph
    assert (axiom, SSSOM.mapping_justification, None) in graph
    # the public sees the custodian organisation as the author, as in the SSSOM export
    assert (axiom, SSSOM.author_label, Literal("Erasmus MC (tests)")) in graph


def test_values_are_described_with_their_own_mappings(client, published):
    graph = parse(client.get(f"/datasets/{published}/variables/karyotype.ttl"))
    v = variable(published, "karyotype")
    assert (v, CSVW.datatype, XSD.string) in graph
    normal, complex_ = (URIRef(f"{v}/values/{code}") for code in ("1", "2"))
    assert set(graph.objects(v, SCHEMA.valueReference)) == {normal, complex_}
    assert (complex_, RDF.type, SCHEMA.PropertyValue) in graph
    assert (complex_, SCHEMA.value, Literal("2")) in graph
    assert (complex_, SCHEMA.name, Literal("Complex", lang="en")) in graph
    assert (complex_, DCT.isPartOf, v) in graph
    term = URIRef(HV + "0000094")
    assert (complex_, SKOS.closeMatch, term) in graph  # the predicate as the custodian chose
    assert (v, SKOS.closeMatch, term) not in graph and (normal, None, term) not in graph
    (axiom,) = graph.subjects(OWL.annotatedSource, complex_)
    assert (axiom, SSSOM.confidence, Literal("0.75", datatype=XSD.double)) in graph
    assert (axiom, SSSOM.mapping_justification, SEMAPV.ManualMappingCuration) in graph
    # an unmapped variable has no mapping and no value list
    plain = parse(client.get(f"/datasets/{published}/variables/free_text.ttl"))
    free = variable(published, "free_text")
    assert (free, RDFS.label, Literal("free_text", lang="en")) in plain
    assert not [p for p in plain.predicates(free, None) if str(p).startswith(str(SKOS))]
    assert (free, SCHEMA.valueReference, None) not in plain


def test_a_value_iri_answers_with_its_variable_and_sends_people_to_the_page(client, published):
    path = f"/datasets/{published}/variables/karyotype/values/2"
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.mimetype == "text/turtle" and "Accept" in response.headers["Vary"]
    graph = parse(response)
    assert (URIRef(iri(path)), SKOS.closeMatch, URIRef(HV + "0000094")) in graph
    body = [line for line in response.get_data(as_text=True).splitlines() if line[:1] == "<"]
    assert body[0].startswith(f"<{iri(path)}>")  # the value is described first
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["Location"] == f"/datasets/{published}/variables/karyotype#values"
    for unknown in (f"/datasets/{published}/variables/karyotype/values/9", "/datasets/x/variables/a/values/1"):  # fmt: skip
        for accept in ("text/turtle", "text/html"):
            assert client.get(unknown, headers={"Accept": accept}).status_code == 404


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_every_format_says_the_same(client, published, ext):
    turtle = parse(client.get(f"/datasets/{published}/variables/karyotype.ttl"))
    response = client.get(f"/datasets/{published}/variables/karyotype.{ext}")
    assert response.mimetype == FORMATS[ext].media_type
    assert "Vary" not in response.headers or "Accept" not in response.headers["Vary"]
    assert parse(response).isomorphic(turtle)


def test_the_negotiating_view_gets_the_same_graph(app, published):
    """What ``@negotiated(variable_rdf)`` calls on the variable page's route."""
    with app.test_request_context():
        response = dcat_views.variable_rdf(published, "hb_dx", FORMATS["jsonld"], negotiated=True)
        assert response.status_code == 200 and "Accept" in response.vary
        assert response.mimetype == "application/ld+json"
        document = json.loads(response.get_data())
    ids = {node["@id"] for node in document}
    assert str(variable(published, "hb_dx")) in ids


def test_drafts_unknown_names_and_dropped_variables_are_404(app, client, make, custodian_org, published):  # fmt: skip
    draft = make.dataset(custodian_org, variables=VARIABLES)
    cases = [
        f"/datasets/{draft}/variables/hb_dx.ttl",  # a draft's variable: never published
        "/datasets/no-such-dataset/variables/hb_dx.ttl",
        f"/datasets/{published}/variables/no_such_variable.ttl",
    ]
    for path in cases:
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    # a draft answers exactly like a dataset that does not exist: nothing leaks
    assert client.get(cases[0]).json["detail"].replace(draft, "X") == client.get(cases[1]).json[
        "detail"
    ].replace("no-such-dataset", "X")
    with app.test_request_context():
        negotiated = dcat_views.variable_rdf(draft, "hb_dx", FORMATS["ttl"], negotiated=True)
    assert negotiated.status_code == 404 and "Accept" in negotiated.vary


def test_a_retired_datasets_variables_stay_described_and_deprecated(app, client, published):
    retire(app, published, "Merged into the pooled cohort.")
    graph = parse(client.get(f"/datasets/{published}/variables/hb_dx.ttl"))
    assert (variable(published, "hb_dx"), OWL.deprecated, Literal(True)) in graph


def test_the_csvw_columns_of_the_latest_version_are_the_variable_iris(app, client, published):
    document = json.loads(client.get(f"/datasets/{published}/dictionary.csvw.json").data)
    ids = [c["@id"] for c in document["tableSchema"]["columns"]]
    assert ids == [str(variable(published, v["name"])) for v in VARIABLES]
    with app.app_context():
        datasets.publish(SYSTEM, published, datasets.UNCHECKED)  # version 2
    old = json.loads(client.get(f"/datasets/{published}/dictionary.csvw.json?version=1").data)
    # an older version's columns do not claim the IRIs (they describe the latest version)
    assert all("@id" not in c for c in old["tableSchema"]["columns"])
