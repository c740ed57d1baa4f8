"""The HTML side: what each person sees, and the administration forms."""

from __future__ import annotations

import re

from core.models import Role
from tests.conftest import login, post_form


def nav_links(html: str) -> set[str]:
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    return set(re.findall(r">([^<>]+)</a>", nav))


def test_home_tells_a_newcomer_what_is_here(client, make):
    make.organisation(name="Visible Partner")
    html = client.get("/").get_data(as_text=True)
    summary = client.get("/api/v1/summary").json
    organisations = "partner organisation" + ("" if summary["organisations"] == 1 else "s")
    assert f">{organisations}<" in html and "published dataset" in html
    assert "patients covered" in html or "patient covered" in html
    assert "Researcher" in html and "Data custodian" in html and "Administrator" in html
    assert summary["organisations"] >= 1
    assert f">{summary['organisations']:,}<" in html


def test_navigation_shows_each_role_its_entries(app, make):
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert "Users" not in nav_links(anonymous)
    assert "Log in" in anonymous
    researcher = app.test_client()
    login(researcher, make.user(Role.RESEARCHER).email)
    assert "Users" not in nav_links(researcher.get("/").get_data(as_text=True))
    admin = app.test_client()
    login(admin, make.user(Role.ADMIN, name="Ada Admin").email)
    html = admin.get("/").get_data(as_text=True)
    assert {"Organisations", "Users", "Committees"} <= nav_links(html)
    assert "Ada Admin" in html and "badge-admin" in html


def test_pages_are_accessible_landmarks(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<main id="content"' in html and 'href="#content"' in html
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'lang="en"' in html


def test_admin_registers_an_organisation_through_the_page(client, make):
    login(client, make.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/admin/organisations",
        {"name": "Hôpital Saint-Louis", "country": "fr", "kind": "hospital", "city": "Paris"},
        "/admin/organisations",
    )
    assert response.status_code == 302
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hôpital Saint-Louis" in listing and "is registered" in listing


def test_organisation_form_errors_are_shown_next_to_fields(client, make):
    login(client, make.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/admin/organisations",
        {"name": "X", "country": "XX", "kind": ""},
        "/admin/organisations",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="country-error"' in html and "ISO 3166-1" in html
    assert 'id="name-error"' in html
    assert 'value="XX"' in html  # what was typed is kept


def test_admin_creates_a_user_with_a_role_through_the_page(client, make):
    organisation = make.organisation(name="Lymphoma Study Group")
    login(client, make.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "page.user@example.org",
            "name": "Page User",
            "organisation_id": organisation.id,
            "password": "page user password",
            "role": "custodian",
            "role_organisation_id": organisation.id,
            "role_committee_id": "",
        },
        "/admin/users",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Page User" in page and "badge-custodian" in page and "Lymphoma Study Group" in page


def test_admin_deactivates_a_user_through_the_page(client, make, app):
    user = make.user(Role.RESEARCHER)
    login(client, make.user(Role.ADMIN).email)
    response = post_form(
        client,
        f"/admin/users/{user.id}",
        {"email": user.email, "name": user.name},
        f"/admin/users/{user.id}",
    )
    assert response.status_code == 302
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "deactivated" in page
    assert login(app.test_client(), user.email).status_code == 401


def test_admin_grants_and_revokes_on_the_user_page(client, make):
    committee = make.committee(name="CLL Committee")
    user = make.user(Role.RESEARCHER)
    login(client, make.user(Role.ADMIN).email)
    page_url = f"/admin/users/{user.id}"
    post_form(
        client, f"{page_url}/roles", {"role": "dac_member", "committee_id": committee.id}, page_url
    )
    html = client.get(page_url).get_data(as_text=True)
    assert "badge-dac_member" in html and "CLL Committee" in html
    grant_id = re.search(
        r'/roles/([0-9a-f]{32})/revoke" class="inline"[^>]*>\s*<input[^>]*>'
        r'<button[^>]*aria-label="Revoke DAC member"',
        html,
    )
    assert grant_id
    post_form(client, f"{page_url}/roles/{grant_id.group(1)}/revoke", {}, page_url)
    assert "badge-dac_member" not in client.get(page_url).get_data(as_text=True)


def test_incomplete_role_grant_is_explained(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, make.user(Role.ADMIN).email)
    page_url = f"/admin/users/{user.id}"
    response = post_form(client, f"{page_url}/roles", {"role": "custodian"}, page_url)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A custodian role names its organisation." in html


def test_account_page_password_change_and_sessions(client, make):
    user = make.user(Role.RESEARCHER)
    login(client, user.email)
    page = client.get("/account").get_data(as_text=True)
    assert "this browser" in page and "Log out everywhere else" in page
    weak = post_form(
        client,
        "/account/password",
        {"current_password": "correct horse battery staple", "new_password": "abc"},
        "/account",
    )
    assert weak.status_code == 422 and "12 characters" in weak.get_data(as_text=True)


def test_forbidden_page_explains_itself(client, make):
    login(client, make.user(Role.RESEARCHER).email)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_failed_account_creation_leaves_no_trace_on_the_page(client, make):
    login(client, make.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "phantom@example.org",
            "name": "Phantom Person",
            "role": "dac_member",
            "role_committee_id": "",
        },
        "/admin/users",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count("A committee role names its committee.") == 1
    assert 'id="role_committee_id-error"' in html
    assert "phantom@example.org</td>" not in html  # the list does not show the unsaved user
    assert 'value="phantom@example.org"' in html  # but the form keeps what was typed
