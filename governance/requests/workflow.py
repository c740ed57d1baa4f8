"""The lifecycles of an access request and of each dataset in it, as tables
(:mod:`core.workflow`), registered as ``access_request`` and ``request_dataset``.

``access_request``:

- ``draft`` — being written by the applicant (autosaved); seen by the team only.
- ``submitted`` — complete and checked: the consent check ran for every dataset, the committee
  is chosen, custodians whose agreement asks for it are asked to sign off.
- ``under_review`` — the committee started (a member took it up, or the first vote came).
- ``returned`` — the committee asked for changes (its comments say which); the applicant edits
  and submits again (a new review round).
- ``approved`` / ``rejected`` — the chair's decision, final. An approval grants access for a
  limited time; a mistake is corrected by revocation or a new request, never by editing.
- ``withdrawn`` — by the applicant, at any time before the decision.
- ``closed`` — approved, and every entitlement it gave has ended (the periodic job).

``request_dataset`` (each requested dataset): ``requested`` → ``signed_off`` (or straight to the
decision when its agreement needs no sign-off), ``pending_signoff`` → ``signed_off`` |
``declined`` (dropped unless the committee overrides), then ``approved`` | ``rejected`` by the
decision and ``granted`` once access started for someone.

Rules and effects that belong to other sub-areas (the review, entitlements) are called through
their services (imported inside the functions: those sub-areas import this one).
"""

from __future__ import annotations

from typing import Any

from core import workflow as core_workflow
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput
from core.permissions import Permission
from core.policies import Actor, SystemActor
from core.workflow import Step, Transition, Workflow
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    DecisionOutcome,
    RequestDataset,
    RequestState,
)

(DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED, APPROVED, REJECTED, WITHDRAWN, CLOSED) = (
    s.value for s in RequestState
)
STATES = tuple(s.value for s in RequestState)
APPLY = Permission.ACCESS_REQUEST_APPLY
VOTE = Permission.ACCESS_REQUEST_VOTE
DECIDE = Permission.ACCESS_REQUEST_DECIDE

DECIDED = (
    "The committee decided this request; decisions are final. Ask for an amendment or "
    "make a new request."
)


def state_of(request: AccessRequest) -> str:
    return request.state.value


def set_state(request: AccessRequest, state: str) -> None:
    request.state = RequestState(state)
    request.state_changed_at = utcnow()


def load(actor: Actor, request_id: str) -> AccessRequest:
    from governance.requests import services

    return services.get_request(actor, request_id)


def etag(request: AccessRequest) -> str:
    from governance.requests import services

    return services.etag(request)


def _touched(step: Step) -> None:
    request: AccessRequest = step.obj
    request.updated_at = utcnow()
    step.context.setdefault("reference", request.reference)
    step.context.setdefault("round", request.round)
    step.payload.setdefault("reference", request.reference)
    step.payload.setdefault("round", request.round)


def _system_only(step: Step) -> None:
    if not isinstance(step.actor, SystemActor):
        raise Forbidden(
            "A request is closed by the periodic job once every access it gave has ended."
        )


# --- the applicant --------------------------------------------------------------------------


def submit(step: Step) -> AccessRequest:
    """Completeness, eligibility, the consent checks, the committee, sign-offs (the
    application's services)."""
    from governance.requests import services

    services.prepare_submission(step)
    request: AccessRequest = step.obj
    if request.submitted_at is None:
        request.submitted_at = utcnow()
    again = step.state == RETURNED
    step.summary = step.summary or (
        f"Submitted again (review round {request.round})."
        if again
        else f"Submitted {request.reference}."
    )
    _touched(step)
    return request


def check_withdraw(step: Step) -> None:
    reason = (step.params.get("reason") or "").strip()
    step.params["reason"] = reason[:2000]


def withdraw(step: Step) -> AccessRequest:
    request: AccessRequest = step.obj
    reason = step.params.get("reason") or ""
    step.summary = "Withdrawn by the applicant." + (f" {reason}" if reason else "")
    if reason:
        step.after["withdrawal_reason"] = reason
    _touched(step)
    return request


# --- the committee --------------------------------------------------------------------------


def check_start_review(step: Step) -> None:
    """A member recused from the request (a conflict of interest) takes no part in it, not
    even by starting its review."""
    from core.models import User
    from governance.review import services as review

    if isinstance(step.actor, User):
        why = review.recusal_of(step.obj, step.actor)
        if why:
            raise Forbidden(f"You are recused from this request's review: {why}")


def start_review(step: Step) -> AccessRequest:
    step.summary = "The committee started the review."
    _touched(step)
    return step.obj


def _decide(outcome: DecisionOutcome) -> Any:
    def effect(step: Step) -> Any:
        from governance.review import services as review

        outcome_now = step.params.get("outcome") or outcome
        decision = review.record_decision(step, DecisionOutcome(outcome_now))
        request: AccessRequest = step.obj
        request.decided_at = decision.decided_at
        step.context.setdefault("decision", decision.id)
        step.payload.setdefault("decision", decision.id)
        step.payload.setdefault("outcome", decision.outcome.value)
        _touched(step)
        return decision

    return effect


