"""/api/v1/access-requests: creating a draft, who sees it (404 for others; drafts only for the
team), changing it with ETags (428/412), completeness by field at submission, the
eligibility rule, the stored consent check (reasons, ontology versions), its re-run when a
dataset's conditions change, the committee, requestable datasets only (422 naming
``datasets[i]``), and withdrawal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.db import get_session, writing
from core.policies import SYSTEM
from governance.requests.models import AccessRequest, DatasetState, RequestState
from tests.conftest import shared_world
from tests.governance.requests.world import (
    RequestWorld,
    application,
    build_world,
    create_request,
)

BASE = "/api/v1/access-requests"


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[RequestWorld]:
    with shared_world(app, reference_engine) as make:
        yield build_world(app, make)


def post(client, world, who: str, path: str, body: Any = None, **headers: str) -> Any:
    return client.post(path, json=body, headers={**world.auth(who), **headers})


def draft(client, world, who: str = "applicant", **overrides: Any) -> tuple[str, str]:
    response = post(client, world, who, BASE, application(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"], response.headers["ETag"]


def submit(client, world, request_id: str, etag: str, who: str = "applicant") -> Any:
    return post(client, world, who, f"{BASE}/{request_id}/submit", **{"If-Match": etag})


# --- creating and reading -------------------------------------------------------------------


def test_a_researcher_starts_a_draft_and_is_its_applicant(client, world):
    response = post(client, world, "applicant", BASE, application())
    assert response.status_code == 201
    body = response.get_json()
    assert body["state"] == "draft" and body["reference"].startswith("AR-")
    assert response.headers["Location"].endswith(f"/access-requests/{body['id']}")
    assert [d["identifier"] for d in body["datasets"]] == ["req-aml", "req-myeloma"]
    assert body["datasets"][0]["variables"] == ["FLT3_ITD", "NPM1", "KARYOTYPE"]
    assert body["datasets"][1]["variables"] is None
    assert [m["email"] for m in body["members"]] == [world.emails["applicant"]]
    assert body["missing"] == {} and "submit" in body["actions"]


@pytest.mark.parametrize("who", ["aml_custodian", "chair"])
def test_only_researchers_apply(client, world, who):
    assert post(client, world, who, BASE, {"title": "x"}).status_code == 403


def test_anonymous_callers_must_log_in(client, world):
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, json={}).status_code == 401


def test_a_dataset_that_cannot_be_requested_is_refused_by_position(client, world):
    body = {"datasets": [{"dataset": "req-aml"}, {"dataset": "req-closed"}, {"dataset": "nope"}]}
    response = post(client, world, "applicant", BASE, body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "datasets[0]" not in errors
    assert "cannot be requested now" in errors["datasets[1]"][0]
    assert "No such dataset" in errors["datasets[2]"][0]


def test_unknown_variables_are_named(client, world):
    body = {"datasets": [{"dataset": "req-aml", "variables": ["NPM1", "SHOE_SIZE"]}]}
    response = post(client, world, "applicant", BASE, body)
    assert response.status_code == 422
    assert "SHOE_SIZE" in response.get_json()["errors"]["datasets[0].variables"][0]


def test_a_wrong_purpose_is_named_by_its_field(client, world):
    response = post(client, world, "applicant", BASE, {"purpose": {"terms": ["DUO:9999999"]}})
    assert response.status_code == 422
    assert "purpose.terms" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("applicant", 200), ("teammate", 200), ("outsider", 404), ("chair", 404),
     ("aml_custodian", 404), ("admin", 404)],
)  # fmt: skip
def test_a_draft_is_seen_only_by_its_team(client, world, who, status):
    request_id, _ = draft(
        client, world, members=[{"email": world.emails["teammate"], "role": "statistician"}]
    )
    assert client.get(f"{BASE}/{request_id}", headers=world.auth(who)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("applicant", 200), ("chair", 200), ("member_2", 200), ("aml_custodian", 200),
     ("myeloma_custodian", 200), ("admin", 200), ("outsider", 404)],
)  # fmt: skip
def test_a_submitted_request_is_seen_by_its_committee_custodians_and_admins(
    client, world, who, status
):
    request_id, etag = draft(client, world)
    assert submit(client, world, request_id, etag).status_code == 200
    assert client.get(f"{BASE}/{request_id}", headers=world.auth(who)).status_code == status


def test_the_list_shows_each_caller_what_it_may_see(client, world):
    mine, _ = draft(client, world)
    sent, etag = draft(client, world, title="Submitted one")
    submit(client, world, sent, etag)
    other, _ = draft(client, world, "outsider", datasets=[{"dataset": "req-myeloma"}])

    def ids(who: str, query: str = "") -> set[str]:
        response = client.get(f"{BASE}?per_page=200{query}", headers=world.auth(who))
        assert response.status_code == 200
        return {r["id"] for r in response.get_json()["items"]}

    assert {mine, sent} <= ids("applicant") and other not in ids("applicant")
    assert sent in ids("chair") and mine not in ids("chair")
    assert sent in ids("aml_custodian") and mine not in ids("aml_custodian")
    assert sent in ids("admin") and mine not in ids("admin") and other not in ids("admin")
    assert sent in ids("applicant", "&state=submitted")
    assert mine not in ids("applicant", "&state=submitted")
    assert client.get(f"{BASE}?state=nonsense", headers=world.auth("admin")).status_code == 422


# --- changing -------------------------------------------------------------------------------


def test_patch_needs_the_current_etag(client, world):
    request_id, etag = draft(client, world)
    path = f"{BASE}/{request_id}"
    headers = world.auth("applicant")
    assert client.patch(path, json={"title": "New"}, headers=headers).status_code == 428
    response = client.patch(path, json={"title": "New"}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200 and response.get_json()["title"] == "New"
    assert response.headers["ETag"] != etag
    stale = client.patch(path, json={"title": "Old"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(path, headers=headers).get_json()["title"] == "New"


def test_patch_changes_only_the_fields_sent(client, world):
    request_id, etag = draft(client, world)
    response = client.patch(
        f"{BASE}/{request_id}",
        json={"lay_summary": "Shorter."},
        headers={**world.auth("applicant"), "If-Match": etag},
    )
    body = response.get_json()
    assert body["lay_summary"] == "Shorter."
    assert body["title"] == application()["title"] and len(body["datasets"]) == 2


def test_a_teammate_reads_but_does_not_edit(client, world):
    request_id, _ = draft(client, world, members=[{"email": world.emails["teammate"]}])
    etag = client.get(f"{BASE}/{request_id}", headers=world.auth("teammate")).headers["ETag"]
    response = client.patch(
        f"{BASE}/{request_id}",
        json={"title": "Mine now"},
        headers={**world.auth("teammate"), "If-Match": etag},
    )
    assert response.status_code == 403


def test_unknown_people_are_invited_and_linked_when_they_come(app, client, world, make):
    request_id, _ = draft(client, world, members=[{"email": "New.Person@Example.org"}])
    body = client.get(f"{BASE}/{request_id}", headers=world.auth("applicant")).get_json()
    invited = [m for m in body["members"] if m["email"] == "new.person@example.org"]
    assert invited and invited[0]["invited"] is True and invited[0]["user_id"] is None
    from core.models import Role

    newcomer = make.user(Role.RESEARCHER, email="new.person@example.org")
    token = make.token(newcomer)
    response = client.get(f"{BASE}/{request_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    linked = [m for m in response.get_json()["members"] if m["email"] == "new.person@example.org"]
    assert linked[0]["user_id"] == newcomer.id and linked[0]["invited"] is False


def test_a_submitted_request_is_not_edited(client, world):
    request_id, etag = draft(client, world)
    etag = submit(client, world, request_id, etag).headers["ETag"]
    response = client.patch(
        f"{BASE}/{request_id}",
        json={"title": "Late"},
        headers={**world.auth("applicant"), "If-Match": etag},
    )
    assert response.status_code == 409


# --- submission -----------------------------------------------------------------------------


def test_submission_names_every_missing_field(client, world):
    response = post(client, world, "applicant", BASE, {"title": "Only a title"})
    request_id, etag = response.get_json()["id"], response.headers["ETag"]
    refused = submit(client, world, request_id, etag)
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    for name in ("lay_summary", "scientific_abstract", "public_benefit", "purpose.terms",
                 "ethics_reference", "processing_country", "processing_environment",
                 "data_justification", "publication_plan", "team_training",
                 "requested_months", "datasets"):  # fmt: skip
        assert name in errors, name
    assert "title" not in errors
    again = client.get(f"{BASE}/{request_id}", headers=world.auth("applicant")).get_json()
    assert again["state"] == "draft" and again["round"] == 0


def test_submission_checks_stores_the_committee_and_the_dataset_states(app, client, world):
    request_id, etag = draft(client, world)
    response = submit(client, world, request_id, etag)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "submitted" and body["round"] == 1
    assert body["committee_id"] == world.committee
    aml, myeloma = body["datasets"]
    assert aml["state"] == "pending_signoff" and aml["signoff_required"] is True
    assert aml["agreement_id"] == world.agreements["aml"]
    assert myeloma["state"] == "requested" and myeloma["signoff_required"] is False
    for item in (aml, myeloma):
        check = item["check"]
        assert check["outcome"] == "compatible", check
        assert isinstance(check["reasons"], list) and check["checked_at"]
        assert {"DUO", "NCIT"} <= set(check["ontology_versions"])
        assert check["conditions_revision"] == 1
    assert any("DSA-REQ-AML" in o["text"] for o in aml["check"]["obligations"])
    with app.app_context():
        from core.notifications import Notification

        notified = {
            (n.user_id, n.kind)
            for n in get_session().query(Notification).filter_by(object_id=request_id)
        }
    for member in ("chair", "member_1", "member_2", "member_3"):
        assert (world.people[member], "access_request.submitted") in notified
    assert (world.people["aml_custodian"], "access_request.signoff_needed") in notified
    assert (world.people["myeloma_custodian"], "access_request.signoff_needed") not in notified


def test_an_incompatible_purpose_is_stored_with_its_reasons(client, world):
    purpose = {"terms": ["DUO:0000007"], "diseases": ["NCIT:C3242"], "commercial": False}
    request_id, etag = draft(client, world, purpose=purpose)
    body = submit(client, world, request_id, etag).get_json()
    aml = body["datasets"][0]
    assert aml["check"]["outcome"] == "incompatible"
    assert any(r["outcome"] == "incompatible" for r in aml["check"]["reasons"])


def test_the_check_runs_again_when_conditions_change(app, client, world):
    request_id, etag = draft(client, world)
    submit(client, world, request_id, etag)
    from core import audit
    from governance.data_use import services as data_use

    with app.app_context(), writing():
        current = data_use.get_conditions(SYSTEM, "req-myeloma").etag
        data_use.set_conditions(
            SYSTEM, "req-myeloma", {"permission": "DUO:0000006", "modifiers": [
                {"term": "DUO:0000046"}]}, current,
        )  # fmt: skip
    body = client.get(f"{BASE}/{request_id}", headers=world.auth("applicant")).get_json()
    myeloma = body["datasets"][1]
    assert myeloma["check"]["conditions_revision"] == 2
    assert myeloma["check"]["outcome"] == "compatible"  # non-commercial use: still allowed
    with app.app_context():
        events = list(
            get_session().query(audit.AuditEvent).filter_by(
                object_type="access_request", object_id=request_id,
                action="access_request.rechecked",
            )
        )  # fmt: skip
    assert len(events) == 1 and "req-myeloma" in events[0].summary


@pytest.mark.parametrize(("rule", "status"), [("any", 200), ("contributing_organisations", 403)])
def test_the_eligibility_rule(app, client, world, rule, status):
    request_id, etag = draft(client, world)
    saved = app.config.get("ACCESS_ELIGIBILITY")
    app.config["ACCESS_ELIGIBILITY"] = rule
    try:
        response = submit(client, world, request_id, etag)
    finally:
        app.config["ACCESS_ELIGIBILITY"] = saved
    assert response.status_code == status
    if status == 403:
        assert "contribute data" in response.get_json()["detail"]


def test_a_member_of_a_contributing_organisation_is_eligible(app, client, world, make):
    from core.models import Organisation, Role

    with app.app_context():
        leiden = get_session().get(Organisation, world.organisations["leiden"])
    researcher = make.user(Role.RESEARCHER, organisation=leiden)
    with app.app_context(), writing():
        request_id = create_request(world, "applicant")
        get_session().get(AccessRequest, request_id).applicant_id = researcher.id
        request = get_session().get(AccessRequest, request_id)
        request.organisation_id = leiden.id
        get_session().commit()
    saved = app.config.get("ACCESS_ELIGIBILITY")
    app.config["ACCESS_ELIGIBILITY"] = "contributing_organisations"
    try:
        token = make.token(researcher)
        etag = client.get(
            f"{BASE}/{request_id}", headers={"Authorization": f"Bearer {token}"}
        ).headers["ETag"]
        response = client.post(
            f"{BASE}/{request_id}/submit",
            headers={"Authorization": f"Bearer {token}", "If-Match": etag},
        )
    finally:
        app.config["ACCESS_ELIGIBILITY"] = saved
    assert response.status_code == 200, response.get_json()


def test_without_a_committee_submission_is_refused_with_a_reason(app, client, world):
    from core.models import DataAccessCommittee

    request_id, etag = draft(client, world)
    with app.app_context(), writing():
        get_session().get(DataAccessCommittee, world.committee).is_default = False
        get_session().commit()
    response = submit(client, world, request_id, etag)
    assert response.status_code == 409
    assert "default" in response.get_json()["detail"]


def test_a_dataset_assigned_to_a_committee_goes_to_it(app, client, world, make):
    from governance.requests.models import DatasetCommittee

    other = make.committee(name="Myeloma committee")
    with app.app_context(), writing():
        get_session().add(
            DatasetCommittee(dataset_id=world.datasets["req-myeloma"], committee_id=other.id)
        )
        get_session().commit()
    request_id, etag = draft(client, world, datasets=[{"dataset": "req-myeloma"}])
    assert submit(client, world, request_id, etag).get_json()["committee_id"] == other.id
    both, etag = draft(client, world)  # datasets of two committees: the default one
    assert submit(client, world, both, etag).get_json()["committee_id"] == world.committee


def test_submit_needs_the_etag_and_twice_is_a_conflict(client, world):
    request_id, etag = draft(client, world)
    assert post(client, world, "applicant", f"{BASE}/{request_id}/submit").status_code == 428
    assert submit(client, world, request_id, '"stale-1"').status_code == 412
    response = submit(client, world, request_id, etag)
    assert response.status_code == 200
    again = submit(client, world, request_id, response.headers["ETag"])
    assert again.status_code == 409 and "withdraw" in again.get_json()["detail"]


def test_the_applicant_withdraws(client, world):
    request_id, etag = draft(client, world)
    etag = submit(client, world, request_id, etag).headers["ETag"]
    path = f"{BASE}/{request_id}/withdraw"
    assert post(client, world, "teammate", path, {}, **{"If-Match": etag}).status_code == 404
    response = post(client, world, "applicant", path, {"reason": "Funding ended."},
                    **{"If-Match": etag})  # fmt: skip
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"


def test_a_request_from_the_selection(app, client, world, make):
    from catalogue.selection import services as selection

    with app.app_context(), writing():
        applicant = world.actor("applicant")
        selection.add_dataset(applicant, "req-aml", ["NPM1"])
        selection.add_dataset(applicant, "req-closed", [])
    response = post(client, world, "applicant", BASE, {"from_selection": True})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [(d["identifier"], d["variables"]) for d in body["datasets"]] == [("req-aml", ["NPM1"])]


def test_dataset_states_after_submission_in_the_model(app, client, world):
    request_id, etag = draft(client, world)
    submit(client, world, request_id, etag)
    with app.app_context():
        request = get_session().get(AccessRequest, request_id)
        assert request.state is RequestState.SUBMITTED
        assert [d.state for d in request.datasets] == [
            DatasetState.PENDING_SIGNOFF,
            DatasetState.REQUESTED,
        ]
