"""Requests taken through the whole workflow for the after-approval tests: submitted by the
applicant (the application's services), signed off, voted on and decided (the review's
services), as the people of :mod:`tests.governance.requests.world`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import workflow
from core.db import get_session
from core.etags import UNCHECKED
from governance.requests.models import AccessRequest, ReportKind, RequestReport
from tests.governance.requests.world import RequestWorld, submit_request

VOTERS = ("chair", "member_2", "member_3")


def review(world: RequestWorld, request_id: str, outcome: str, **decision: Any) -> AccessRequest:
    """Sign off what waits for it, start the review, three votes, the chair's decision."""
    from governance.review import services as review_services

    request = get_session().get(AccessRequest, request_id)
    assert request is not None
    for item in request.datasets:
        if item.state.value == "pending_signoff":
            custodian = (
                "aml_custodian" if item.dataset.identifier == "req-aml" else "myeloma_custodian"
            )
            review_services.signoff(
                world.actor(custodian), request_id, item.dataset.identifier, True
            )
    workflow.apply(
        "access_request", world.actor("chair"), request_id, "start_review", if_match=UNCHECKED
    )
    for voter in VOTERS:
        review_services.cast_vote(
            world.actor(voter), request_id, "reject" if outcome == "reject" else "approve", ""
        )
    data = {"outcome": outcome, "reasons": "Sound plan.", "conditions": [], "datasets": {},
            "overrides": {}, "review_notes": {}, "reports": []} | decision  # fmt: skip
    review_services.decide(world.actor("chair"), request_id, data, UNCHECKED)
    request = get_session().get(AccessRequest, request_id)
    assert request is not None
    return request


def approved(world: RequestWorld, **overrides: Any) -> AccessRequest:
    return review(world, submit_request(world, **overrides), "approve")


def require_report(request_id: str, kind: str, due_on: dt.date) -> str:
    """A report the committee requires (as the decision would have made it)."""
    report = RequestReport(request_id=request_id, kind=ReportKind(kind), due_on=due_on)
    session = get_session()
    session.add(report)
    session.commit()
    return report.id


def approve_directly(
    world: RequestWorld, request_id: str, *, on: dt.date | None = None, **outcomes: str
) -> Any:
    """Approve a submitted amendment the way the decision does (state, decision, dataset
    states) and put it into effect with :func:`apply_amendment` — what the decision's hook
    does for a request with ``amends_id``. ``outcomes``: {dataset identifier: "rejected"}."""
    from core.db import utcnow
    from core.models import User
    from governance.oversight.services import apply_amendment
    from governance.requests.models import (
        DatasetState,
        Decision,
        DecisionOutcome,
        RequestState,
    )

    session = get_session()
    request = session.get(AccessRequest, request_id)
    assert request is not None
    chair = session.get(User, world.people["chair"])
    now = utcnow()
    said = {d.dataset_id: outcomes.get(d.dataset.identifier, "approved") for d in request.datasets}
    decision = Decision(
        request_id=request.id, round=request.round, outcome=DecisionOutcome.APPROVE,
        reasons="Fine.", dataset_outcomes=said, decided_by_id=chair.id if chair else None,
        decided_at=now,
    )  # fmt: skip
    session.add(decision)
    for item in request.datasets:
        item.state = DatasetState(said[item.dataset_id])
    request.state = RequestState.APPROVED
    request.decided_at = now
    session.flush()
    made = apply_amendment(request, decision, on=on)
    session.commit()
    return made
