"""``harmony catalogue export``: the whole catalogue, streamed, parseable, drafts left out,
tombstones in."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import OWL, RDF

from tests.catalogue.dcat.conftest import DCAT, iri, retire

FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


@pytest.fixture
def catalogue(app, make, custodian_org, full) -> dict[str, str]:
    kept = make.dataset(custodian_org, publish=True, title="Kept")
    gone = make.dataset(custodian_org, publish=True, title="Gone")
    retire(app, gone, "Withdrawn.")
    draft = make.dataset(custodian_org, title="Secret draft")
    return {"full": full, "kept": kept, "gone": gone, "draft": draft}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_export_parses_and_holds_the_catalogue(app, catalogue, fmt):
    result = app.test_cli_runner().invoke(args=["catalogue", "export", "--format", fmt])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout_bytes, format=FORMATS[fmt])
    linked = set(graph.objects(iri("/catalogue"), DCAT.dataset))
    assert linked == {iri(f"/datasets/{catalogue['full']}"), iri(f"/datasets/{catalogue['kept']}")}
    assert (iri("/catalogue"), RDF.type, DCAT.Catalog) in graph
    assert (iri(f"/datasets/{catalogue['gone']}"), OWL.deprecated, Literal(True)) in graph
    assert b"Secret draft" not in result.stdout_bytes
    assert catalogue["draft"].encode() not in result.stdout_bytes
    assert "exported 2 datasets and 1 tombstones" in result.stderr
    assert "Exporting datasets" in result.stderr  # the progress bar, on standard error


def test_the_export_matches_the_documents_served(app, client, catalogue, tmp_path):
    target = tmp_path / "catalogue.ttl"
    result = app.test_cli_runner().invoke(args=["catalogue", "export", "-o", str(target)])
    assert result.exit_code == 0, result.output
    exported = Graph().parse(target)
    served = Graph().parse(data=client.get(f"/datasets/{catalogue['full']}.ttl").data)
    assert len(served) > 50
    assert not set(served) - set(exported)  # every triple of the dataset's record is exported
    assert f"to {target}" in result.stderr


def test_an_empty_catalogue_exports_the_catalogue_alone(app, vocabularies):
    result = app.test_cli_runner().invoke(args=["catalogue", "export"])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout_bytes, format="turtle")
    assert (iri("/catalogue"), RDF.type, DCAT.Catalog) in graph
    assert not list(graph.objects(iri("/catalogue"), DCAT.dataset))
