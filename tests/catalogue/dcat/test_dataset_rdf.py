"""A dataset's DCAT-AP record: content negotiation, the explicit URLs, every serialisation, the
triples a harvester relies on, old versions, drafts, IRIs from BASE_URL."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import FOAF, OWL, RDF, SKOS, XSD

from catalogue.datasets import services as datasets
from core.policies import SYSTEM
from tests.catalogue.dcat.conftest import (
    ADMS,
    DCAT,
    DCT,
    HEALTH,
    VCARD,
    iri,
    parse,
    retire,
)
from tests.conftest import login

EU = "http://publications.europa.eu/resource/authority/"
NCIT_AML = URIRef("http://purl.obolibrary.org/obo/NCIT_C3171")
NCIT_MDS = URIRef("http://purl.obolibrary.org/obo/NCIT_C3247")


@pytest.mark.parametrize(
    "accept",
    ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"],
)
def test_each_rdf_media_type_is_negotiated_and_parses_back(client, full, accept):
    response = client.get(f"/datasets/{full}", headers={"Accept": accept})
    assert response.mimetype == accept
    assert "Accept" in response.headers["Vary"]
    graph = parse(response)
    assert (iri(f"/datasets/{full}"), RDF.type, DCAT.Dataset) in graph
    assert (
        iri(f"/datasets/{full}"),
        DCT.title,
        Literal("AML-X: a full record", lang="en"),
    ) in graph


@pytest.mark.parametrize(
    ("ext", "mimetype"),
    [
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
        ("nt", "application/n-triples"),
    ],
)
def test_explicit_urls_give_the_same_graph(client, full, ext, mimetype):
    explicit = client.get(f"/datasets/{full}.{ext}")
    assert explicit.mimetype == mimetype
    negotiated = client.get(f"/datasets/{full}", headers={"Accept": mimetype})
    assert parse(explicit).isomorphic(parse(negotiated))
    assert "Accept" not in explicit.headers.get("Vary", "")


def test_browsers_get_the_page_and_unknown_types_get_406(client, full):
    browser = client.get(
        f"/datasets/{full}",
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    assert browser.status_code == 200 and browser.mimetype == "text/html"
    assert "Accept" in browser.headers["Vary"]
    plain = client.get(f"/datasets/{full}")  # no Accept at all: the page too
    assert plain.mimetype == "text/html"
    refused = client.get(f"/datasets/{full}", headers={"Accept": "application/pdf"})
    assert refused.status_code == 406
    assert refused.mimetype == "application/problem+json"
    assert "text/turtle" in refused.json["detail"]
    assert "Accept" in refused.headers["Vary"]
    preferred = client.get(
        f"/datasets/{full}", headers={"Accept": "text/html;q=0.5, text/turtle;q=0.9"}
    )
    assert preferred.mimetype == "text/turtle"


def test_the_record_holds_dcat_ap_and_healthdcat_ap(client, full, custodian_org):
    graph = parse(client.get(f"/datasets/{full}.ttl"))
    s = iri(f"/datasets/{full}")

    def objects(predicate):
        return set(graph.objects(s, predicate))

    assert objects(DCT.identifier) == {Literal(str(s))}
    assert objects(DCT.description) == {
        Literal("A trial with **every** field we publish.", lang="en")
    }
    assert objects(DCAT.keyword) == {
        Literal("acute myeloid leukaemia", lang="en"),
        Literal("FLT3", lang="en"),
    }
    assert objects(DCAT.theme) == {URIRef(EU + "data-theme/HEAL")}
    assert objects(DCT.subject) == {NCIT_AML, NCIT_MDS}
    assert (NCIT_AML, SKOS.prefLabel, Literal("Acute Myeloid Leukemia", lang="en")) in graph
    assert objects(DCT.spatial) == {URIRef(EU + "country/NLD"), URIRef(EU + "country/DEU")}
    assert objects(DCT.accessRights) == {URIRef(EU + "access-right/RESTRICTED")}
    assert objects(DCAT.version) == {Literal("1")}
    assert objects(ADMS.versionNotes) == {Literal("Final data freeze", lang="en")}
    assert objects(DCAT.landingPage) == {URIRef("https://trials.example.org/aml%20x")}
    assert objects(DCT.conformsTo) >= {URIRef("https://ohdsi.github.io/CommonDataModel/")}
    (issued,) = objects(DCT.issued)
    (modified,) = objects(DCT.modified)
    assert issued.datatype == XSD.dateTime and modified.datatype == XSD.dateTime

    (period,) = objects(DCT.temporal)
    assert (period, RDF.type, DCT.PeriodOfTime) in graph
    assert (period, DCAT.startDate, Literal("2016", datatype=XSD.gYear)) in graph
    assert (period, DCAT.endDate, Literal("2023", datatype=XSD.gYear)) in graph

    (publisher,) = objects(DCT.publisher)
    assert publisher == iri(f"/organisations/{custodian_org.id}")
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert (publisher, FOAF.name, Literal("Erasmus MC (tests)")) in graph
    assert (publisher, OWL.sameAs, URIRef("https://ror.org/018906e22")) in graph

    (contact,) = objects(DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert (contact, VCARD.fn, Literal("Trial data centre")) in graph
    assert (contact, VCARD.hasEmail, URIRef("mailto:aml-x@example.org")) in graph

    (trial,) = objects(ADMS.identifier)
    assert (trial, SKOS.notation, Literal("NCT01234567")) in graph

    # HealthDCAT-AP
    def number(value: int) -> Literal:
        return Literal(str(value), datatype=XSD.nonNegativeInteger)

    assert objects(HEALTH.numberOfUniqueIndividuals) == {number(1046)}
    assert objects(HEALTH.numberOfRecords) == {number(61320)}
    assert objects(HEALTH.minTypicalAge) == {number(18)}
    assert objects(HEALTH.maxTypicalAge) == set()  # elderly: no honest upper bound
    assert objects(HEALTH.hasCodeValues) == {NCIT_AML, NCIT_MDS}
    assert objects(HEALTH.hasCodingSystem) == {URIRef("http://www.wikidata.org/entity/P1748")}
    (coverage,) = objects(HEALTH.populationCoverage)
    assert str(coverage) == (
        "1,046 adults and elderly patients with Acute Myeloid Leukemia and Myelodysplastic "
        "Syndrome in Netherlands and Germany, 2016-2023 (clinical trial)."
    )
    (category,) = objects(HEALTH.healthCategory)
    assert (
        category,
        SKOS.prefLabel,
        Literal("Clinical trials and clinical studies", lang="en"),
    ) in graph


def test_the_dictionary_is_linked_as_csvw_and_csv_distributions(client, full):
    graph = parse(client.get(f"/datasets/{full}.ttl"))
    s = iri(f"/datasets/{full}")
    csvw = iri(f"/datasets/{full}/dictionary.csvw.json")
    assert (s, DCT.conformsTo, csvw) in graph
    urls = {
        url
        for distribution in graph.objects(s, DCAT.distribution)
        for url in graph.objects(distribution, DCAT.downloadURL)
    }
    assert urls == {csvw, iri(f"/api/v1/datasets/{full}/dictionary.csv?version=1")}
    for url in urls:  # both answer
        assert client.get(str(url).removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_a_dataset_without_variables_names_no_dictionary(client, make, custodian_org):
    bare = make.dataset(custodian_org, publish=True, age_groups=["paediatric"])
    graph = parse(client.get(f"/datasets/{bare}.ttl"))
    s = iri(f"/datasets/{bare}")
    assert not list(graph.objects(s, DCAT.distribution))
    assert set(graph.objects(s, HEALTH.maxTypicalAge)) == {
        Literal("17", datatype=XSD.nonNegativeInteger)
    }
    assert client.get(f"/datasets/{bare}/dictionary.csvw.json").status_code == 404


def test_old_versions_have_their_own_records(app, client, make, custodian_org):
    identifier = make.dataset(custodian_org, publish=True, title="First freeze", patients=100)
    with app.app_context():
        datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
        datasets.update_dataset(
            SYSTEM, identifier, {"title": "Second freeze", "patients": 250}, datasets.UNCHECKED
        )
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
        # an open draft: never published
        datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
        datasets.update_dataset(
            SYSTEM, identifier, {"title": "Unpublished third"}, datasets.UNCHECKED
        )

    current = parse(client.get(f"/datasets/{identifier}.ttl"))
    s = iri(f"/datasets/{identifier}")
    assert set(current.objects(s, DCT.title)) == {Literal("Second freeze", lang="en")}
    assert (s, DCAT.hasCurrentVersion, iri(f"/datasets/{identifier}/versions/2")) in current

    old = client.get(f"/datasets/{identifier}/versions/1", headers={"Accept": "text/turtle"})
    first = parse(old)
    v1 = iri(f"/datasets/{identifier}/versions/1")
    assert set(first.objects(v1, DCT.title)) == {Literal("First freeze", lang="en")}
    assert (v1, DCAT.isVersionOf, s) in first
    assert set(first.objects(v1, HEALTH.numberOfUniqueIndividuals)) == {
        Literal("100", datatype=XSD.nonNegativeInteger)
    }
    assert parse(client.get(f"/datasets/{identifier}/versions/1.jsonld")).isomorphic(first)
    second = parse(client.get(f"/datasets/{identifier}/versions/2.ttl"))
    v2 = iri(f"/datasets/{identifier}/versions/2")
    assert (v2, DCAT.previousVersion, v1) in second

    # the open draft (version 3) is nobody's RDF, not even for the editors
    assert client.get(f"/datasets/{identifier}/versions/3.ttl").status_code == 404
    assert client.get(f"/datasets/{identifier}/versions/9.ttl").status_code == 404


def test_drafts_answer_404_to_everyone_also_their_custodians(app, client, make, custodian_org):
    custodian = make.user("custodian", organisation=custodian_org)
    draft = make.dataset(custodian_org, title="Never published")
    login(client, custodian.email)
    assert client.get(f"/datasets/{draft}").status_code == 200  # the custodian's page
    for response in (
        client.get(f"/datasets/{draft}.ttl"),
        client.get(f"/datasets/{draft}", headers={"Accept": "text/turtle"}),
        client.get(f"/datasets/{draft}/versions/1.ttl"),
        client.get(f"/datasets/{draft}/dictionary.csvw.json"),
        client.get(f"/datasets/{draft}/data-template.csv"),
    ):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    anonymous = app.test_client()
    hidden = anonymous.get(f"/datasets/{draft}.ttl")
    unknown = anonymous.get("/datasets/no-such-dataset.ttl")
    assert hidden.status_code == unknown.status_code == 404
    # a draft answers exactly like a dataset that does not exist: nothing leaks
    assert hidden.json["detail"].replace(draft, "X") == unknown.json["detail"].replace(
        "no-such-dataset", "X"
    )


def test_a_retired_dataset_keeps_its_record_marked_withdrawn(app, client, full):
    retire(app, full, "Merged into the pooled AML cohort.")
    graph = parse(client.get(f"/datasets/{full}.ttl"))
    s = iri(f"/datasets/{full}")
    assert (s, OWL.deprecated, Literal(True)) in graph
    assert (s, ADMS.status, URIRef(EU + "dataset-status/WITHDRAWN")) in graph
    assert (s, DCT.title, Literal("AML-X: a full record", lang="en")) in graph


def test_iris_follow_base_url_not_the_request_host(app, full):
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = "https://catalogue.harmony.example"
    try:
        client = app.test_client()
        response = client.get(f"/datasets/{full}.ttl", base_url="http://internal-host:9999")
        graph = parse(response)
    finally:
        app.config["BASE_URL"] = previous
    subjects = {str(s) for s in graph.subjects()}
    assert f"https://catalogue.harmony.example/datasets/{full}" in subjects
    text = response.get_data(as_text=True)
    assert "internal-host" not in text and "127.0.0.1" not in text
    csvw = URIRef(f"https://catalogue.harmony.example/datasets/{full}/dictionary.csvw.json")
    assert (
        URIRef(f"https://catalogue.harmony.example/datasets/{full}"),
        DCT.conformsTo,
        csvw,
    ) in graph


def test_the_page_links_its_metadata_but_a_draft_page_does_not(
    app, client, make, custodian_org, full
):
    page = client.get(f"/datasets/{full}").get_data(as_text=True)
    assert f'<link rel="alternate" type="text/turtle" href="/datasets/{full}.ttl"' in page
    assert f'href="/datasets/{full}.jsonld" download>JSON-LD</a>' in page
    assert f'href="/datasets/{full}/dictionary.csvw.json" download>variables (CSVW)</a>' in page
    with app.app_context():
        datasets.new_version(SYSTEM, full, datasets.UNCHECKED)
        datasets.publish(SYSTEM, full, datasets.UNCHECKED)
    old = client.get(f"/datasets/{full}/versions/1").get_data(as_text=True)
    assert f'href="/datasets/{full}/versions/1.ttl" download>Turtle</a>' in old
    assert f'href="/datasets/{full}/dictionary.csvw.json?version=1"' in old

    custodian = make.user("custodian", organisation=custodian_org)
    draft = make.dataset(custodian_org, title="Never published")
    login(client, custodian.email)
    draft_page = client.get(f"/datasets/{draft}").get_data(as_text=True)
    assert "Metadata (DCAT-AP)" not in draft_page and f"/datasets/{draft}.ttl" not in draft_page
