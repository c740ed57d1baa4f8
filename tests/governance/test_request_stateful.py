"""Random journeys through access requests: a hypothesis state machine lets random people
(the applicant, a teammate, a researcher on no team, both custodians, the committee's chair and
members — one of them from the applicant's organisation —, an administrator, nobody logged in)
create, edit, submit, withdraw, start the review, vote, recuse, sign off or decline, override,
decide, accept the terms and revoke, and lets the hourly job run with its clock moved ahead,
each step through the services as the API calls them (with the ETag the caller just read).

Refusals (401/403/404/409/412/422) are part of the game; anything else is a failure. After
every step the invariants must hold:

- no entitlement without an approval: each comes from an approving decision of its request
  that approved its dataset, for someone who was on the team; a live one only while the request
  is approved, an active one only after its person accepted the terms;
- no approval (no decision at all) without the quorum at the time of the decision, counted
  here from the votes and recusals of its round;
- no vote from a recused member, nor from a member with a conflict of interest;
- at most one decision per request and round, and the request's state agrees with its
  current round's decision;
- every request and requested dataset is in a state of its table, and replaying the audit
  trail's state changes through the table ends in the request's state (every change audited);
- the audit chain verifies (:func:`core.audit.verify`).

The world is built once per module; each example runs in a savepoint of it, rolled back after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, func, select

from core import audit, workflow
from core.db import get_session, writing
from core.errors import ServiceError
from core.models import DataAccessCommittee, User
from core.policies import Actor
from governance.entitlements import jobs
from governance.entitlements import services as entitlements
from governance.requests import services as applications
from governance.requests.models import (
    Acceptance,
    AccessRequest,
    Decision,
    DecisionOutcome,
    Entitlement,
    EntitlementState,
    Recusal,
    RequestMember,
    RequestState,
    Vote,
)
from governance.requests.workflow import ACCESS_REQUEST, REQUEST_DATASET
from governance.review import services as review
from tests import conftest as root
from tests.conftest import shared_world
from tests.governance.requests.world import RequestWorld, application, build_world

PEOPLE = (
    "applicant",
    "teammate",
    "outsider",
    "aml_custodian",
    "myeloma_custodian",
    "chair",
    "member_1",
    "member_2",
    "member_3",
    "admin",
    "anonymous",
)
COMMITTEE = ("chair", "member_1", "member_2", "member_3")
CUSTODIANS = {"req-aml": "aml_custodian", "req-myeloma": "myeloma_custodian"}
DATASETS = {
    "both": [
        {"dataset": "req-aml", "variables": ["FLT3_ITD", "NPM1", "KARYOTYPE"]},
        {"dataset": "req-myeloma"},
    ],
    "aml": [{"dataset": "req-aml", "variables": ["FLT3_ITD"]}],
    "myeloma": [{"dataset": "req-myeloma"}],
}
APPROVALS = (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS)
DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED, APPROVED = (
    RequestState.DRAFT,
    RequestState.SUBMITTED,
    RequestState.UNDER_REVIEW,
    RequestState.RETURNED,
    RequestState.APPROVED,
)
OPEN = (DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED)  # a new request once none is open
LIVE = (EntitlementState.AWAITING_ACCEPTANCE, EntitlementState.ACTIVE)
#: the state a request is in after its current round's decision (and what may follow it)
AFTER_DECISION = {
    DecisionOutcome.APPROVE: {RequestState.APPROVED, RequestState.CLOSED},
    DecisionOutcome.APPROVE_WITH_CONDITIONS: {RequestState.APPROVED, RequestState.CLOSED},
    DecisionOutcome.REJECT: {RequestState.REJECTED},
    DecisionOutcome.RETURN: {RequestState.RETURNED, RequestState.WITHDRAWN},
}
#: the audit events of the access_request table's rows → the rows' (from, to) pairs
TABLE_EVENTS: dict[str, set[tuple[str, str]]] = {}
for _row in ACCESS_REQUEST.transitions:
    TABLE_EVENTS.setdefault(_row.event or f"access_request.{_row.action}", set()).add(
        (_row.state, _row.to)
    )


def mostly(*usual: str) -> st.SearchStrategy[str]:
    """``usual`` people three times out of four, anyone otherwise: random steps by random
    people rarely get a request anywhere, and the refusals stay frequent enough."""
    return st.sampled_from(usual * (3 * len(PEOPLE) // len(usual)) + PEOPLE)


people = st.sampled_from(PEOPLE)
voters = mostly("member_2", "member_3", "chair", "member_1")
chairs = mostly("chair")
revokers = mostly("chair", "admin")
#: None: the request's own applicant (or, for the terms, a person on its team)
own = st.sampled_from((None,) * 3 * len(PEOPLE) + PEOPLE)


class RequestJourneys(RuleBasedStateMachine):
    """Set ``app``, ``world`` and ``connection`` on the class before running it."""

    app: ClassVar[Flask]
    world: ClassVar[RequestWorld]
    connection: ClassVar[Connection]

    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = self.connection.begin_nested()
        self.refusals: list[int] = []
        self.seen: dict[str, RequestState] = {}  # each request's state after the last step

    def teardown(self) -> None:
        if self.savepoint.is_active:
            self.savepoint.rollback()

    # --- acting ---------------------------------------------------------------------------

    def actor(self, who: str) -> Actor:
        return self.world.actor(who)

    def attempt(self, call: Any) -> Any:
        """One step as one web request: its own session; a refusal is an answer, anything
        else (a 500) fails the test."""
        with self.app.app_context(), writing():
            try:
                return call()
            except ServiceError as exc:
                self.refusals.append(exc.status)
                return None

    def some(self, *states: RequestState) -> bool:
        """Whether some request is in one of ``states``: a rule is tried only while it could
        change something somewhere (on a request drawn at random: refusals stay common)."""
        return any(state in states for state in self.seen.values())

    def etag(self, request_id: str) -> str:
        found = applications.find(request_id)
        return applications.etag(found) if found is not None else '"gone"'

    def _create(self, who: str, team: bool, datasets: str) -> Any:
        members = [{"email": self.world.emails["teammate"]}] if team and who != "teammate" else []
        data = application(members=members, datasets=DATASETS[datasets])
        made = self.attempt(lambda: applications.create_request(self.actor(who), data).id)
        return multiple() if made is None else (made, who)

    @initialize(
        target=requests,
        team=st.booleans(),
        datasets=st.sampled_from(tuple(DATASETS)),
        submit=st.booleans(),
    )
    def first_request(self, team: bool, datasets: str, submit: bool) -> Any:
        made = self._create("applicant", team, datasets)
        if submit and isinstance(made, tuple):
            self._apply("applicant", made[0], "submit")
        return made

    @precondition(lambda self: not self.some(*OPEN))
    @rule(
        target=requests,
        who=mostly("applicant", "outsider"),
        team=st.booleans(),
        datasets=st.sampled_from(tuple(DATASETS)),
    )
    def create(self, who: str, team: bool, datasets: str) -> Any:
        return self._create(who, team, datasets)

    @precondition(lambda self: self.some(DRAFT, RETURNED))
    @rule(request=requests, who=own, datasets=st.sampled_from((None, *DATASETS)))
    def edit(self, request: tuple[str, str], who: str | None, datasets: str | None) -> None:
        request_id, applicant = request
        change: dict[str, Any] = {"title": "Outcomes of FLT3-ITD AML, revised"}
        if datasets is not None:
            change["datasets"] = DATASETS[datasets]
        self.attempt(
            lambda: applications.update_request(
                self.actor(who or applicant), request_id, change, self.etag(request_id)
            )
        )

    def _apply(self, who: str, request_id: str, action: str, **params: Any) -> None:
        self.attempt(
            lambda: workflow.apply(
                ACCESS_REQUEST,
                self.actor(who),
                request_id,
                action,
                if_match=self.etag(request_id),
                params=params,
            )
        )

    @precondition(lambda self: self.some(DRAFT, RETURNED))
    @rule(request=requests, who=own)
    def submit(self, request: tuple[str, str], who: str | None) -> None:
        self._apply(who or request[1], request[0], "submit")

    @precondition(lambda self: self.some(DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED))
    @rule(request=requests, who=people)  # the applicant rarely: it ends the journey
    def withdraw(self, request: tuple[str, str], who: str) -> None:
        self._apply(who, request[0], "withdraw", reason="Changed plans.")

    @precondition(lambda self: self.some(SUBMITTED))
    @rule(request=requests, who=voters)
    def start_review(self, request: tuple[str, str], who: str) -> None:
        self._apply(who, request[0], "start_review")

    @precondition(lambda self: self.some(SUBMITTED, UNDER_REVIEW))
    @rule(request=requests, who=voters, choice=st.sampled_from(("approve", "reject", "abstain")))
    def vote(self, request: tuple[str, str], who: str, choice: str) -> None:
        self.attempt(lambda: review.cast_vote(self.actor(who), request[0], choice, "My view."))

    @precondition(lambda self: self.some(SUBMITTED, UNDER_REVIEW))
    @rule(request=requests, who=voters)
    def recuse(self, request: tuple[str, str], who: str) -> None:
        self.attempt(lambda: review.declare_recusal(self.actor(who), request[0], "I co-authored."))

    @precondition(lambda self: self.some(SUBMITTED, UNDER_REVIEW))
    @rule(
        request=requests,
        who=own,
        dataset=st.sampled_from(tuple(CUSTODIANS)),
        approve=st.sampled_from((True, True, False)),
    )
    def sign_off(
        self, request: tuple[str, str], who: str | None, dataset: str, approve: bool
    ) -> None:
        """By the dataset's custodian (``who`` None), or someone else."""
        request_id, person = request[0], who or CUSTODIANS[dataset]
        self.attempt(
            lambda: review.signoff(self.actor(person), request_id, dataset, approve, "Our view.")
        )

    @precondition(lambda self: self.some(SUBMITTED, UNDER_REVIEW))
    @rule(request=requests, who=chairs, dataset=st.sampled_from(tuple(CUSTODIANS)))
    def override(self, request: tuple[str, str], who: str, dataset: str) -> None:
        self.attempt(
            lambda: review.override(self.actor(who), request[0], dataset, "Covered by consent.")
        )

    @precondition(lambda self: self.some(SUBMITTED, UNDER_REVIEW))
    @rule(
        request=requests,
        who=chairs,
        outcome=st.sampled_from((*DecisionOutcome, DecisionOutcome.APPROVE)),
        keep_declined=st.booleans(),
    )
    def decide(
        self, request: tuple[str, str], who: str, outcome: DecisionOutcome, keep_declined: bool
    ) -> None:
        data: dict[str, Any] = {"outcome": outcome.value, "reasons": "As discussed."}
        if outcome is DecisionOutcome.APPROVE_WITH_CONDITIONS:
            data["conditions"] = ["Acknowledge the trial group in every publication."]
        if keep_declined and outcome in APPROVALS:
            data["overrides"] = {"req-aml": "The consent covers this use."}
        request_id = request[0]
        self.attempt(
            lambda: review.decide(self.actor(who), request_id, data, self.etag(request_id))
        )

    @precondition(lambda self: self.some(APPROVED))
    @rule(request=requests, who=mostly("applicant", "teammate"))
    def accept_terms(self, request: tuple[str, str], who: str) -> None:
        request_id = request[0]

        def accept() -> Any:
            found = applications.find(request_id)
            sha = "0" * 64
            if found is not None and found.state is RequestState.APPROVED:
                sha = entitlements.terms_of(found).sha256
            return entitlements.accept_terms(self.actor(who), request_id, sha)

        self.attempt(accept)

    @precondition(lambda self: self.some(APPROVED))
    @rule(request=requests, who=revokers)
    def revoke(self, request: tuple[str, str], who: str) -> None:
        self.attempt(
            lambda: entitlements.revoke(self.actor(who), request[0], reason="Terms breached.")
        )

    @precondition(lambda self: self.some(APPROVED))
    @rule(days=st.sampled_from((0, 200, 800, 1200)))
    def hourly_job(self, days: int) -> None:
        """The job worker, its clock moved ``days`` ahead (entitlements end, requests close)."""
        today = dt.date.today() + dt.timedelta(days=days)
        self.attempt(lambda: jobs.run_hourly(today))

    # --- the invariants -------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        with self.app.app_context():
            session = get_session()
            try:
                requests = list(session.scalars(select(AccessRequest)))
                self.seen = {r.id: r.state for r in requests}
                for request in requests:
                    _states_are_the_tables(request)
                    _decisions_agree(request)
                    _votes_are_allowed(request)
                _entitlements_come_from_approvals()
                checked = audit.verify(session)
                assert checked.ok, checked.problem
            finally:
                session.rollback()


