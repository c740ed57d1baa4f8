"""Importing a dictionary through the API: who may, which draft, If-Match, and what a caller
gets back for a file that is too large, of an unknown kind, or broken."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from core.models import Role

DATA = Path(__file__).parent / "data"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def new_custodian(make) -> dict[str, Any]:
    """A custodian of a new organisation: token headers, organisation and user."""
    organisation = make.organisation()
    user = make.user(Role.CUSTODIAN, organisation=organisation)
    return {
        "headers": {"Authorization": f"Bearer {make.token(user)}"},
        "organisation": organisation,
        "user": user,
    }


@pytest.fixture
def custodian(make, vocabularies) -> dict[str, Any]:
    return new_custodian(make)


def etag(client, identifier: str, headers: dict[str, str]) -> str:
    response = client.get(f"/api/v1/datasets/{identifier}", headers=headers)
    assert response.status_code == 200, response.json
    return response.headers["ETag"]


def upload(
    client,
    identifier: str,
    data: bytes,
    filename: str,
    headers: dict[str, str],
    *,
    fmt: str | None = None,
    if_match: str | None = "current",
    confirm_removals: bool = False,
) -> Any:
    """POST a dictionary file as a custodian would (with the dataset's current ETag);
    ``confirm_removals``: the custodian agrees to what the file removes."""
    sent = dict(headers)
    if if_match == "current":
        sent["If-Match"] = etag(client, identifier, headers)
    elif if_match is not None:
        sent["If-Match"] = if_match
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename)}
    if fmt is not None:
        form["format"] = fmt
    if confirm_removals:
        form["confirm_removals"] = "true"
    return client.post(
        f"/api/v1/datasets/{identifier}/dictionary",
        data=form,
        headers=sent,
        content_type="multipart/form-data",
    )


def variables(client, identifier: str, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    query.setdefault("per_page", 200)
    response = client.get(
        f"/api/v1/datasets/{identifier}/variables", query_string=query, headers=headers
    )
    assert response.status_code == 200, response.json
    return response.json


def by_name(client, identifier: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in variables(client, identifier, headers)["items"]}


def test_a_custodian_imports_into_the_draft_and_gets_the_report(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    before = etag(client, identifier, custodian["headers"])
    response = upload(
        client, identifier, sample("template_good.csv"), "d.csv", custodian["headers"]
    )
    assert response.status_code == 200, response.json
    report = response.json
    assert report["imported"] is True and report["format"] == "template"
    assert (report["rows"], report["added"], report["changed"], report["removed"]) == (8, 8, 0, 0)
    assert report["problems"] == [] and report["version"] == 1
    assert response.headers["ETag"] != before  # the next edit quotes the new one
    history = client.get(f"/api/v1/datasets/{identifier}/history", headers=custodian["headers"])
    entry = history.json[0]
    assert entry["action"] == "dictionary_imported"
    assert entry["changes"]["added"] == 8 and entry["changes"]["format"] == "template"
    assert "8 added" in entry["summary"]


def test_edits_need_the_current_etag(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    data = sample("template_good.csv")
    missing = upload(client, identifier, data, "d.csv", custodian["headers"], if_match=None)
    assert missing.status_code == 428
    stale_tag = etag(client, identifier, custodian["headers"])
    assert upload(client, identifier, data, "d.csv", custodian["headers"]).status_code == 200
    stale = upload(client, identifier, data, "d.csv", custodian["headers"], if_match=stale_tag)
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"


def test_published_datasets_change_only_through_a_new_version(client, make, custodian):
    identifier = make.dataset(custodian["organisation"], publish=True)
    headers = custodian["headers"]
    response = upload(client, identifier, sample("template_good.csv"), "d.csv", headers)
    assert response.status_code == 409
    assert "new version" in response.json["detail"].lower()
    opened = client.post(
        f"/api/v1/datasets/{identifier}/versions",
        headers=headers | {"If-Match": etag(client, identifier, headers)},
    )
    assert opened.status_code == 201
    response = upload(client, identifier, sample("template_good.csv"), "d.csv", headers)
    assert response.status_code == 200 and response.json["version"] == 2
    # the published version keeps the dictionary it had (none), the draft has the new one
    assert variables(client, identifier, headers, version=1)["total"] == 0
    assert variables(client, identifier, headers)["total"] == 8
    assert client.get(f"/api/v1/datasets/{identifier}/variables").json["total"] == 0


@pytest.mark.parametrize(("publish", "status"), [(False, 404), (True, 403)])
def test_other_organisations_custodians_may_not_import(client, make, custodian, publish, status):
    elsewhere = make.organisation()
    identifier = make.dataset(elsewhere, publish=publish)
    response = upload(
        client, identifier, sample("template_good.csv"), "d.csv", custodian["headers"], if_match="*"
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_researchers_and_anonymous_callers_may_not_import(client, make, custodian):
    identifier = make.dataset(custodian["organisation"], publish=True)
    researcher = make.token(make.user(Role.RESEARCHER))
    data = sample("template_good.csv")
    as_researcher = upload(
        client, identifier, data, "d.csv", {"Authorization": f"Bearer {researcher}"}, if_match="*"
    )
    assert as_researcher.status_code == 403
    assert upload(client, identifier, data, "d.csv", {}, if_match="*").status_code == 401


def test_unknown_formats_and_extensions_are_415(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    data = sample("template_good.csv")
    assert upload(client, identifier, data, "d.pdf", headers).status_code == 415
    unknown = upload(client, identifier, data, "d.csv", headers, fmt="spss")
    assert unknown.status_code == 415 and "spss" in unknown.json["detail"]
    assert unknown.mimetype == "application/problem+json"


def test_a_file_too_large_is_413(app, client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    app.config["MAX_CONTENT_LENGTH"], limit = 2000, app.config["MAX_CONTENT_LENGTH"]
    try:
        response = upload(
            client,
            identifier,
            b"name,label,value_type\n" + b"x" * 5000,
            "d.csv",
            custodian["headers"],
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert variables(client, identifier, custodian["headers"])["total"] == 0


def test_no_file_is_named_in_the_problem(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"] | {"If-Match": etag(client, identifier, custodian["headers"])}
    response = client.post(
        f"/api/v1/datasets/{identifier}/dictionary",
        data={},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "file" in response.json["errors"]


def test_a_broken_file_answers_422_with_the_whole_report(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    response = upload(client, identifier, sample("template_broken.csv"), "d.csv", headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["errors"]["file"][0].startswith("row 2, column “unit”: “years” is not a UCUM unit")
    report = body["report"]
    assert report["imported"] is False and report["rows"] == 6
    assert report["problem_count"] == len(report["problems"]) == len(body["errors"]["file"])
    assert [(p["row"], p["column"]) for p in report["problems"]] == [
        (2, "unit"),
        (3, "permissible_values"),
        (4, "value_type"),
        (5, "permissible_values"),
        (6, "term"),
        (7, "name"),
    ]
    assert "unknown term “NCIT:C9999999” for the value 1" in report["problems"][3]["message"]
    assert "unknown term “XYZ:123” for the variable" in report["problems"][4]["message"]
    assert "Nothing was changed" in body["detail"]
    assert variables(client, identifier, headers)["total"] == 0


def test_a_file_in_another_encoding_is_refused_naming_the_row(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    text = "name,label,value_type\nhb,Haemoglobin,decimal\nmyelo,Myélogramme fait,boolean\n"
    response = upload(client, identifier, text.encode("cp1252"), "d.csv", custodian["headers"])
    assert response.status_code == 422
    problem = response.json["report"]["problems"][0]
    assert problem["row"] == 3
    assert "not UTF-8" in problem["message"] and "Windows-1252" in problem["message"]
    assert response.json["errors"]["file"][0].startswith("row 3: the file is not UTF-8")


def test_an_excel_workbook_named_csv_is_explained(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    response = upload(client, identifier, b"PK\x03\x04rest", "d.csv", custodian["headers"])
    assert response.status_code == 422
    assert "Excel workbook" in response.json["errors"]["file"][0]
