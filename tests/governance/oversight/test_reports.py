"""Reports and publications on an approved request: who may file them, what they fulfil,
overdue ones, the audit trail and the chair's notification; the request page's section."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_session, writing
from core.notifications import Notification
from governance.oversight import services
from governance.requests.models import RequestReport
from tests.conftest import login, post_form, shared_world
from tests.governance.oversight.journey import approved, require_report
from tests.governance.requests.world import build_world, create_request

TODAY = services.today()
BASE = "/api/v1/access-requests"


@pytest.fixture(scope="module")
def world(app, reference_engine):
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        with app.app_context(), writing():
            request = approved(world, members=[{"email": world.emails["teammate"]}])
            world.request_id = request.id  # type: ignore[attr-defined]
            world.draft_id = create_request(world)  # type: ignore[attr-defined]
            world.late_id = require_report(request.id, "progress", TODAY - dt.timedelta(days=3))  # type: ignore[attr-defined]
            world.later_id = require_report(request.id, "progress", TODAY + dt.timedelta(days=90))  # type: ignore[attr-defined]
        yield world


def post(client, world, who, path, body):
    return client.post(path, json=body, headers=world.auth(who))


PROGRESS = {"kind": "progress", "title": "Year one", "text": "Cohort assembled; 812 patients."}


def test_a_progress_report_fulfils_the_earliest_required_one_and_is_no_longer_overdue(
    app, client, world
):
    listed = client.get(f"{BASE}/{world.request_id}/reports", headers=world.auth("teammate"))
    assert listed.status_code == 200
    before = listed.get_json()
    assert before["overdue"] == 1
    assert [i["overdue"] for i in before["items"]] == [True, False]

    response = post(client, world, "teammate", f"{BASE}/{world.request_id}/reports", PROGRESS)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == world.late_id
    assert body["due_on"] == (TODAY - dt.timedelta(days=3)).isoformat()
    assert body["overdue"] is False and body["submitted_at"]

    after = client.get(f"{BASE}/{world.request_id}/reports", headers=world.auth("chair")).get_json()
    assert after["overdue"] == 0
    assert [i["id"] for i in after["items"]] == [world.later_id, world.late_id]
    with app.app_context():
        event = (
            get_session()
            .scalars(
                select(AuditEvent).where(AuditEvent.action == "access_request.report_submitted")
            )
            .one()
        )
        assert event.object_id == world.request_id and event.context["late"] is True
        notes = (
            get_session()
            .scalars(
                select(Notification).where(Notification.kind == "access_request.report_submitted")
            )
            .all()
        )
        assert [n.user_id for n in notes] == [world.people["chair"]]


def test_a_publication_without_a_required_one_is_a_new_row_and_needs_a_doi_or_url(
    app, client, world
):
    path = f"{BASE}/{world.request_id}/reports"
    missing = post(client, world, "applicant", path, {"kind": "publication", "title": "FLT3 paper"})
    assert missing.status_code == 422
    assert "doi" in missing.get_json()["errors"]
    bad = post(client, world, "applicant", path,
               {"kind": "publication", "title": "FLT3 paper", "doi": "not-a-doi"})  # fmt: skip
    assert bad.status_code == 422 and "doi" in bad.get_json()["errors"]
    good = post(client, world, "applicant", path,
                {"kind": "publication", "title": "FLT3 paper", "doi": "https://doi.org/10.1182/blood.2026.1"})  # fmt: skip
    assert good.status_code == 201
    assert good.get_json()["doi"] == "10.1182/blood.2026.1"
    assert good.get_json()["due_on"] is None
    with app.app_context():
        assert get_session().scalar(
            select(RequestReport.id).where(
                RequestReport.id == world.later_id, RequestReport.submitted_at.is_(None)
            )
        )


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("member_2", 403), ("aml_custodian", 403), ("anonymous", 401)],
)
def test_only_the_team_files_reports(client, world, who, status):
    response = post(client, world, who, f"{BASE}/{world.request_id}/reports", PROGRESS)
    assert response.status_code == status


def test_a_draft_takes_no_report(client, world):
    response = post(client, world, "applicant", f"{BASE}/{world.draft_id}/reports", PROGRESS)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "progress", "title": "", "text": "x"}, "title"),
        ({"kind": "progress", "title": "Year one"}, "text"),
        ({"kind": "memo", "title": "x", "text": "x"}, "kind"),
        ({"kind": "publication", "title": "x", "url": "ftp://x"}, "url"),
    ],
)
def test_bad_reports_are_refused_by_field(client, world, body, field):
    response = post(client, world, "applicant", f"{BASE}/{world.request_id}/reports", body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_the_section_lists_reports_and_the_form_files_one(client, world):
    login(client, world.emails["applicant"])
    page = client.get(f"/requests/{world.request_id}/reports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 required report is overdue" in html
    assert 'name="kind"' in html and "Propose an amendment" in html
    path = f"/requests/{world.request_id}/reports"
    refused = post_form(client, path, {"kind": "final", "title": "Final", "text": ""}, path)
    assert refused.status_code == 422
    assert "Write the report" in refused.get_data(as_text=True)
    done = post_form(client, path, {"kind": "final", "title": "Final", "text": "All done."}, path)
    assert done.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "Final report" in html and "Final</td>" in html


def test_the_section_offers_no_form_to_the_committee(client, world):
    login(client, world.emails["chair"])
    html = client.get(f"/requests/{world.request_id}/reports").get_data(as_text=True)
    assert "Reports and publications" in html and "Overdue" in html  # the section, no forms
    assert 'name="kind"' not in html and "Propose an amendment" not in html
