"""What an approval gives and how access starts, is asked about, revoked and ends: grants
(one per current team member with an account and approved dataset, limited to the requested
variables, ending at the earliest of the three limits), the click-through acceptance that starts
access (and refuses terms that changed), the data platforms' question "may this user use this
dataset now?", revocation by the chair or an administrator with a reason, the end of a
membership, the hourly job (expiry, one reminder, closing), and GA4GH visas verified with
PyJWT against the published keys."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from sqlalchemy import select

from core import audit
from core.db import get_session, writing
from core.notifications import Notification
from governance.agreements.models import Agreement
from governance.data_use.models import DataUseConditions
from governance.entitlements import jobs, services
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    Entitlement,
    EntitlementState,
    RequestMember,
    RequestState,
)
from tests.conftest import login, post_form
from tests.governance.entitlements.conftest import approved_request, auth

TODAY = services.today()


def entitlements_of(request_id: str) -> dict[tuple[str, str], Entitlement]:
    rows = get_session().scalars(select(Entitlement).where(Entitlement.request_id == request_id))
    return {(e.user_id, e.dataset.identifier): e for e in rows}


def notifications(user_id: str, kind: str) -> list[Notification]:
    return list(
        get_session().scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
    )


def ask(eclient, world, user: str, dataset: str | None = None, who: str = "platform"):
    query = f"?user={world.people[user]}" + (f"&dataset={dataset}" if dataset else "")
    return eclient.get(f"/api/v1/entitlements{query}", headers=auth(world, who))


def accept_via_api(eclient, world, name: str, request_id: str):
    terms = eclient.get(f"/api/v1/access-requests/{request_id}/terms", headers=auth(world, name))
    assert terms.status_code == 200, terms.get_json()
    return eclient.post(
        f"/api/v1/access-requests/{request_id}/acceptance",
        json={"terms_sha256": terms.get_json()["sha256"]},
        headers=auth(world, name),
    )


# --- end dates ------------------------------------------------------------------------------


def test_month_arithmetic_keeps_the_day_or_takes_the_months_last():
    assert services.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


@pytest.mark.parametrize(
    ("requested", "expires_in_days", "ts", "winner"),
    [
        (6, 3 * 365, None, "requested"),
        (48, 400, 36, "agreement"),
        (24, 3 * 365, 3, "time_limit"),
    ],
)
def test_the_earliest_limit_ends_the_entitlement(
    world, ctx, requested, expires_in_days, ts, winner
):
    session = get_session()
    agreement = session.get(Agreement, world.agreements["myeloma"])
    agreement.expires_on = TODAY + dt.timedelta(days=expires_in_days)
    if ts:
        row = session.get(DataUseConditions, world.datasets["req-myeloma"])
        row.modifiers = [{"term": services.TS, "months": ts}]
    session.commit()
    request = approved_request(world, requested_months=requested, datasets={"req-myeloma": None})
    expected = {
        "requested": services.add_months(TODAY, requested) - dt.timedelta(days=1),
        "agreement": agreement.expires_on - dt.timedelta(days=1),
        "time_limit": services.add_months(TODAY, ts or 0) - dt.timedelta(days=1),
    }[winner]
    granted = entitlements_of(request.id)
    assert {e.ends_on for e in granted.values()} == {expected}
    assert {e.starts_on for e in granted.values()} == {TODAY}


def test_without_any_limit_access_lasts_the_default_months(ent_app):
    with ent_app.app_context():
        end = services.end_date(
            dt.date(2026, 3, 1), requested_months=None, agreement_expires_on=None, ts_months=None
        )
    assert end.limit == "default" and end.ends_on == dt.date(2027, 2, 28)


# --- grants ---------------------------------------------------------------------------------


def test_one_entitlement_per_current_member_with_an_account_and_dataset(world, ctx):
    request = approved_request(
        world,
        extra_members=[
            {"email": "invited@example.org", "email_key": "invited@example.org"},
            {
                "user_id": world.people["outsider"],
                "email": world.emails["outsider"],
                "email_key": world.emails["outsider"],
                "removed_at": dt.datetime.now(dt.UTC),
            },
        ],
    )
    granted = entitlements_of(request.id)
    applicant, teammate = world.people["applicant"], world.people["teammate"]
    assert set(granted) == {
        (applicant, "req-aml"),
        (applicant, "req-myeloma"),
        (teammate, "req-aml"),
        (teammate, "req-myeloma"),
    }
    assert granted[(teammate, "req-aml")].variables == ["FLT3_ITD", "NPM1", "KARYOTYPE"]
    assert granted[(teammate, "req-myeloma")].variables is None  # the whole dataset
    assert {e.state for e in granted.values()} == {EntitlementState.AWAITING_ACCEPTANCE}
    # the request's timeline shows each grant, naming whom and what
    events = [
        e
        for e in audit.events_for("access_request", request.id)
        if e.action == "entitlement.granted"
    ]
    assert len(events) == 4
    assert {(e.context["user_id"], e.context["dataset"]) for e in events} == set(granted)
    # each member is told to accept the terms, once
    told = notifications(teammate, "entitlement.granted")
    assert len(told) == 1 and told[0].link == f"/requests/{request.id}/terms"


def test_a_rejected_dataset_gives_no_access(world, ctx):
    request = approved_request(world, grant=False)
    decision = services.approving_decision(request)
    decision.dataset_outcomes = {
        world.datasets["req-aml"]: "approved",
        world.datasets["req-myeloma"]: "rejected",
    }
    services.grant_for_decision(request, decision)
    get_session().commit()
    assert {d for _, d in entitlements_of(request.id)} == {"req-aml"}


# --- acceptance -----------------------------------------------------------------------------


def test_access_starts_only_after_the_person_accepts_the_terms(world, ctx, eclient):
    request = approved_request(world, conditions=["Report progress every year."])
    before = ask(eclient, world, "teammate", "req-aml")
    assert before.status_code == 200
    assert before.get_json()["allowed"] is False and before.get_json()["variables"] == []

    terms = eclient.get(
        f"/api/v1/access-requests/{request.id}/terms", headers=auth(world, "teammate")
    ).get_json()
    assert "Report progress every year." in terms["text"]
    assert "Data provided under DSA-REQ-AML." in terms["text"]  # the agreement's obligation
    answer = accept_via_api(eclient, world, "teammate", request.id)
    assert answer.status_code == 200, answer.get_json()
    assert {i["dataset"]["identifier"] for i in answer.get_json()["items"]} == {
        "req-aml",
        "req-myeloma",
    }

    after = ask(eclient, world, "teammate", "req-aml").get_json()
    assert after["allowed"] is True
    assert after["variables"] == sorted(["FLT3_ITD", "NPM1", "KARYOTYPE"])
    assert ask(eclient, world, "teammate", "req-myeloma").get_json()["variables"] is None
    # the applicant has not accepted: still no access for them
    assert ask(eclient, world, "applicant", "req-aml").get_json()["allowed"] is False
    # the acceptance is recorded with the text's version, and announced
    events = [e.action for e in audit.events_for("access_request", request.id)]
    assert "access_request.terms_accepted" in events and "entitlement.activated" in events
    assert len(notifications(world.people["teammate"], "entitlement.started")) == 1
    get_session().expire_all()
    assert get_session().get(AccessRequest, request.id).datasets[0].state is DatasetState.GRANTED
    # accepting again: nothing is waiting any more
    again = accept_via_api(eclient, world, "teammate", request.id)
    assert again.status_code == 409


def test_terms_that_changed_since_they_were_read_are_refused(world, ctx, eclient):
    request = approved_request(world)
    url = f"/api/v1/access-requests/{request.id}/terms"
    read = eclient.get(url, headers=auth(world, "teammate")).get_json()["sha256"]
    agreement = get_session().get(Agreement, world.agreements["aml"])
    agreement.acknowledgement = "Cite the Leiden AML group in every paper."
    get_session().commit()
    stale = eclient.post(
        f"/api/v1/access-requests/{request.id}/acceptance",
        json={"terms_sha256": read},
        headers=auth(world, "teammate"),
    )
    assert stale.status_code == 409
    assert "changed" in stale.get_json()["detail"]
    current = eclient.get(url, headers=auth(world, "teammate")).get_json()
    assert current["sha256"] != read and "Cite the Leiden AML group" in current["text"]
    assert accept_via_api(eclient, world, "teammate", request.id).status_code == 200


def test_a_malformed_version_or_someone_off_the_team_cannot_accept(world, ctx, eclient):
    request = approved_request(world)
    url = f"/api/v1/access-requests/{request.id}/acceptance"
    bad = eclient.post(url, json={"terms_sha256": "abc"}, headers=auth(world, "teammate"))
    assert bad.status_code == 422 and "terms_sha256" in bad.get_json()["errors"]
    sha = "0" * 64
    assert (
        eclient.post(url, json={"terms_sha256": sha}, headers=auth(world, "chair")).status_code
        == 403
    )
    assert (
        eclient.post(url, json={"terms_sha256": sha}, headers=auth(world, "outsider")).status_code
        == 404
    )


# --- the platforms' question and one's own list ---------------------------------------------


def test_only_platforms_and_admins_ask_about_anyone(world, ctx, eclient):
    approved_request(world)
    assert ask(eclient, world, "teammate", who="admin").status_code == 200
    assert ask(eclient, world, "teammate", who="applicant").status_code == 403
    assert eclient.get(f"/api/v1/entitlements?user={world.people['teammate']}").status_code == 401
    unknown = eclient.get("/api/v1/entitlements?user=nobody", headers=auth(world, "platform"))
    assert unknown.status_code == 404
    missing = eclient.get("/api/v1/entitlements", headers=auth(world, "platform"))
    assert missing.status_code == 422 and "user" in missing.get_json()["errors"]


def test_a_researcher_sees_their_own_entitlements(world, ctx, eclient):
    request = approved_request(world)
    own = eclient.get("/api/v1/me/entitlements", headers=auth(world, "teammate")).get_json()
    assert own["total"] == 2
    assert {i["user_id"] for i in own["items"]} == {world.people["teammate"]}
    assert {i["reference"] for i in own["items"]} == {request.reference}
    assert {i["state"] for i in own["items"]} == {"awaiting_acceptance"}
    outsider = eclient.get("/api/v1/me/entitlements", headers=auth(world, "outsider")).get_json()
    assert outsider["total"] == 0


# --- revocation and membership --------------------------------------------------------------


def test_the_chair_or_an_admin_revokes_with_a_reason(world, ctx, eclient):
    request = approved_request(world)
    assert accept_via_api(eclient, world, "teammate", request.id).status_code == 200
    url = f"/api/v1/access-requests/{request.id}/revocations"
    body = {"user": world.people["teammate"], "dataset": "req-aml", "reason": "Data misuse."}
    assert eclient.post(url, json=body, headers=auth(world, "applicant")).status_code == 403
    assert eclient.post(url, json=body, headers=auth(world, "member_2")).status_code == 403
    assert eclient.post(url, json=body, headers=auth(world, "outsider")).status_code == 404
    no_reason = eclient.post(url, json={**body, "reason": "  "}, headers=auth(world, "chair"))
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert ask(eclient, world, "teammate", "req-aml").get_json()["allowed"] is True

    done = eclient.post(url, json=body, headers=auth(world, "chair"))
    assert done.status_code == 200, done.get_json()
    assert [i["state"] for i in done.get_json()["items"]] == ["revoked"]
    assert ask(eclient, world, "teammate", "req-aml").get_json()["allowed"] is False
    assert ask(eclient, world, "teammate", "req-myeloma").get_json()["allowed"] is True
    event = next(
        e
        for e in audit.events_for("access_request", request.id)
        if e.action == "entitlement.revoked"
    )
    assert event.reason == "Data misuse." and event.actor_id == world.people["chair"]
    assert len(notifications(world.people["teammate"], "entitlement.revoked")) == 1
    assert eclient.post(url, json=body, headers=auth(world, "chair")).status_code == 409

    everything = eclient.post(
        url, json={"reason": "Project stopped."}, headers=auth(world, "admin")
    )
    assert everything.status_code == 200 and len(everything.get_json()["items"]) == 3
    unknown = eclient.post(
        url, json={"dataset": "req-closed", "reason": "x"}, headers=auth(world, "admin")
    )
    assert unknown.status_code == 422 and "dataset" in unknown.get_json()["errors"]


def test_leaving_the_team_ends_that_members_access(world, ctx, eclient):
    request = approved_request(world)
    assert accept_via_api(eclient, world, "teammate", request.id).status_code == 200
    session = get_session()
    member = session.scalar(
        select(RequestMember).where(
            RequestMember.request_id == request.id,
            RequestMember.user_id == world.people["teammate"],
        )
    )
    member.removed_at = dt.datetime.now(dt.UTC)
    services.end_membership(request, member)
    session.commit()
    granted = entitlements_of(request.id)
    teammate, applicant = world.people["teammate"], world.people["applicant"]
    assert {granted[(teammate, d)].state for d in ("req-aml", "req-myeloma")} == {
        EntitlementState.ENDED
    }
    assert granted[(applicant, "req-aml")].state is EntitlementState.AWAITING_ACCEPTANCE
    assert ask(eclient, world, "teammate", "req-aml").get_json()["allowed"] is False
    assert not services.all_ended(request)


# --- the hourly job -------------------------------------------------------------------------


def test_expiry_reminds_once_then_ends_and_closes_the_request(world, ctx, eclient):
    request = approved_request(world, requested_months=2, datasets={"req-myeloma": None})
    for name in ("applicant", "teammate"):
        assert accept_via_api(eclient, world, name, request.id).status_code == 200
    ends_on = next(iter(entitlements_of(request.id).values())).ends_on
    teammate = world.people["teammate"]

    early = jobs.run_hourly(ends_on - dt.timedelta(days=31))
    assert early.reminded == [] and early.ended == []
    first = jobs.run_hourly(ends_on - dt.timedelta(days=30))
    assert len(first.reminded) == 2
    assert jobs.run_hourly(ends_on - dt.timedelta(days=5)).reminded == []  # once
    assert len(notifications(teammate, "entitlement.expiry_reminder")) == 1

    assert jobs.run_hourly(ends_on).ended == []  # the last day is still a day of access
    final = jobs.run_hourly(ends_on + dt.timedelta(days=1))
    assert len(final.ended) == 2
    assert request.reference in final.closed
    session = get_session()
    session.expire_all()
    assert session.get(AccessRequest, request.id).state is RequestState.CLOSED
    ended = [
        e for e in audit.events_for("access_request", request.id) if e.action == "entitlement.ended"
    ]
    assert len(ended) == 2 and all(e.actor_label == audit.SYSTEM_LABEL for e in ended)
    assert services.all_ended(session.get(AccessRequest, request.id))


def test_the_command_runs_the_job(world, ent_app, ctx):
    request = approved_request(world, requested_months=1, datasets={"req-myeloma": None})
    ends_on = next(iter(entitlements_of(request.id).values())).ends_on
    result = ent_app.test_cli_runner().invoke(
        args=["entitlements", "expire", "--today", (ends_on + dt.timedelta(days=1)).isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert '"ended"' in result.output and request.reference in result.output


# --- visas ----------------------------------------------------------------------------------


def test_visas_are_the_active_entitlements_signed_and_verifiable(world, ent_app, ctx, eclient):
    request = approved_request(world)
    assert accept_via_api(eclient, world, "teammate", request.id).status_code == 200
    teammate = world.people["teammate"]
    revoke = eclient.post(
        f"/api/v1/access-requests/{request.id}/revocations",
        json={"user": teammate, "dataset": "req-myeloma", "reason": "Not needed."},
        headers=auth(world, "chair"),
    )
    assert revoke.status_code == 200
    url = f"/api/v1/users/{teammate}/visas"
    passport = eclient.get(url, headers=auth(world, "teammate"))
    assert passport.status_code == 200, passport.get_json()
    tokens = passport.get_json()["ga4gh_passport_v1"]
    assert len(tokens) == 1  # the revoked one is left out

    jwks = jwt.PyJWKSet.from_dict(eclient.get("/.well-known/jwks.json").get_json())
    token = tokens[0]
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    base = ent_app.config["BASE_URL"].rstrip("/")
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer=base)
    entitlement = entitlements_of(request.id)[(teammate, "req-aml")]
    visa = claims["ga4gh_visa_v1"]
    assert claims["sub"] == teammate
    assert visa["type"] == "ControlledAccessGrants" and visa["by"] == "dac"
    assert visa["value"] == f"{base}/datasets/req-aml"
    assert visa["source"] == f"{base}/committees/{world.committee}"
    assert visa["asserted"] == int(entitlement.activated_at.timestamp())
    last_second = dt.datetime.combine(entitlement.ends_on, dt.time(23, 59, 59), tzinfo=dt.UTC)
    assert claims["exp"] <= last_second.timestamp()

    assert eclient.get(url, headers=auth(world, "platform")).status_code == 200
    assert eclient.get(url, headers=auth(world, "outsider")).status_code == 403
    assert (
        eclient.get("/api/v1/users/nobody/visas", headers=auth(world, "admin")).status_code == 404
    )
    # someone who has accepted nothing has no visa
    applicant = eclient.get(
        f"/api/v1/users/{world.people['applicant']}/visas", headers=auth(world, "applicant")
    )
    assert applicant.get_json() == {"ga4gh_passport_v1": []}


# --- pages ----------------------------------------------------------------------------------


def test_my_access_page_leads_to_the_terms_and_the_button_starts_access(world, ent_app, eclient):
    # pages outside the test's application context: each request has its own (CSRF, caller)
    with ent_app.app_context(), writing():
        request = approved_request(world, conditions=["No linkage with other datasets."])
        request_id, reference = request.id, request.reference
        sha = services.terms_of(request).sha256
    login(eclient, world.emails["teammate"])
    page = eclient.get("/me/access").get_data(as_text=True)
    assert "Waiting for your acceptance" in page and reference in page
    assert f"/requests/{request_id}/terms" in page
    assert "FLT3_ITD, NPM1, KARYOTYPE" in page and "All variables" in page

    terms_url = f"/requests/{request_id}/terms"
    terms = eclient.get(terms_url).get_data(as_text=True)
    assert "No linkage with other datasets." in terms and "I accept these terms" in terms
    assert sha[:12] in terms
    done = post_form(eclient, terms_url, {"terms_sha256": sha}, terms_url)
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/access")
    page = eclient.get("/me/access").get_data(as_text=True)
    assert "Waiting for your acceptance" not in page and "Active" in page


def test_my_access_page_has_an_empty_state(world, eclient):
    login(eclient, world.emails["outsider"])
    page = eclient.get("/me/access").get_data(as_text=True)
    assert "No access yet" in page


def test_the_request_pages_access_section_lets_an_admin_revoke(world, ent_app, eclient):
    from flask import render_template_string

    from core.models import User

    with ent_app.app_context(), writing():
        request = approved_request(world)
        request_id = request.id
        teammate_aml = entitlements_of(request_id)[(world.people["teammate"], "req-aml")].id
    panel = (
        "{% with panel = entitlement_panel(access_request) %}"
        "{% include 'entitlements/_request_panel.html' %}{% endwith %}"
    )
    with ent_app.test_request_context("/requests/x"):
        import flask_login

        for name, can_revoke in (("admin", True), ("teammate", False)):
            flask_login.login_user(get_session().get(User, world.people[name]))
            html = render_template_string(
                panel, access_request=get_session().get(AccessRequest, request_id)
            )
            assert "Tom Teammate" in html and "req-aml" in html
            assert ('name="reason"' in html) is can_revoke
            assert ("Read and accept the terms" in html) is (name == "teammate")

    login(eclient, world.emails["admin"])
    back = "/me/access"
    refused = post_form(
        eclient, f"/requests/{request_id}/revocations",
        {"entitlement": teammate_aml, "reason": "", "next": back}, back,
    )  # fmt: skip
    assert refused.status_code == 302
    done = post_form(
        eclient, f"/requests/{request_id}/revocations",
        {"entitlement": teammate_aml, "reason": "Left the institute.", "next": back}, back,
    )  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"].endswith(back)
    with ent_app.app_context():
        states = {k: e.state for k, e in entitlements_of(request_id).items()}
    assert states[(world.people["teammate"], "req-aml")] is EntitlementState.REVOKED
    assert list(states.values()).count(EntitlementState.REVOKED) == 1