def check_close(step: Step) -> None:
    _system_only(step)
    from governance.entitlements import services as entitlements

    if not entitlements.all_ended(step.obj):
        raise Conflict("Some access this request gave is still running; it closes when all ended.")


def close(step: Step) -> AccessRequest:
    request: AccessRequest = step.obj
    request.closed_at = utcnow()
    step.summary = "Closed: every access it gave has ended."
    _touched(step)
    return request


def _never(_obj: Any) -> bool:
    return False


ACCESS_REQUEST = Workflow(
    name="access_request",
    object_type="access_request",
    description="An application for access to datasets, from its draft to the committee's "
    "decision and the end of the access it gave.",
    states=STATES,
    initial=DRAFT,
    transitions=(
        Transition(
            DRAFT,
            "submit",
            SUBMITTED,
            APPLY,
            label="Submit request",
            effect=submit,
            event="access_request.submitted",
        ),
        Transition(
            RETURNED,
            "submit",
            SUBMITTED,
            APPLY,
            label="Submit again",
            effect=submit,
            event="access_request.submitted",
        ),
        Transition(
            SUBMITTED,
            "start_review",
            UNDER_REVIEW,
            VOTE,
            label="Start review",
            rule=check_start_review,
            effect=start_review,
            if_match=False,
            event="access_request.review_started",
        ),
        Transition(
            UNDER_REVIEW,
            "approve",
            APPROVED,
            DECIDE,
            label="Approve",
            effect=_decide(DecisionOutcome.APPROVE),
            event="access_request.approved",
        ),
        Transition(
            UNDER_REVIEW,
            "reject",
            REJECTED,
            DECIDE,
            label="Reject",
            effect=_decide(DecisionOutcome.REJECT),
            event="access_request.rejected",
        ),
        Transition(
            UNDER_REVIEW,
            "return",
            RETURNED,
            DECIDE,
            label="Return to the applicant",
            effect=_decide(DecisionOutcome.RETURN),
            event="access_request.returned",
        ),
        *(
            Transition(
                state,
                "withdraw",
                WITHDRAWN,
                APPLY,
                label="Withdraw request",
                rule=check_withdraw,
                effect=withdraw,
                event="access_request.withdrawn",
            )
            for state in (DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED)
        ),
        Transition(
            APPROVED,
            "close",
            CLOSED,
            Permission.ACCESS_REQUEST_CLOSE,
            rule=check_close,
            effect=close,
            if_match=False,
            offered=_never,
            event="access_request.closed",
        ),
    ),
    state_of=state_of,
    set_state=set_state,
    load=load,
    etag=etag,
    read_permission=Permission.ACCESS_REQUEST_READ,
    refusals={
        (SUBMITTED, "submit"): "This request is submitted already; it is waiting for the "
        "committee.",
        (UNDER_REVIEW, "submit"): "The committee is reviewing this request.",
        (DRAFT, "start_review"): "A draft is not submitted yet.",
        (UNDER_REVIEW, "start_review"): "The review has started already.",
        (SUBMITTED, "approve"): "Start the review first: the committee votes before a decision.",
        (SUBMITTED, "reject"): "Start the review first: the committee votes before a decision.",
        (SUBMITTED, "return"): "Start the review first: the committee votes before a decision.",
        (DRAFT, "approve"): "A draft is not submitted yet.",
        (DRAFT, "reject"): "A draft is not submitted yet.",
        (DRAFT, "return"): "A draft is not submitted yet.",
        (APPROVED, "approve"): DECIDED,
        (APPROVED, "reject"): DECIDED,
        (APPROVED, "return"): DECIDED,
        (APPROVED, "withdraw"): "The request is approved: access ends by revocation, or at its "
        "end date.",
        (REJECTED, "approve"): DECIDED,
        (REJECTED, "submit"): DECIDED,
        (REJECTED, "withdraw"): DECIDED,
        (WITHDRAWN, "submit"): "This request was withdrawn; make a new one.",
        (CLOSED, "submit"): "This request is closed; make a new one.",
    },
)


# --- each requested dataset -----------------------------------------------------------------

REQUESTED, PENDING_SIGNOFF, SIGNED_OFF, DECLINED = (
    DatasetState.REQUESTED.value,
    DatasetState.PENDING_SIGNOFF.value,
    DatasetState.SIGNED_OFF.value,
    DatasetState.DECLINED.value,
)
DATASET_STATES = tuple(s.value for s in DatasetState)


def dataset_state_of(item: RequestDataset) -> str:
    return item.state.value


def set_dataset_state(item: RequestDataset, state: str) -> None:
    item.state = DatasetState(state)
    item.state_changed_at = utcnow()


