"""Administrators load ontologies through a page, with the same rules as the CLI and API."""

from __future__ import annotations

import io

from core.models import Role
from tests.conftest import csrf_token, login
from tests.ontologies.conftest import tiny_ttl


def upload(client, data: bytes, filename: str, **fields):
    token = csrf_token(client, "/admin/ontologies")
    return client.post(
        "/admin/ontologies",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def test_admin_uploads_and_sees_the_report(client, make):
    login(client, make.user(Role.ADMIN).email)
    empty = client.get("/admin/ontologies").get_data(as_text=True)
    assert "No ontologies loaded yet" in empty
    response = upload(client, tiny_ttl(), "tiny.ttl", prefix="TINY", format="")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "5 added, 0 changed, 0 made obsolete" in html
    assert "<code>TINY</code>" in html and "Tiny haem" in html
    again = upload(client, tiny_ttl(), "tiny.ttl", prefix="TINY").get_data(as_text=True)
    assert "unchanged" in again


def test_broken_upload_explains_where(client, make):
    login(client, make.user(Role.ADMIN).email)
    response = upload(client, b"@prefix x: <http://x/> .\nx:a x:b", "broken.ttl")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in html and "line 2" in html
    unknown = upload(client, b"x", "terms.docx")
    assert unknown.status_code == 415 and "Cannot tell the format" in unknown.get_data(as_text=True)


def test_bundled_vocabularies_button(client, make):
    login(client, make.user(Role.ADMIN).email)
    token = csrf_token(client, "/admin/ontologies")
    response = client.post("/admin/ontologies/bundled", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get("/admin/ontologies").get_data(as_text=True)
    assert "Bundled vocabularies:" in page


def test_custodians_cannot_load(client, make):
    login(client, make.user(Role.CUSTODIAN).email)
    assert client.get("/admin/ontologies").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/ontologies/bundled", data={"csrf_token": token}).status_code == 403
