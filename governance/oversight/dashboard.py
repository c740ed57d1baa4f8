"""The committee dashboard: how the requests of one's committees fare.

- requests per state (drafts are their applicants' own and are not counted);
- the median days of each stage, from the request's state changes in the audit trail (each
  review round counts on its own: a request returned once has two rounds);
- how often the committee's decision agreed with the automatic consent check, per decided
  dataset (approved and ``compatible``, rejected and ``incompatible``), where it went further
  (approved although ``incompatible``: an override) or was stricter, and what it decided on
  ``needs_review`` items;
- required reports that are overdue.

A committee member sees the requests of their committees; an administrator sees all.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_session, utcnow
from core.models import DataAccessCommittee
from core.permissions import Permission
from core.policies import Actor, is_admin, require, require_login
from governance.matching.check import COMPATIBLE, INCOMPATIBLE, NEEDS_REVIEW
from governance.oversight import services
from governance.requests.models import (
    AccessRequest,
    Decision,
    DecisionOutcome,
    RequestState,
)

STATE_LABELS = {
    RequestState.SUBMITTED: "Submitted, waiting for review",
    RequestState.UNDER_REVIEW: "Under review",
    RequestState.RETURNED: "Returned to the applicant",
    RequestState.APPROVED: "Approved",
    RequestState.REJECTED: "Rejected",
    RequestState.WITHDRAWN: "Withdrawn",
    RequestState.CLOSED: "Closed (access ended)",
}
STAGES = (
    ("waiting", "Submitted → review started"),
    ("review", "Review started → decision"),
    ("round", "Submitted → decision (each round)"),
    ("applicant", "Returned → submitted again (with the applicant)"),
    ("overall", "First submission → final decision"),
)
#: (check outcome, committee outcome) → (key, words)
AGREEMENT = {
    (COMPATIBLE, "approved"): ("agreed", "Approved, and the check found it compatible"),
    (INCOMPATIBLE, "rejected"): ("agreed", "Rejected, and the check found it incompatible"),
    (INCOMPATIBLE, "approved"): ("override", "Approved although the check found it incompatible"),
    (COMPATIBLE, "rejected"): ("stricter", "Rejected although the check found it compatible"),
    (NEEDS_REVIEW, "approved"): ("judged", "Approved after review of a “needs review” item"),
    (NEEDS_REVIEW, "rejected"): ("judged", "Rejected after review of a “needs review” item"),
}
FINAL = (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS, DecisionOutcome.REJECT)
DECIDED_STATES = {RequestState.APPROVED.value, RequestState.REJECTED.value}


@dataclass(frozen=True)
class StateRow:
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class StageRow:
    key: str
    label: str
    median_days: float | None
    count: int


@dataclass(frozen=True)
class AgreementRow:
    check: str
    decision: str
    kind: str  # agreed | override | stricter | judged | unchecked
    label: str
    count: int


@dataclass(frozen=True)
class OverrideRow:
    request_id: str
    reference: str
    dataset_id: str
    dataset: str
    justification: str
    decided_at: dt.datetime


@dataclass(frozen=True)
class OverdueRow:
    request_id: str
    reference: str
    title: str
    kind: str
    due_on: dt.date
    days_overdue: int


@dataclass
class CommitteeDashboard:
    committees: list[str]  # names; empty for an administrator (all)
    all_committees: bool
    states: list[StateRow]
    stages: list[StageRow]
    agreement: list[AgreementRow]
    agreement_rate: float | None  # agreed / (decided datasets whose check was not needs_review)
    decided_datasets: int
    overrides: list[OverrideRow]
    overdue: list[OverdueRow]
    generated_at: dt.datetime = field(default_factory=utcnow)

    @property
    def total(self) -> int:
        return sum(row.count for row in self.states)

    @property
    def empty(self) -> bool:
        return self.total == 0 and not self.overdue


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86400


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def stage_durations(request_ids: Any) -> dict[str, list[float]]:
    """Days of each stage (see :data:`STAGES`) over the requests ``request_ids`` selects,
    walking each request's state changes in the audit trail in order."""
    rows = get_session().execute(
        select(AuditEvent.object_id, AuditEvent.at, AuditEvent.after)
        .where(
            AuditEvent.object_type == services.OBJECT_TYPE,
            AuditEvent.object_id.in_(request_ids),
        )
        .order_by(AuditEvent.object_id, AuditEvent.seq)
    )
    durations: dict[str, list[float]] = defaultdict(list)
    walk: dict[str, dict[str, dt.datetime | None]] = {}
    for object_id, at, after in rows:
        state = (after or {}).get("state")
        if not state:
            continue
        mark = walk.setdefault(object_id, {})
        if state == RequestState.SUBMITTED.value:
            if mark.get("returned"):
                durations["applicant"].append(_days(at - mark["returned"]))
            mark.update(submitted=at, review=None, returned=None)
            mark.setdefault("first", at)
        elif state == RequestState.UNDER_REVIEW.value:
            if mark.get("submitted"):
                durations["waiting"].append(_days(at - mark["submitted"]))
            mark["review"] = at
        elif state in DECIDED_STATES or state == RequestState.RETURNED.value:
            if mark.get("review"):
                durations["review"].append(_days(at - mark["review"]))
            if mark.get("submitted"):
                durations["round"].append(_days(at - mark["submitted"]))
            if state in DECIDED_STATES and mark.get("first"):
                durations["overall"].append(_days(at - mark["first"]))
            mark.update(submitted=None, review=None)
            mark["returned"] = at if state == RequestState.RETURNED.value else None
    return durations


