"""/api/v1/agreements: who sees what (the full view for the organisation's custodians and
administrators, the public view for everyone else, drafts only to their managers), creating
and changing with ETags, the actions, the versions; the signed document: its type checked by
content, its size limited, its checksum verified on download (a tampered file is refused and
the refusal audited)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from core import audit
from governance.agreements import documents, services
from tests.governance.agreements.conftest import TODAY, complete, pdf

BASE = "/api/v1/agreements"


def auth(world, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else {"Authorization": f"Bearer {world.tokens[role]}"}


def get(client, world, role: str, path: str) -> Any:
    return client.get(path, headers=auth(world, role))


# --- visibility ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "full"),
    [
        ("owner", 200, True),
        ("admin", 200, True),
        ("other_custodian", 200, False),
        ("researcher", 200, False),
        ("anonymous", 401, None),
    ],
)
def test_an_active_agreement_in_the_view_each_role_may_see(app, client, world, role, status, full):
    response = get(client, world, role, f"{BASE}/{world.agreements['aml']}")
    assert response.status_code == status
    if status != 200:
        return
    body = response.get_json()
    assert body["reference"] == "DSA-AML" and body["status"] == "active"
    assert body["datasets"][0]["identifier"] == "agr-aml"
    assert body["obligations"]["publication_review_days"] == 30
    assert any(o["term"] == "DUO:0000029" for o in body["obligations"]["summary"])
    assert body["full"] is full
    assert ("document" in body) is full and ("signatories" in body) is full
    if full:
        with app.app_context():
            sha256 = services.find(world.agreements["aml"]).document_sha256
        assert body["document"]["sha256"] == sha256
        assert {s["side"] for s in body["signatories"]} == {"custodian", "alliance"}


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("other_custodian", 404), ("researcher", 404)],
)
def test_a_draft_is_seen_only_by_its_managers(client, world, role, status):
    assert get(client, world, role, f"{BASE}/{world.agreements['draft']}").status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("other_custodian", 403), ("researcher", 403),
     ("anonymous", 401)],
)  # fmt: skip
def test_only_managers_download_the_document(client, world, role, status):
    response = get(client, world, role, f"{BASE}/{world.agreements['aml']}/document")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/pdf"
        assert response.data == pdf("DSA-AML")


def test_the_list_shows_each_role_what_it_may_see(client, world):
    def references(role: str, query: str = "") -> set[str]:
        response = get(client, world, role, f"{BASE}?per_page=200{query}")
        assert response.status_code == 200
        return {f"{a['reference']}/{a['version']}" for a in response.get_json()["items"]}

    researcher = references("researcher")
    assert "DSA-AML/1" in researcher and "DSA-LYON/1" in researcher
    assert "DSA-WF-DRAFT/1" not in researcher and "DSA-BARE/1" not in researcher
    assert "DSA-WF-SUPERSEDED/1" not in researcher  # superseded versions: all_versions
    assert "DSA-WF-SUPERSEDED/1" in references("researcher", "&all_versions=true")
    owner = references("owner")
    assert "DSA-WF-DRAFT/1" in owner and "DSA-LYON/1" in owner
    assert references("researcher", "&dataset=agr-aml") == {"DSA-AML/1"}
    assert references("admin", "&status=draft") == {"DSA-WF-DRAFT/1", "DSA-BARE/1"}
    lyon = world.organisations["lyon"]
    assert references("admin", f"&organisation={lyon}") == {"DSA-LYON/1"}
    assert get(client, world, "anonymous", BASE).status_code == 401
    assert get(client, world, "admin", f"{BASE}?sort=nonsense").status_code == 422


def test_versions_list_the_old_version_too(client, world):
    response = get(client, world, "researcher", f"{BASE}/{world.agreements['amendment']}/versions")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(i["version"], i["status"]) for i in items] == [(1, "superseded"), (2, "active")]
    old = get(client, world, "researcher", f"{BASE}/{world.agreements['superseded']}")
    assert old.status_code == 200 and old.get_json()["status"] == "superseded"


# --- creating, changing, acting ------------------------------------------------------------


def payload(**overrides: Any) -> dict[str, Any]:
    data = complete(["agr-bare"])
    out = {
        "reference": "DSA-NEW-1",
        "datasets": data["datasets"],
        "effective_on": data["effective_on"].isoformat(),
        "expires_on": data["expires_on"].isoformat(),
        "permitted_uses": data["permitted_uses"],
        "obligations": {"acknowledgement": "Thanks to Leiden.", "publication_review_days": 14},
        "requires_custodian_signoff": True,
        "signatories": data["signatories"],
    }
    return out | overrides


def test_a_custodian_makes_uploads_and_activates_an_agreement(client, world):
    owner = auth(world, "owner")
    created = client.post(BASE, json=payload(), headers=owner)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["counterparty"]
    assert body["requires_custodian_signoff"] is True
    assert created.headers["Location"].endswith(body["id"])
    etag = created.headers["ETag"]
    url = f"{BASE}/{body['id']}"
    # not complete yet: the document is missing
    refused = client.post(f"{url}/activate", headers=owner | {"If-Match": etag})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"document"}
    # the upload needs the ETag
    no_etag = client.post(
        f"{url}/document", data={"file": (io.BytesIO(pdf()), "signed.pdf")}, headers=owner
    )
    assert no_etag.status_code == 428
    uploaded = client.post(
        f"{url}/document",
        data={"file": (io.BytesIO(pdf("new")), "Signed agreement.pdf")},
        headers=owner | {"If-Match": etag},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 200, uploaded.get_json()
    assert uploaded.get_json()["document"]["filename"] == "Signed agreement.pdf"
    stale = client.post(f"{url}/activate", headers=owner | {"If-Match": etag})
    assert stale.status_code == 412
    activated = client.post(
        f"{url}/activate", headers=owner | {"If-Match": uploaded.headers["ETag"]}
    )
    assert activated.status_code == 200 and activated.get_json()["status"] == "active"
    assert "amend" in activated.get_json()["actions"]
    patched = client.patch(
        url, json={"title": "x"}, headers=owner | {"If-Match": activated.headers["ETag"]}
    )
    assert patched.status_code == 409  # an active agreement changes by amendment
    amended = client.post(f"{url}/amend", headers=owner | {"If-Match": activated.headers["ETag"]})
    assert amended.status_code == 201 and amended.get_json()["version"] == 2


def test_what_is_refused_when_creating(client, world):
    owner = auth(world, "owner")
    assert client.post(BASE, json=payload(), headers=auth(world, "researcher")).status_code == 403
    assert client.post(BASE, json=payload()).status_code == 401
    wrong = client.post(BASE, json=payload(datasets=["agr-lyon"]), headers=owner)
    assert wrong.status_code == 422 and "datasets" in wrong.get_json()["errors"]
    wrong = client.post(BASE, json=payload(permitted_uses=["DUO:0000000"]), headers=owner)
    assert wrong.status_code == 422 and "permitted_uses" in wrong.get_json()["errors"]
    wrong = client.post(BASE, json=payload(reference="DSA-AML"), headers=owner)
    assert wrong.status_code == 422 and "reference" in wrong.get_json()["errors"]
    wrong = client.post(
        BASE, json=payload(organisation_id=world.organisations["lyon"]), headers=owner
    )
    assert wrong.status_code == 422 and "organisation_id" in wrong.get_json()["errors"]
    dates = payload(expires_on=(TODAY - dt.timedelta(days=100)).isoformat())
    wrong = client.post(BASE, json=dates, headers=owner)
    assert wrong.status_code == 422 and "expires_on" in wrong.get_json()["errors"]


def test_patch_needs_the_current_etag(client, world):
    owner = auth(world, "owner")
    url = f"{BASE}/{world.agreements['draft']}"
    current = get(client, world, "owner", url)
    assert client.patch(url, json={"title": "A"}, headers=owner).status_code == 428
    changed = client.patch(
        url, json={"title": "A"}, headers=owner | {"If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.get_json()["title"] == "A"
    stale = client.patch(
        url, json={"title": "B"}, headers=owner | {"If-Match": current.headers["ETag"]}
    )
    assert stale.status_code == 412


def test_terminate_needs_a_reason(client, world):
    owner = auth(world, "owner")
    url = f"{BASE}/{world.agreements['aml']}"
    etag = get(client, world, "owner", url).headers["ETag"]
    assert (
        client.post(f"{url}/terminate", json={}, headers=owner | {"If-Match": etag}).status_code
        == 422
    )
    done = client.post(
        f"{url}/terminate",
        json={"reason": "Consent withdrawn."},
        headers=owner | {"If-Match": etag},
    )
    assert done.status_code == 200
    assert done.get_json()["status"] == "terminated"
    assert done.get_json()["termination_reason"] == "Consent withdrawn."


# --- the document ----------------------------------------------------------------------------


def upload(client, world, content: bytes, name: str = "agreement.pdf") -> Any:
    url = f"{BASE}/{world.agreements['draft']}"
    etag = get(client, world, "owner", url).headers["ETag"]
    return client.post(
        f"{url}/document",
        data={"file": (io.BytesIO(content), name)},
        headers=auth(world, "owner") | {"If-Match": etag},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "content",
    [
        b"Dear custodian, this is a letter, not a PDF.",
        b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n(cut off here",  # no %%EOF
        b"",
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_whatever_its_name(app, client, world, content):
    response = upload(client, world, content, "contract.pdf")
    assert response.status_code == 422
    assert "document" in response.get_json()["errors"]
    with app.app_context():
        assert services.find(world.agreements["draft"]).document_filename == "DSA-WF-DRAFT.pdf"


def test_a_file_over_the_limit_is_refused(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "AGREEMENT_DOCUMENT_MAX_BYTES", 1024)
    response = upload(client, world, pdf("x" * 2000))
    assert response.status_code == 413
    assert "limit" in response.get_json()["detail"]


def test_a_document_is_stored_outside_the_database_by_its_checksum(app, client, world):
    response = upload(client, world, pdf("stored"))
    assert response.status_code == 200
    document = response.get_json()["document"]
    stored = list(world.documents.rglob(f"{document['sha256']}.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == pdf("stored")
    assert document["size"] == len(pdf("stored"))


def test_a_tampered_document_is_refused_and_the_refusal_audited(app, client, world):
    with app.app_context():
        agreement = services.find(world.agreements["lyon"])
        path = documents.path_of(agreement.document_sha256)
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b"DSA-LYON", b"DSA-LY0N"))
        response = get(client, world, "admin", f"{BASE}/{agreement.id}/document")
        assert response.status_code == 409
        assert "does not match its recorded checksum" in response.get_json()["detail"]
        with app.app_context():
            last = audit.events_for("agreement", agreement.id)[0]
        assert last.action == "agreement.document_refused"
    finally:
        path.write_bytes(original)
    assert get(client, world, "admin", f"{BASE}/{agreement.id}/document").status_code == 200