def _states_are_the_tables(request: AccessRequest) -> None:
    state = ACCESS_REQUEST.state_of(request)
    assert state in ACCESS_REQUEST.states
    for item in request.datasets:
        assert REQUEST_DATASET.state_of(item) in REQUEST_DATASET.states
    current = ACCESS_REQUEST.initial
    for event in audit.events_for("access_request", request.id, newest_first=False):
        pairs = TABLE_EVENTS.get(event.action)
        if pairs is None:
            continue  # votes, recusals, grants … change no state
        move = ((event.before or {}).get("state"), (event.after or {}).get("state"))
        assert move in pairs, f"{event.action}: {move} is not a row of the table"
        assert move[0] == current, f"{event.action} from {move[0]}, but it was {current}"
        current = move[1]
    assert current == state, f"the audit trail ends in {current}, the request is {state}"


def _eligible(request: AccessRequest, round_: int) -> tuple[set[str], set[str]]:
    """The committee's people, and those recused in the round."""
    people = {u.id for u in review.committee_people(request.committee_id)}
    recused = set(
        get_session().scalars(
            select(Recusal.member_id).where(
                Recusal.request_id == request.id, Recusal.round == round_
            )
        )
    )
    return people, recused


def _decisions_agree(request: AccessRequest) -> None:
    session = get_session()
    per_round = session.execute(
        select(Decision.round, func.count())
        .where(Decision.request_id == request.id)
        .group_by(Decision.round)
    ).all()
    assert all(n == 1 for _round, n in per_round), f"two decisions in a round: {per_round}"
    for decision in session.scalars(select(Decision).where(Decision.request_id == request.id)):
        people, recused = _eligible(request, decision.round)
        eligible = people - recused
        committee = session.get(DataAccessCommittee, request.committee_id)
        quorum = committee.quorum if committee and committee.quorum else len(eligible) // 2 + 1
        counted = (
            session.scalar(
                select(func.count()).where(
                    Vote.request_id == request.id,
                    Vote.round == decision.round,
                    Vote.member_id.in_(eligible or {""}),
                )
            )
            or 0
        )
        assert eligible and counted >= quorum, (
            f"{decision.outcome.value} with {counted} votes of {len(eligible)} eligible "
            f"(quorum {quorum})"
        )
    current = review.decision_of(request)
    if current is not None:
        assert request.state in AFTER_DECISION[current.outcome], (
            f"{request.state.value} after a decision to {current.outcome.value}"
        )
    elif request.state in (RequestState.APPROVED, RequestState.REJECTED, RequestState.CLOSED):
        raise AssertionError(f"{request.state.value} without a decision of round {request.round}")


