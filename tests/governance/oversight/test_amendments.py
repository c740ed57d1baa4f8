"""Amendments: opening one on an approved request (a new draft request that copies the
original), who may, what is refused; on approval the project's access changes — extended
without a gap, new members and datasets granted, removed members' access ended; running access
is held open while an extension submitted before the end is reviewed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import workflow
from core.db import get_session, utcnow, writing
from core.etags import UNCHECKED
from governance.oversight import services
from governance.requests.models import AccessRequest, Entitlement, EntitlementState
from tests.conftest import shared_world
from tests.governance.oversight.journey import approve_directly, approved
from tests.governance.requests.world import _agreement, build_world

BASE = "/api/v1/access-requests"
TODAY = services.today()


@pytest.fixture(scope="module")
def world(app, reference_engine):
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        with app.app_context(), writing():
            leiden = world.organisations["leiden"]
            _agreement(leiden, "DSA-REQ-MDS", world.datasets["req-closed"], signoff=False)
            request = approved(world, members=[{"email": world.emails["teammate"]}])
            world.request_id = request.id  # type: ignore[attr-defined]
            world.reference = request.reference  # type: ignore[attr-defined]
        yield world


def entitlements_of(request_id: str) -> list[Entitlement]:
    return list(
        get_session().scalars(
            select(Entitlement)
            .where(Entitlement.request_id == request_id)
            .order_by(Entitlement.user_id, Entitlement.dataset_id)
        )
    )


def amend(client, world, body, who="applicant"):
    return client.post(f"{BASE}/{world.request_id}/amendments", json=body, headers=world.auth(who))


def submit(world, amendment_id: str) -> None:
    workflow.apply("access_request", world.actor("applicant"), amendment_id, "submit",
                   if_match=UNCHECKED)  # fmt: skip


def test_an_amendment_is_a_draft_copy_with_the_changes(app, client, world):
    response = amend(client, world, {
        "add_members": [world.emails["outsider"]], "remove_members": [world.emails["teammate"]],
        "add_datasets": ["req-closed"], "extend_months": 6, "justification": "More follow-up.",
    })  # fmt: skip
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["reference"] == f"{world.reference}-A1"
    assert body["state"] == "draft" and body["amends"] == world.request_id
    assert body["amendment"]["extend_months"] == 6
    assert body["summary"] == "adds 1 member, removes 1 member, adds 1 dataset, extends by 6 months"
    with app.app_context():
        amendment = get_session().get(AccessRequest, body["id"])
        original = get_session().get(AccessRequest, world.request_id)
        assert amendment.title == original.title and amendment.purpose == original.purpose
        assert amendment.requested_months == original.requested_months + 6
        emails = {m.email for m in amendment.current_members()}
        assert world.emails["outsider"] in emails and world.emails["teammate"] not in emails
        assert {d.dataset.identifier for d in amendment.datasets} == {
            "req-aml", "req-myeloma", "req-closed"
        }  # fmt: skip
        # nothing changed for the original
        assert world.emails["teammate"] in {m.email for m in original.current_members()}
    listed = client.get(f"{BASE}/{world.request_id}/amendments", headers=world.auth("applicant"))
    assert [a["reference"] for a in listed.get_json()["items"]] == [f"{world.reference}-A1"]
    hidden = client.get(f"{BASE}/{world.request_id}/amendments", headers=world.auth("chair"))
    assert hidden.get_json()["items"] == []  # a draft is the team's own
    again = amend(client, world, {"extend_months": 3, "justification": "More."})
    assert again.status_code == 409 and "-A1" in again.get_json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"justification": "Nothing really."}, "amendment"),
        ({"extend_months": 6}, "justification"),
        ({"extend_months": 61, "justification": "x"}, "extend_months"),
        ({"remove_members": ["researcher-1@example.org"], "justification": "x"}, "remove_members"),
        ({"remove_members": ["nobody@example.org"], "justification": "x"}, "remove_members"),
        ({"add_datasets": ["no-such-dataset"], "justification": "x"}, "add_datasets"),
        ({"add_datasets": ["req-aml"], "justification": "x"}, "add_datasets"),
    ],
)
def test_bad_amendments_are_refused_by_field(client, world, body, field):
    if field == "remove_members" and body["remove_members"][0].startswith("researcher-1"):
        body = {**body, "remove_members": [world.emails["applicant"]]}
    response = amend(client, world, body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("who", "status"), [("teammate", 403), ("outsider", 404), ("anonymous", 401), ("chair", 403)]
)
def test_only_the_applicant_amends(client, world, who, status):
    assert (
        amend(client, world, {"extend_months": 3, "justification": "x"}, who).status_code == status
    )


def test_an_extension_moves_the_end_and_renews_access_that_ended_but_not_revoked_access(
    app, client, world
):
    with app.app_context(), writing():
        session = get_session()
        ours = entitlements_of(world.request_id)
        assert len(ours) == 4  # applicant and teammate, two datasets each
        ended, revoked = ours[0], ours[1]
        ended.state, ended.ended_at = EntitlementState.ENDED, utcnow() + dt.timedelta(days=800)
        revoked.state, revoked.revoked_at = EntitlementState.REVOKED, utcnow()
        session.commit()
        ends = {e.id: e.ends_on for e in ours}
        ended_id, revoked_id = ended.id, revoked.id
    body = amend(client, world, {"extend_months": 6, "justification": "Follow-up."}).get_json()
    with app.app_context(), writing():
        submit(world, body["id"])
        made = approve_directly(world, body["id"])
        for e in entitlements_of(world.request_id):
            if e.id in (ended_id, revoked_id):
                assert e.ends_on == ends[e.id]  # history is not edited
            else:
                old = ends[e.id]
                assert e.ends_on == services._later(old, 6) > old
        assert [(m.user_id, m.dataset_id) for m in made] == [(ended.user_id, ended.dataset_id)]
        assert made[0].starts_on == TODAY and made[0].request_id == body["id"]
        assert made[0].ends_on == services._later(TODAY - dt.timedelta(days=1), 6)


def test_new_members_and_datasets_get_access_and_removed_members_lose_it(app, client, world):
    body = amend(client, world, {
        "add_members": [world.emails["outsider"]], "remove_members": [world.emails["teammate"]],
        "add_datasets": ["req-closed"], "justification": "A statistician joins; MDS data.",
    }).get_json()  # fmt: skip
    with app.app_context(), writing():
        submit(world, body["id"])
        made = approve_directly(world, body["id"])
        original = get_session().get(AccessRequest, world.request_id)
        team = {m.email for m in original.current_members()}
        assert world.emails["outsider"] in team and world.emails["teammate"] not in team
        teammate = [e for e in entitlements_of(world.request_id)
                    if e.user_id == world.people["teammate"]]  # fmt: skip
        assert teammate and all(e.state is EntitlementState.ENDED for e in teammate)
        got = {(e.user_id, e.dataset.identifier) for e in made}
        assert got == {
            (world.people["outsider"], "req-aml"), (world.people["outsider"], "req-myeloma"),
            (world.people["outsider"], "req-closed"), (world.people["applicant"], "req-closed"),
        }  # fmt: skip
        project_end = max(e.ends_on for e in entitlements_of(world.request_id))
        assert all(e.state is EntitlementState.AWAITING_ACCEPTANCE for e in made)
        assert all(e.ends_on == project_end for e in made)
        aml = next(e for e in made if e.dataset.identifier == "req-aml")
        assert aml.variables == ["FLT3_ITD", "NPM1", "KARYOTYPE"]


def test_a_rejected_added_dataset_gives_no_access(app, client, world):
    body = amend(
        client, world, {"add_datasets": ["req-closed"], "justification": "MDS."}
    ).get_json()
    with app.app_context(), writing():
        submit(world, body["id"])
        assert approve_directly(world, body["id"], **{"req-closed": "rejected"}) == []


def test_running_access_is_held_open_while_an_extension_is_reviewed(app, client, world):
    with app.app_context(), writing():
        ours = entitlements_of(world.request_id)
        assert services.held_open(ours) == set()
    body = amend(client, world, {"extend_months": 6, "justification": "Follow-up."}).get_json()
    with app.app_context(), writing():
        assert services.held_open(entitlements_of(world.request_id)) == set()  # a draft: no
        submit(world, body["id"])
        ours = entitlements_of(world.request_id)
        assert services.held_open(ours) == {e.id for e in ours}
        # an extension submitted after an entitlement's end does not hold that one
        late = ours[0]
        late.ends_on = TODAY - dt.timedelta(days=1)
        get_session().commit()
        assert late.id not in services.held_open(entitlements_of(world.request_id))
        workflow.apply("access_request", world.actor("applicant"), body["id"], "withdraw",
                       if_match=UNCHECKED)  # fmt: skip
        assert services.held_open(entitlements_of(world.request_id)) == set()


def test_the_amendment_form_opens_one(app, client, world):
    from tests.conftest import login, post_form

    login(client, world.emails["applicant"])
    path = f"/requests/{world.request_id}/amend"
    page = client.get(path)
    assert page.status_code == 200 and world.emails["teammate"] in page.get_data(as_text=True)
    refused = post_form(client, path, {"justification": ""}, path)
    assert refused.status_code == 422
    assert "Say why the project needs this change." in refused.get_data(as_text=True)
    done = post_form(client, path, {"extend_months": "3", "justification": "Longer."}, path)
    assert done.status_code == 302
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{world.reference}-A1" in html and "extends by 3 months" in html


def test_the_hourly_job_keeps_access_an_extension_under_review_holds_open(app, client, world):
    from governance.entitlements import jobs

    body = amend(client, world, {"extend_months": 6, "justification": "Follow-up."}).get_json()
    with app.app_context(), writing():
        submit(world, body["id"])
        live = [e for e in entitlements_of(world.request_id)
                if e.state in (EntitlementState.ACTIVE, EntitlementState.AWAITING_ACCEPTANCE)]  # fmt: skip
        assert live
        end = max(e.ends_on for e in live)
        report = jobs.end_due(today=end + dt.timedelta(days=1))
        assert set(report.held) == {e.id for e in live} and report.ended == []
        workflow.apply("access_request", world.actor("applicant"), body["id"], "withdraw",
                       if_match=UNCHECKED)  # fmt: skip
        report = jobs.end_due(today=end + dt.timedelta(days=1))
        assert set(report.ended) == {e.id for e in live} and report.held == []


def test_an_approved_amendment_closes_with_its_project(app, client, world):
    from governance.entitlements import services as entitlements

    body = amend(client, world, {"extend_months": 3, "justification": "Follow-up."}).get_json()
    with app.app_context(), writing():
        submit(world, body["id"])
        approve_directly(world, body["id"])
        session = get_session()
        amendment = session.get(AccessRequest, body["id"])
        assert not entitlements.all_ended(amendment)  # its project's access is running
        for e in entitlements_of(world.request_id):
            e.state, e.ended_at = EntitlementState.ENDED, utcnow()
        session.commit()
        assert entitlements.all_ended(amendment)
        assert {world.request_id, body["id"]} <= set(entitlements.requests_to_close())


def test_the_committee_s_approval_of_an_extension_extends_access_without_regranting(
    app, client, world
):
    """Through the real path: sign-offs, votes and the chair's decision on the amendment."""
    from tests.governance.oversight.journey import review

    with app.app_context(), writing():
        before = {e.id: e.ends_on for e in entitlements_of(world.request_id)}
    body = amend(client, world, {"extend_months": 6, "justification": "Follow-up."}).get_json()
    with app.app_context(), writing():
        submit(world, body["id"])
        review(world, body["id"], "approve")
        after = {e.id: e.ends_on for e in entitlements_of(world.request_id)}
        assert after.keys() == before.keys()
        assert all(after[i] > before[i] for i in before if before[i] >= TODAY)
        regranted = (
            get_session()
            .scalars(select(Entitlement).where(Entitlement.request_id == body["id"]))
            .all()
        )
        assert regranted == []  # running access was extended, not granted again


def test_a_new_member_accepts_the_terms_of_every_dataset_of_the_project(app, client, world):
    """New members get access to the project's datasets under the amendment: its terms must
    carry those datasets' obligations, not only the ones the amendment added."""
    from governance.entitlements import services as entitlements

    body = amend(client, world, {
        "add_members": [world.emails["outsider"]], "justification": "A statistician joins.",
    }).get_json()  # fmt: skip
    with app.app_context(), writing():
        submit(world, body["id"])
        made = approve_directly(world, body["id"])
        amendment = get_session().get(AccessRequest, body["id"])
        granted = {e.dataset.identifier for e in made}
        headings = [h for h, _ in entitlements.terms_of(amendment).sections]
        for identifier in granted:
            assert any(f"({identifier})" in h for h in headings), (identifier, headings)
