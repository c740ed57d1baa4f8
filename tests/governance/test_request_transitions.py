"""The access-request tables tested exhaustively: every state x action x role of the
``access_request`` workflow and of ``request_dataset`` (each requested dataset) answers what the
table and the policies say (:mod:`tests.core.workflow_cases`), and every change it lets through
is in the audit trail.

The objects are made once per module, one per state, through the services as people would
(create, submit, sign off or decline, vote, decide, accept the terms, revoke, the system's
close); each case runs in its own savepoint, so a case that changes its object changes it for
itself only. The roles: the applicant, a teammate on the request, a researcher on no team, the
custodian of a requested dataset's organisation (for ``request_dataset``: of *that* dataset's
organisation), a custodian of an organisation with no dataset in the request, a committee member,
the chair, a member with a conflict (from the applicant's organisation), an administrator, nobody
logged in, and the system (the periodic jobs and the operator).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from core import audit, workflow
from core.db import get_session, writing
from core.errors import Conflict
from core.etags import UNCHECKED
from core.models import Role
from core.permissions import Permission
from core.policies import SYSTEM, Actor, can
from governance.entitlements import services as entitlements
from governance.requests.models import AccessRequest, RequestDataset
from governance.requests.workflow import ACCESS_REQUEST, REQUEST_DATASET
from governance.review import services as review
from tests.conftest import shared_world
from tests.core.workflow_cases import (
    SUCCESS,
    assert_table_is_sound,
    case_params,
    expected_status,
    status_of,
)
from tests.governance.requests.world import RequestWorld, build_world, create_request

ROLES = (
    "applicant",
    "teammate",
    "outsider",
    "custodian",
    "other_custodian",
    "member",
    "chair",
    "conflicted",
    "admin",
    "anonymous",
    "system",
)
#: the world's person who plays each role (the custodian: of req-aml's organisation)
PEOPLE = {
    "applicant": "applicant",
    "teammate": "teammate",
    "outsider": "outsider",
    "custodian": "aml_custodian",
    "other_custodian": "other_custodian",
    "member": "member_2",
    "chair": "chair",
    "conflicted": "member_1",
    "admin": "admin",
}
PARAMS = {
    "withdraw": {"reason": "The project lost its funding."},
    "approve": {"reasons": "A sound project; the consent check agrees."},
    "reject": {"reasons": "The purpose does not need patient-level data."},
    "return": {"reasons": "Say which variables answer which question."},
    "decline": {"reason": "The trial's consent excludes this use."},
    "signoff": {"reason": "Fine by the trial group."},
    "override": {"justification": "The committee finds the use covered by the consent."},
}
#: what the rules answer for objects the makers cannot make pass: an approved request closes
#: only when every access it gave has ended (its entitlements still wait for acceptance)
REQUEST_RULES = {("approved", "close"): 409}
DECISIONS = ("approve", "reject", "return")


@dataclass
class States:
    world: RequestWorld
    requests: dict[str, str] = field(default_factory=dict)  # state → request id
    items: dict[str, tuple[str, str]] = field(default_factory=dict)  # state → (item id, custodian)
    without_quorum: str = ""  # under review, one vote of the two the quorum needs

    def actor(self, role: str, custodian: str = "aml_custodian") -> Actor:
        if role == "system":
            return SYSTEM
        if role == "anonymous":
            return None
        return self.world.actor(custodian if role == "custodian" else PEOPLE[role])


# --- the makers (through the services) ------------------------------------------------------


def _apply(world: RequestWorld, who: str, request_id: str, action: str) -> None:
    actor = SYSTEM if who == "system" else world.actor(who)
    workflow.apply(
        ACCESS_REQUEST, actor, request_id, action, if_match=UNCHECKED, params=PARAMS.get(action)
    )


def _draft(world: RequestWorld) -> str:
    """A complete draft for req-aml (sign-off required) and req-myeloma, with the teammate."""
    return create_request(world, members=[{"email": world.emails["teammate"], "role": "Analyst"}])


def _submitted(world: RequestWorld) -> str:
    request_id = _draft(world)
    _apply(world, "applicant", request_id, "submit")
    return request_id


def _under_review(world: RequestWorld, quorum: bool = True) -> str:
    """Submitted, req-aml signed off by its custodian; with ``quorum`` two members vote (the
    first vote starts the review), without it the chair starts it and one member votes."""
    request_id = _submitted(world)
    review.signoff(world.actor("aml_custodian"), request_id, "req-aml", True, "Fine.")
    if not quorum:
        _apply(world, "chair", request_id, "start_review")
    review.cast_vote(world.actor("member_2"), request_id, "approve", "Sound.")
    if quorum:
        review.cast_vote(world.actor("member_3"), request_id, "approve", "Agreed.")
    return request_id


def _decided(world: RequestWorld, action: str) -> str:
    request_id = _under_review(world)
    _apply(world, "chair", request_id, action)
    return request_id


def _item(request_id: str, identifier: str) -> str:
    request = get_session().get(AccessRequest, request_id)
    assert request is not None
    return next(d.id for d in request.datasets if d.dataset.identifier == identifier)


def build_states(world: RequestWorld) -> States:
    states = States(world)
    requests = states.requests
    requests["draft"] = _draft(world)
    requests["submitted"] = _submitted(world)
    requests["under_review"] = _under_review(world)
    for action, state in (("approve", "approved"), ("reject", "rejected"), ("return", "returned")):
        requests[state] = _decided(world, action)
    requests["withdrawn"] = _draft(world)
    _apply(world, "applicant", requests["withdrawn"], "withdraw")
    # closed: approved, every entitlement revoked by an administrator, then the system's close
    requests["closed"] = _decided(world, "approve")
    entitlements.revoke(world.actor("admin"), requests["closed"], reason="Breach of terms.")
    _apply(world, "system", requests["closed"], "close")
    states.without_quorum = _under_review(world, quorum=False)
    # each requested dataset's states: the custodian of req-myeloma is asked for nothing
    declined = _submitted(world)
    review.signoff(world.actor("aml_custodian"), declined, "req-aml", False, "No consent.")
    granted = _decided(world, "approve")
    terms = entitlements.terms_of(get_session().get(AccessRequest, granted))  # type: ignore[arg-type]
    entitlements.accept_terms(world.actor("applicant"), granted, terms.sha256)
    for state, request_id, identifier in (
        ("requested", requests["submitted"], "req-myeloma"),
        ("pending_signoff", requests["submitted"], "req-aml"),
        ("signed_off", requests["under_review"], "req-aml"),
        ("declined", declined, "req-aml"),
        ("approved", requests["approved"], "req-aml"),
        ("rejected", requests["rejected"], "req-aml"),
        ("granted", granted, "req-aml"),
    ):
        custodian = "myeloma_custodian" if identifier == "req-myeloma" else "aml_custodian"
        states.items[state] = (_item(request_id, identifier), custodian)
    return states


@pytest.fixture(scope="module")
def states(app: Flask, reference_engine: Any) -> Iterator[States]:
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        elsewhere = make.organisation(name="Rotterdam Lymphoma Group", country="NL")
        other = make.user(Role.CUSTODIAN, organisation=elsewhere, name="Otto Rotterdam")
        world.people["other_custodian"] = other.id
        with app.app_context(), writing():
            built = build_states(world)
        yield built


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context(), writing():
        yield


# --- the expectations -----------------------------------------------------------------------


def _sees_request(actor: Actor, request: AccessRequest) -> bool:
    """Whom a request is hidden from (404); nobody logged in learns 401 before anything."""
    return actor is None or can(actor, Permission.ACCESS_REQUEST_READ, request)


def _sees_item(actor: Actor, item: RequestDataset) -> bool:
    request = get_session().get(AccessRequest, item.request_id)
    return _sees_request(actor, request)  # type: ignore[arg-type]


def _audited(object_type: str, object_id: str, event: str, to: str) -> None:
    newest = audit.events_for(object_type, object_id)[0]
    assert newest.action == event
    assert (newest.after or {}).get("state") == to


def test_the_tables_are_sound_and_registered():
    assert_table_is_sound(ACCESS_REQUEST)
    assert_table_is_sound(REQUEST_DATASET)
    assert workflow.get("access_request") is ACCESS_REQUEST
    assert workflow.get("request_dataset") is REQUEST_DATASET


@pytest.mark.parametrize(("state", "action", "role"), case_params(ACCESS_REQUEST, ROLES))
def test_every_request_state_action_and_role(states, ctx, state, action, role):
    request = get_session().get(AccessRequest, states.requests[state])
    assert request is not None and ACCESS_REQUEST.state_of(request) == state
    actor = states.actor(role)
    expected = expected_status(
        ACCESS_REQUEST, actor, request, action, visible=_sees_request, rule_answers=REQUEST_RULES
    )
    if role == "conflicted" and action == "start_review" and expected == 200:
        expected = 403  # a recused member takes no part, not even by starting the review
    answered = status_of(
        lambda: workflow.apply(
            ACCESS_REQUEST,
            actor,
            request.id,
            action,
            if_match=UNCHECKED,
            params=PARAMS.get(action),
        )
    )
    assert answered == expected
    if answered == SUCCESS:
        row = ACCESS_REQUEST.row(state, action)
        assert row is not None
        _audited("access_request", request.id, row.event or f"access_request.{action}", row.to)


@pytest.mark.parametrize(("state", "action", "role"), case_params(REQUEST_DATASET, ROLES))
def test_every_requested_dataset_state_action_and_role(states, ctx, state, action, role):
    item_id, custodian = states.items[state]
    item = get_session().get(RequestDataset, item_id)
    assert item is not None and REQUEST_DATASET.state_of(item) == state
    actor = states.actor(role, custodian)
    expected = expected_status(REQUEST_DATASET, actor, item, action, visible=_sees_item)
    answered = status_of(
        lambda: workflow.apply(
            REQUEST_DATASET, actor, item.id, action, if_match=UNCHECKED, params=PARAMS.get(action)
        )
    )
    assert answered == expected
    if answered == SUCCESS:
        row = REQUEST_DATASET.row(state, action)
        assert row is not None
        _audited("request_dataset", item.id, row.event or f"request_dataset.{action}", row.to)


@pytest.mark.parametrize("action", DECISIONS)
@pytest.mark.parametrize("role", ROLES)
def test_no_decision_without_the_quorum(states, ctx, action, role):
    """One vote of the two needed: whoever may decide is refused with 409 naming the quorum;
    the others meet the table's 401/403/404 first."""
    request = get_session().get(AccessRequest, states.without_quorum)
    assert request is not None and request.state.value == "under_review"
    actor = states.actor(role)
    rules = {("under_review", a): 409 for a in DECISIONS}
    expected = expected_status(
        ACCESS_REQUEST, actor, request, action, visible=_sees_request, rule_answers=rules
    )
    call = lambda: workflow.apply(  # noqa: E731
        ACCESS_REQUEST, actor, request.id, action, if_match=UNCHECKED, params=PARAMS[action]
    )
    assert status_of(call) == expected
    if expected == 409:
        with pytest.raises(Conflict, match="quorum is not reached"):
            call()
        assert review.decision_of(request) is None


def test_an_approved_request_closes_once_every_access_ended(states, ctx):
    closed = get_session().get(AccessRequest, states.requests["closed"])
    assert closed is not None and closed.state.value == "closed" and closed.closed_at
    actions = [e.action for e in audit.events_for("access_request", closed.id)]
    assert actions[:2] == ["access_request.closed", "entitlement.revoked"]
    with pytest.raises(Conflict, match="still running"):
        _apply(states.world, "system", states.requests["approved"], "close")
