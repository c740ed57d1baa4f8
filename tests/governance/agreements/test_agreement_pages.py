"""The agreement pages: the list per role (and its empty state), an agreement's page in the
full view (signatories, the document with its checksum, the action buttons the workflow
offers, history for administrators) or the public one (obligations, no document), the form
of a draft limited to the organisation's datasets, and the actions posted from the page."""

from __future__ import annotations

import html
import io

from governance.agreements import services
from tests.conftest import csrf_token, login, post_form
from tests.governance.agreements.conftest import pdf


def revision_of(text: str) -> str:
    """The ETag the page's action forms send."""
    return html.unescape(text.split('name="revision" value="')[1].split('"')[0])


def page(client, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_anonymous_visitors_are_asked_to_log_in(client, world):
    for path in ("/agreements", f"/agreements/{world.agreements['aml']}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_researcher_sees_obligations_not_the_document(client, world):
    login(client, world.emails["researcher"])
    status, text = page(client, "/agreements")
    assert status == 200 and "DSA-AML" in text and "DSA-WF-DRAFT" not in text
    status, text = page(client, f"/agreements/{world.agreements['aml']}")
    assert status == 200
    assert "Send manuscripts to the custodian 30 days" in text
    assert "Signed document" not in text and "Signatories" not in text
    assert "Activate" not in text and "Amend" not in text
    assert client.get(f"/agreements/{world.agreements['draft']}").status_code == 404
    assert client.get(f"/agreements/{world.agreements['aml']}/document").status_code == 403


def test_the_custodian_sees_everything_and_the_actions_offered(app, client, world):
    login(client, world.emails["owner"])
    with app.app_context():
        sha256 = services.find(world.agreements["aml"]).document_sha256
    status, text = page(client, f"/agreements/{world.agreements['aml']}")
    assert status == 200
    assert sha256 in text and "Dr A. Custodian" in text
    assert "Amend (new version)" in text and "Terminate agreement" in text
    assert "Activate agreement</button>" not in text and "Expire</button>" not in text
    assert "History" not in text  # administrators only
    status, text = page(client, f"/agreements/{world.agreements['bare']}")
    assert "Before it can be activated" in text and "Upload the signed agreement (PDF)" in text


def test_administrators_see_the_history(client, world):
    login(client, world.emails["admin"])
    status, text = page(client, f"/agreements/{world.agreements['aml']}")
    assert status == 200 and "History" in text and "Activated version 1 of DSA-AML" in text


def test_the_form_offers_only_the_organisations_datasets(client, world):
    login(client, world.emails["owner"])
    status, text = page(client, "/agreements/new")
    assert status == 200
    assert "agr-aml" in text and "agr-lyon" not in text
    assert "DUO:0000042" in text


def test_a_draft_made_with_the_form_then_activated_from_its_page(client, world):
    login(client, world.emails["owner"])
    response = post_form(
        client,
        "/agreements/new",
        {
            "organisation_id": world.organisations["leiden"],
            "reference": "DSA-FORM-1",
            "datasets": "agr-bare",
            "effective_on": "2020-01-01",
            "expires_on": "2099-12-31",
            "permitted_uses": "DUO:0000042",
            "acknowledgement": "Thanks.",
            "signatory_name": "Ann Custodian",
            "signatory_role": "Director",
            "signatory_side": "custodian",
            "signatory_signed_on": "2020-01-01",
        },
        page="/agreements/new",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    _, text = page(client, location)
    assert "Before it can be activated" in text and "Signed document" in text
    token = csrf_token(client, location)
    etag = revision_of(text)
    uploaded = client.post(
        f"{location}/document",
        data={"csrf_token": token, "revision": etag, "file": (io.BytesIO(pdf()), "s.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    _, text = page(client, location)
    assert "s.pdf" in text
    etag = revision_of(text)
    refused = client.post(
        f"{location}/activate", data={"csrf_token": csrf_token(client, location), "revision": etag}
    )
    assert refused.status_code == 302  # back with the message: no alliance signatory
    _, text = page(client, location)
    assert "alliance" in text and "Draft" in text


def test_the_empty_list_says_what_to_do(client, world):
    login(client, world.emails["owner"])
    status, text = page(client, "/agreements?status=expired&dataset=agr-bare")
    assert status == 200 and "No agreements" in text and "New agreement" in text
