"""The dataset API as a custodian and the public meet it: the JSON contract, validation,
If-Match, the lifecycle (draft → published → new version → retired) and the history."""

from __future__ import annotations

import pytest

from core.models import Role

CONTRACT = {
    "identifier", "title", "description", "custodian", "diseases", "source_type", "trial_ids",
    "countries", "patients", "records", "time_coverage", "age_groups", "data_model", "keywords",
    "contact", "landing_page", "access_rights", "provenance", "classification", "data_freeze",
    "version", "status",
}  # fmt: skip

FULL = {
    "identifier": "amlsg-demo-trial",
    "title": "Intensive chemotherapy in newly diagnosed AML",
    "description": "A **randomised** trial.\n\n- arm A\n- arm B",
    "diseases": ["NCIT:C3171", "http://purl.obolibrary.org/obo/NCIT_C3247"],
    "source_type": "clinical_trial",
    "trial_ids": ["2004-000123-45", "2022-500014-26-00", "nct01234567"],
    "countries": ["de", "AT"],
    "patients": 1250,
    "records": 48000,
    "time_coverage": {"first_year": 2004, "last_year": 2019},
    "age_groups": ["adult", "elderly"],
    "data_model": "omop",
    "keywords": ["AML", "induction", "AML"],
    "contact": {"name": "Data Desk", "email": "data@example.org"},
    "landing_page": "https://example.org/trials/aml",
    "access_rights": "Access through the HARMONY data access committee.",
    "provenance": [
        {"step": "pseudonymised", "date": "2020-01-15"},
        {"step": "converted_to_omop", "date": "2021-03-01"},
    ],
    "classification": "who_2016",
    "data_freeze": "2023-06-30",
    "version": "freeze 2023-06",
}


@pytest.fixture
def custodian(make, vocabularies):
    organisation = make.organisation()
    user = make.user(Role.CUSTODIAN, organisation=organisation)
    return {"Authorization": f"Bearer {make.token(user)}"}, organisation, user


