"""The agreement pages: the list per role (and its empty state), an agreement's page in the
full view (signatories, the document with its checksum, the action buttons the workflow
offers, history for administrators) or the public one (obligations, no document), the form
of a draft limited to the organisation's datasets, and the actions posted from the page."""

from __future__ import annotations

import datetime as dt
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
    # the page again, saying what is missing as a list: no alliance signatory
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    summary = text.split('id="error-summary"')[1].split("</div>")[0]
    assert "The agreement was not activated" in summary
    assert "<li><strong>Signatories</strong>:" in summary and "alliance" in summary
    assert "The agreement is not ready" not in text
    _, text = page(client, location)
    assert "Draft" in text


def test_the_empty_list_says_what_to_do(client, world):
    login(client, world.emails["owner"])
    status, text = page(client, "/agreements?status=expired&dataset=agr-bare")
    assert status == 200 and "No agreements" in text and "New agreement" in text


def test_the_permitted_uses_offered_are_the_five_duo_permissions(client, world):
    login(client, world.emails["owner"])
    _, text = page(client, f"/agreements/new?organisation_id={world.organisations['leiden']}")
    offered = [part.split('"')[0] for part in text.split('name="permitted_uses" value="')[1:]]
    assert offered == ["DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"]
    # shown as on the data-use form: the code as a badge, the label, the explanation
    assert '<span class="du-code du-badge du-permission">GRU</span> General research use' in text
    assert "The data may be used for any kind of research" in text
    for absent in ("DUO:0000001", "DUO:0000017", "DUO:0000024", "GAZ:", "MONDO:", "TOPIC:"):
        assert absent not in text


def test_a_modifier_is_not_a_permitted_use(client, world):
    login(client, world.emails["owner"])
    response = post_form(
        client,
        "/agreements/new",
        {
            "organisation_id": world.organisations["leiden"],
            "reference": "DSA-MODIFIER",
            "permitted_uses": "DUO:0000024",
        },
        page="/agreements/new",
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    summary = text.split('id="error-summary"')[1].split("</div>")[0]
    assert '<a href="#permitted_uses">Permitted uses</a>' in summary
    assert "Not a DUO permission: DUO:0000024" in summary


def test_a_failed_save_shows_the_shared_error_summary_focused_by_the_form_script(client, world):
    login(client, world.emails["owner"])
    response = post_form(
        client,
        "/agreements/new",
        {"organisation_id": world.organisations["leiden"], "reference": "not a reference!"},
        page="/agreements/new",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert (
        'class="error-summary" role="alert"' in text and 'tabindex="-1" id="error-summary"' in text
    )
    assert '<a href="#reference">Reference</a>' in text
    assert "dataset-form.js" in text  # the script that moves the focus to the summary
    assert "form-errors" not in text


def test_every_agreement_page_loads_the_catalogue_stylesheet(client, world):
    login(client, world.emails["owner"])
    for path in (
        "/agreements",
        f"/agreements/{world.agreements['aml']}",
        f"/agreements/new?organisation_id={world.organisations['leiden']}",
        f"/agreements/{world.agreements['bare']}/edit",
    ):
        status, text = page(client, path)
        assert status == 200, path
        link = text.split('<link rel="stylesheet" href="')
        stylesheets = [part.split('"')[0] for part in link[1:]]
        catalogue = [href for href in stylesheets if href.endswith("/catalogue.css")]
        assert catalogue, path
        assert client.get(catalogue[0]).status_code == 200


def test_each_status_has_its_own_coloured_badge(client, world):
    """Each status's badge has a colour of catalogue.css (which the pages load), and no two
    statuses look the same."""
    login(client, world.emails["owner"])
    stylesheet = client.get("/catalogue/static/catalogue.css").get_data(as_text=True)
    colours = {}
    for status in ("draft", "active", "expired", "terminated", "superseded"):
        badges = []
        for path in (f"/agreements?status={status}", f"/agreements/{world.agreements[status]}"):
            _, text = page(client, path)
            badge = text.split(f'data-status="{status}">')[0].rsplit("<span ", 1)[1]
            assert text.split(f'data-status="{status}">')[1].startswith(status.capitalize())
            badges.append(badge.split('class="')[1].split('"')[0].split()[-1])
        assert badges[0] == badges[1], status  # the same badge on the list and the page
        assert f".{badges[0]} {{ background:" in stylesheet, (status, badges[0])
        colours[status] = badges[0]
    assert len(set(colours.values())) == 5, colours


def test_dates_read_as_day_month_year(client, world):
    login(client, world.emails["owner"])
    _, text = page(client, f"/agreements/{world.agreements['aml']}")
    expires = services.today() + dt.timedelta(days=365)
    readable = f"{expires.day} {expires.strftime('%B %Y')}"
    assert f'<time datetime="{expires.isoformat()}">{readable}</time>' in text
    _, text = page(client, "/agreements")
    assert f">{readable}</time>" in text


def test_a_file_that_is_not_a_pdf_is_refused_next_to_the_file_field(client, world):
    login(client, world.emails["owner"])
    location = f"/agreements/{world.agreements['bare']}"
    _, text = page(client, location)
    response = client.post(
        f"{location}/document",
        data={
            "csrf_token": csrf_token(client, location),
            "revision": revision_of(text),
            "file": (io.BytesIO(b"not a PDF"), "agreement.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    field = text.split('<label for="file">')[1].split("</div>")[0]
    assert 'aria-invalid="true"' in field
    assert '<p class="field-error" id="file-error">The file is not a PDF' in field
    assert "The agreement is not ready" not in text
    missing = client.post(
        f"{location}/document",
        data={"csrf_token": csrf_token(client, location), "revision": revision_of(text)},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422
    assert (
        "Choose the signed PDF to upload."
        in missing.get_data(as_text=True).split('<label for="file">')[1]
    )


def test_make_an_agreement_from_a_dataset_page_preselects_the_dataset(client, world):
    login(client, world.emails["owner"])
    _, text = page(client, "/datasets/agr-bare")
    link = html.unescape(text.split("Make an agreement")[0].rsplit('href="', 1)[1].split('"')[0])
    assert "datasets=agr-bare" in link
    status, text = page(client, link)
    assert status == 200 and 'name="reference"' in text  # the form itself, not the chooser
    assert 'name="datasets" value="agr-bare" checked>' in text
    assert 'name="datasets" value="agr-aml">' in text  # offered, not chosen
    assert "<select" not in text.split('id="datasets"')[1].split("</fieldset>")[0]


def test_the_form_is_in_card_sections_with_styled_signatory_inputs(client, world):
    login(client, world.emails["owner"])
    _, text = page(client, f"/agreements/{world.agreements['bare']}/edit")
    assert 'class="dataset-form agreement-form"' in text
    for heading in ("Datasets covered", "Permitted uses", "Signatories"):
        assert heading in text
    assert "<fieldset>" not in text  # no browser-default boxes
    assert text.count('<section class="card"') >= 5
    assert 'type="text" name="signatory_name"' in text
    assert 'class="table signatories-table"' in text