def committee_dashboard(actor: Actor, *, on: dt.date | None = None) -> CommitteeDashboard:
    """The dashboard of ``actor``'s committees (every committee for an administrator).

    :raises Unauthenticated: (401) for anonymous callers.
    :raises Forbidden: (403) for someone on no committee.
    """
    require_login(actor)
    require(actor, Permission.ACCESS_REQUEST_REVIEW)
    session = get_session()
    everything = is_admin(actor)
    committee_ids: set[str] | None = None if everything else actor.committees()  # type: ignore[union-attr]
    names: list[str] = []
    scope = AccessRequest.state != RequestState.DRAFT
    if committee_ids is not None:
        scope = scope & AccessRequest.committee_id.in_(sorted(committee_ids))
        names = sorted(
            session.scalars(
                select(DataAccessCommittee.name).where(
                    DataAccessCommittee.id.in_(sorted(committee_ids))
                )
            )
        )
    counts = dict(
        session.execute(
            select(AccessRequest.state, func.count()).where(scope).group_by(AccessRequest.state)
        ).all()
    )
    states = [
        StateRow(state.value, label, int(counts.get(state, 0)))
        for state, label in STATE_LABELS.items()
    ]
    durations = stage_durations(select(AccessRequest.id).where(scope))
    stages = [
        StageRow(key, label, _median(durations.get(key, [])), len(durations.get(key, [])))
        for key, label in STAGES
    ]
    agreement, overrides, decided = _agreement(scope)
    counted = [row for row in agreement if row.kind in ("agreed", "override", "stricter")]
    checked = sum(row.count for row in counted)
    agreed = sum(row.count for row in counted if row.kind == "agreed")
    today = on or services.today()
    overdue = [
        OverdueRow(
            request.id,
            request.reference,
            report.title or "",
            report.kind.value,
            report.due_on,
            (today - report.due_on).days,
        )
        for report, request in services.overdue_reports(committee_ids, today)
        if report.due_on is not None  # the query asks for a date: for the type checker
    ]
    return CommitteeDashboard(
        committees=names,
        all_committees=everything,
        states=states,
        stages=stages,
        agreement=agreement,
        agreement_rate=round(agreed / checked, 3) if checked else None,
        decided_datasets=decided,
        overrides=overrides,
        overdue=overdue,
    )


def _agreement(scope: Any) -> tuple[list[AgreementRow], list[OverrideRow], int]:
    """Per decided dataset of the requests in ``scope``: the check's outcome against the
    committee's, from each request's latest final decision."""
    session = get_session()
    latest = (
        select(Decision.request_id, func.max(Decision.round).label("round"))
        .where(Decision.outcome.in_(FINAL))
        .group_by(Decision.request_id)
        .subquery()
    )
    rows = session.execute(
        select(Decision, AccessRequest)
        .join(
            latest,
            (latest.c.request_id == Decision.request_id) & (latest.c.round == Decision.round),
        )
        .join(AccessRequest, AccessRequest.id == Decision.request_id)
        .where(scope)
        .order_by(Decision.decided_at.desc())
    ).all()
    tally: Counter[tuple[str, str]] = Counter()
    overrides: list[OverrideRow] = []
    decided = 0
    for decision, request in rows:
        outcomes = decision.dataset_outcomes or {}
        for item in request.datasets:
            said = outcomes.get(item.dataset_id) or (
                "rejected" if decision.outcome is DecisionOutcome.REJECT else "approved"
            )
            if said not in ("approved", "rejected"):
                continue
            decided += 1
            tally[(item.check_outcome or "unchecked", said)] += 1
            justification = (decision.overrides or {}).get(item.dataset_id)
            if justification and said == "approved":
                overrides.append(
                    OverrideRow(
                        request.id,
                        request.reference,
                        item.dataset_id,
                        item.dataset.identifier,
                        justification,
                        decision.decided_at,
                    )
                )
    agreement = []
    for (check, said), count in sorted(tally.items()):
        kind, label = AGREEMENT.get(
            (check, said), ("unchecked", f"{said.capitalize()} without a stored check")
        )
        agreement.append(AgreementRow(check, said, kind, label, count))
    order = {"agreed": 0, "override": 1, "stricter": 2, "judged": 3, "unchecked": 4}
    agreement.sort(key=lambda r: (order[r.kind], r.check, r.decision))
    return agreement, overrides, decided
