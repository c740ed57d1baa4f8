"""Harvesting ``/catalogue``: the catalogue record, paging with Hydra links, ``modified_since``,
tombstones of retired datasets, and drafts that never show."""

from __future__ import annotations

import datetime as dt

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, XSD

from tests.catalogue.dcat.conftest import (
    ADMS,
    DCAT,
    DCT,
    HYDRA,
    iri,
    parse,
    retire,
    set_published_at,
)

CATALOGUE = iri("/catalogue")
WITHDRAWN = URIRef("http://publications.europa.eu/resource/authority/dataset-status/WITHDRAWN")
T0 = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def five(app, make, custodian_org) -> list[str]:
    """Five published datasets, published a day apart (oldest first), and a draft."""
    identifiers = []
    for day in range(5):
        identifier = make.dataset(custodian_org, publish=True, title=f"Harvest {day}")
        set_published_at(app, identifier, T0 + dt.timedelta(days=day))
        identifiers.append(identifier)
    make.dataset(custodian_org, title="Harvest draft")
    return identifiers


def datasets_in(graph) -> list[str]:
    return sorted(str(o).rsplit("/", 1)[1] for o in graph.objects(CATALOGUE, DCAT.dataset))


def test_the_catalogue_record(client, five):
    graph = parse(client.get("/catalogue", headers={"Accept": "text/turtle"}))
    assert (CATALOGUE, RDF.type, DCAT.Catalog) in graph
    assert (CATALOGUE, DCT.title, Literal("HARMONY Catalogue", lang="en")) in graph
    for predicate in (DCT.description, DCT.publisher, DCT.language, DCT.license, DCT.issued):
        assert list(graph.objects(CATALOGUE, predicate)), predicate
    assert (
        CATALOGUE,
        DCT.issued,
        Literal("2025-01-10T12:00:00+00:00", datatype=XSD.dateTime),
    ) in graph
    assert (
        CATALOGUE,
        DCT.modified,
        Literal("2025-01-14T12:00:00+00:00", datatype=XSD.dateTime),
    ) in graph
    assert (
        CATALOGUE,
        DCAT.themeTaxonomy,
        URIRef("http://publications.europa.eu/resource/authority/data-theme"),
    ) in graph
    assert (CATALOGUE, URIRef("http://xmlns.com/foaf/0.1/homepage"), iri("/")) in graph
    assert datasets_in(graph) == sorted(five)
    # every dataset linked is described in the same document
    for identifier in five:
        assert (iri(f"/datasets/{identifier}"), RDF.type, DCAT.Dataset) in graph
    assert "Harvest draft" not in client.get("/catalogue.ttl").get_data(as_text=True)


@pytest.mark.parametrize("ext", ["ttl", "jsonld", "rdf", "nt"])
def test_explicit_catalogue_urls(client, five, ext):
    graph = parse(client.get(f"/catalogue.{ext}"))
    assert datasets_in(graph) == sorted(five)