def _votes_are_allowed(request: AccessRequest) -> None:
    session = get_session()
    votes = list(session.scalars(select(Vote).where(Vote.request_id == request.id)))
    for vote in votes:
        _people, recused = _eligible(request, vote.round)
        assert vote.member_id not in recused, "a recused member's vote is on record"
    if request.state in (
        RequestState.SUBMITTED,
        RequestState.UNDER_REVIEW,
        RequestState.APPROVED,
        RequestState.REJECTED,
    ):  # the datasets are the ones of the current round's submission
        for vote in votes:
            if vote.round == request.round:
                member = session.get(User, vote.member_id)
                assert member is not None
                assert review.conflict_of(request, member) is None, (
                    f"{member.name} voted despite a conflict of interest"
                )


def _entitlements_come_from_approvals() -> None:
    session = get_session()
    for entitlement in session.scalars(select(Entitlement)):
        decision = (
            session.get(Decision, entitlement.decision_id) if entitlement.decision_id else None
        )
        assert decision is not None, "an entitlement without a decision"
        assert decision.request_id == entitlement.request_id
        assert decision.outcome in APPROVALS, f"an entitlement from a {decision.outcome.value}"
        assert decision.dataset_outcomes.get(entitlement.dataset_id) == "approved"
        on_team = session.scalar(
            select(func.count()).where(
                RequestMember.request_id == entitlement.request_id,
                RequestMember.user_id == entitlement.user_id,
            )
        )
        assert on_team, "an entitlement for someone who was never on the team"
        request = session.get(AccessRequest, entitlement.request_id)
        assert request is not None
        if entitlement.state in LIVE:
            assert request.state is RequestState.APPROVED, f"live access of a {request.state}"
        if entitlement.state is EntitlementState.ACTIVE:
            accepted = session.scalar(
                select(func.count()).where(
                    Acceptance.request_id == entitlement.request_id,
                    Acceptance.user_id == entitlement.user_id,
                )
            )
            assert accepted, "access started without the terms accepted"


