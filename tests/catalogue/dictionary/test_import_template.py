"""Importing our own CSV/XLSX template, and the downloadable example of it."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.catalogue.dictionary.test_import_api import by_name, new_custodian, sample, upload


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


def workbook(text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_csv(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    response = upload(client, identifier, sample("template_good.csv"), "dictionary.csv", headers)
    assert response.status_code == 200, response.json
    assert (response.json["format"], response.json["added"]) == ("template", 8)
    assert response.json["mappings_added"] == 10
    found = by_name(client, identifier, headers)
    age = found["age_dx"]
    assert (age["value_type"], age["unit"], age["missing_codes"]) == ("integer", "a", ["999"])
    assert (age["form"], age["time_point"], age["description"]) == (
        "baseline",
        "baseline",
        "Completed years",
    )
    who = found["who_dx"]
    # a CURIE, a lower-case prefix and an IRI all arrive as the term's CURIE
    assert [v["term"] for v in who["permissible_values"]] == ["NCIT:C82431", "NCIT:C9288", None]
    assert found["flt3itd"]["mappings"][0]["object_id"] == "HV:0000125"
    mapping = found["hb_dx"]["mappings"][0]
    assert mapping["mapping_justification"] == "semapv:ManualMappingCuration"
    assert mapping["status"] == "accepted" and mapping["object_label"] == "Haemoglobin"
    assert found["comment"]["mappings"] == [] and found["comment"]["mapped"] is False
    assert found["resp_ind"]["time_point"] == "after induction"


def test_template_xlsx(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    data = workbook(sample("template_good.csv").decode())
    response = upload(client, identifier, data, "dictionary.xlsx", custodian["headers"])
    assert response.status_code == 200, response.json
    assert (response.json["format"], response.json["added"]) == ("template", 8)
    assert by_name(client, identifier, custodian["headers"])["sex"]["permissible_values"] == [
        {"code": "1", "label": "Male", "term": None},
        {"code": "2", "label": "Female", "term": None},
    ]


def test_broken_template_xlsx(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    data = workbook(sample("template_broken.csv").decode())
    response = upload(client, identifier, data, "dictionary.xlsx", custodian["headers"])
    assert response.status_code == 422
    assert [(p["row"], p["column"]) for p in response.json["report"]["problems"]][:3] == [
        (2, "unit"),
        (3, "permissible_values"),
        (4, "value_type"),
    ]
    not_a_workbook = upload(client, identifier, b"garbage", "d.xlsx", custodian["headers"])
    assert not_a_workbook.status_code == 422
    assert "Excel workbook" in not_a_workbook.json["errors"]["file"][0]


def test_a_template_without_its_required_columns(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    response = upload(client, identifier, b"name,label\nhb,Hb\n", "d.csv", custodian["headers"])
    assert response.status_code == 422
    assert response.json["errors"]["file"] == ["row 1: missing the required column: value_type"]


def test_obsolete_terms_are_refused_with_their_replacement(app, client, make, custodian):
    from sqlalchemy import update

    from core.db import get_session
    from ontologies.models import Term

    with app.app_context():
        get_session().execute(
            update(Term)
            .where(Term.curie == "HV:0000052")
            .values(is_obsolete=True, replaced_by="HV:0000045")
        )
        get_session().commit()
    identifier = make.dataset(custodian["organisation"])
    data = b"name,label,value_type,term\nhct,Haematocrit,decimal,HV:0000052\n"
    response = upload(client, identifier, data, "d.csv", custodian["headers"])
    assert response.status_code == 422
    assert response.json["errors"]["file"] == [
        "row 2, column “term”: the term HV:0000052 is obsolete; use HV:0000045 instead"
    ]


def test_the_downloadable_template_imports_as_it_is(client, make, custodian):
    csv_response = client.get("/api/v1/dictionary-template.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    text = csv_response.get_data(as_text=True)
    assert text.startswith("\ufeffname,label,value_type,description,form,time_point,unit,")
    xlsx_response = client.get("/api/v1/dictionary-template.xlsx")
    assert xlsx_response.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_response.data)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["name", "label", "value_type"]
    for data, filename in ((csv_response.data, "t.csv"), (xlsx_response.data, "t.xlsx")):
        identifier = make.dataset(custodian["organisation"])
        report = upload(client, identifier, data, filename, custodian["headers"])
        assert report.status_code == 200, report.json
        assert report.json["added"] == 10 and report.json["notes"] == []
        found = by_name(client, identifier, custodian["headers"])
        assert found["hb_dx"]["unit"] == "g/dL" and found["hb_dx"]["mapped"]
        assert found["resp_ind"]["permissible_values"][0]["term"] == "HV:0000207"