def test_a_custodian_registers_a_complete_dataset_in_the_contract_shape(client, custodian):
    headers, organisation, _ = custodian
    response = client.post("/api/v1/datasets", json=FULL, headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) >= CONTRACT
    assert response.headers["Location"].endswith("/api/v1/datasets/amlsg-demo-trial")
    assert response.headers["ETag"]
    assert body["custodian"] == organisation.id  # their organisation unless they say otherwise
    assert body["status"] == "draft" and body["version_status"] == "draft"
    assert body["diseases"] == ["NCIT:C3171", "NCIT:C3247"]  # IRIs answered as CURIEs
    assert body["trial_ids"] == ["2004-000123-45", "2022-500014-26-00", "NCT01234567"]
    assert body["countries"] == ["DE", "AT"]
    assert body["keywords"] == ["AML", "induction"]
    assert body["time_coverage"] == {"first_year": 2004, "last_year": 2019}
    assert body["contact"] == {"name": "Data Desk", "email": "data@example.org"}
    assert body["provenance"][1] == {"step": "converted_to_omop", "date": "2021-03-01"}
    assert body["data_freeze"] == "2023-06-30"
    assert body["disease_terms"][0]["label"] == "Acute Myeloid Leukemia"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trial_ids": ["EUDRACT-1"]}, "trial_ids.0"),
        ({"countries": ["XX"]}, "countries.0"),
        ({"diseases": ["NCIT:C0000000"]}, "diseases"),
        ({"diseases": ["HV:0000001"]}, "diseases"),  # a variable, not a disease
        ({"diseases": []}, "diseases"),
        ({"time_coverage": {"first_year": 2020, "last_year": 2010}}, "time_coverage"),
        ({"identifier": "Not A Slug"}, "identifier"),
        ({"age_groups": ["teenager"]}, "age_groups.0"),
        ({"landing_page": "javascript:alert(1)"}, "landing_page"),
        ({"provenance": [{"step": "quality_checked"}]}, "provenance.0.date"),
        ({"contact": {"email": "not an email"}}, "contact.email"),
    ],
)
def test_bad_fields_are_named_in_the_problem(client, custodian, change, field):
    headers, _, _ = custodian
    response = client.post("/api/v1/datasets", json=FULL | change, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json


def test_edits_need_the_current_etag(client, custodian):
    headers, _, _ = custodian
    created = client.post("/api/v1/datasets", json=FULL, headers=headers)
    url = "/api/v1/datasets/amlsg-demo-trial"
    missing = client.patch(url, json={"patients": 1300}, headers=headers)
    assert missing.status_code == 428
    etag = created.headers["ETag"]
    changed = client.patch(url, json={"patients": 1300}, headers=headers | {"If-Match": etag})
    assert changed.status_code == 200 and changed.json["patients"] == 1300
    assert changed.headers["ETag"] != etag
    stale = client.patch(url, json={"patients": 1}, headers=headers | {"If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url, headers=headers).json["patients"] == 1300


def test_publishing_says_what_is_missing(client, custodian):
    headers, _, _ = custodian
    created = client.post(
        "/api/v1/datasets",
        json={"title": "Bare AML dataset", "diseases": ["NCIT:C3171"]},
        headers=headers,
    )
    identifier = created.json["identifier"]
    assert identifier == "bare-aml-dataset"  # made from the title
    response = client.post(
        f"/api/v1/datasets/{identifier}/publish",
        headers=headers | {"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422
    assert {"description", "source_type", "contact"} <= set(response.json["errors"])


def test_lifecycle_draft_published_new_version_retired(client, custodian):
    headers, _, _ = custodian
    url = "/api/v1/datasets/amlsg-demo-trial"
    etag = client.post("/api/v1/datasets", json=FULL, headers=headers).headers["ETag"]
    assert client.get(url).status_code == 404  # the public does not see drafts
    published = client.post(f"{url}/publish", headers=headers | {"If-Match": etag})
    assert published.status_code == 200 and published.json["status"] == "published"
    public = client.get(url)
    assert public.status_code == 200 and public.json["version_number"] == 1

    # a published version does not change: a new version does
    etag = published.headers["ETag"]
    refused = client.patch(url, json={"patients": 1}, headers=headers | {"If-Match": etag})
    assert refused.status_code == 409 and "new version" in refused.json["detail"].lower()
    opened = client.post(f"{url}/versions", headers=headers | {"If-Match": etag})
    assert opened.status_code == 201 and opened.json["version_number"] == 2
    etag = opened.headers["ETag"]
    edited = client.patch(
        url,
        json={"data_freeze": "2024-12-31", "patients": 1400, "version": "freeze 2024-12"},
        headers=headers | {"If-Match": etag},
    )
    assert edited.status_code == 200
    assert client.get(url).json["patients"] == 1250  # the public still sees version 1
    assert client.get(url, headers=headers).json["patients"] == 1400  # the custodian, the draft
    assert client.get(f"{url}/versions/2").status_code == 404
    republished = client.post(
        f"{url}/publish", headers=headers | {"If-Match": edited.headers["ETag"]}
    )
    assert republished.json["version_number"] == 2
    assert client.get(url).json["patients"] == 1400
    old = client.get(f"{url}/versions/1").json
    assert old["patients"] == 1250 and old["version_status"] == "superseded"
    assert [v["number"] for v in client.get(url).json["versions"]] == [1, 2]

    retired = client.post(
        f"{url}/retire",
        json={"note": "Superseded by the pooled AML cohort."},
        headers=headers | {"If-Match": republished.headers["ETag"]},
    )
    assert retired.status_code == 200
    still = client.get(url)
    assert still.status_code == 200
    assert still.json["status"] == "retired"
    assert still.json["retirement_note"] == "Superseded by the pooled AML cohort."

    history = client.get(f"{url}/history").json
    assert [h["action"] for h in history] == [
        "retired", "published", "updated", "version_opened", "published", "created",
    ]  # fmt: skip
    assert all("@" not in h["who"] for h in history)  # the public sees no person's email
    own = client.get(f"{url}/history", headers=headers).json
    assert "@" in own[0]["who"]
    assert own[2]["changes"]["patients"] == {"old": 1250, "new": 1400}


def test_deleted_drafts_free_nothing_and_published_ones_cannot_be_deleted(client, custodian):
    headers, _, _ = custodian
    etag = client.post("/api/v1/datasets", json=FULL, headers=headers).headers["ETag"]
    url = "/api/v1/datasets/amlsg-demo-trial"
    assert client.delete(url, headers=headers | {"If-Match": etag}).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    again = client.post("/api/v1/datasets", json=FULL, headers=headers)
    assert again.status_code == 422 and "identifier" in again.json["errors"]


def test_lists_show_drafts_to_their_custodians_only(client, make, custodian):
    headers, organisation, _ = custodian
    mine = make.dataset(organisation, title="Our draft")
    elsewhere = make.organisation()
    make.dataset(elsewhere, title="Their draft")
    theirs = make.dataset(elsewhere, title="Their published dataset", publish=True)
    public = {d["identifier"] for d in client.get("/api/v1/datasets").json["items"]}
    assert theirs in public and mine not in public
    own = client.get("/api/v1/datasets?mine=true", headers=headers).json
    assert [d["identifier"] for d in own["items"]] == [mine] and own["total"] == 1
    listed = client.get("/api/v1/datasets?per_page=100", headers=headers).json["items"]
    assert "Their draft" not in {d["title"] for d in listed}


def test_the_summary_counts_published_datasets_and_their_patients(client, make, vocabularies):
    before = client.get("/api/v1/summary").json
    organisation = make.organisation()
    make.dataset(organisation, publish=True, patients=300)
    make.dataset(organisation, publish=True, patients=45)
    make.dataset(organisation, patients=10_000)  # a draft counts for nothing
    after = client.get("/api/v1/summary").json
    assert after["datasets"] - before["datasets"] == 2
    assert after["patients"] - before["patients"] == 345


def test_lists_sort_by_identifier_and_refuse_unknown_sorts(client, make, vocabularies):
    organisation = make.organisation()
    for identifier in ("zz-cohort", "aa-cohort", "mm-cohort"):
        make.dataset(organisation, publish=True, identifier=identifier)
    listed = client.get("/api/v1/datasets?sort=identifier&per_page=200").json["items"]
    ours = [d["identifier"] for d in listed if d["identifier"].endswith("-cohort")]
    assert ours == ["aa-cohort", "mm-cohort", "zz-cohort"]
    assert client.get("/api/v1/datasets?sort=patients").status_code == 422