# --- the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(app: Flask, reference_engine: Any) -> Iterator[RequestWorld]:
    with shared_world(app, reference_engine) as make:
        yield build_world(app, make)


def test_random_journeys_keep_the_invariants(app, world):
    RequestJourneys.app = app
    RequestJourneys.world = world
    RequestJourneys.connection = root._shared[id(app)]
    run_state_machine_as_test(
        RequestJourneys,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_machine_reaches_decisions_and_access(app, world):
    """The journeys above are worth something only if random steps get somewhere: one
    scripted walk through the same rules reaches an approval, access and the job's close."""
    RequestJourneys.app = app
    RequestJourneys.world = world
    RequestJourneys.connection = root._shared[id(app)]
    machine = RequestJourneys()
    try:
        request = machine.create(who="applicant", team=True, datasets="both")
        assert isinstance(request, tuple), "the applicant could not create a request"
        request_id = request[0]
        machine.submit(request, None)
        machine.vote(request, "member_1", "approve")  # recused: from the applicant's organisation
        machine.sign_off(request, None, "req-aml", False)
        machine.vote(request, "member_2", "approve")
        machine.decide(request, "chair", DecisionOutcome.APPROVE, keep_declined=False)  # quorum
        machine.vote(request, "member_3", "abstain")
        machine.decide(request, "chair", DecisionOutcome.APPROVE, keep_declined=True)
        machine.accept_terms(request, "teammate")
        machine.hourly_job(1200)
        machine.invariants_hold()
        assert machine.refusals == [403, 409]
        with app.app_context():
            found = applications.find(request_id)
            assert found is not None and found.state is RequestState.CLOSED
            states = {e.state for e in entitlements.entitlements_of_request(request_id)}
            assert states == {EntitlementState.ENDED}
            assert {d.dataset.identifier: d.state.value for d in found.datasets} == {
                "req-aml": "granted",
                "req-myeloma": "granted",
            }
    finally:
        machine.teardown()
