"""The committee's review through the API: sign-offs and declines, votes and their changes,
recusals, the quorum, the decision's rules and its effects (dataset states, reports,
notifications), and the 403/404/409/422 a user meets."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_session, writing
from core.models import DataAccessCommittee, Role
from core.notifications import Notification
from governance.requests.models import (
    AccessRequest,
    Decision,
    Recusal,
    RequestDataset,
    RequestReport,
    Vote,
)
from governance.review import services
from tests.governance.requests.world import RequestWorld
from tests.governance.review.conftest import Api, load

FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def _events(app: Flask, request_id: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            get_session().scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.object_type == "access_request", AuditEvent.object_id == request_id
                )
                .order_by(AuditEvent.seq)
            )
        )


def _notifications(app: Flask, user_id: str, kind: str) -> list[Notification]:
    with app.app_context():
        return list(
            get_session().scalars(
                select(Notification).where(
                    Notification.user_id == user_id, Notification.kind == kind
                )
            )
        )


def _set_check(app: Flask, request_id: str, dataset: str, outcome: str) -> None:
    with app.app_context(), writing():
        session = get_session()
        for item in session.scalars(
            select(RequestDataset).where(RequestDataset.request_id == request_id)
        ):
            if item.dataset.identifier == dataset:
                item.check_outcome = outcome
        session.commit()


def _to_quorum(api: Api, request_id: str) -> None:
    for who in ("member_2", "member_3"):
        answer = api.vote(who, request_id)
        assert answer.status_code in (200, 201), answer.get_json()


# --- recusals and votes ---------------------------------------------------------------------


def test_submission_recuses_the_member_from_the_applicants_organisation(app, world, submitted, api):
    body = api.get("chair", f"{submitted}/review").get_json()
    assert [(r["member"]["id"], r["ground"]) for r in body["recusals"]] == [
        (world.people["member_1"], "applicant_organisation")
    ]
    assert body["tally"] | {} == body["tally"] and body["tally"]["eligible"] == 3
    assert body["tally"]["quorum"] == 2 and body["tally"]["reached"] is False
    assert any(e.action == "access_request.recusal" for e in _events(app, submitted))


def test_the_first_vote_starts_the_review_and_is_audited(app, world, submitted, api):
    answer = api.vote("member_2", submitted, "approve", "Sound design.")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["choice"] == "approve"
    assert load(app, submitted).state.value == "under_review"
    actions = [e.action for e in _events(app, submitted)]
    assert actions.index("access_request.review_started") < actions.index("access_request.vote")


def test_a_second_vote_replaces_the_first_and_the_change_is_recorded(app, world, submitted, api):
    api.vote("member_2", submitted, "approve")
    answer = api.vote("member_2", submitted, "reject", "The ethics approval has expired.")
    assert answer.status_code == 200
    with app.app_context():
        votes = list(get_session().scalars(select(Vote).where(Vote.request_id == submitted)))
    assert [(v.choice.value, v.comment) for v in votes] == [
        ("reject", "The ethics approval has expired.")
    ]
    changed = [e for e in _events(app, submitted) if e.action == "access_request.vote_changed"]
    assert len(changed) == 1
    assert changed[0].before["choice"] == "approve" and changed[0].after["choice"] == "reject"
    tally = api.get("chair", f"{submitted}/review").get_json()["tally"]
    assert (tally["approve"], tally["reject"], tally["votes"]) == (0, 1, 1)


def test_a_recused_member_cannot_vote(app, world, submitted, api):
    answer = api.vote("member_1", submitted)
    assert answer.status_code == 403
    assert "recused" in answer.get_json()["detail"]
    with app.app_context():
        assert get_session().scalar(select(Vote).where(Vote.request_id == submitted)) is None
    assert load(app, submitted).state.value == "submitted"


def test_a_member_from_a_custodian_organisation_is_blocked_and_the_recusal_recorded(
    app, world, make, submitted, api
):
    with app.app_context():
        committee = get_session().get(DataAccessCommittee, world.committee)
        from core.models import Organisation

        leiden = get_session().get(Organisation, world.organisations["leiden"])
    late = make.user(Role.DAC_MEMBER, committee=committee, organisation=leiden, name="Lea Leiden")
    token = make.token(late)
    answer = api.client.post(
        f"/api/v1/access-requests/{submitted}/votes",
        json={"choice": "approve"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403
    assert "Leiden AML trials" in answer.get_json()["detail"]
    with app.app_context():
        recusal = get_session().scalar(
            select(Recusal).where(Recusal.request_id == submitted, Recusal.member_id == late.id)
        )
        assert recusal is not None and recusal.ground == "custodian_organisation"


def test_only_committee_members_vote_and_only_what_they_may_see(app, world, submitted, api):
    assert api.vote("outsider", submitted).status_code == 404
    assert api.vote("aml_custodian", submitted).status_code == 403
    assert api.vote("anonymous", submitted).status_code == 401
    bad = api.post("member_2", f"{submitted}/votes", {"choice": "maybe"})
    assert bad.status_code == 422 and "choice" in bad.get_json()["errors"]


def test_a_declared_recusal_withdraws_the_members_vote(app, world, submitted, api):
    api.vote("member_2", submitted)
    answer = api.post("member_2", f"{submitted}/recusals", {"reason": "I co-authored with them."})
    assert answer.status_code == 201 and answer.get_json()["ground"] == "declared"
    tally = api.get("chair", f"{submitted}/review").get_json()["tally"]
    assert (tally["votes"], tally["eligible"], tally["quorum"]) == (0, 2, 2)
    assert api.vote("member_2", submitted).status_code == 403
    assert api.post("member_2", f"{submitted}/recusals", {"reason": "again"}).status_code == 409


# --- the quorum -----------------------------------------------------------------------------


def test_quorum_is_a_majority_of_non_recused_members_or_the_committees_own(
    app, world, submitted, api
):
    api.vote("member_2", submitted)
    with app.app_context():
        request = get_session().get(AccessRequest, submitted)
        assert services.tally(request) | {} == {
            "approve": 1, "reject": 0, "abstain": 0, "votes": 1, "eligible": 3, "recused": 1,
            "quorum": 2,
        }  # fmt: skip
        assert not services.quorum_reached(request)
    api.vote("chair", submitted, "abstain")
    with app.app_context(), writing():
        session = get_session()
        request = session.get(AccessRequest, submitted)
        assert services.quorum_reached(request)  # abstentions count towards the quorum
        session.get(DataAccessCommittee, world.committee).quorum = 3
        session.flush()
        assert services.tally(request)["quorum"] == 3 and not services.quorum_reached(request)
        session.rollback()


# --- sign-offs ------------------------------------------------------------------------------


def test_a_custodian_signs_off_their_dataset_once(app, world, submitted, api):
    assert api.sign(submitted, "req-myeloma").status_code == 409  # needs no sign-off
    wrong = api.post(
        "myeloma_custodian", f"{submitted}/signoffs", {"dataset": "req-aml", "approve": True}
    )
    assert wrong.status_code == 403
    answer = api.sign(submitted, reason="Fine by us.")
    assert answer.status_code == 201 and answer.get_json()["approved"] is True
    assert api.sign(submitted).status_code == 409
    assert load(app, submitted).datasets[0].state.value == "signed_off"


def test_a_decline_needs_a_reason_drops_the_dataset_and_tells_the_applicant(
    app, world, submitted, api
):
    refused = api.sign(submitted, approve=False)
    assert refused.status_code == 422 and "reason" in refused.get_json()["errors"]
    answer = api.sign(submitted, approve=False, reason="Consent does not cover this analysis.")
    assert answer.status_code == 201
    assert load(app, submitted).datasets[0].state.value == "declined"
    told = _notifications(app, world.people["applicant"], "access_request.dataset_declined")
    assert len(told) == 1 and "Consent does not cover" in told[0].body


def test_the_chair_overrides_a_decline_with_a_justification(app, world, submitted, api):
    api.sign(submitted, approve=False, reason="Not for this use.")
    body = {"dataset": "req-aml", "justification": "The protocol was amended to fit."}
    assert api.post("member_2", f"{submitted}/overrides", body).status_code == 403
    answer = api.post("chair", f"{submitted}/overrides", body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["state"] == "signed_off"
    assert answer.get_json()["override_justification"] == "The protocol was amended to fit."


# --- the decision ---------------------------------------------------------------------------


def test_no_decision_before_the_quorum_and_it_names_who_has_not_voted(app, world, submitted, api):
    api.sign(submitted)
    api.vote("member_2", submitted)
    answer = api.decide(submitted, {"outcome": "approve", "reasons": "Good."})
    assert answer.status_code == 409
    detail = answer.get_json()["detail"]
    assert "Charles Chair" in detail and "Mona Member" in detail and "Mia Amsterdam" not in detail


def test_only_the_chair_decides_and_with_the_current_etag(app, world, submitted, api):
    api.sign(submitted)
    _to_quorum(api, submitted)
    assert (
        api.decide(submitted, {"outcome": "approve", "reasons": "x"}, who="member_2").status_code
        == 403
    )
    bare = api.post("chair", f"{submitted}/decision", {"outcome": "approve", "reasons": "x"})
    assert bare.status_code == 428


def test_an_approval_waits_for_the_custodians_sign_off(app, world, submitted, api):
    _to_quorum(api, submitted)
    answer = api.decide(submitted, {"outcome": "approve", "reasons": "Good."})
    assert answer.status_code == 409 and "Leiden AML trials" in answer.get_json()["detail"]


def test_an_approval_sets_datasets_reports_and_tells_the_team(app, world, submitted, api):
    api.sign(submitted)
    _to_quorum(api, submitted)
    answer = api.decide(
        submitted,
        {"outcome": "approve_with_conditions", "reasons": "A sound project.",
         "conditions": ["Acknowledge HARMONY in every publication."],
         "reports": [{"kind": "progress", "due_on": FUTURE}]},
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["outcome"] == "approve_with_conditions" and body["tally"]["approve"] == 2
    request = load(app, submitted)
    assert request.state.value == "approved"
    assert {i.dataset.identifier: i.state.value for i in request.datasets} == {
        "req-aml": "approved", "req-myeloma": "approved"
    }  # fmt: skip
    with app.app_context():
        reports = list(
            get_session().scalars(
                select(RequestReport).where(RequestReport.request_id == submitted)
            )
        )
    assert [(r.kind.value, r.due_on.isoformat()) for r in reports] == [("progress", FUTURE)]
    told = _notifications(app, world.people["applicant"], "access_request.approve_with_conditions")
    assert len(told) == 1 and "Acknowledge HARMONY" in told[0].body
    # decisions are final
    again = api.decide(submitted, {"outcome": "reject", "reasons": "Changed our mind."})
    assert again.status_code == 409
    assert api.vote("member_2", submitted, "reject").status_code == 409


def test_the_decisions_rules_are_named_by_field(app, world, submitted, api):
    api.sign(submitted, approve=False, reason="No.")
    _set_check(app, submitted, "req-myeloma", "needs_review")
    _to_quorum(api, submitted)
    answer = api.decide(
        submitted,
        {"outcome": "approve_with_conditions", "reasons": "",
         "datasets": {"req-aml": "approve", "req-myeloma": "approve", "req-none": "approve"}},
    )  # fmt: skip
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert set(errors) == {
        "reasons", "conditions", "overrides.req-aml", "review_notes.req-myeloma",
        "datasets.req-none",
    }  # fmt: skip
    with app.app_context():
        assert (
            get_session().scalar(select(Decision).where(Decision.request_id == submitted)) is None
        )


def test_an_incompatible_dataset_is_approved_only_with_a_justification(app, world, submitted, api):
    api.sign(submitted)
    _set_check(app, submitted, "req-myeloma", "incompatible")
    _to_quorum(api, submitted)
    refused = api.decide(submitted, {"outcome": "approve", "reasons": "Good."})
    assert refused.status_code == 422 and "overrides.req-myeloma" in refused.get_json()["errors"]
    answer = api.decide(
        submitted,
        {"outcome": "approve", "reasons": "Good.",
         "overrides": {"req-myeloma": "The custodian confirmed in writing that HMB covers it."}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    overrides = answer.get_json()["overrides"]
    assert list(overrides.values()) == ["The custodian confirmed in writing that HMB covers it."]


def test_a_declined_dataset_is_left_out_of_an_approval_unless_overridden(
    app, world, submitted, api
):
    api.sign(submitted, approve=False, reason="Not for this use.")
    _to_quorum(api, submitted)
    answer = api.decide(submitted, {"outcome": "approve", "reasons": "Myeloma only."})
    assert answer.status_code == 201, answer.get_json()
    states = {i.dataset.identifier: i.state.value for i in load(app, submitted).datasets}
    assert states == {"req-aml": "rejected", "req-myeloma": "approved"}


def test_return_and_reject(app, world, submitted, api):
    api.sign(submitted)
    _to_quorum(api, submitted)
    answer = api.decide(submitted, {"outcome": "return", "reasons": "Name the statistician."})
    assert answer.status_code == 201
    request = load(app, submitted)
    assert request.state.value == "returned" and request.return_comments == "Name the statistician."
    assert _notifications(app, world.people["applicant"], "access_request.return")


def test_a_rejection_rejects_every_dataset(app, world, submitted, api):
    api.sign(submitted)
    api.vote("member_2", submitted, "reject")
    api.vote("member_3", submitted, "reject")
    answer = api.decide(submitted, {"outcome": "reject", "reasons": "No public benefit."})
    assert answer.status_code == 201
    request = load(app, submitted)
    assert request.state.value == "rejected"
    assert {i.state.value for i in request.datasets} == {"rejected"}


def test_the_timeline_holds_every_review_step(app, world, submitted, api):
    api.sign(submitted)
    _to_quorum(api, submitted)
    api.decide(submitted, {"outcome": "approve", "reasons": "Good."})
    with app.app_context():
        request = get_session().get(AccessRequest, submitted)
        actions = [e.action for e in services.timeline(request)]
    for expected in (
        "access_request.submitted", "access_request.recusal", "request_dataset.signed_off",
        "access_request.review_started", "access_request.vote", "access_request.approved",
    ):  # fmt: skip
        assert expected in actions


def _unused(world: RequestWorld) -> None:
    _ = world
