"""Committee settings the review depends on: the quorum and the one default committee."""

from __future__ import annotations

from core.models import Role
from tests.conftest import login, post_form


def test_one_default_committee_and_a_quorum_through_the_api(app, make, client):
    admin = make.user(Role.ADMIN)
    headers = {"Authorization": f"Bearer {make.token(admin)}"}
    first = client.post(
        "/api/v1/committees", json={"name": "First DAC", "is_default": True}, headers=headers
    ).get_json()
    assert first["is_default"] is True and first["quorum"] is None
    second = client.post(
        "/api/v1/committees",
        json={"name": "Second DAC", "is_default": True, "quorum": 3},
        headers=headers,
    ).get_json()
    assert second["is_default"] is True and second["quorum"] == 3
    assert (
        client.get(f"/api/v1/committees/{first['id']}", headers=headers).get_json()["is_default"]
        is False
    )
    changed = client.patch(
        f"/api/v1/committees/{first['id']}", json={"quorum": 2}, headers=headers
    ).get_json()
    assert changed["quorum"] == 2 and changed["is_default"] is False
    bad = client.patch(f"/api/v1/committees/{first['id']}", json={"quorum": 0}, headers=headers)
    assert bad.status_code == 422 and "quorum" in bad.get_json()["errors"]


def test_the_admin_page_sets_quorum_and_default(app, make, client):
    admin = make.user(Role.ADMIN)
    login(client, admin.email)
    answer = post_form(
        client,
        "/admin/committees",
        {"name": "Paediatric DAC", "description": "", "quorum": "2", "is_default": "true"},
        page="/admin/committees",
    )
    assert answer.status_code == 302
    html = client.get("/admin/committees").get_data(as_text=True)
    assert 'Paediatric DAC <span class="badge badge-ok">Default</span>' in html
    assert "Quorum: 2 votes." in html
