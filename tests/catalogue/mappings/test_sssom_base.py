"""The SSSOM exports name their subjects from ``BASE_URL``, like the DCAT-AP records and the CSVW
dictionaries: a request's ``Host`` header (forged, or an internal address behind a proxy) does
not rewrite them, and each subject is an IRI that answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from rdflib import Graph, URIRef

from catalogue.dcat.graph import Iris
from catalogue.mappings import services as mappings
from catalogue.mappings.sssom import variables_iri
from core.policies import SYSTEM
from tests.catalogue.mappings.test_sssom import _rows, parse_sssom

PUBLIC = "https://catalogue.harmony.example"
FORGED = "http://attacker.example:8666"
KARYOTYPE = [
    {"code": "t(8;21)", "label": "t(8;21)(q22;q22)"},
    {"code": "-7/del(7q)", "label": "Monosomy 7 or del(7q)"},
]


@contextmanager
def base_url(app: Flask, value: str) -> Iterator[None]:
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = value
    try:
        yield
    finally:
        app.config["BASE_URL"] = previous


@pytest.fixture
def published(app, make, vocabularies) -> str:
    """A published dataset with a mapped variable and a mapped value whose code needs
    percent-encoding (a ``;`` and a ``/``)."""
    organisation = make.organisation(name="Karyotype Study Group")
    identifier = make.dataset(
        organisation,
        identifier="aml-karyotypes",
        variables=[
            {"name": "hb_dx", "label": "Haemoglobin", "value_type": "decimal",
             "mappings": ["HV:0000045"]},
            {"name": "karyotype", "label": "Karyotype", "value_type": "categorical",
             "permissible_values": KARYOTYPE},
        ],
    )  # fmt: skip
    with app.app_context():
        mappings.create_mapping(
            SYSTEM,
            identifier,
            {
                "variable": "karyotype",
                "subject_value": "-7/del(7q)",
                "object_id": "HV:0000094",
                "predicate_id": "skos:broadMatch",
            },
            "*",
        )
        from catalogue.datasets import services as datasets

        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
    return identifier


def _subjects(app, client, path: str, tmp_path, **request) -> tuple[str, list[str]]:
    response = client.get(path, **request)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    msdf = parse_sssom(text, tmp_path)
    return text, [msdf.converter.expand(r["subject_id"]) for r in _rows(msdf)]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/mappings.sssom.tsv", "/api/v1/datasets/aml-karyotypes/mappings.sssom.tsv"],
)
def test_a_forged_host_does_not_rewrite_the_iris(app, client, published, tmp_path, path):
    with base_url(app, PUBLIC):
        text, subjects = _subjects(app, client, path, tmp_path, base_url=FORGED)
    iris = Iris(PUBLIC)
    assert "attacker.example" not in text
    assert sorted(subjects) == sorted(
        [
            str(iris.variable(published, "hb_dx")),
            str(iris.variable_value(published, "karyotype", "-7/del(7q)")),
        ]
    )
    assert subjects[0].startswith(PUBLIC + "/datasets/aml-karyotypes/variables/")
    assert f"mapping_set_id: {PUBLIC}/api/v1/" in text
    # the same Host header through the proxy's X-Forwarded-Host changes nothing either
    with base_url(app, PUBLIC):
        again, _ = _subjects(
            app, client, path, tmp_path, headers={"X-Forwarded-Host": "attacker.example"}
        )
    assert "attacker.example" not in again


def test_the_subjects_are_the_csvw_columns_and_answer(app, client, published, tmp_path):
    """One IRI per variable across the formats: the SSSOM subject is the CSVW column's ``@id``
    and dereferences to the variable's RDF (a value's IRI to its value)."""
    _, subjects = _subjects(app, client, "/api/v1/mappings.sssom.tsv", tmp_path)
    document = json.loads(client.get(f"/datasets/{published}/dictionary.csvw.json").data)
    columns = [c["@id"] for c in document["tableSchema"]["columns"]]
    variable, value = sorted(subjects, key=len)
    assert variable in columns
    assert value == columns[1] + "/values/-7%2Fdel%287q%29"  # a code's "/" is encoded
    base = app.config["BASE_URL"]
    for iri in (variable, value):
        response = client.get(iri.removeprefix(base), headers={"Accept": "text/turtle"})
        assert response.status_code == 200 and response.mimetype == "text/turtle"
        assert (URIRef(iri), None, None) in Graph().parse(data=response.data, format="turtle")


def test_the_variables_prefix_is_the_iri_builder():
    iris = Iris("https://c.example")
    assert variables_iri("https://c.example/", "aml-x") == iris.variables_prefix("aml-x")
    assert str(iris.variable("aml-x", "a b")) == "https://c.example/datasets/aml-x/variables/a%20b"
