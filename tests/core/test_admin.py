"""Administrators manage organisations, users, roles and committees through the API."""

from __future__ import annotations

import re

import pytest

from core.models import Role


@pytest.fixture
def admin(client, make):
    token = make.token(make.user(Role.ADMIN, name="Ada Admin"))
    return {"Authorization": f"Bearer {token}"}


def test_create_and_update_an_organisation(client, admin):
    created = client.post(
        "/api/v1/organisations",
        json={
            "name": " Hospital Clinic Barcelona ",
            "country": "es",
            "kind": "hospital",
            "ror_id": "https://ror.org/02a2kzf50",
        },
        headers=admin,
    )
    assert created.status_code == 201
    body = created.json
    assert body["name"] == "Hospital Clinic Barcelona"
    assert body["country"] == "ES" and body["ror_id"] == "02a2kzf50"
    changed = client.patch(
        f"/api/v1/organisations/{body['id']}", json={"city": "Barcelona"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json["city"] == "Barcelona"
    assert client.get(f"/api/v1/organisations/{body['id']}").json["city"] == "Barcelona"


def test_bad_ror_id_is_named(client, admin):
    response = client.post(
        "/api/v1/organisations",
        json={"name": "Somewhere", "country": "FR", "kind": "other", "ror_id": "not-a-ror"},
        headers=admin,
    )
    assert response.status_code == 422 and "ror_id" in response.json["errors"]


def test_organisation_list_is_paginated_sorted_and_filtered(client, make):
    for name, country in [("Alpha Registry", "DE"), ("Beta Trials", "FR"), ("Gamma Cohort", "DE")]:
        make.organisation(name=name, country=country)
    page = client.get("/api/v1/organisations?per_page=2&sort=-name").json
    assert page["total"] >= 3 and page["per_page"] == 2 and len(page["items"]) == 2
    names = [o["name"] for o in page["items"]]
    assert names == sorted(names, reverse=True)
    german = client.get("/api/v1/organisations?country=de&per_page=200").json
    assert {o["country"] for o in german["items"]} == {"DE"}
    found = client.get("/api/v1/organisations?q=beta").json
    assert [o["name"] for o in found["items"]] == ["Beta Trials"]
    beyond = client.get("/api/v1/organisations?page=999").json
    assert beyond["items"] == [] and beyond["total"] >= 3


def test_create_user_with_roles_then_log_in(client, admin, make):
    organisation = make.organisation()
    committee = make.committee()
    response = client.post(
        "/api/v1/users",
        json={
            "email": "New.Person@Example.org",
            "name": "New Person",
            "organisation_id": organisation.id,
            "password": "a long enough password",
            "roles": [
                {"role": "custodian", "organisation_id": organisation.id},
                {"role": "dac_chair", "committee_id": committee.id},
            ],
        },
        headers=admin,
    )
    assert response.status_code == 201, response.json
    user = response.json
    assert user["email"] == "new.person@example.org"
    assert {r["role"] for r in user["roles"]} == {"custodian", "dac_chair"}
    assert "password" not in user and "password_hash" not in user
    members = client.get(f"/api/v1/committees/{committee.id}", headers=admin).json["members"]
    assert [m["role"] for m in members] == ["dac_chair"]


def test_email_is_unique_regardless_of_case(client, admin, make):
    make.user(Role.RESEARCHER, email="taken@example.org")
    response = client.post(
        "/api/v1/users", json={"email": "TAKEN@example.org", "name": "Copy"}, headers=admin
    )
    assert response.status_code == 422 and "email" in response.json["errors"]


@pytest.mark.parametrize(
    ("grant", "field"),
    [
        ({"role": "custodian"}, "organisation_id"),
        ({"role": "dac_member"}, "committee_id"),
        ({"role": "researcher", "organisation_id": "x"}, "organisation_id"),
        ({"role": "custodian", "organisation_id": "unknown"}, "organisation_id"),
        ({"role": "emperor"}, "role"),
    ],
)
def test_role_scopes_are_checked(client, admin, make, grant, field):
    user = make.user(Role.RESEARCHER)
    response = client.post(f"/api/v1/users/{user.id}/roles", json=grant, headers=admin)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_grant_and_revoke_a_role(client, admin, make):
    user = make.user(Role.RESEARCHER)
    token = make.token(user)
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/users", headers=mine).status_code == 403
    granted = client.post(f"/api/v1/users/{user.id}/roles", json={"role": "admin"}, headers=admin)
    assert granted.status_code == 201
    assert client.get("/api/v1/users", headers=mine).status_code == 200
    twice = client.post(f"/api/v1/users/{user.id}/roles", json={"role": "admin"}, headers=admin)
    assert twice.status_code == 409
    revoked = client.delete(f"/api/v1/users/{user.id}/roles/{granted.json['id']}", headers=admin)
    assert revoked.status_code == 204
    assert client.get("/api/v1/users", headers=mine).status_code == 403


def test_the_last_administrator_cannot_be_removed(client, make, app):
    from sqlalchemy import delete

    from core.db import get_session
    from core.models import RoleGrant

    admin_user = make.user(Role.ADMIN)
    with app.app_context():  # make this the only administrator
        get_session().execute(
            delete(RoleGrant).where(
                RoleGrant.role == Role.ADMIN, RoleGrant.user_id != admin_user.id
            )
        )
        get_session().commit()
    headers = {"Authorization": f"Bearer {make.token(admin_user)}"}
    grant = next(g for g in admin_user.grants if g.role is Role.ADMIN)
    response = client.delete(f"/api/v1/users/{admin_user.id}/roles/{grant.id}", headers=headers)
    assert response.status_code == 409
    assert "last administrator" in response.json["detail"]


def test_admin_cannot_deactivate_themself(client, make):
    me = make.user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {make.token(me)}"}
    response = client.patch(f"/api/v1/users/{me.id}", json={"is_active": False}, headers=headers)
    assert response.status_code == 409


def test_user_list_filters(client, admin, make):
    make.user(Role.CUSTODIAN, name="Cora Custodian")
    make.user(Role.RESEARCHER, name="Rick Researcher")
    custodians = client.get("/api/v1/users?role=custodian&per_page=200", headers=admin).json
    assert all(any(r["role"] == "custodian" for r in u["roles"]) for u in custodians["items"])
    assert "Cora Custodian" in {u["name"] for u in custodians["items"]}
    found = client.get("/api/v1/users?q=rick", headers=admin).json
    assert [u["name"] for u in found["items"]] == ["Rick Researcher"]


def test_admin_sets_a_password_and_the_user_logs_in_with_it(client, admin, make):
    from tests.conftest import login

    user = make.user(Role.RESEARCHER, password=None)
    assert login(client.application.test_client(), user.email, "anything at all").status_code == 401
    response = client.put(
        f"/api/v1/users/{user.id}/password", json={"password": "given by the admin"}, headers=admin
    )
    assert response.status_code == 204
    assert (
        login(client.application.test_client(), user.email, "given by the admin").status_code == 302
    )


def test_committees(client, admin):
    created = client.post(
        "/api/v1/committees",
        json={"name": "Myeloma DAC", "description": "MM requests"},
        headers=admin,
    )
    assert created.status_code == 201 and created.json["members"] == []
    duplicate = client.post("/api/v1/committees", json={"name": "myeloma dac"}, headers=admin)
    assert duplicate.status_code == 422
    listed = client.get("/api/v1/committees", headers=admin).json
    assert "Myeloma DAC" in {c["name"] for c in listed}


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/organisations" in spec["paths"]
    post = spec["paths"]["/api/v1/organisations"]["post"]
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = schema_ref.rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][name]["required"]) == {"name", "country", "kind"}
    assert "bearer" in spec["components"]["securitySchemes"]


def test_api_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)
    # every script and style from this server (a random nonce may well spell "cdn")
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
