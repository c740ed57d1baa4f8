"""The mappings API: list, create, review, delete, suggest and bulk accept, with If-Match."""

from __future__ import annotations

import pytest

from core.models import Role

VARIABLES = [
    {"name": "hb_dx", "label": "Haemoglobin at diagnosis", "value_type": "decimal", "unit": "g/dL"},
    {"name": "flt3itd", "label": "", "value_type": "categorical"},
    {"name": "ecog", "label": "", "value_type": "integer"},
    {
        "name": "karyotype",
        "label": "Karyotype",
        "value_type": "categorical",
        "permissible_values": [{"code": "1", "label": "Normal"}, {"code": "2", "label": "Complex"}],
    },
]


@pytest.fixture
def setup(client, make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation, name="Cora Custodian")
    identifier = make.dataset(organisation, variables=VARIABLES)
    token = make.token(custodian)
    return identifier, {"Authorization": f"Bearer {token}"}


def _etag(client, identifier, headers):
    return client.get(f"/api/v1/datasets/{identifier}", headers=headers).headers["ETag"]


def test_a_custodian_maps_reviews_and_deletes_through_the_api(client, setup):
    identifier, auth = setup
    base = f"/api/v1/datasets/{identifier}/mappings"
    body = {"variable": "hb_dx", "object_id": "HV:0000045", "comment": "from the CRF"}
    assert client.post(base, json=body, headers=auth).status_code == 428
    stale = client.post(base, json=body, headers=auth | {"If-Match": '"nope-1"'})
    assert stale.status_code == 412
    created = client.post(
        base, json=body, headers=auth | {"If-Match": _etag(client, identifier, auth)}
    )
    assert created.status_code == 201, created.json
    mapping = created.json
    assert mapping["variable"] == "hb_dx" and mapping["subject_value"] is None
    assert mapping["object_id"] == "HV:0000045" and mapping["object_label"] == "Haemoglobin"
    assert mapping["predicate_id"] == "skos:exactMatch"
    assert mapping["mapping_justification"] == "semapv:ManualMappingCuration"
    assert mapping["status"] == "accepted" and mapping["author"] == "Cora Custodian"
    assert created.headers["Location"].endswith(f"{base}/{mapping['id']}")
    etag = created.headers["ETag"]
    assert client.get(created.headers["Location"], headers=auth).json["id"] == mapping["id"]

    value = client.post(
        base,
        json={"variable": "karyotype", "subject_value": "1", "object_id": "HV:0000093"},
        headers=auth | {"If-Match": etag},
    )
    assert value.status_code == 201 and value.json["subject_value"] == "1"
    etag = value.headers["ETag"]

    listed = client.get(base, headers=auth).json
    assert listed["total"] == 2
    assert [(m["variable"], m["value_label"]) for m in listed["items"]] == [
        ("hb_dx", None),
        ("karyotype", "Normal"),
    ]
    only_values = client.get(f"{base}?subject=value", headers=auth).json
    assert [m["variable"] for m in only_values["items"]] == ["karyotype"]

    changed = client.patch(
        f"{base}/{mapping['id']}",
        json={"predicate_id": "skos:closeMatch"},
        headers=auth | {"If-Match": etag},
    )
    assert changed.status_code == 200 and changed.json["predicate_id"] == "skos:closeMatch"
    deleted = client.delete(
        f"{base}/{mapping['id']}", headers=auth | {"If-Match": changed.headers["ETag"]}
    )
    assert deleted.status_code == 204
    assert client.get(base, headers=auth).json["total"] == 1
    history = client.get(f"/api/v1/datasets/{identifier}/history", headers=auth).json
    assert [h["action"] for h in history[:4]] == [
        "mapping_deleted",
        "mapping_edited",
        "mapping_added",
        "mapping_added",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"variable": "hb_dx", "object_id": "HV:9999999"}, "object_id"),
        ({"variable": "nope", "object_id": "HV:0000045"}, "variable"),
        (
            {"variable": "hb_dx", "object_id": "HV:0000045", "predicate_id": "skos:sameAs"},
            "predicate_id",
        ),
        ({"variable": "hb_dx", "object_id": "HV:0000045", "confidence": 7}, "confidence"),
        ({"object_id": "HV:0000045"}, "variable"),
        ({"variable": "hb_dx", "object_id": "HV:0000045", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, setup, body, field):
    identifier, auth = setup
    response = client.post(
        f"/api/v1/datasets/{identifier}/mappings", json=body, headers=auth | {"If-Match": "*"}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_suggest_then_accept_in_bulk_and_reject(client, setup):
    identifier, auth = setup
    base = f"/api/v1/datasets/{identifier}/mappings"
    suggested = client.post(
        f"{base}/suggest", headers=auth | {"If-Match": _etag(client, identifier, auth)}
    )
    assert suggested.status_code == 200, suggested.json
    assert suggested.json["variables"] == 4 and suggested.json["suggested"] > 0
    items = client.get(f"{base}?status=suggested&per_page=500", headers=auth).json["items"]
    top = {}
    for item in items:
        top.setdefault((item["variable"], item["subject_value"]), item)
    assert top[("hb_dx", None)]["object_id"] == "HV:0000045"
    assert top[("flt3itd", None)]["object_id"] == "HV:0000125"
    assert top[("ecog", None)]["object_id"] == "HV:0000178"
    assert (
        top[("hb_dx", None)]["reason"]
        and top[("hb_dx", None)]["author"] == "HARMONY mapping assistant"
    )

    ecog = top[("ecog", None)]
    rejected = client.patch(
        f"{base}/{ecog['id']}",
        json={"status": "rejected"},
        headers=auth | {"If-Match": suggested.headers["ETag"]},
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"

    accepted = client.post(
        f"{base}/accept",
        json={"min_confidence": 0.9},
        headers=auth | {"If-Match": rejected.headers["ETag"]},
    )
    assert accepted.status_code == 200 and accepted.json["accepted"] >= 2
    mapped = client.get(f"{base}?status=accepted", headers=auth).json["items"]
    assert {("hb_dx", "HV:0000045"), ("flt3itd", "HV:0000125")} <= {
        (m["variable"], m["object_id"]) for m in mapped
    }
    assert all(m["variable"] != "ecog" for m in mapped)
    bad = client.post(
        f"{base}/accept", json={"min_confidence": 3}, headers=auth | {"If-Match": "*"}
    )
    assert bad.status_code == 422 and "min_confidence" in bad.json["errors"]


def test_published_versions_do_not_change_and_the_public_reads_them(client, make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    auth = {"Authorization": f"Bearer {make.token(custodian)}"}
    identifier = make.dataset(
        organisation, publish=True, variables=[{"name": "sex", "mappings": ["HV:0000017"]}]
    )
    base = f"/api/v1/datasets/{identifier}/mappings"
    response = client.post(
        base, json={"variable": "sex", "object_id": "HV:0000023"}, headers=auth | {"If-Match": "*"}
    )
    assert response.status_code == 409
    public = client.get(base)
    assert public.status_code == 200 and public.json["items"][0]["object_id"] == "HV:0000017"
    assert client.post(f"{base}/suggest", headers={"If-Match": "*"}).status_code == 401