def test_pages_link_to_each_other(client, five):
    seen: list[str] = []
    url = "/catalogue.ttl?per_page=2"
    pages = 0
    while url:
        graph = parse(client.get(url))
        pages += 1
        assert (CATALOGUE, HYDRA.totalItems, Literal(5, datatype=XSD.integer)) in graph
        (view,) = graph.objects(CATALOGUE, HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        assert str(view).startswith("http://127.0.0.1:8000/catalogue.ttl?")
        assert set(graph.objects(view, HYDRA.first)) == {
            URIRef("http://127.0.0.1:8000/catalogue.ttl?page=1&per_page=2")
        }
        assert set(graph.objects(view, HYDRA.last)) == {
            URIRef("http://127.0.0.1:8000/catalogue.ttl?page=3&per_page=2")
        }
        seen.extend(datasets_in(graph))
        following = list(graph.objects(view, HYDRA.next))
        url = str(following[0]).removeprefix("http://127.0.0.1:8000") if following else ""
        if pages == 2:
            assert set(graph.objects(view, HYDRA.previous)) == {
                URIRef("http://127.0.0.1:8000/catalogue.ttl?page=1&per_page=2")
            }
    assert pages == 3
    assert seen == five  # oldest change first, each once


def test_negotiated_pages_link_to_the_negotiated_url(client, five):
    graph = parse(client.get("/catalogue?per_page=3", headers={"Accept": "application/ld+json"}))
    (view,) = graph.objects(CATALOGUE, HYDRA.view)
    assert set(graph.objects(view, HYDRA.next)) == {
        URIRef("http://127.0.0.1:8000/catalogue?page=2&per_page=3")
    }


def test_modified_since_selects_what_changed(client, five):
    since = (T0 + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    graph = parse(client.get(f"/catalogue.ttl?modified_since={since}"))
    assert datasets_in(graph) == sorted(five[3:])
    assert (CATALOGUE, HYDRA.totalItems, Literal(2, datatype=XSD.integer)) in graph
    (view,) = graph.objects(CATALOGUE, HYDRA.view)
    assert "modified_since=2025-01-13T12%3A00%3A00Z" in str(view)
    # a date alone is its midnight, UTC; an offset is honoured
    assert datasets_in(parse(client.get("/catalogue.ttl?modified_since=2025-01-14"))) == [five[4]]
    offset = client.get("/catalogue.ttl?modified_since=2025-01-14T13:00:00%2B02:00")
    assert datasets_in(parse(offset)) == [five[4]]  # 11:00 UTC
    assert datasets_in(parse(client.get("/catalogue.ttl?modified_since=2030-01-01"))) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("modified_since=yesterday", "modified_since"),
        ("modified_since=2025-13-01", "modified_since"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("per_page=501", "per_page"),
    ],
)
def test_bad_parameters_are_named(client, five, query, field):
    for response in (
        client.get(f"/catalogue.ttl?{query}"),
        client.get(f"/catalogue?{query}", headers={"Accept": "text/turtle"}),
    ):
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"]
        assert response.json["detail"].startswith(field)


def test_retired_datasets_leave_a_tombstone(app, client, five):
    gone = five[1]
    retire(app, gone, "Withdrawn by the trial group.", when=T0 + dt.timedelta(days=10))
    since = (T0 + dt.timedelta(days=9)).isoformat()
    graph = parse(client.get("/catalogue.ttl", query_string={"modified_since": since}))
    tombstone = iri(f"/datasets/{gone}")
    assert (tombstone, OWL.deprecated, Literal(True)) in graph
    assert (tombstone, ADMS.status, WITHDRAWN) in graph
    assert (
        tombstone,
        DCT.modified,
        Literal("2025-01-20T12:00:00+00:00", datatype=XSD.dateTime),
    ) in graph
    assert (
        tombstone,
        DCT.description,
        Literal("Withdrawn by the trial group.", lang="en"),
    ) in graph
    # a tombstone is no longer one of the catalogue's datasets
    assert datasets_in(graph) == []
    assert (CATALOGUE, HYDRA.totalItems, Literal(1, datatype=XSD.integer)) in graph
    # the full catalogue: four datasets and the tombstone, last (its change is the latest)
    everything = parse(client.get("/catalogue.ttl"))
    assert datasets_in(everything) == sorted(set(five) - {gone})
    assert (tombstone, OWL.deprecated, Literal(True)) in everything
    assert not list(everything.objects(tombstone, DCAT.distribution))


def test_an_empty_catalogue_still_describes_itself(client, vocabularies):
    graph = parse(client.get("/catalogue.ttl"))
    assert (CATALOGUE, RDF.type, DCAT.Catalog) in graph
    assert datasets_in(graph) == []
    assert (CATALOGUE, HYDRA.totalItems, Literal(0, datatype=XSD.integer)) in graph


def test_the_page_for_browsers(client, five):
    page = client.get("/catalogue", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Accept" in page.headers["Vary"]
    text = page.get_data(as_text=True)
    assert "Published datasets</dt><dd>5</dd>" in text
    assert 'href="/catalogue.ttl"' in text and 'href="/fdp.ttl"' in text
    assert client.get("/catalogue", headers={"Accept": "image/png"}).status_code == 406
