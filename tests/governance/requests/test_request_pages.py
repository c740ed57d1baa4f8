"""The application's pages: My requests, starting a request (also from the selection), the
form in Five Safes sections with its Save button and autosave endpoint, errors next to the
fields on submit, the request page with its actions and timeline, and the print view."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core.db import get_session, writing
from governance.requests.models import AccessRequest, RequestState
from tests.conftest import csrf_token, login, post_form, shared_world
from tests.governance.requests.world import RequestWorld, build_world, create_request


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[RequestWorld]:
    with shared_world(app, reference_engine) as make:
        yield build_world(app, make)


def as_user(client, world, who: str = "applicant"):
    login(client, world.emails[who])
    return client


def made(app, world, **overrides) -> str:
    with app.app_context(), writing():
        return create_request(world, **overrides)


def etag_of(app, request_id: str) -> str:
    from governance.requests import services

    with app.app_context():
        return services.etag(get_session().get(AccessRequest, request_id))


def test_my_requests_is_empty_at_first_then_lists_mine(app, client, world):
    as_user(client, world, "teammate")
    page = client.get("/requests").get_data(as_text=True)
    assert "No requests yet" in page
    request_id = made(app, world, applicant="teammate")
    page = client.get("/requests").get_data(as_text=True)
    assert f"/requests/{request_id}" in page and "Draft" in page


def test_start_a_request_and_fill_it_in_with_the_save_button(app, client, world):
    as_user(client, world)
    assert "Five Safes" in client.get("/requests/new").get_data(as_text=True)
    response = post_form(client, "/requests/new", {"dataset": "req-aml"}, page="/requests/new")
    assert response.status_code == 302
    edit = response.headers["Location"]
    request_id = edit.split("/")[-2]
    form = client.get(edit).get_data(as_text=True)
    for heading in ("Safe projects", "Safe people", "Safe settings", "Safe data", "Safe outputs"):
        assert heading in form
    assert 'for="lay_summary"' in form and 'id="lay_summary"' in form
    import html

    revision = html.unescape(re.search(r'name="revision" value="([^"]+)"', form).group(1))
    response = post_form(
        client, edit,
        {"revision": revision, "title": "Risk in AML", "lay_summary": "Plain words.",
         "dataset_ref": "req-aml", "dataset_variables": "NPM1, FLT3_ITD", "action": "save"},
        page=edit,
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        request = get_session().get(AccessRequest, request_id)
        assert request.title == "Risk in AML" and request.lay_summary == "Plain words."
        assert request.datasets[0].variables == ["NPM1", "FLT3_ITD"]


def test_submitting_an_incomplete_form_shows_errors_next_to_the_fields(app, client, world):
    as_user(client, world)
    request_id = made(app, world, title="", lay_summary="")
    edit = f"/requests/{request_id}/edit"
    response = post_form(
        client, edit, {"revision": etag_of(app, request_id), "action": "submit",
                       "title": "", "lay_summary": ""}, page=edit,
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and 'id="lay_summary-error"' in page
    assert 'aria-invalid="true"' in page and "error-summary" in page
    with app.app_context():
        assert get_session().get(AccessRequest, request_id).state is RequestState.DRAFT


def test_save_and_submit_from_the_form(app, client, world):
    as_user(client, world)
    request_id = made(app, world)
    edit = f"/requests/{request_id}/edit"
    form = client.get(edit).get_data(as_text=True)
    data = {"revision": etag_of(app, request_id), "action": "submit"}
    # what the browser sends back: every field as the page shows it
    for name, value in re.findall(
        r'<input id="[^"]+" name="(\w+)" type="text" value="([^"]*)"', form
    ):
        data[name] = value
    response = client.post(
        edit,
        data={**data, "csrf_token": csrf_token(client, edit),
              **_textareas(form),
              "purpose_terms": "DUO:0000007", "purpose_diseases": "NCIT:C3171",
              "purpose_commercial": "no", "requested_months": "24",
              "dataset_ref": ["req-aml", "req-myeloma"],
              "dataset_variables": ["FLT3_ITD, NPM1, KARYOTYPE", ""]},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/requests/{request_id}")
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Submitted" in page and "Awaiting custodian sign-off" in page
    assert "Compatible" in page and "Timeline" in page and "Withdraw request" in page


def _textareas(page: str) -> dict[str, str]:
    import html

    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<textarea id="[^"]+" name="(\w+)"[^>]*>([^<]*)</textarea>', page
        )
        if not name.startswith("dataset")
    }


def test_autosave_saves_the_changed_group_and_answers_the_time(app, client, world):
    as_user(client, world)
    request_id = made(app, world)
    etag = etag_of(app, request_id)
    path = f"/requests/{request_id}/autosave"
    token = csrf_token(client, f"/requests/{request_id}/edit")
    response = client.post(
        path,
        data={"csrf_token": token, "revision": etag, "_groups": "public_benefit",
              "public_benefit": "Better care.", "title": "ignored: not in the groups"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.get_json()
    assert re.fullmatch(r"\d\d:\d\d", body["saved_at"]) and body["etag"] != etag
    with app.app_context():
        request = get_session().get(AccessRequest, request_id)
        assert request.public_benefit == "Better care."
        assert request.title != "ignored: not in the groups"
    stale = client.post(
        path,
        data={"csrf_token": token, "revision": etag, "_groups": "title", "title": "X"},
        headers={"Accept": "application/json"},
    )
    assert stale.status_code == 412


def test_the_request_page_for_others_is_404_and_print_view_has_everything(app, client, world):
    request_id = made(app, world)
    outsider = as_user(app.test_client(), world, "outsider")
    assert outsider.get(f"/requests/{request_id}").status_code == 404
    assert outsider.get(f"/requests/{request_id}/print").status_code == 404
    as_user(client, world)
    page = client.get(f"/requests/{request_id}/print").get_data(as_text=True)
    for text in ("Safe projects", "Safe people", "Safe settings", "Safe data", "Safe outputs",
                 "METC-2026-014", "req-aml", "FLT3_ITD", "Timeline"):  # fmt: skip
        assert text in page, text
    assert "requests.css" in page


def test_the_selection_page_offers_a_request(app, client, world):
    from catalogue.selection import services as selection

    with app.app_context(), writing():
        selection.add_dataset(world.actor("applicant"), "req-myeloma", [])
    as_user(client, world)
    page = client.get("/me/selection").get_data(as_text=True)
    assert "Request access for this selection" in page
    response = post_form(client, "/requests/new", {"from_selection": "1"}, page="/me/selection")
    assert response.status_code == 302
    request_id = response.headers["Location"].split("/")[-2]
    with app.app_context():
        assert get_session().get(AccessRequest, request_id).dataset_ids == [
            world.datasets["req-myeloma"]
        ]


def test_withdraw_button(app, client, world):
    request_id = made(app, world)
    as_user(client, world)
    response = post_form(
        client, f"/requests/{request_id}/withdraw",
        {"revision": etag_of(app, request_id), "reason": "Changed plans."},
        page=f"/requests/{request_id}",
    )  # fmt: skip
    assert response.status_code == 302
    assert "Withdrawn" in client.get(f"/requests/{request_id}").get_data(as_text=True)
