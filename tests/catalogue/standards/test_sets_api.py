"""Standard variable sets through the API: everyone reads them; administrators create, change
(with If-Match) and retire them; bad input is a 422 that names the field."""

from __future__ import annotations

import pytest

from core.models import Role

NEW_SET = {
    "name": "Lab core (test)",
    "version": "1",
    "description": "Blood counts for the tests.",
    "source": "Our own test set.",
    "source_url": "https://example.org/sets/lab-core",
    "diseases": ["NCIT:C3247"],
    "terms": [
        {"curie": "HV:0000045", "note": "g/dL"},
        {"curie": "HV:0000048"},
        {"curie": "https://w3id.org/harmony/hv/HV_0000047", "note": None},
    ],
}


@pytest.fixture
def admin(make, vocabularies):
    return {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}


@pytest.fixture
def created(client, admin):
    response = client.post("/api/v1/standard-sets", json=NEW_SET, headers=admin)
    assert response.status_code == 201, response.json
    return response


def test_an_admin_creates_a_set_that_everyone_reads_in_order_with_its_notes(client, created):
    body = created.json
    assert body["identifier"] == "lab-core-test"  # made from the name
    assert created.headers["Location"].endswith("/api/v1/standard-sets/lab-core-test")
    assert created.headers["ETag"]
    assert body["status"] == "active" and body["revision"] == 1
    assert [(t["curie"], t["note"]) for t in body["terms"]] == [
        ("HV:0000045", "g/dL"),
        ("HV:0000048", None),
        ("HV:0000047", None),  # the IRI became its CURIE
    ]
    assert body["terms"][0]["label"] == "Haemoglobin"
    assert body["diseases"] == [{"curie": "NCIT:C3247", "label": "Myelodysplastic Syndrome"}]
    assert body["feasibility_url"].endswith("/api/v1/standard-sets/lab-core-test/feasibility")
    public = client.get("/api/v1/standard-sets/lab-core-test")
    assert public.status_code == 200
    assert public.json["terms"] == body["terms"]
    assert public.headers["ETag"] == created.headers["ETag"]
    listed = client.get("/api/v1/standard-sets").json
    assert "lab-core-test" in [s["identifier"] for s in listed["items"]]


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.RESEARCHER, 403), (Role.CUSTODIAN, 403)]
)
def test_only_admins_create_change_and_retire(client, make, created, role, status):
    headers = {} if role is None else {"Authorization": f"Bearer {make.token(make.user(role))}"}
    headers["If-Match"] = "*"
    assert client.post("/api/v1/standard-sets", json=NEW_SET, headers=headers).status_code == status
    url = "/api/v1/standard-sets/lab-core-test"
    assert client.patch(url, json={"name": "Renamed"}, headers=headers).status_code == status
    assert client.post(url + "/retire", headers=headers).status_code == status
    assert client.get(url).json["name"] == NEW_SET["name"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"terms": [{"curie": "HV:0000045"}, {"curie": "HV:9999999"}]}, "terms", ["HV:9999999"]),
        ({"terms": [{"curie": "HV:0000045"}, {"curie": "hv:0000045"}]}, "terms", ["HV:0000045"]),
        ({"terms": []}, "terms", []),
        ({"terms": [{"curie": "not a curie"}]}, "terms.0.curie", []),
        ({"diseases": ["HV:0000045"]}, "diseases", ["HV:0000045"]),
        ({"identifier": "Bad Id"}, "identifier", []),
        ({"identifier": "new"}, "identifier", ["reserved"]),
        ({"source_url": "ftp://example.org/x"}, "source_url", []),
        ({"version": ""}, "version", []),
        ({"surprise": 1}, "surprise", []),
    ],
)
def test_bad_sets_are_a_422_naming_the_field(client, admin, change, field, words):
    response = client.post("/api/v1/standard-sets", json=NEW_SET | change, headers=admin)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json
    for word in words:
        assert word in " ".join(response.json["errors"][field])


