"""Listing and reading a dataset's variables: the JSON contract, filters, pages, versions and
who sees what."""

from __future__ import annotations

import pytest

from core.models import Role
from tests.catalogue.dictionary.test_import_api import new_custodian, sample, upload, variables


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


VARIABLE_CONTRACT = {
    "name", "label", "description", "form", "time_point", "value_type", "unit",
    "permissible_values", "missing_codes", "mappings",
}  # fmt: skip
MAPPING_CONTRACT = {
    "id", "subject_value", "predicate_id", "object_id", "object_label", "mapping_justification",
    "confidence", "status", "author", "mapping_date", "comment", "reason",
}  # fmt: skip


@pytest.fixture
def trial(client, make, custodian) -> str:
    """A draft with the every-field-type REDCap dictionary."""
    identifier = make.dataset(custodian["organisation"])
    response = upload(
        client, identifier, sample("redcap_every_type.csv"), "trial.csv", custodian["headers"]
    )
    assert response.status_code == 200, response.json
    return identifier


def test_the_contract_shape(client, custodian, trial):
    page = variables(client, trial, custodian["headers"], per_page=7)
    assert (page["total"], page["page"], page["per_page"]) == (20, 1, 7)
    assert len(page["items"]) == 7
    sex = page["items"][6]
    assert set(sex) >= VARIABLE_CONTRACT
    assert sex["name"] == "sex" and sex["value_type"] == "categorical"
    assert set(sex["mappings"][0]) == MAPPING_CONTRACT
    assert sex["permissible_values"][0] == {"code": "1", "label": "Male", "term": None}
    one = client.get(f"/api/v1/datasets/{trial}/variables/sex", headers=custodian["headers"])
    assert one.status_code == 200 and one.json == sex
    missing = client.get(f"/api/v1/datasets/{trial}/variables/nope", headers=custodian["headers"])
    assert missing.status_code == 404 and "nope" in missing.json["detail"]


def test_pages_follow_the_dictionary_order(client, custodian, trial):
    first = variables(client, trial, custodian["headers"], per_page=7)["items"]
    second = variables(client, trial, custodian["headers"], per_page=7, page=2)["items"]
    third = variables(client, trial, custodian["headers"], per_page=7, page=3)["items"]
    names = [v["name"] for v in first + second + third]
    assert names[0] == "record_id" and names[-1] == "os_months" and len(set(names)) == 20
    too_big = client.get(
        f"/api/v1/datasets/{trial}/variables?per_page=500", headers=custodian["headers"]
    )
    assert too_big.status_code == 422 and "per_page" in too_big.json["errors"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"mapped": "true"}, ["sex", "age_dx", "hb_dx", "flt3itd"]),
        ({"type": "boolean"}, ["consent_ok", "flt3itd"]),
        ({"form": "response"}, ["resp"]),
        ({"q": "BLOOD"}, ["wbc_dx"]),  # the label, any case
        ({"q": "_dx"}, ["age_dx", "who_dx", "hb_dx", "wbc_dx"]),  # “_” is no wildcard
        ({"type": "decimal", "mapped": "false"}, ["wbc_dx", "bmi", "os_months"]),
        ({"form": "diagnosis", "q": "date"}, ["dx_date"]),
    ],
)
def test_filters(client, custodian, trial, query, expected):
    page = variables(client, trial, custodian["headers"], **query)
    assert [v["name"] for v in page["items"]] == expected
    assert page["total"] == len(expected)


@pytest.mark.parametrize("positions", [[0, 1, 2, 3, 4], [0, 5, 6, 40, 41], [0, 1, 1, 3, 4]])
def test_pages_show_every_variable_once_however_numbered(app, client, make, custodian, positions):
    from sqlalchemy import update

    from catalogue.models import Variable
    from core.db import get_session

    names = ["a", "b", "c", "d", "e"]
    identifier = make.dataset(
        custodian["organisation"], variables=[{"name": name} for name in names]
    )
    with app.app_context():
        for name, position in zip(names, positions, strict=True):
            get_session().execute(
                update(Variable).where(Variable.name == name).values(position=position)
            )
        get_session().commit()
    seen = []
    for page in (1, 2, 3):
        listed = variables(client, identifier, custodian["headers"], per_page=2, page=page)
        assert listed["total"] == 5
        seen += [v["name"] for v in listed["items"]]
    assert sorted(seen) == names and seen[0] == "a" and seen[-1] == "e"


