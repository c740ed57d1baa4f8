"""A publisher's IRI (``/organisations/{id}``, the ``dct:publisher`` of its datasets' records)
describes it in RDF: the same agent as in the records, and the datasets it publishes now."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import FOAF, OWL, RDF

from catalogue.dcat import views as dcat_views
from catalogue.dcat.serialize import FORMATS
from tests.catalogue.dcat.conftest import DCAT, DCT, iri, parse, retire


@pytest.fixture
def publisher(make, custodian_org, full) -> tuple[str, str, str]:
    """The organisation of ``full`` with a second published dataset and a draft; another
    organisation's dataset. (organisation id, full, the second)"""
    second = make.dataset(custodian_org, publish=True, title="MDS registry")
    make.dataset(custodian_org, title="Draft, never published")
    make.dataset(make.organisation(name="Other Group"), publish=True, title="Not ours")
    return custodian_org.id, full, second


def test_the_publisher_is_the_agent_of_the_records_with_its_datasets(app, client, publisher):
    organisation_id, current, retired = publisher
    retire(app, retired)
    graph = parse(client.get(f"/organisations/{organisation_id}.ttl"))
    agent = iri(f"/organisations/{organisation_id}")
    assert (agent, RDF.type, FOAF.Agent) in graph and (agent, RDF.type, FOAF.Organization) in graph
    assert (agent, FOAF.name, Literal("Erasmus MC (tests)")) in graph
    assert (agent, OWL.sameAs, URIRef("https://ror.org/018906e22")) in graph
    assert (agent, DCT.spatial, URIRef("http://publications.europa.eu/resource/authority/country/NLD")) in graph  # fmt: skip
    published = set(graph.subjects(DCT.publisher, agent))
    # the published dataset only: not the retired one, not the draft, not another's
    assert published == {iri(f"/datasets/{current}")}
    assert (iri(f"/datasets/{current}"), RDF.type, DCAT.Dataset) in graph
    title = Literal("AML-X: a full record", lang="en")
    assert (iri(f"/datasets/{current}"), DCT.title, title) in graph
    # the agent says what the dataset's own record says of its publisher
    record = parse(client.get(f"/datasets/{current}.ttl"))
    assert set(record.triples((agent, None, None))) == set(graph.triples((agent, None, None)))


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_every_format_says_the_same(client, publisher, ext):
    organisation_id = publisher[0]
    turtle = parse(client.get(f"/organisations/{organisation_id}.ttl"))
    response = client.get(f"/organisations/{organisation_id}.{ext}")
    assert response.mimetype == FORMATS[ext].media_type
    assert parse(response).isomorphic(turtle)


def test_an_organisation_without_datasets_is_described_and_an_unknown_one_is_404(
    app, client, make, vocabularies
):
    lonely = make.organisation(name="New Partner", country="DE")
    graph = parse(client.get(f"/organisations/{lonely.id}.ttl"))
    agent = iri(f"/organisations/{lonely.id}")
    assert (agent, FOAF.name, Literal("New Partner")) in graph
    assert not list(graph.subjects(DCT.publisher, agent))
    response = client.get("/organisations/no-such-organisation.ttl")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    with app.test_request_context():
        negotiated = dcat_views.organisation_rdf("nope", FORMATS["ttl"], negotiated=True)
        assert negotiated.status_code == 404 and "Accept" in negotiated.vary
        good = dcat_views.organisation_rdf(lonely.id, FORMATS["nt"], negotiated=True)
        assert good.mimetype == "application/n-triples" and "Accept" in good.vary