def test_an_identifier_is_given_once(client, admin, created):
    again = client.post(
        "/api/v1/standard-sets", json=NEW_SET | {"identifier": "lab-core-test"}, headers=admin
    )
    assert again.status_code == 422 and "identifier" in again.json["errors"]
    auto = client.post("/api/v1/standard-sets", json=NEW_SET, headers=admin)
    assert auto.status_code == 201 and auto.json["identifier"] == "lab-core-test-2"


def test_changes_need_the_current_etag(client, admin, created):
    url = "/api/v1/standard-sets/lab-core-test"
    missing = client.patch(url, json={"version": "2"}, headers=admin)
    assert missing.status_code == 428
    stale = client.patch(url, json={"version": "2"}, headers=admin | {"If-Match": '"stale-1"'})
    assert stale.status_code == 412
    etag = created.headers["ETag"]
    changed = client.patch(
        url,
        json={
            "version": "2",
            "terms": [{"curie": "HV:0000047", "note": "count per litre"}, {"curie": "HV:0000045"}],
        },
        headers=admin | {"If-Match": etag},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["version"] == "2" and changed.json["revision"] == 2
    assert [(t["curie"], t["note"]) for t in changed.json["terms"]] == [
        ("HV:0000047", "count per litre"),
        ("HV:0000045", None),
    ]
    assert changed.headers["ETag"] != etag
    # the old ETag is stale now: a second writer does not overwrite the first
    again = client.patch(url, json={"name": "Other"}, headers=admin | {"If-Match": etag})
    assert again.status_code == 412
    assert client.get(url).json["name"] == NEW_SET["name"]
    same = client.patch(
        url, json={"version": "2"}, headers=admin | {"If-Match": changed.headers["ETag"]}
    )
    assert same.json["revision"] == 2  # nothing changed, nothing bumped
    renamed = client.patch(
        url, json={"identifier": "other"}, headers=admin | {"If-Match": changed.headers["ETag"]}
    )
    assert renamed.status_code == 422 and "identifier" in renamed.json["errors"]


def test_a_retired_set_stays_readable_and_changes_no_more(client, admin, created):
    url = "/api/v1/standard-sets/lab-core-test"
    retired = client.post(url + "/retire", headers=admin | {"If-Match": created.headers["ETag"]})
    assert retired.status_code == 200
    assert retired.json["status"] == "retired" and retired.json["retired"]
    etag = retired.headers["ETag"]
    assert client.post(url + "/retire", headers=admin | {"If-Match": etag}).status_code == 409
    assert (
        client.patch(url, json={"name": "Xy"}, headers=admin | {"If-Match": etag}).status_code
        == 409
    )
    assert client.get(url).json["status"] == "retired"
    active = client.get("/api/v1/standard-sets", query_string={"status": "active"}).json
    assert "lab-core-test" not in [s["identifier"] for s in active["items"]]
    retired_list = client.get("/api/v1/standard-sets", query_string={"status": "retired"}).json
    assert [s["identifier"] for s in retired_list["items"]] == ["lab-core-test"]
    assert client.post(url + "/retire", headers=admin).status_code == 428


def test_sets_are_found_by_disease_above_or_below_theirs(client, created):
    def listed(disease):
        response = client.get("/api/v1/standard-sets", query_string={"disease": disease})
        assert response.status_code == 200
        return [s["identifier"] for s in response.json["items"]]

    assert "lab-core-test" in listed("NCIT:C3247")  # MDS itself
    assert "lab-core-test" in listed("NCIT:C7168")  # MDS with excess blasts-2, below it
    assert "lab-core-test" not in listed("NCIT:C3242")  # myeloma
    assert client.get("/api/v1/standard-sets?status=gone").status_code == 422
    assert client.get("/api/v1/standard-sets?sort=colour").status_code == 422


def test_an_unknown_set_is_404(client, vocabularies):
    assert client.get("/api/v1/standard-sets/no-such-set").status_code == 404
    assert client.get("/api/v1/standard-sets/no-such-set/feasibility").status_code == 404
