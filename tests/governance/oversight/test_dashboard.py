"""The committee dashboard: requests per state, median days per stage from the audit trail,
agreement of the decisions with the automatic check and the overrides, overdue reports; each
committee sees its own, administrators all; clear empty states."""

from __future__ import annotations

import datetime as dt

import pytest

from core import workflow
from core.db import get_session, writing
from core.etags import UNCHECKED
from core.models import Role
from governance.oversight import services
from governance.requests.models import AccessRequest, Decision
from tests.conftest import login, shared_world
from tests.governance.oversight.journey import approved, require_report, review
from tests.governance.requests.world import build_world, create_request, submit_request

TODAY = services.today()
URL = "/api/v1/review/dashboard"


@pytest.fixture(scope="module")
def world(app, reference_engine):
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        other = make.committee(name="Paediatric committee")
        world.people["other_chair"] = make.user(Role.DAC_CHAIR, committee=other).id
        world.tokens["other_chair"] = make.token(get_user(app, world.people["other_chair"]))
        with app.app_context(), writing():
            ok = approved(world)
            rejected = review(world, submit_request(world), "reject")
            returned = review(world, submit_request(world), "return")
            submit_request(world)  # waits for review
            withdrawn = submit_request(world)
            workflow.apply("access_request", world.actor("applicant"), withdrawn, "withdraw",
                           if_match=UNCHECKED)  # fmt: skip
            create_request(world)  # a draft: not counted
            session = get_session()
            # what the check said, set for the test: AML incompatible and approved by override
            for item in session.get(AccessRequest, ok.id).datasets:
                item.check_outcome = (
                    "incompatible" if item.dataset.identifier == "req-aml" else "compatible"
                )
            decision = session.query(Decision).filter_by(request_id=ok.id).one()
            decision.overrides = {world.datasets["req-aml"]: "The IRB approved this use."}
            for item in session.get(AccessRequest, rejected.id).datasets:
                item.check_outcome = "incompatible"
            session.commit()
            require_report(ok.id, "progress", TODAY - dt.timedelta(days=10))
            require_report(ok.id, "final", TODAY + dt.timedelta(days=10))
            world.ok = ok  # type: ignore[attr-defined]
            world.returned = returned  # type: ignore[attr-defined]
        yield world


def get_user(app, user_id):
    from core.models import User

    with app.app_context():
        return get_session().get(User, user_id)


def test_the_committee_sees_its_requests_per_state_and_the_stages(client, world):
    body = client.get(URL, headers=world.auth("member_2")).get_json()
    counts = {s["state"]: s["count"] for s in body["states"]}
    assert counts == {"submitted": 1, "under_review": 0, "returned": 1, "approved": 1,
                      "rejected": 1, "withdrawn": 1, "closed": 0}  # fmt: skip
    assert body["total"] == 5 and body["committees"] == ["HARMONY Data Access Committee"]
    stages = {s["key"]: s for s in body["stages"]}
    assert stages["round"]["count"] == 3  # approve, reject, return
    assert stages["waiting"]["count"] == 3 and stages["review"]["count"] == 3
    assert stages["overall"]["count"] == 2  # the final decisions
    assert stages["applicant"]["count"] == 0 and stages["applicant"]["median_days"] is None
    assert 0 <= stages["round"]["median_days"] < 1


def test_agreement_with_the_check_and_the_overrides(client, world):
    body = client.get(URL, headers=world.auth("chair")).get_json()
    rows = {(r["check"], r["decision"]): (r["kind"], r["count"]) for r in body["agreement"]}
    assert rows == {
        ("compatible", "approved"): ("agreed", 1),
        ("incompatible", "rejected"): ("agreed", 2),
        ("incompatible", "approved"): ("override", 1),
    }
    assert body["decided_datasets"] == 4 and body["agreement_rate"] == 0.75
    assert [(o["reference"], o["dataset"]) for o in body["overrides"]] == [
        (world.ok.reference, "req-aml")
    ]


def test_overdue_reports_only(client, world):
    body = client.get(URL, headers=world.auth("admin")).get_json()
    assert [(o["reference"], o["kind"], o["days_overdue"]) for o in body["overdue"]] == [
        (world.ok.reference, "progress", 10)
    ]
    assert body["all_committees"] is True and body["total"] == 5


def test_another_committee_sees_none_of_them(client, world):
    body = client.get(URL, headers=world.auth("other_chair")).get_json()
    assert body["total"] == 0 and body["overdue"] == [] and body["agreement"] == []


@pytest.mark.parametrize(("who", "status"), [("applicant", 403), ("anonymous", 401)])
def test_only_committees_and_administrators(client, world, who, status):
    assert client.get(URL, headers=world.auth(who)).status_code == status
    if who == "applicant":
        login(client, world.emails[who])
        assert client.get("/review/dashboard").status_code == 403


def test_the_page_draws_the_charts_and_the_tables(client, world):
    login(client, world.emails["chair"])
    html = client.get("/review/dashboard").get_data(as_text=True)
    assert html.count('role="img"') == 3 and '<script src="http' not in html
    assert 'data-state="approved"><th scope="row">Approved</th><td class="num">1<' in html
    assert "The IRB approved this use." in html and "75%" in html
    svg = client.get("/review/dashboard/charts/stages.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_an_empty_committee_gets_an_empty_state(client, world):
    client.get("/logout")
    html = client.get("/review/dashboard", headers=world.auth("other_chair")).get_data(as_text=True)
    assert "No request has reached your committee yet" in html
    assert "No required report is overdue." in html
