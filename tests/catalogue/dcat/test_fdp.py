"""The FAIR Data Point's own metadata at ``/fdp``."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from tests.catalogue.dcat.conftest import DCAT, DCT, FDP, iri, parse

LDP = "http://www.w3.org/ns/ldp#"


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml"])
def test_the_fdp_links_the_catalogue(client, full, accept):
    response = client.get("/fdp", headers={"Accept": accept})
    assert response.mimetype == accept and "Accept" in response.headers["Vary"]
    graph = parse(response)
    fdp = iri("/fdp")
    for kind in (FDP.FAIRDataPoint, FDP.MetadataService, DCAT.DataService):
        assert (fdp, RDF.type, kind) in graph
    assert (fdp, RDF.type, URIRef("http://www.re3data.org/schema/3-0#Repository")) in graph
    assert (fdp, FDP.metadataCatalog, iri("/catalogue")) in graph
    assert (iri("/catalogue"), RDF.type, DCAT.Catalog) in graph
    assert (iri("/catalogue"), DCT.isPartOf, fdp) in graph
    spec = URIRef("https://specs.fairdatapoint.org/fdp-specs-v1.2.html")
    assert (fdp, FDP.conformsToFdpSpec, spec) in graph
    assert (fdp, DCT.conformsTo, spec) in graph
    (identifier,) = graph.objects(fdp, FDP.metadataIdentifier)
    assert (
        identifier,
        URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
        Literal(str(fdp)),
    ) in graph
    (issued,) = graph.objects(fdp, FDP.metadataIssued)
    (modified,) = graph.objects(fdp, FDP.metadataModified)
    assert issued.datatype == modified.datatype == XSD.dateTime
    for predicate in (DCT.title, DCT.publisher, DCT.license, DCT.language, DCAT.endpointURL):
        assert list(graph.objects(fdp, predicate)), predicate
    container = iri("/fdp/catalogs")
    assert (container, URIRef(LDP + "contains"), iri("/catalogue")) in graph
    assert (container, URIRef(LDP + "hasMemberRelation"), FDP.metadataCatalog) in graph


def test_fdp_urls_and_browsers(client, vocabularies):
    assert parse(client.get("/fdp.ttl")).isomorphic(parse(client.get("/fdp.rdf")))
    page = client.get("/fdp", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "FAIR Data Point" in page.get_data(as_text=True)
    assert client.get("/fdp", headers={"Accept": "application/pdf"}).status_code == 406


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml"])
def test_the_catalogs_container_answers_and_lists_the_catalogue(client, full, accept):
    """``/fdp/catalogs`` is declared as the FDP's LDP container: FDP clients list catalogues
    there (it answered 404)."""
    response = client.get("/fdp/catalogs", headers={"Accept": accept})
    assert response.mimetype == accept and "Accept" in response.headers["Vary"]
    assert '<http://www.w3.org/ns/ldp#DirectContainer>; rel="type"' in response.headers["Link"]
    graph = parse(response)
    container, fdp, catalogue = iri("/fdp/catalogs"), iri("/fdp"), iri("/catalogue")
    assert (container, RDF.type, URIRef(LDP + "DirectContainer")) in graph
    assert (container, URIRef(LDP + "membershipResource"), fdp) in graph
    assert (container, URIRef(LDP + "hasMemberRelation"), FDP.metadataCatalog) in graph
    assert list(graph.objects(container, URIRef(LDP + "contains"))) == [catalogue]
    # the membership triple the direct container stands for, and the member's name
    assert (fdp, FDP.metadataCatalog, catalogue) in graph
    assert (catalogue, RDF.type, DCAT.Catalog) in graph
    assert (catalogue, DCT.title, Literal("HARMONY Catalogue", lang="en")) in graph
    # the container the FDP's own record declares is the one that answers
    declared = parse(client.get("/fdp.ttl"))
    assert set(declared.triples((container, None, None))) <= set(graph)


def test_the_catalogs_container_for_people_and_as_files(client, vocabularies):
    page = client.get("/fdp/catalogs", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 303 and page.headers["Location"] == "/catalogue"
    assert "Accept" in page.headers["Vary"]
    followed = client.get("/fdp/catalogs", headers={"Accept": "text/html"}, follow_redirects=True)
    assert followed.status_code == 200 and followed.mimetype == "text/html"
    turtle = parse(client.get("/fdp/catalogs.ttl"))
    for ext in ("jsonld", "rdf", "nt"):
        assert parse(client.get(f"/fdp/catalogs.{ext}")).isomorphic(turtle), ext
    assert client.get("/fdp/catalogs", headers={"Accept": "application/pdf"}).status_code == 406