def load_dataset(actor: Actor, item_id: str) -> RequestDataset:
    """A requested dataset, as its request is seen by ``actor`` (404 otherwise)."""
    from core.db import get_session
    from core.errors import NotFound
    from governance.requests import services

    item = get_session().get(RequestDataset, item_id)
    if item is None:
        raise NotFound("No such requested dataset.")
    services.get_request(actor, item.request_id)
    return item


def _round_open(step: Step) -> None:
    from core.db import get_session

    request = get_session().get(AccessRequest, step.obj.request_id)
    if request is None or request.state not in (
        RequestState.SUBMITTED,
        RequestState.UNDER_REVIEW,
    ):
        raise Conflict("Sign-offs are given while the request is with the committee.")


def check_signoff(step: Step) -> None:
    _round_open(step)
    step.params["reason"] = (step.params.get("reason") or "").strip()[:2000]


def check_decline(step: Step) -> None:
    _round_open(step)
    reason = (step.params.get("reason") or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the dataset cannot be shared for this use.")
    step.params["reason"] = reason[:2000]


def _signoff_effect(approved: bool) -> Any:
    def effect(step: Step) -> Any:
        from governance.review import services as review

        return review.record_signoff(step, approved=approved)

    return effect


def check_override(step: Step) -> None:
    _round_open(step)
    text = (step.params.get("justification") or "").strip()
    if not text:
        raise InvalidInput.field(
            "justification", "Say why the committee keeps a dataset its custodian declined."
        )
    step.params["justification"] = text[:4000]


def override(step: Step) -> RequestDataset:
    item: RequestDataset = step.obj
    item.override_justification = step.params["justification"]
    item.override_by_id = getattr(step.actor, "id", None)
    item.override_at = utcnow()
    step.after["override_justification"] = item.override_justification
    step.summary = f"The committee kept the declined dataset: {item.override_justification}"
    return item


def _dataset_audit_id(item: RequestDataset) -> str:
    return item.id


def _by_the_system(step: Step) -> None:
    """Submission, the decision and the start of access move datasets as part of their own
    step (in its transaction); these rows say so in the table and its diagram."""
    if not isinstance(step.actor, SystemActor):
        raise Forbidden("This happens with the request's submission, decision or access.")


def _system_row(state: str, action: str, to: str) -> Transition:
    return Transition(
        state,
        action,
        to,
        Permission.ACCESS_REQUEST_CLOSE,
        rule=_by_the_system,
        if_match=False,
        offered=_never,
        event=f"request_dataset.{to}",
    )


REQUEST_DATASET = Workflow(
    name="request_dataset",
    object_type="request_dataset",
    description="One dataset inside an access request: the custodian's sign-off where the "
    "agreement asks for it, then the committee's decision and the access.",
    states=DATASET_STATES,
    initial=REQUESTED,
    transitions=(
        _system_row(REQUESTED, "require_signoff", PENDING_SIGNOFF),
        Transition(
            PENDING_SIGNOFF,
            "signoff",
            SIGNED_OFF,
            Permission.ACCESS_REQUEST_SIGNOFF,
            label="Sign off",
            rule=check_signoff,
            effect=_signoff_effect(True),
            if_match=False,
            event="request_dataset.signed_off",
        ),
        Transition(
            PENDING_SIGNOFF,
            "decline",
            DECLINED,
            Permission.ACCESS_REQUEST_SIGNOFF,
            label="Decline",
            rule=check_decline,
            effect=_signoff_effect(False),
            if_match=False,
            event="request_dataset.declined",
        ),
        Transition(
            DECLINED,
            "override",
            SIGNED_OFF,
            Permission.ACCESS_REQUEST_DECIDE,
            label="Keep it (override)",
            rule=check_override,
            effect=override,
            if_match=False,
            event="request_dataset.override",
        ),
        *(
            _system_row(state, "approve", DatasetState.APPROVED.value)
            for state in (REQUESTED, SIGNED_OFF)
        ),
        *(
            _system_row(state, "reject", DatasetState.REJECTED.value)
            for state in (REQUESTED, SIGNED_OFF, PENDING_SIGNOFF, DECLINED)
        ),
        _system_row(DatasetState.APPROVED.value, "grant", DatasetState.GRANTED.value),
    ),
    state_of=dataset_state_of,
    set_state=set_dataset_state,
    load=load_dataset,
    audit_object_id=_dataset_audit_id,
    read_permission=Permission.ACCESS_REQUEST_READ,
    revision=None,
    refusals={
        (REQUESTED, "signoff"): "This dataset's agreement does not ask for a sign-off.",
        (SIGNED_OFF, "signoff"): "This dataset is signed off already.",
        (DECLINED, "signoff"): "This dataset was declined; the committee may override that.",
        (SIGNED_OFF, "decline"): "This dataset is signed off already.",
    },
)


def register() -> None:
    core_workflow.register(ACCESS_REQUEST)
    core_workflow.register(REQUEST_DATASET)