def test_filtered_pages_count_every_match(client, custodian, trial):
    headers = custodian["headers"]
    second = variables(client, trial, headers, q="_dx", per_page=3, page=2)
    assert [v["name"] for v in second["items"]] == ["wbc_dx"] and second["total"] == 4
    beyond = variables(client, trial, headers, form="diagnosis", per_page=5, page=9)
    assert beyond["items"] == [] and beyond["total"] == 10
    nothing = variables(client, trial, headers, q="no such variable")
    assert (nothing["items"], nothing["total"]) == ([], 0)


def test_unmapped_is_the_rest(client, custodian, trial):
    unmapped = variables(client, trial, custodian["headers"], mapped="false")
    assert unmapped["total"] == 16
    assert all(not v["mapped"] for v in unmapped["items"])
    assert "resp" in {v["name"] for v in unmapped["items"]}  # only its values are mapped


def test_an_unknown_type_is_named(client, custodian, trial):
    response = client.get(
        f"/api/v1/datasets/{trial}/variables?type=colour", headers=custodian["headers"]
    )
    assert response.status_code == 422 and "type" in response.json["errors"]


def test_drafts_are_for_their_editors_only(client, make, custodian, trial):
    researcher = {"Authorization": f"Bearer {make.token(make.user(Role.RESEARCHER))}"}
    outsider = make.user(Role.CUSTODIAN, organisation=make.organisation())
    other = {"Authorization": f"Bearer {make.token(outsider)}"}
    for headers in ({}, researcher, other):
        assert client.get(f"/api/v1/datasets/{trial}/variables", headers=headers).status_code == 404
        assert (
            client.get(f"/api/v1/datasets/{trial}/variables/sex", headers=headers).status_code
            == 404
        )
        assert (
            client.get(f"/api/v1/datasets/{trial}/dictionary.csv", headers=headers).status_code
            == 404
        )
    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}
    assert variables(client, trial, admin)["total"] == 20


def test_published_versions_are_public_and_keep_their_variables(client, make, custodian):
    headers = custodian["headers"]
    identifier = make.dataset(
        custodian["organisation"],
        publish=True,
        variables=[{"name": "hb_dx", "label": "Haemoglobin", "mappings": ["HV:0000045"]}],
    )
    public = client.get(f"/api/v1/datasets/{identifier}/variables").json
    assert [v["name"] for v in public["items"]] == ["hb_dx"]
    assert public["items"][0]["mappings"][0]["object_label"] == "Haemoglobin"
    tag = client.get(f"/api/v1/datasets/{identifier}", headers=headers).headers["ETag"]
    client.post(f"/api/v1/datasets/{identifier}/versions", headers=headers | {"If-Match": tag})
    response = upload(client, identifier, sample("template_good.csv"), "d.csv", headers)
    assert response.status_code == 200
    assert (response.json["added"], response.json["changed"]) == (7, 1)
    hb = client.get(f"/api/v1/datasets/{identifier}/variables/hb_dx", headers=headers).json
    assert [m["object_id"] for m in hb["mappings"]] == ["HV:0000045"]  # copied, not doubled
    # everyone else still sees the published version; its editors see the draft
    assert client.get(f"/api/v1/datasets/{identifier}/variables").json["total"] == 1
    assert variables(client, identifier, headers)["total"] == 8
    assert variables(client, identifier, {}, version=1)["total"] == 1
    draft = client.get(f"/api/v1/datasets/{identifier}/variables?version=2")
    assert draft.status_code == 404
    unknown = client.get(f"/api/v1/datasets/{identifier}/variables?version=9", headers=headers)
    assert unknown.status_code == 404


def test_readers_who_are_not_editors_see_the_organisation_as_author(client, custodian, trial):
    headers = custodian["headers"]
    own = variables(client, trial, headers, mapped="true")["items"]
    people = {m["author"] for v in own for m in v["mappings"]}
    assert custodian["user"].name in people
    tag = client.get(f"/api/v1/datasets/{trial}", headers=headers).headers["ETag"]
    published = client.post(
        f"/api/v1/datasets/{trial}/publish", headers={**headers, "If-Match": tag}
    )
    assert published.status_code == 200, published.json
    public = client.get(f"/api/v1/datasets/{trial}/variables", query_string={"mapped": "true"})
    authors = {m["author"] for v in public.json["items"] for m in v["mappings"]}
    assert custodian["user"].name not in authors
    assert custodian["organisation"].name in authors
    one = client.get(f"/api/v1/datasets/{trial}/variables/sex").json
    assert {m["author"] for m in one["mappings"]} <= {
        custodian["organisation"].name,
        "HARMONY mapping assistant",
    }
