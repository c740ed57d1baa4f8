"""Importing REDCap data dictionaries: every field type, broken files explained by row and
column, all or nothing on 10,000 rows, and re-imports that keep the work already done."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from catalogue.models import Mapping, MappingStatus, Variable
from core.db import get_session
from tests.catalogue.dictionary.test_import_api import by_name, etag, new_custodian, sample, upload


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


HEADER = sample("redcap_every_type.csv").decode().splitlines()[0]


def redcap(*rows: list[str]) -> bytes:
    out = io.StringIO()
    out.write(HEADER + "\n")
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row + [""] * (18 - len(row)))
    return out.getvalue().encode()


def test_every_field_type(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    response = upload(client, identifier, sample("redcap_every_type.csv"), "trial.csv", headers)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["format"] == "redcap"  # recognised from the header row
    assert (report["rows"], report["variables"], report["added"]) == (21, 20, 20)
    notes = [n["message"] for n in report["notes"]]
    assert notes[0] == "descriptive field “enrol_intro” holds no data and was skipped"
    assert report["notes"][0]["row"] == 3
    assert any("“site” come from a database query" in n for n in notes)
    assert report["mappings_added"] == 8

    found = by_name(client, identifier, headers)
    assert "enrol_intro" not in found
    assert list(found)[:3] == ["record_id", "consent_date", "consent_ok"]  # the file's order
    types = {name: v["value_type"] for name, v in found.items()}
    assert types == {
        "record_id": "text",
        "consent_date": "date",
        "consent_ok": "boolean",
        "consent_file": "text",
        "nurse_email": "text",
        "site": "text",
        "sex": "categorical",
        "age_dx": "integer",
        "dx_date": "date",
        "who_dx": "categorical",
        "hb_dx": "decimal",
        "wbc_dx": "decimal",
        "sample_time": "datetime",
        "karyotype": "text",
        "cyto": "categorical",
        "flt3itd": "boolean",
        "bmi": "decimal",
        "kps": "integer",
        "resp": "categorical",
        "os_months": "decimal",
    }
    sources = {name: v["source_type"] for name, v in found.items()}
    assert {sources[n] for n in found} == {
        "text", "truefalse", "file", "sql", "radio", "dropdown", "notes", "checkbox", "yesno",
        "calc", "slider",
    }  # fmt: skip

    # choices "1, Yes | 2, No", a label that holds a comma, and terms of choices
    who = found["who_dx"]
    assert who["permissible_values"] == [
        {"code": "1", "label": "AML with NPM1 mutation", "term": "NCIT:C82431"},
        {"code": "2", "label": "AML with RUNX1::RUNX1T1", "term": "NCIT:C9288"},
        {"code": "3", "label": "AML, myelodysplasia-related", "term": None},
        {"code": "9", "label": "Other", "term": None},
    ]
    assert found["cyto"]["multiple"] is True and len(found["cyto"]["permissible_values"]) == 3
    assert [v["label"] for v in found["consent_ok"]["permissible_values"]] == ["True", "False"]
    assert [v["code"] for v in found["flt3itd"]["permissible_values"]] == ["1", "0"]
    # validation min/max, units from field notes and @UNIT, forms and section headers
    age = found["age_dx"]
    assert (age["minimum"], age["maximum"], age["unit"]) == ("18", "99", "a")
    assert (found["dx_date"]["minimum"], found["dx_date"]["maximum"]) == (
        "2010-01-01",
        "2025-12-31",
    )
    assert found["hb_dx"]["unit"] == "g/dL" and found["os_months"]["unit"] == "mo"
    assert found["wbc_dx"]["unit"] == "10*9/L"  # @UNIT wins over the note “per nL”
    assert (found["kps"]["minimum"], found["kps"]["maximum"]) == ("0", "100")
    assert "calculated" in found["bmi"]["description"] and found["bmi"]["unit"] is None
    assert (found["hb_dx"]["form"], found["hb_dx"]["section"]) == (
        "diagnosis",
        "Blood counts at diagnosis",
    )
    assert found["wbc_dx"]["section"] == "Blood counts at diagnosis"  # until the next header
    assert found["karyotype"]["section"] == "Genetics"
    assert (found["resp"]["form"], found["resp"]["section"]) == (
        "response",
        "Response after induction",
    )
    assert found["os_months"]["section"] is None  # a new form starts without one
    assert found["sex"]["section"] == "Patient"
    # @TERM annotations arrive as accepted mappings, carried over from the source
    sex = found["sex"]
    assert sex["mapped"] is True
    mapping = sex["mappings"][0]
    assert {k: mapping[k] for k in ("subject_value", "object_id", "object_label", "status")} == {
        "subject_value": None,
        "object_id": "HV:0000017",
        "object_label": "Sex",
        "status": "accepted",
    }
    assert mapping["mapping_justification"] == "semapv:MappingReview"
    assert mapping["predicate_id"] == "skos:exactMatch"
    assert mapping["author"] == custodian["user"].name and mapping["mapping_date"]
    assert found["resp"]["permissible_values"][0]["term"] == "HV:0000207"
    assert found["resp"]["permissible_values"][2]["term"] == "HV:0000213"
    assert found["resp"]["mapped"] is False  # values mapped, the variable itself not


def test_problems_name_the_row_and_the_redcap_column(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    response = upload(
        client, identifier, sample("redcap_broken.csv"), "b.csv", custodian["headers"]
    )
    assert response.status_code == 422
    assert response.json["errors"]["file"] == [
        "row 3, column “Choices, Calculations, OR Slider Labels”: malformed choices: "
        "“1 Male” is not “code, label”",
        "row 4, column “Text Validation Min”: “eighteen” is not a number",
        "row 5, column “Field Type”: unknown field type “listbox” (REDCap knows: calc, checkbox, "
        "descriptive, dropdown, file, notes, radio, slider, sql, text, truefalse, yesno)",
        "row 6, column “Field Annotation”: “grams per decilitre” is not a UCUM unit: UCUM units "
        "have no spaces (e.g. g/dL, 10*9/L)",
        "row 7, column “Field Annotation”: unknown term “HV:9999999” for the variable: no loaded "
        "vocabulary has it (check the spelling, or ask an administrator to load its ontology)",
        "row 8, column “Variable / Field Name”: “age_dx” is defined twice (first on row 4)",
    ]
    assert response.json["report"]["rows"] == 7


def test_a_term_for_a_choice_the_field_lacks_is_a_problem(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    data = redcap(
        ["resp", "response", "", "radio", "Response", "1, CR | 2, PR"]
        + [""] * 11
        + ["@TERM(3)=HV:0000207"]
    )
    response = upload(client, identifier, data, "r.csv", custodian["headers"])
    assert response.status_code == 422
    assert response.json["errors"]["file"] == [
        "row 2, column “Field Annotation”: @TERM(3) names a choice that “resp” does not have"
    ]


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return get_session().scalar(query) or 0


def test_a_broken_row_9999_of_10000_leaves_the_database_unchanged(app, client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    first = upload(client, identifier, sample("redcap_every_type.csv"), "v1.csv", headers)
    assert first.status_code == 200
    before_tag = etag(client, identifier, headers)
    history = client.get(f"/api/v1/datasets/{identifier}/history", headers=headers).json
    with app.app_context():
        before = (_count(Variable), _count(Mapping))
    rows = [
        [f"lab_{n}", f"visit_{n // 20}", "", "text", f"Laboratory value {n}", "", "g/L", "number"]
        for n in range(1, 10_001)
    ]
    # row 9,999 names a term the store does not have: found only when the file is checked
    # against the database, after every row was read
    rows[9_998] += [""] * 9 + ["@TERM=HV:0123456"]
    response = upload(client, identifier, redcap(*rows), "v2.csv", headers)
    assert response.status_code == 422
    assert response.json["report"]["rows"] == 10_000
    assert response.json["errors"]["file"] == [
        "row 10000, column “Field Annotation”: unknown term “HV:0123456” for the variable: no "
        "loaded vocabulary has it (check the spelling, or ask an administrator to load its "
        "ontology)"
    ]
    with app.app_context():
        assert (_count(Variable), _count(Mapping)) == before
    assert etag(client, identifier, headers) == before_tag
    assert client.get(f"/api/v1/datasets/{identifier}/history", headers=headers).json == history
    assert set(by_name(client, identifier, headers)) == set(first_names())
    # the same file, mended, goes in whole
    rows[9_998] = rows[9_998][:8]
    mended = upload(client, identifier, redcap(*rows), "v2.csv", headers, confirm_removals=True)
    assert mended.status_code == 200
    assert (mended.json["added"], mended.json["removed"]) == (10_000, 20)
    with app.app_context():
        assert _count(Variable) == before[0] - 20 + 10_000
        assert _count(Mapping) == 0  # the removed variables' mappings went with them
    assert mended.json["mappings_removed"] == before[1] == 8


def first_names() -> list[str]:
    text = sample("redcap_every_type.csv").decode()
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return [r[0] for r in rows if r[3] != "descriptive"]


def test_reimporting_a_revised_dictionary_keeps_the_mappings_of_unchanged_variables(
    app, client, make, custodian
):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    original = sample("redcap_every_type.csv")
    assert upload(client, identifier, original, "v1.csv", headers).status_code == 200
    # the custodian maps more by hand (and rejects a suggestion) before the revision arrives
    with app.app_context():
        session = get_session()
        ids = {row.name: row.id for row in session.execute(select(Variable.name, Variable.id))}
        session.add_all(
            [
                Mapping(variable_id=ids["kps"], object_curie="HV:0000179"),
                Mapping(variable_id=ids["dx_date"], object_curie="HV:0000027"),
                Mapping(
                    variable_id=ids["karyotype"],
                    object_curie="HV:0000088",
                    status=MappingStatus.REJECTED,
                ),
                Mapping(variable_id=ids["cyto"], value_code="1", object_curie="HV:0000096"),
                Mapping(variable_id=ids["cyto"], value_code="2", object_curie="HV:0000097"),
            ]
        )
        session.commit()
    text = original.decode()
    revised = (
        text.replace("Date of diagnosis,", "Date of the diagnosis,")  # changed label
        .replace("2, -7 | 3, complex", "2, monosomy 7 | 3, complex")  # a value relabelled
        .replace(
            "os_months,follow_up,,text,Overall survival,,months,number,0,300,,,,,,,,\n", ""
        )  # removed
        + "efs_months,follow_up,,text,Event-free survival,,months,number,0,300,,,,,,,,\n"
    )
    # what would go is listed first (a removed variable, a relabelled value's term), and
    # nothing changes until the custodian confirms it
    before = etag(client, identifier, headers)
    refused = upload(client, identifier, revised.encode(), "v2.csv", headers)
    assert refused.status_code == 409, refused.json
    assert refused.mimetype == "application/problem+json"
    assert refused.json["type"].endswith("/removals-unconfirmed")
    assert "1 variable and 1 mapping" in refused.json["detail"]
    removals = refused.json["report"]["removals"]
    assert (removals["variable_count"], removals["mapping_count"]) == (1, 1)
    assert removals["variables"] == [
        {"name": "os_months", "label": "Overall survival", "mappings": 0}
    ]
    assert removals["mappings"] == [
        {
            "variable": "cyto",
            "subject_value": "2",
            "object_id": "HV:0000097",
            "object_label": removals["mappings"][0]["object_label"],
            "status": "accepted",
            "why": "the value 2 is now “monosomy 7” (was “-7”)",
        }
    ]
    assert refused.headers["ETag"] == before == etag(client, identifier, headers)
    assert "os_months" in by_name(client, identifier, headers)
    response = upload(
        client, identifier, revised.encode(), "v2.csv", headers, confirm_removals=True
    )
    assert response.status_code == 200, response.json
    report = response.json
    assert {k: report[k] for k in ("added", "changed", "removed", "unchanged")} == {
        "added": 1,
        "changed": 2,
        "removed": 1,
        "unchanged": 17,
    }
    assert (report["mappings_added"], report["mappings_removed"]) == (0, 1)
    found = by_name(client, identifier, headers)
    assert "os_months" not in found and found["efs_months"]["unit"] == "mo"
    # unchanged variables keep every mapping, whatever its status
    assert [m["object_id"] for m in found["kps"]["mappings"]] == ["HV:0000179"]
    assert [m["status"] for m in found["karyotype"]["mappings"]] == ["rejected"]
    assert [m["object_id"] for m in found["sex"]["mappings"]] == ["HV:0000017"]
    # a changed variable keeps its own mappings; a relabelled value loses its term
    assert found["dx_date"]["label"] == "Date of the diagnosis"
    assert [m["object_id"] for m in found["dx_date"]["mappings"]] == ["HV:0000027"]
    assert [(v["label"], v["term"]) for v in found["cyto"]["permissible_values"]] == [
        ("del(5q)", "HV:0000096"),
        ("monosomy 7", None),
        ("complex karyotype", None),
    ]
    # the same file once more changes nothing, not even the ETag
    tag = etag(client, identifier, headers)
    again = upload(client, identifier, revised.encode(), "v2.csv", headers)
    assert again.status_code == 200
    assert (again.json["unchanged"], again.json["changed"], again.json["added"]) == (20, 0, 0)
    assert etag(client, identifier, headers) == tag


def test_a_term_the_file_adds_to_an_unchanged_variable_counts_as_a_change(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    text = sample("redcap_every_type.csv").decode()
    assert upload(client, identifier, text.encode(), "v1.csv", headers).status_code == 200
    annotated = text.replace(
        "os_months,follow_up,,text,Overall survival,,months,number,0,300,,,,,,,,",
        "os_months,follow_up,,text,Overall survival,,months,number,0,300,,,,,,,,@TERM=HV:0000237",
    )
    report = upload(client, identifier, annotated.encode(), "v2.csv", headers).json
    assert (report["changed"], report["unchanged"], report["mappings_added"]) == (1, 19, 1)
    assert by_name(client, identifier, headers)["os_months"]["mapped"] is True


def test_a_redcap_dictionary_saved_from_excel_reads_the_same(client, make, custodian):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in csv.reader(io.StringIO(sample("redcap_every_type.csv").decode())):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    identifier = make.dataset(custodian["organisation"])
    response = upload(client, identifier, out.getvalue(), "trial.xlsx", custodian["headers"])
    assert response.status_code == 200, response.json
    assert (response.json["format"], response.json["added"]) == ("redcap", 20)
