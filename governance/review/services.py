"""The committee's review of an access request: custodians' sign-offs, members' votes and
recusals, the quorum, and the chair's decision.

A review *round* starts with each submission (``AccessRequest.round``); votes, recusals and
sign-offs belong to a round, and a round has at most one decision (a unique key).

What changes the request's state goes through the workflows of
:mod:`governance.requests.workflow` (:func:`core.workflow.apply`): the first vote starts the
review (``start_review``), the decision is ``approve`` / ``reject`` / ``return``, a sign-off is
the requested dataset's ``signoff`` / ``decline`` and an override its ``override``. The
workflows call back into this module (:func:`record_decision`, :func:`record_signoff`).

Votes and recusals change no state: they lock the request's row (:func:`core.db.lock_revision`)
so that a vote and a decision take turns — a vote either lands before the decision (and is
counted in its tally) or after it, and is then refused with 409 — and they do not bump the
request's revision (the chair's ``If-Match`` stays valid while members vote).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalogue.datasets.services import published_titles
from catalogue.models import Dataset
from core import audit
from core import workflow as core_workflow
from core.db import get_session, lock_revision, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.etags import UNCHECKED
from core.models import DataAccessCommittee, Organisation, Role, RoleGrant, User
from core.notifications import notify
from core.permissions import Permission
from core.policies import SYSTEM, Actor, can, require
from core.text import plural
from core.workflow import Step
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    Decision,
    DecisionOutcome,
    Recusal,
    ReportKind,
    RequestDataset,
    RequestReport,
    RequestState,
    Signoff,
    Vote,
    VoteChoice,
)

OBJECT_TYPE = "access_request"
VOTING_STATES = (RequestState.SUBMITTED, RequestState.UNDER_REVIEW)
#: the decision's outcome → the workflow's action
ACTIONS = {
    DecisionOutcome.APPROVE: "approve",
    DecisionOutcome.APPROVE_WITH_CONDITIONS: "approve",
    DecisionOutcome.REJECT: "reject",
    DecisionOutcome.RETURN: "return",
}
APPROVALS = (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS)
OUTCOME_WORDS = {
    DecisionOutcome.APPROVE: "approved",
    DecisionOutcome.APPROVE_WITH_CONDITIONS: "approved with conditions",
    DecisionOutcome.REJECT: "rejected",
    DecisionOutcome.RETURN: "returned to you for changes",
}
GROUNDS = {
    "applicant_organisation": "is from the applicant's organisation",
    "custodian_organisation": "is from the custodian organisation of a requested dataset",
    "declared": "declared a conflict of interest",
}
#: EHDS deadlines (config keys and their defaults, in days); see :func:`deadlines`
DEADLINE_DEFAULTS = {
    "REVIEW_DECISION_DEADLINE_DAYS": 90,
    "REVIEW_DECISION_EXTENSION_DAYS": 90,
}
DEADLINE_SOURCE = (
    "Regulation (EU) 2025/327 (European Health Data Space), Art. 68: a health data access "
    "body decides on a complete data access application within 3 months, extendable by up "
    "to 3 more months where the request is complex."
)


def link(request: AccessRequest | str) -> str:
    """The review page of a request (a path on this site)."""
    request_id = request if isinstance(request, str) else request.id
    return f"/review/{request_id}"


def applicant_link(request: AccessRequest) -> str:
    return f"/requests/{request.id}"


# --- reading --------------------------------------------------------------------------------


def get_request(actor: Actor, request_id: str) -> AccessRequest:
    """The request as ``actor`` may see it.

    :raises NotFound: it does not exist, or the actor may not see it (a draft, another
        committee's request …).
    """
    from governance.requests import services as applications

    return applications.get_request(actor, request_id)


def etag(request: AccessRequest) -> str:
    """The request's ETag (the application's)."""
    from governance.requests import services as applications

    return applications.etag(request)


def item_of(request: AccessRequest, dataset: str) -> RequestDataset:
    """The requested dataset named by its public identifier (or its id, or the requested
    dataset's id).

    :raises InvalidInput: (``dataset``) when the request does not ask for it.
    """
    for item in request.datasets:
        if dataset in (item.dataset.identifier, item.dataset_id, item.id):
            return item
    raise InvalidInput.field("dataset", f"This request does not ask for the dataset “{dataset}”.")


def titles(items: Iterable[RequestDataset]) -> dict[str, str]:
    """Each requested dataset's title (its latest published version), by dataset id."""
    from governance.requests import services as applications

    return applications.dataset_titles(items)


def title_of(item: RequestDataset) -> str:
    return titles([item])[item.dataset_id]


def committee_of(request: AccessRequest) -> DataAccessCommittee | None:
    if request.committee_id is None:
        return None
    return get_session().get(DataAccessCommittee, request.committee_id)


def committee_people(committee_id: str | None) -> list[User]:
    """The committee's active members and chairs, by name."""
    if committee_id is None:
        return []
    return list(
        get_session().scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.committee_id == committee_id,
                RoleGrant.role.in_((Role.DAC_MEMBER, Role.DAC_CHAIR)),
                User.is_active.is_(True),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def is_chair(actor: Actor, request: AccessRequest) -> bool:
    return can(actor, Permission.ACCESS_REQUEST_DECIDE, request)


def recusals(request: AccessRequest, round_: int | None = None) -> list[Recusal]:
    return list(
        get_session().scalars(
            select(Recusal)
            .where(
                Recusal.request_id == request.id,
                Recusal.round == (request.round if round_ is None else round_),
            )
            .order_by(Recusal.created_at)
        )
    )


def votes(request: AccessRequest, round_: int | None = None) -> list[Vote]:
    return list(
        get_session().scalars(
            select(Vote)
            .where(
                Vote.request_id == request.id,
                Vote.round == (request.round if round_ is None else round_),
            )
            .order_by(Vote.created_at)
        )
    )


def signoffs(request: AccessRequest) -> list[Signoff]:
    return list(
        get_session().scalars(
            select(Signoff)
            .where(Signoff.request_id == request.id)
            .order_by(Signoff.round, Signoff.created_at)
        )
    )


def decision_of(request: AccessRequest, round_: int | None = None) -> Decision | None:
    return get_session().scalar(
        select(Decision).where(
            Decision.request_id == request.id,
            Decision.round == (request.round if round_ is None else round_),
        )
    )


def decisions(request: AccessRequest) -> list[Decision]:
    return list(
        get_session().scalars(
            select(Decision).where(Decision.request_id == request.id).order_by(Decision.round)
        )
    )


# --- conflicts and recusals -----------------------------------------------------------------


def conflict_of(request: AccessRequest, user: User) -> tuple[str, str] | None:
    """Why ``user`` may not vote on ``request`` (ground, detail), or None: they belong to the
    applicant's organisation, or to (or are a custodian of) the organisation holding one of
    the requested datasets."""
    custodians = {item.organisation_id: item for item in request.datasets}
    if request.organisation_id and user.organisation_id == request.organisation_id:
        name = user.organisation.name if user.organisation else "the applicant's organisation"
        return "applicant_organisation", f"Member of {name}, the applicant's organisation."
    own = ({user.organisation_id} if user.organisation_id else set()) | user.custodian_of()
    for organisation_id in sorted(own & set(custodians)):
        item = custodians[organisation_id]
        return (
            "custodian_organisation",
            f"From the organisation that holds the requested dataset “{title_of(item)}”.",
        )
    return None


def record_recusals(request: AccessRequest) -> list[Recusal]:
    """Record the recusal of every member of the request's committee with a conflict
    (:func:`conflict_of`) in the current round, each in the audit trail; called at each
    submission (no commit: the submission commits). Members already recused stay as they are."""
    session = get_session()
    done = {r.member_id for r in recusals(request)}
    made = []
    for user in committee_people(request.committee_id):
        if user.id in done:
            continue
        conflict = conflict_of(request, user)
        if conflict is None:
            continue
        made.append(_add_recusal(SYSTEM, request, user, *conflict))
    session.flush()
    return made


def _add_recusal(
    actor: Actor, request: AccessRequest, user: User, ground: str, detail: str
) -> Recusal:
    recusal = Recusal(
        request_id=request.id, round=request.round, member_id=user.id, ground=ground, detail=detail
    )
    get_session().add(recusal)
    audit.record(
        actor,
        "access_request.recusal",
        OBJECT_TYPE,
        request.id,
        after={"member": user.id, "ground": ground, "round": request.round},
        summary=f"{user.name} recused ({GROUNDS.get(ground, ground)}): {detail}"[:500],
        context={"reference": request.reference, "round": request.round},
    )
    return recusal


def declare_recusal(actor: Actor, request_id: str, reason: str) -> Recusal:
    """A member steps aside from the current round, with the reason; a vote they gave in the
    round is withdrawn (recorded).

    :raises Forbidden: not a member of the request's committee.
    :raises Conflict: the round is decided, or the member is recused already.
    :raises InvalidInput: (``reason``) no reason given.
    """
    session = get_session()
    try:
        request = get_request(actor, request_id)
        require(actor, Permission.ACCESS_REQUEST_VOTE, request)
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput.field("reason", "Say why you step aside from this request.")
        lock_revision(request)
        _require_open_round(request)
        user: User = actor  # type: ignore[assignment]
        if any(r.member_id == user.id for r in recusals(request)):
            raise Conflict("You are recused from this request's review already.")
        vote = _vote_of(request, user.id)
        if vote is not None:
            session.delete(vote)
        recusal = _add_recusal(actor, request, user, "declared", reason[:2000])
        if vote is not None:
            audit.record(
                actor,
                "access_request.vote_withdrawn",
                OBJECT_TYPE,
                request.id,
                before={"choice": vote.choice.value, "comment": vote.comment},
                summary=f"{user.name} withdrew their vote ({vote.choice.value}) on recusing.",
                context={"reference": request.reference, "round": request.round},
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return recusal


# --- votes and the quorum -------------------------------------------------------------------


def _vote_of(request: AccessRequest, member_id: str) -> Vote | None:
    return get_session().scalar(
        select(Vote).where(
            Vote.request_id == request.id, Vote.round == request.round, Vote.member_id == member_id
        )
    )


def _require_open_round(request: AccessRequest) -> None:
    """:raises Conflict: when the request is not with the committee, or the round is decided."""
    if request.state not in VOTING_STATES or decision_of(request) is not None:
        raise Conflict(
            f"The request is {request.state.value.replace('_', ' ')}: votes and recusals are "
            "taken while the committee reviews it, until the decision."
        )


def cast_vote(actor: Actor, request_id: str, choice: VoteChoice | str, comment: str = "") -> Vote:
    """A committee member's vote in the current round; a second vote of the same member in the
    round replaces the first (both recorded in the audit trail). The first vote of a submitted
    request starts the review (the workflow's ``start_review``).

    :raises Forbidden: not a member of the request's committee; or a member with a conflict of
        interest (the recusal is recorded then, and stays).
    :raises Conflict: the request is not under review, or the round is decided.
    """
    choice = VoteChoice(choice)
    comment = (comment or "").strip()[:4000]
    session = get_session()
    request = get_request(actor, request_id)
    require(actor, Permission.ACCESS_REQUEST_VOTE, request)
    user: User = actor  # type: ignore[assignment]
    if request.state is RequestState.SUBMITTED and not _refusal_for(request, user):
        # its own transaction (the workflow commits): the review started, then the vote
        core_workflow.apply("access_request", actor, request.id, "start_review", if_match=UNCHECKED)
    try:
        lock_revision(request)
        session.refresh(request)
        _require_open_round(request)
        refusal = _refusal_for(request, user)
        if refusal is not None:
            ground, detail, recorded = refusal
            if not recorded:
                _add_recusal(SYSTEM, request, user, ground, detail)
                session.commit()
            raise Forbidden(
                f"You are recused from this request and cannot vote: {detail} "
                "Members from the applicant's organisation or from a custodian organisation "
                "of a requested dataset step aside."
            )
        vote = _vote_of(request, user.id)
        now = utcnow()
        if vote is None:
            vote = Vote(
                request_id=request.id,
                round=request.round,
                member_id=user.id,
                choice=choice,
                comment=comment,
                created_at=now,
                updated_at=now,
            )
            session.add(vote)
            audit.record(
                actor,
                "access_request.vote",
                OBJECT_TYPE,
                request.id,
                after={"choice": choice.value, "comment": comment},
                summary=f"{user.name} voted {choice.value}." + (f" {comment}" if comment else ""),
                context={"reference": request.reference, "round": request.round},
            )
        else:
            before = {"choice": vote.choice.value, "comment": vote.comment}
            vote.choice, vote.comment, vote.updated_at = choice, comment, now
            after = {"choice": choice.value, "comment": comment}
            old, new = audit.changed(before, after)
            audit.record(
                actor,
                "access_request.vote_changed",
                OBJECT_TYPE,
                request.id,
                before=old or before,
                after=new or after,
                summary=f"{user.name} changed their vote from {before['choice']} to "
                f"{choice.value}." + (f" {comment}" if comment else ""),
                context={"reference": request.reference, "round": request.round},
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return vote


def _refusal_for(request: AccessRequest, user: User) -> tuple[str, str, bool] | None:
    """(ground, detail, already recorded) when ``user`` is recused from the current round."""
    for recusal in recusals(request):
        if recusal.member_id == user.id:
            return recusal.ground, recusal.detail, True
    conflict = conflict_of(request, user)
    if conflict is None:
        return None
    return conflict[0], conflict[1], False


def pending_signoffs(actor: Actor) -> list[tuple[RequestDataset, AccessRequest]]:
    """The requested datasets of the actor's organisations that wait for a custodian's
    sign-off, with their requests (now with the committee), the longest waiting first (empty
    for anyone who is a custodian of nothing)."""
    if not isinstance(actor, User):
        return []
    own = sorted(actor.custodian_of())
    if not own:
        return []
    rows = get_session().execute(
        select(RequestDataset, AccessRequest)
        .join(AccessRequest, AccessRequest.id == RequestDataset.request_id)
        .join(Dataset, Dataset.id == RequestDataset.dataset_id)
        .where(
            Dataset.organisation_id.in_(own),
            RequestDataset.state == DatasetState.PENDING_SIGNOFF,
            AccessRequest.state.in_((RequestState.SUBMITTED, RequestState.UNDER_REVIEW)),
        )
        .order_by(RequestDataset.state_changed_at, RequestDataset.id)
        .limit(200)
    )
    return [(item, request) for item, request in rows]


def recusal_of(request: AccessRequest, user: User) -> str | None:
    """Why ``user`` takes no part in the request's current round (recorded or a conflict not
    yet recorded), or None."""
    found = _refusal_for(request, user)
    return found[1] if found else None


def eligible_members(request: AccessRequest) -> list[User]:
    """The committee's members and chairs who are not recused in the current round."""
    recused = {r.member_id for r in recusals(request)}
    return [u for u in committee_people(request.committee_id) if u.id not in recused]


def quorum_needed(request: AccessRequest, eligible: int | None = None) -> int:
    """The committee's quorum, or by default a majority of its non-recused members."""
    if eligible is None:
        eligible = len(eligible_members(request))
    committee = committee_of(request)
    if committee is not None and committee.quorum:
        return int(committee.quorum)
    return eligible // 2 + 1


@dataclass
class Tally:
    approve: int = 0
    reject: int = 0
    abstain: int = 0
    eligible: int = 0
    recused: int = 0
    quorum: int = 1
    voters: list[str] = field(default_factory=list)  # user ids of the counted votes
    missing: list[User] = field(default_factory=list)  # eligible members who have not voted

    @property
    def votes(self) -> int:
        return self.approve + self.reject + self.abstain

    @property
    def reached(self) -> bool:
        return self.eligible > 0 and self.votes >= self.quorum

    def as_dict(self) -> dict[str, int]:
        return {
            "approve": self.approve,
            "reject": self.reject,
            "abstain": self.abstain,
            "votes": self.votes,
            "eligible": self.eligible,
            "recused": self.recused,
            "quorum": self.quorum,
        }


def count(request: AccessRequest) -> Tally:
    """The votes of the current round from eligible members (a recused member's vote, should
    one exist, does not count), against the quorum."""
    eligible = eligible_members(request)
    ids = {u.id for u in eligible}
    result = Tally(
        eligible=len(eligible),
        recused=len(recusals(request)),
        quorum=quorum_needed(request, len(eligible)),
    )
    for vote in votes(request):
        if vote.member_id not in ids:
            continue
        setattr(result, vote.choice.value, getattr(result, vote.choice.value) + 1)
        result.voters.append(vote.member_id)
    result.missing = [u for u in eligible if u.id not in result.voters]
    return result


def tally(request: AccessRequest) -> dict[str, int]:
    """``{"approve", "reject", "abstain", "votes", "eligible", "recused", "quorum"}``."""
    return count(request).as_dict()


def quorum_reached(request: AccessRequest) -> bool:
    return count(request).reached


# --- sign-offs and overrides ----------------------------------------------------------------


def signoff(
    actor: Actor, request_id: str, dataset: str, approve: bool, reason: str = ""
) -> Signoff:
    """A custodian signs off (or declines, with the reason) a requested dataset of their
    organisation: the ``request_dataset`` workflow's ``signoff`` / ``decline``.

    :raises Forbidden: not a custodian of the dataset's organisation.
    :raises Conflict: the dataset does not wait for a sign-off, or the request is not with the
        committee.
    :raises InvalidInput: (``reason``) a decline without a reason; (``dataset``) a dataset the
        request does not ask for.
    """
    request = get_request(actor, request_id)
    item = item_of(request, dataset)
    require(actor, Permission.ACCESS_REQUEST_SIGNOFF, item)
    if not approve and not (reason or "").strip():
        raise InvalidInput.field("reason", "Say why the dataset cannot be shared for this use.")
    outcome = core_workflow.apply(
        "request_dataset",
        actor,
        item.id,
        "signoff" if approve else "decline",
        if_match=UNCHECKED,
        params={"reason": reason or ""},
    )
    result: Signoff = outcome.result
    return result


def record_signoff(step: Step, *, approved: bool) -> Signoff:
    """The effect of the ``signoff`` and ``decline`` rows: the sign-off of the current round;
    a declined dataset is dropped from the request unless the committee overrides, and the
    applicant is told.

    :raises Conflict: the dataset was signed off a moment ago.
    """
    session = get_session()
    item: RequestDataset = step.obj
    request = session.get(AccessRequest, item.request_id)
    if request is None:
        raise NotFound("No such access request.")
    lock_revision(request)
    reason = (step.params.get("reason") or "").strip()
    record = Signoff(
        request_id=request.id,
        request_dataset_id=item.id,
        round=request.round,
        user_id=getattr(step.actor, "id", None),
        approved=approved,
        reason=reason,
    )
    session.add(record)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("This dataset was signed off a moment ago.") from None
    request.revision += 1  # the request's content (its datasets' states) changed
    request.updated_at = utcnow()
    title = title_of(item)
    who = getattr(step.actor, "name", "The custodian")
    step.context.update(
        request=request.id,
        reference=request.reference,
        round=request.round,
        dataset=item.dataset.identifier,
    )
    step.payload.update(request=request.id, dataset=item.dataset.identifier, approved=approved)
    if approved:
        step.summary = f"{request.reference}: {who} signed off “{title}”." + (
            f" {reason}" if reason else ""
        )
    else:
        step.summary = f"{request.reference}: {who} declined “{title}”: {reason}"
        step.after["decline_reason"] = reason
        notify(
            [request.applicant_id],
            kind="access_request.dataset_declined",
            subject=f"{request.reference}: “{title}” was declined by its custodian",
            body=(
                f"The custodian of “{title}” declined to share it for your request "
                f"“{request.title}”: {reason}\n\nThe dataset is dropped from the request unless "
                "the data access committee keeps it with a justification."
            ),
            link=applicant_link(request),
            object_type=OBJECT_TYPE,
            object_id=request.id,
        )
    return record


def override(actor: Actor, request_id: str, dataset: str, justification: str) -> RequestDataset:
    """The committee keeps a dataset its custodian declined, with a justification (the chair):
    the ``request_dataset`` workflow's ``override``.

    :raises Forbidden: not the chair of the request's committee.
    :raises Conflict: the dataset was not declined, or the request is not with the committee.
    :raises InvalidInput: (``justification``) none given.
    """
    request = get_request(actor, request_id)
    item = item_of(request, dataset)
    require(actor, Permission.ACCESS_REQUEST_DECIDE, request)
    if not (justification or "").strip():
        raise InvalidInput.field(
            "justification", "Say why the committee keeps a dataset its custodian declined."
        )
    # Done here rather than through the ``request_dataset`` workflow's ``override`` row: that
    # row's permission (ACCESS_REQUEST_DECIDE) is checked on the requested dataset, whose rule
    # expects the request; the same checks, lock and audit event, in one transaction.
    session = get_session()
    try:
        lock_revision(request)
        session.refresh(item)
        if request.state not in VOTING_STATES or decision_of(request) is not None:
            raise Conflict("Overrides are recorded while the committee reviews the request.")
        if item.state is not DatasetState.DECLINED:
            raise Conflict(
                "Only a dataset its custodian declined can be kept by an override; this one is "
                f"{item.state.value.replace('_', ' ')}."
            )
        text = justification.strip()[:4000]
        item.override_justification = text
        item.override_by_id = getattr(actor, "id", None)
        item.override_at = utcnow()
        item.state = DatasetState.SIGNED_OFF
        item.state_changed_at = item.override_at
        request.revision += 1
        request.updated_at = item.override_at
        audit.record(
            actor,
            "request_dataset.override",
            "request_dataset",
            item.id,
            before={"state": DatasetState.DECLINED.value},
            after={"state": DatasetState.SIGNED_OFF.value, "override_justification": text},
            summary=f"{request.reference}: the committee kept “{title_of(item)}” despite the "
            f"decline: {text}",
            context={"request": request.id, "reference": request.reference, "round": request.round},
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return item


# --- the decision ---------------------------------------------------------------------------


def decide(
    actor: Actor, request_id: str, data: Mapping[str, Any], if_match: str | None
) -> Decision:
    """The chair's decision of the current round: ``data`` as :class:`DecisionInputSchema`
    loads it. Approvals (with or without conditions) are the workflow's ``approve``, then
    ``reject`` and ``return``; see :func:`record_decision` for the rules.

    :raises Forbidden: not the chair of the request's committee.
    :raises Conflict: the request is not under review, the round is decided, or the quorum is
        not reached.
    :raises PreconditionRequired / PreconditionFailed: ``If-Match`` missing or stale.
    :raises InvalidInput: by field (see :func:`record_decision`).
    """
    outcome = DecisionOutcome(data["outcome"])
    params = dict(data)
    params["outcome"] = outcome.value
    result = core_workflow.apply(
        "access_request", actor, request_id, ACTIONS[outcome], if_match=if_match, params=params
    )
    decision: Decision = result.result
    return decision


def _text(value: Any) -> str:
    return str(value or "").strip()


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def record_decision(step: Step, outcome: DecisionOutcome) -> Decision:
    """The effect of the ``approve`` / ``reject`` / ``return`` rows (the workflow has checked
    the state, the chair's permission and ``If-Match``).

    ``step.params``: ``reasons`` (required), ``conditions`` (required for
    ``approve_with_conditions``), ``datasets`` ({identifier: "approve" | "reject"}; by default
    every dataset still in the request is approved by an approval and rejected by a
    rejection), ``overrides`` ({identifier: justification}: required to approve a dataset
    whose check was ``incompatible`` or which its custodian declined), ``review_notes``
    ({identifier: note}: required for each ``needs_review`` dataset approved), ``reports``
    ([{"kind", "due_on"}]: reports the applicant must submit by a date; approvals).

    Sets the datasets' states, records the decision (one per round), the required reports,
    notifies the applicant, and for approvals grants the access
    (:func:`governance.entitlements.services.grant_for_decision`).

    :raises Conflict: the quorum is not reached (naming who has not voted); a dataset to
        approve still awaits its custodian's sign-off; the round was decided a moment ago.
    :raises InvalidInput: by field: ``reasons``, ``conditions``, ``datasets``,
        ``datasets.<identifier>``, ``overrides.<identifier>``, ``review_notes.<identifier>``,
        ``reports``.
    """
    session = get_session()
    request: AccessRequest = step.obj
    params = step.params
    if decision_of(request) is not None:
        raise Conflict("This review round is decided already; decisions are final.")
    counted = count(request)
    if not counted.reached:
        names = ", ".join(u.name for u in counted.missing) or "none eligible"
        raise Conflict(
            f"The quorum is not reached: {counted.votes} of the {plural(counted.quorum, 'vote')} "
            f"needed ({plural(counted.eligible, 'member')} may vote). Votes missing from: {names}."
        )
    errors: dict[str, list[str]] = {}
    reasons = _text(params.get("reasons"))
    if not reasons:
        errors["reasons"] = ["Give the reasons for the decision: the applicant reads them."]
    conditions = [_text(c) for c in params.get("conditions") or [] if _text(c)]
    if outcome is DecisionOutcome.APPROVE_WITH_CONDITIONS and not conditions:
        errors["conditions"] = ["Name at least one condition the applicant must accept."]
    if outcome not in APPROVALS and conditions:
        errors["conditions"] = ["Conditions come with an approval."]
    overrides = {str(k): _text(v) for k, v in (params.get("overrides") or {}).items()}
    notes = {str(k): _text(v) for k, v in (params.get("review_notes") or {}).items()}
    wanted = {str(k): str(v) for k, v in (params.get("datasets") or {}).items()}
    by_identifier = {item.dataset.identifier: item for item in request.datasets}
    for name in wanted:
        if name not in by_identifier:
            errors.setdefault(f"datasets.{name}", []).append(
                "This request does not ask for this dataset."
            )
    for field_name, mapping in (("overrides", overrides), ("review_notes", notes)):
        for name in mapping:
            if name not in by_identifier:
                errors.setdefault(f"{field_name}.{name}", []).append(
                    "This request does not ask for this dataset."
                )
    outcomes: dict[str, str] = {}
    waiting = []
    if outcome in (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS):
        for name, item in by_identifier.items():
            default = (
                "reject"
                if item.state is DatasetState.DECLINED and name not in overrides
                else "approve"
            )
            verdict = wanted.get(name, default)
            if verdict not in ("approve", "reject"):
                errors.setdefault(f"datasets.{name}", []).append("Say “approve” or “reject”.")
                continue
            outcomes[name] = verdict
            if verdict != "approve":
                continue
            if item.state is DatasetState.PENDING_SIGNOFF:
                waiting.append(title_of(item))
            if item.state is DatasetState.DECLINED and not overrides.get(name):
                errors.setdefault(f"overrides.{name}", []).append(
                    "Its custodian declined it: approving it needs the committee's written "
                    "justification."
                )
            if item.check_outcome == "incompatible" and not overrides.get(name):
                errors.setdefault(f"overrides.{name}", []).append(
                    "The consent check found this use incompatible with the dataset's "
                    "conditions: approving it needs a written justification."
                )
            if item.check_outcome == "needs_review" and not notes.get(name):
                errors.setdefault(f"review_notes.{name}", []).append(
                    "The consent check asks for a review: note what the committee checked."
                )
        if outcomes and "approve" not in outcomes.values():
            errors.setdefault("datasets", []).append(
                "An approval approves at least one dataset; reject the request otherwise."
            )
    elif outcome is DecisionOutcome.REJECT:
        outcomes = dict.fromkeys(by_identifier, "reject")
    reports = _reports(params.get("reports") or [], outcome, errors)
    if errors:
        raise InvalidInput(
            errors,
            detail="The decision cannot be recorded: "
            + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
        )
    if waiting:
        raise Conflict(
            "Still waiting for the custodian's sign-off: "
            + ", ".join(f"“{t}”" for t in waiting)
            + ". Decide once they signed off, or reject those datasets."
        )
    now = utcnow()
    decision = Decision(
        request_id=request.id,
        round=request.round,
        outcome=outcome,
        reasons=reasons,
        conditions=conditions,
        dataset_outcomes={
            by_identifier[n].dataset_id: ("approved" if v == "approve" else "rejected")
            for n, v in outcomes.items()
        },
        overrides={
            by_identifier[n].dataset_id: t
            for n, t in overrides.items()
            if t and outcomes.get(n) == "approve"
        },
        review_notes={
            by_identifier[n].dataset_id: t
            for n, t in notes.items()
            if t and outcomes.get(n) == "approve"
        },
        required_reports=[{"kind": k.value, "due_on": d.isoformat()} for k, d in reports],
        decided_by_id=getattr(step.actor, "id", None),
        decided_at=now,
        tally=counted.as_dict(),
    )
    session.add(decision)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("This review round was decided a moment ago; decisions are final.") from None
    for name, verdict in outcomes.items():
        item = by_identifier[name]
        if verdict == "approve" and item.state is DatasetState.DECLINED:
            item.override_justification = overrides[name]
            item.override_by_id = decision.decided_by_id
            item.override_at = now
        item.state = DatasetState.APPROVED if verdict == "approve" else DatasetState.REJECTED
        item.state_changed_at = now
    if outcome is DecisionOutcome.RETURN:
        request.return_comments = reasons
    for kind, due_on in reports:
        session.add(RequestReport(request_id=request.id, kind=kind, due_on=due_on))
    step.summary = f"{request.reference}: {OUTCOME_WORDS[outcome]} by the committee. {reasons}"[
        :500
    ]
    step.after.update(
        outcome=outcome.value,
        reasons=reasons,
        conditions=conditions,
        datasets=outcomes,
        overrides={n: t for n, t in overrides.items() if t},
        review_notes={n: t for n, t in notes.items() if t},
    )
    step.context.update(tally=counted.as_dict(), round=request.round)
    _notify_decision(request, decision, outcomes)
    if outcome in APPROVALS:
        session.flush()
        _grant(request, decision)
    return decision


def _reports(
    raw: Iterable[Any], outcome: DecisionOutcome, errors: dict[str, list[str]]
) -> list[tuple[ReportKind, dt.date]]:
    found = []
    today = utcnow().date()
    for index, entry in enumerate(raw):
        entry = entry if isinstance(entry, Mapping) else {}
        kind, due_on = entry.get("kind"), _as_date(entry.get("due_on"))
        try:
            report_kind = ReportKind(str(kind))
        except ValueError:
            errors.setdefault("reports", []).append(
                f"Report {index + 1}: the kind is progress, final or publication."
            )
            continue
        if due_on is None or due_on <= today:
            errors.setdefault("reports", []).append(
                f"Report {index + 1}: give a due date after today."
            )
            continue
        found.append((report_kind, due_on))
    if found and outcome not in APPROVALS:
        errors.setdefault("reports", []).append("Reports are required with an approval.")
    return found


def _notify_decision(
    request: AccessRequest, decision: Decision, outcomes: Mapping[str, str]
) -> None:
    words = OUTCOME_WORDS[decision.outcome]
    lines = [
        f"The data access committee {words.replace('to you ', '')} your request “{request.title}”."
    ]
    if decision.outcome is DecisionOutcome.RETURN:
        lines[0] = f"The data access committee returned your request “{request.title}” for changes."
    lines.append(f"Reasons: {decision.reasons}")
    if decision.conditions:
        lines.append("Conditions you must accept before access starts:")
        lines += [f"- {c}" for c in decision.conditions]
    names = titles(request.datasets)
    by_identifier = {item.dataset.identifier: names[item.dataset_id] for item in request.datasets}
    if outcomes and decision.outcome in APPROVALS:
        lines.append("Datasets:")
        lines += [
            f"- {by_identifier[n]}: {'approved' if v == 'approve' else 'not approved'}"
            for n, v in outcomes.items()
        ]
    for report in decision.required_reports:
        lines.append(f"A {report['kind']} report is due on {report['due_on']}.")
    team = {request.applicant_id} | {
        m.user_id for m in request.current_members() if m.user_id is not None
    }
    notify(
        sorted(team),
        kind=f"access_request.{decision.outcome.value}",
        subject=f"{request.reference}: {words}",
        body="\n".join(lines),
        link=applicant_link(request),
        object_type=OBJECT_TYPE,
        object_id=request.id,
    )


def _grant(request: AccessRequest, decision: Decision) -> None:
    """Access for the approved datasets, through the entitlements' service; skipped only while
    that sub-area is not installed (an approval is still recorded)."""
    try:
        from governance.entitlements import services as entitlements
    except ModuleNotFoundError as exc:
        if exc.name in ("governance.entitlements", "governance.entitlements.services"):
            return
        raise
    if request.amends_id is not None:  # an amendment changes its project's access
        from governance.oversight.services import apply_amendment

        apply_amendment(request, decision)
        return
    entitlements.grant_for_decision(request, decision)


# --- the queue and the review page ----------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    state: str | None = None  # "submitted" / "under_review" / … ; None: the open ones
    dataset: str | None = None  # a dataset identifier
    custodian: str | None = None  # an organisation id
    check: str | None = None  # a check outcome: compatible / needs_review / incompatible


QUEUE_STATES = (
    RequestState.SUBMITTED,
    RequestState.UNDER_REVIEW,
    RequestState.RETURNED,
    RequestState.APPROVED,
    RequestState.REJECTED,
)


QUEUE_PAGE_SIZE = 50


def queue(
    actor: Actor, filters: QueueFilters, *, page: int = 1, per_page: int | None = None
) -> list[AccessRequest]:
    """One page of the requests of the actor's committees (administrators: every
    committee's), longest waiting first (time since their state last changed). By default the
    ones the committee has to act on: submitted and under review. Applicants and datasets are
    loaded with the page (a few statements, whatever its length).

    :raises Forbidden: not on a committee (and not an administrator).
    :raises InvalidInput: an unknown state or check outcome.
    """
    per_page = per_page or QUEUE_PAGE_SIZE
    query = _queue_query(actor, filters)
    query = (
        query.options(selectinload(AccessRequest.applicant))
        .order_by(AccessRequest.state_changed_at.asc(), AccessRequest.id)
        .limit(per_page)
        .offset(max(0, page - 1) * per_page)
    )
    return list(get_session().scalars(query))


def queue_filter_choices() -> tuple[list[dict[str, str]], list[Organisation]]:
    """What the queue's filters offer: the datasets some submitted request asks for (by
    title), and their custodian organisations (by name)."""
    session = get_session()
    requested = list(
        session.scalars(
            select(Dataset)
            .where(
                Dataset.id.in_(
                    select(RequestDataset.dataset_id)
                    .join(AccessRequest, AccessRequest.id == RequestDataset.request_id)
                    .where(AccessRequest.state != RequestState.DRAFT)
                )
            )
            .order_by(Dataset.identifier)
        )
    )
    titles = published_titles(d.id for d in requested)
    datasets = sorted(
        (
            {"identifier": d.identifier, "title": titles.get(d.id) or d.identifier}
            for d in requested
        ),
        key=lambda d: d["title"].casefold(),
    )
    custodians = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(sorted({d.organisation_id for d in requested})))
            .order_by(Organisation.name)
        )
    )
    return datasets, custodians


def queue_size(actor: Actor, filters: QueueFilters) -> int:
    """How many requests :func:`queue` pages through."""
    query = _queue_query(actor, filters)
    return int(get_session().scalar(select(func.count()).select_from(query.subquery())) or 0)


def _queue_query(actor: Actor, filters: QueueFilters) -> Any:
    require(actor, Permission.ACCESS_REQUEST_REVIEW)
    query = select(AccessRequest)
    user: User = actor  # type: ignore[assignment]
    if not user.has_role(Role.ADMIN):
        query = query.where(AccessRequest.committee_id.in_(sorted(user.committees()) or [""]))
    if filters.state:
        try:
            state = RequestState(filters.state)
        except ValueError:
            raise InvalidInput.field("state", "Choose one of the listed states.") from None
        if state is RequestState.DRAFT:
            raise InvalidInput.field("state", "Drafts are not with the committee.")
        query = query.where(AccessRequest.state == state)
    else:
        query = query.where(AccessRequest.state.in_(VOTING_STATES))
    if filters.check and filters.check not in ("compatible", "needs_review", "incompatible"):
        raise InvalidInput.field("check", "Choose compatible, needs review or incompatible.")
    conditions = []
    if filters.dataset:
        conditions.append(Dataset.identifier == filters.dataset)
    if filters.custodian:
        conditions.append(Dataset.organisation_id == filters.custodian)
    if filters.check:
        conditions.append(RequestDataset.check_outcome == filters.check)
    if conditions:
        matching = (
            select(RequestDataset.request_id)
            .join(Dataset, Dataset.id == RequestDataset.dataset_id)
            .where(and_(*conditions))
        )
        query = query.where(AccessRequest.id.in_(matching))
    return query


def waiting_days(request: AccessRequest, now: dt.datetime | None = None) -> int:
    return max(0, ((now or utcnow()) - request.state_changed_at).days)


def deadlines() -> dict[str, int]:
    """The decision deadline and its possible extension, in days (config keys
    ``REVIEW_DECISION_DEADLINE_DAYS``, ``REVIEW_DECISION_EXTENSION_DAYS``)."""
    config = current_app.config if has_app_context() else {}
    return {
        key.lower(): int(config.get(key) or default) for key, default in DEADLINE_DEFAULTS.items()
    }


@dataclass(frozen=True)
class Stage:
    name: str
    started: dt.datetime | None
    ended: dt.datetime | None
    days: int | None
    deadline_days: int | None = None
    note: str = ""

    @property
    def over(self) -> bool:
        return (
            self.days is not None
            and self.deadline_days is not None
            and self.days > self.deadline_days
        )


def stages(request: AccessRequest, events: list[audit.AuditEvent]) -> list[Stage]:
    """The days each stage of the request took (or has taken so far), from its audit trail:
    in draft, submitted until the review started, under review until the decision, and the
    whole time from the (last) complete application to the decision against the EHDS deadline."""
    now = utcnow()
    first: dict[str, dt.datetime] = {}
    for event in events:  # oldest first
        first.setdefault(event.action, event.at)
    newest = list(reversed(events))
    last_submit = next((e.at for e in newest if e.action == "access_request.submitted"), None)
    started = next((e.at for e in newest if e.action == "access_request.review_started"), None)
    decided = request.decided_at
    limits = deadlines()

    def days(a: dt.datetime | None, b: dt.datetime | None) -> int | None:
        if a is None:
            return None
        return max(0, ((b or now) - a).days)

    result = [
        Stage("Draft", request.created_at, first.get("access_request.submitted"),
              days(request.created_at, first.get("access_request.submitted"))),
    ]  # fmt: skip
    if last_submit is not None:
        review_start = started if started and started >= last_submit else None
        result.append(
            Stage("Waiting for the committee", last_submit, review_start or decided,
                  days(last_submit, review_start or decided))
        )  # fmt: skip
        if review_start is not None:
            result.append(Stage("Under review", review_start, decided, days(review_start, decided)))
        result.append(
            Stage(
                "Complete application to decision",
                last_submit,
                decided,
                days(last_submit, decided),
                limits["review_decision_deadline_days"],
                note=(
                    f"EHDS deadline: {plural(limits['review_decision_deadline_days'], 'day')}, "
                    f"extendable by {plural(limits['review_decision_extension_days'], 'day')}"
                ),
            )
        )
    return result


def timeline(request: AccessRequest) -> list[audit.AuditEvent]:
    """The request's whole story from the audit trail, oldest first: its own events and those
    of each requested dataset (sign-offs, declines, overrides)."""
    from core.audit import AuditEvent

    item_ids = [item.id for item in request.datasets]
    clauses = [and_(AuditEvent.object_type == OBJECT_TYPE, AuditEvent.object_id == request.id)]
    if item_ids:
        clauses.append(
            and_(AuditEvent.object_type == "request_dataset", AuditEvent.object_id.in_(item_ids))
        )
    return list(
        get_session().scalars(select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.seq))
    )


def queue_counts(actor: Actor) -> dict[str, int]:
    """How many requests of the actor's committees are in each open state."""
    require(actor, Permission.ACCESS_REQUEST_REVIEW)
    user: User = actor  # type: ignore[assignment]
    query = select(AccessRequest.state, func.count()).group_by(AccessRequest.state)
    if not user.has_role(Role.ADMIN):
        query = query.where(AccessRequest.committee_id.in_(sorted(user.committees()) or [""]))
    return {state.value: int(n) for state, n in get_session().execute(query)}
