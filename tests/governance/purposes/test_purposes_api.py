"""Saved research purposes through the API: the owner's alone (another user's is 404,
anonymous 401), validated with the compatibility check's purpose schema (422 by field),
changed with If-Match."""

from __future__ import annotations

from tests.governance.purposes.conftest import AML, AML_PURPOSE, DS, bearer

BASE = "/api/v1/me/purposes"


def test_anonymous_callers_are_asked_to_log_in(client, world):
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, json={"name": "x", "purpose": AML_PURPOSE}).status_code == 401
    assert client.get(f"{BASE}/{world.purpose_id}").status_code == 401


def test_create_read_update_delete(client, world):
    me = bearer(world, "researcher")
    created = client.post(
        BASE,
        json={"name": "  MDS  transfusion study ", "purpose": {"terms": ["HMB"]}},
        headers=me,
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["name"] == "MDS transfusion study"  # spaces tidied
    assert body["purpose"]["terms"] == ["DUO:0000006"]  # the code read as its CURIE
    assert body["revision"] == 1
    assert created.headers["Location"].endswith(f"{BASE}/{body['id']}")
    assert body["search_url"].endswith(f"/api/v1/search?purpose={body['id']}")
    etag = created.headers["ETag"]

    listed = client.get(BASE, headers=me).json
    assert [p["name"] for p in listed["items"]] == ["AML relapse", "MDS transfusion study"]
    assert listed["total"] == 2

    one = client.get(f"{BASE}/{body['id']}", headers=me)
    assert one.status_code == 200 and one.headers["ETag"] == etag

    change = {"name": "MDS study", "purpose": {"terms": [DS], "diseases": [AML]}}
    assert client.put(f"{BASE}/{body['id']}", json=change, headers=me).status_code == 428
    stale = {**me, "If-Match": '"stale-1"'}
    assert client.put(f"{BASE}/{body['id']}", json=change, headers=stale).status_code == 412
    changed = client.put(f"{BASE}/{body['id']}", json=change, headers={**me, "If-Match": etag})
    assert changed.status_code == 200, changed.json
    assert changed.json["revision"] == 2 and changed.json["purpose"]["diseases"] == [AML]
    assert changed.headers["ETag"] != etag

    old = {**me, "If-Match": etag}
    assert client.delete(f"{BASE}/{body['id']}", headers=old).status_code == 412
    assert client.delete(f"{BASE}/{body['id']}", headers=me).status_code == 204
    assert client.get(f"{BASE}/{body['id']}", headers=me).status_code == 404


def test_another_users_purpose_is_not_found(client, world):
    other = bearer(world, "other_researcher")
    url = f"{BASE}/{world.purpose_id}"
    assert client.get(url, headers=other).status_code == 404
    put = {"name": "Mine now", "purpose": AML_PURPOSE}
    assert client.put(url, json=put, headers={**other, "If-Match": "*"}).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    assert [p["name"] for p in client.get(BASE, headers=other).json["items"]] == ["Someone else's"]
    # still there for its owner
    assert client.get(url, headers=bearer(world, "researcher")).status_code == 200


def test_every_logged_in_role_keeps_purposes(client, world):
    for role in ("custodian", "admin"):
        response = client.post(
            BASE, json={"name": f"{role}'s", "purpose": AML_PURPOSE}, headers=bearer(world, role)
        )
        assert response.status_code == 201, (role, response.json)


def test_invalid_input_is_422_naming_the_field(client, world):
    me = bearer(world, "researcher")
    cases = [
        ({"name": "x", "purpose": {"terms": ["DUO:9999999"]}}, "purpose.terms"),
        ({"name": "x", "purpose": {"terms": [DS]}}, "purpose.diseases"),  # DS names a disease
        ({"name": "x", "purpose": {"terms": [DS], "diseases": ["NCIT:C0"]}}, "purpose.diseases"),
        ({"name": "x", "purpose": {"terms": ["HMB"], "country": "Atlantis"}}, "purpose.country"),
        (
            {"name": "x", "purpose": {"terms": ["HMB"], "duration_months": 0}},
            "purpose.duration_months",
        ),
        ({"name": "x", "purpose": {"terms": ["HMB"], "colour": "red"}}, "purpose.colour"),
        ({"name": "", "purpose": {"terms": ["HMB"]}}, "name"),
        ({"name": "AML relapse", "purpose": {"terms": ["HMB"]}}, "name"),  # taken
        ({"name": "aml RELAPSE", "purpose": {"terms": ["HMB"]}}, "name"),  # taken, any case
        ({"purpose": {"terms": ["HMB"]}}, "name"),
        ({"name": "x"}, "purpose"),
    ]
    for body, field in cases:
        response = client.post(BASE, json=body, headers=me)
        assert response.status_code == 422, (body, response.json)
        assert any(k == field or k.startswith(field + ".") for k in response.json["errors"]), (
            body,
            response.json["errors"],
        )
    # nothing was saved
    assert client.get(BASE, headers=me).json["total"] == 1


def test_an_empty_name_or_no_kind_of_research_is_said_in_words(client, world):
    response = client.post(
        BASE, json={"name": "", "purpose": {"terms": []}}, headers=bearer(world, "researcher")
    )
    assert response.status_code == 422
    assert response.json["errors"]["name"] == ["Give the purpose a name."]
    assert response.json["errors"]["purpose.terms"] == ["Tick at least one kind of research."]


def test_renaming_to_a_taken_name_is_refused(client, world):
    me = bearer(world, "researcher")
    created = client.post(BASE, json={"name": "Second", "purpose": AML_PURPOSE}, headers=me)
    response = client.put(
        f"{BASE}/{created.json['id']}",
        json={"name": "AML relapse", "purpose": AML_PURPOSE},
        headers={**me, "If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422 and "name" in response.json["errors"]
    # its own name is not "taken"
    same = client.put(
        f"{BASE}/{created.json['id']}",
        json={"name": "Second", "purpose": {**AML_PURPOSE, "commercial": True}},
        headers={**me, "If-Match": created.headers["ETag"]},
    )
    assert same.status_code == 200 and same.json["purpose"]["commercial"] is True


def test_yes_no_answers_are_json_booleans(client, world):
    me = bearer(world, "researcher")
    for answer in (0, 1, "yes", "true", "on"):
        body = {"name": f"Answer {answer}", "purpose": {"terms": ["HMB"], "commercial": answer}}
        response = client.post(BASE, json=body, headers=me)
        assert response.status_code == 422, answer
        assert "purpose.commercial" in response.json["errors"]
    body = {"name": "Null", "purpose": {"terms": ["HMB"], "commercial": None, "sensitive": True}}
    saved = client.post(BASE, json=body, headers=me).json
    assert saved["purpose"]["commercial"] is None and saved["purpose"]["sensitive"] is True
