"""The data dictionary as CSVW: each variable a column whose propertyUrl is its mapped term; a
CSV of the data validates against it (checked with the ``csvw`` processor)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from csvw import CSVW, Table
from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.dcat.csvw import column_name
from catalogue.models import Mapping, MappingPredicate, MappingStatus, Variable
from core.db import get_session
from core.policies import SYSTEM

HV = "https://w3id.org/harmony/hv/HV_"


def columns(document: dict) -> dict[str, dict]:
    return {c["name"]: c for c in document["tableSchema"]["columns"]}


def test_variables_are_columns_whose_property_is_the_mapped_term(client, full):
    response = client.get(f"/datasets/{full}/dictionary.csvw.json")
    assert response.status_code == 200 and response.mimetype == "application/csvm+json"
    document = json.loads(response.get_data())
    assert document["@context"][0] == "http://www.w3.org/ns/csvw"
    assert document["@id"] == f"http://127.0.0.1:8000/datasets/{full}/dictionary.csvw.json"
    assert document["url"] == f"http://127.0.0.1:8000/datasets/{full}/data-template.csv?version=1"
    assert document["dc:source"] == {"@id": f"http://127.0.0.1:8000/datasets/{full}"}
    by_name = columns(document)
    assert list(by_name) == ["hb_dx", "sex", "free_text"]  # dictionary order
    hb = by_name["hb_dx"]
    assert hb["propertyUrl"] == HV + "0000045"
    assert hb["skos:exactMatch"] == [{"@id": HV + "0000045"}]
    assert hb["titles"] == ["hb_dx", "Haemoglobin at diagnosis"]
    assert hb["datatype"] == "decimal"
    assert hb["null"] == ["", "-9"]
    assert hb["schema:unitText"] == "g/dL"
    sex = by_name["sex"]
    assert "propertyUrl" not in sex  # unmapped: no claim about what it is
    assert sex["datatype"] == {"base": "string", "format": "^(?:1|2)$"}
    assert [v["schema:value"] for v in sex["schema:valueReference"]] == ["1", "2"]
    assert by_name["free_text"]["datatype"] == "string"


def test_only_accepted_exact_or_close_mappings_name_the_property(app, client, make, custodian_org):
    identifier = make.dataset(
        custodian_org,
        publish=False,
        variables=[
            {"name": "hgb", "value_type": "decimal"},
            {"name": "wbc", "value_type": "decimal"},
            {"name": "plt", "value_type": "decimal"},
            {
                "name": "resp",
                "value_type": "categorical",
                "permissible_values": [{"code": "1", "label": "CR"}, {"code": "2", "label": "PR"}],
            },
        ],
    )
    with app.app_context():
        session = get_session()
        ids = {row.name: row.id for row in session.execute(select(Variable.name, Variable.id))}
        session.add_all(
            [
                # a suggestion and a rejection never count; a close match does
                Mapping(
                    variable_id=ids["hgb"],
                    object_curie="HV:0000045",
                    status=MappingStatus.SUGGESTED,
                ),
                Mapping(
                    variable_id=ids["hgb"],
                    object_curie="HV:0000046",
                    predicate=MappingPredicate.CLOSE,
                ),
                # a broad match is listed, but does not say what the column is
                Mapping(
                    variable_id=ids["wbc"],
                    object_curie="HV:0000046",
                    predicate=MappingPredicate.BROAD,
                ),
                Mapping(
                    variable_id=ids["plt"], object_curie="HV:0000045", status=MappingStatus.REJECTED
                ),
                # the value's mapping travels with the value
                Mapping(variable_id=ids["resp"], value_code="1", object_curie="HV:0000207"),
            ]
        )
        session.commit()
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
    by_name = columns(json.loads(client.get(f"/datasets/{identifier}/dictionary.csvw.json").data))
    assert by_name["hgb"]["propertyUrl"] == HV + "0000046"
    assert by_name["hgb"]["skos:closeMatch"] == [{"@id": HV + "0000046"}]
    assert "skos:exactMatch" not in by_name["hgb"]
    assert "propertyUrl" not in by_name["wbc"]
    assert by_name["wbc"]["skos:broadMatch"] == [{"@id": HV + "0000046"}]
    assert "propertyUrl" not in by_name["plt"] and "skos:exactMatch" not in by_name["plt"]
    cr, pr = by_name["resp"]["schema:valueReference"]
    assert cr["schema:sameAs"] == {"@id": HV + "0000207"}
    assert "schema:sameAs" not in pr


def test_a_csv_of_the_data_validates_against_the_schema(client, full, tmp_path):
    document = json.loads(client.get(f"/datasets/{full}/dictionary.csvw.json").data)
    header = client.get(f"/datasets/{full}/data-template.csv")
    assert header.mimetype == "text/csv"
    assert header.get_data(as_text=True) == "hb_dx,sex,free_text\r\n"

    def data_file(*rows: list[str]) -> None:
        text = io.StringIO()
        csv.writer(text).writerows([["hb_dx", "sex", "free_text"], *rows])
        (tmp_path / "data.csv").write_text(text.getvalue())
        document["url"] = "data.csv"  # the data lie next to the metadata, here
        (tmp_path / "data.csv-metadata.json").write_text(json.dumps(document))

    data_file(["13.2", "1", "fine"], ["-9", "2", ""])
    processor = CSVW(str(tmp_path / "data.csv-metadata.json"))
    assert processor.is_valid
    rows = processor.to_json()["tables"][0]["row"]
    # CSV2JSON names the mapped cell by its term: the variable's meaning travels with the data
    assert rows[0]["describes"][0][HV + "0000045"] == 13.2
    assert HV + "0000045" not in rows[1]["describes"][0]  # -9 is a missing-value code

    data_file(["13.2", "3", "a code the variable does not have"])
    with pytest.raises(ValueError, match="sex"):
        list(Table.from_file(tmp_path / "data.csv-metadata.json").iterdicts(strict=True))
    data_file(["high", "1", ""])
    with pytest.raises(ValueError, match="hb_dx"):
        list(Table.from_file(tmp_path / "data.csv-metadata.json").iterdicts(strict=True))


def test_old_versions_and_bad_version_numbers(app, client, full):
    with app.app_context():
        datasets.new_version(SYSTEM, full, datasets.UNCHECKED)
        datasets.publish(SYSTEM, full, datasets.UNCHECKED)
    latest = json.loads(client.get(f"/datasets/{full}/dictionary.csvw.json").data)
    assert latest["url"].endswith("?version=2")
    first = json.loads(client.get(f"/datasets/{full}/dictionary.csvw.json?version=1").data)
    assert first["@id"].endswith("dictionary.csvw.json?version=1")
    assert first["url"].endswith("?version=1")
    assert client.get(f"/datasets/{full}/dictionary.csvw.json?version=7").status_code == 404
    bad = client.get(f"/datasets/{full}/dictionary.csvw.json?version=first")
    assert bad.status_code == 422 and "version" in bad.json["errors"]


@pytest.mark.parametrize(
    ("variable", "name"),
    [
        ("hb_dx", "hb_dx"),
        ("LEUKO_ED", "LEUKO_ED"),
        ("hb.dx", "hb%2Edx"),
        ("_internal", "%5Finternal"),
        ("größe", "gr%C3%B6%C3%9Fe"),
        ("a b", "a%20b"),
    ],
)
def test_column_names_are_uri_template_variables(variable, name):
    assert column_name(variable) == name
