"""Bad input gets a clear problem+json answer naming the field — never a 500, never a half write."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import get_session
from core.models import Organisation, Role

GOOD = {"name": "Klinikum Example", "country": "DE", "kind": "hospital"}


def bearer(make):
    token = make.token(make.user(Role.ADMIN))
    return {"Authorization": f"Bearer {token}"}


def organisation_count(app):
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Organisation))


def test_malformed_json_is_400(client, make):
    response = client.post(
        "/api/v1/organisations",
        data='{"name": "unterminated',
        headers={**bearer(make), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "JSON" in response.json["detail"]


def test_wrong_types_are_422_per_field(client, make):
    response = client.post(
        "/api/v1/organisations",
        json={"name": 12, "country": ["DE"], "kind": "hospital"},
        headers=bearer(make),
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"name", "country"}
    assert all(isinstance(m, str) for msgs in errors.values() for m in msgs)


def test_unknown_fields_are_422(client, make):
    response = client.post(
        "/api/v1/organisations", json={**GOOD, "is_admin": True}, headers=bearer(make)
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"is_admin": ["Unknown field."]}


def test_missing_fields_and_bad_values_are_named(client, make):
    response = client.post(
        "/api/v1/organisations", json={"country": "XX", "kind": "castle"}, headers=bearer(make)
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "Missing data for required field." in errors["name"]
    assert "ISO 3166-1" in errors["country"][0]
    assert "kind" in errors
    assert "name" in response.json["detail"]


def test_oversized_body_is_413(client, make):
    body = json.dumps({**GOOD, "city": "x" * (2 * 1024 * 1024)})
    response = client.post(
        "/api/v1/organisations",
        data=body,
        headers={**bearer(make), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_upload_larger_than_the_limit_is_413(app, client, make):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/api/v1/organisations",
        data=b"x" * (limit + 1),
        headers={**bearer(make), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code in (413, 415)
    assert response.status_code != 500


def test_wrong_media_type_is_415(client, make):
    response = client.post(
        "/api/v1/organisations",
        data="name=Klinikum&country=DE&kind=hospital",
        headers={**bearer(make), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_bad_query_parameters_are_422(client):
    response = client.get("/api/v1/organisations?per_page=100000&page=zero")
    assert response.status_code == 422
    assert {"per_page", "page"} <= set(response.json["errors"])
    bad_sort = client.get("/api/v1/organisations?sort=password")
    assert bad_sort.status_code == 422 and "sort" in bad_sort.json["errors"]


def test_duplicate_is_refused_and_nothing_is_written(app, client, make):
    headers = bearer(make)
    assert client.post("/api/v1/organisations", json=GOOD, headers=headers).status_code == 201
    before = organisation_count(app)
    again = client.post(
        "/api/v1/organisations", json={**GOOD, "name": GOOD["name"].upper()}, headers=headers
    )
    assert again.status_code == 422 and "name" in again.json["errors"]
    assert organisation_count(app) == before


def test_failed_user_creation_writes_nothing(app, client, make):
    headers = bearer(make)
    response = client.post(
        "/api/v1/users",
        json={
            "email": "half@example.org",
            "name": "Half Written",
            "roles": [{"role": "researcher"}, {"role": "custodian", "organisation_id": "nope"}],
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert "roles.1.organisation_id" in response.json["errors"]  # names the failing grant
    assert client.get("/api/v1/users?q=half", headers=headers).json["total"] == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "country", "kind", "city", "ror_id", "x"]), json_values
    )
)
def test_no_json_body_causes_a_500(client, make, body):
    headers = bearer(make)
    for path in ("/api/v1/organisations", "/api/v1/users", "/api/v1/committees", "/api/v1/tokens"):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (201, 400, 409, 422), (path, body, response.json)
        if response.status_code != 201:
            assert response.mimetype == "application/problem+json"


def test_a_yes_no_field_takes_true_or_false_never_a_number(client, make):
    """JSON's 0 and 1 are numbers: a boolean field refuses them (marshmallow alone would read
    them as false and true), whichever schema it is in."""
    from core.models import Role

    admin = make.user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {make.token(admin)}"}
    for path, method, body, field in (
        ("/api/v1/committees", "post", {"name": "Numbers DAC", "is_default": 0}, "is_default"),
        (f"/api/v1/users/{admin.id}", "patch", {"is_active": 1}, "is_active"),
    ):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 422, answer.get_json()
        assert field in answer.get_json()["errors"]
    ok = client.post(
        "/api/v1/committees", json={"name": "Booleans DAC", "is_default": False}, headers=headers
    )
    assert ok.status_code == 201 and ok.get_json()["is_default"] is False
