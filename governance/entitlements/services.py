"""Entitlements: what an approval gives each team member, and how that access starts, is
revoked and ends.

- :func:`grant_for_decision` — on approval, one entitlement per current team member (with a
  user account) and approved dataset, limited to the variables the request named, from the
  decision date until its end date (:func:`end_date`). They wait for the person's acceptance.
- :func:`terms_of` / :func:`accept_terms` — the click-through: the obligations of the
  agreements that cover the approved datasets, the obligations the consent check found in
  their data-use conditions and the decision's conditions, as one text whose SHA-256 is its
  version. Accepting the current version activates the person's entitlements of the request;
  a stale version (the terms changed since the page was shown) is refused with 409.
- :func:`revoke` — by the committee's chair or an administrator, with a reason;
  :func:`end_membership` — a member leaves the team, their access ends.
- :func:`query` — "may this user use this dataset now?" for data platforms;
  :func:`own_entitlements` — a user's own list; :func:`visas_of` — GA4GH visas of the active
  ones (signed by :mod:`governance.visas`).
- :func:`all_ended` — whether an approved request may be closed.

Dates: ``starts_on`` is the decision date (UTC) and ``ends_on`` the *last day* of access
(inclusive): an entitlement is usable on every day from ``starts_on`` to ``ends_on`` once it is
active, and the hourly job ends it on the day after. Each limit is turned into such a last day:
the requested duration and a TS limit of *n* months end the day before the same date *n*
months later, an agreement the day before its ``expires_on`` (it is in effect up to, not
including, that day).

Every grant, activation, revocation and end is in the audit trail under the request
(``object_type="access_request"``), so the request's timeline shows it; the entitlement, the
user and the dataset are in the event's context.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from catalogue.models import Dataset
from core import audit
from core.db import get_session, lock_revision, transactional, utcnow, write_in_passing
from core.errors import Conflict, InvalidInput, NotFound
from core.models import User
from core.notifications import long_date, notify
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import SYSTEM, Actor, can, require, require_login
from governance.requests.models import (
    Acceptance,
    AccessRequest,
    DatasetState,
    Decision,
    DecisionOutcome,
    Entitlement,
    EntitlementState,
    RequestDataset,
    RequestMember,
    RequestState,
)

TS = "DUO:0000025"  # time limit on use (months)
#: when nothing else limits an entitlement (no requested duration, agreement nor TS limit)
DEFAULT_MONTHS = 12
LIVE = (EntitlementState.AWAITING_ACCEPTANCE, EntitlementState.ACTIVE)
FINISHED = (EntitlementState.REVOKED, EntitlementState.ENDED)
APPROVING = (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS)
REASON_MAX = 2000


def today() -> dt.date:
    """Today's date in UTC: the sub-area's one clock."""
    return utcnow().date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def terms_link(request_id: str) -> str:
    return f"/requests/{request_id}/terms"


# --- granting -------------------------------------------------------------------------------


def approving_decision(request: AccessRequest) -> Decision | None:
    """The request's latest approval (its last round's decision, when that approved)."""
    return get_session().scalar(
        select(Decision)
        .where(Decision.request_id == request.id, Decision.outcome.in_(APPROVING))
        .order_by(Decision.round.desc())
        .limit(1)
    )


def approved_datasets(request: AccessRequest, decision: Decision) -> list[RequestDataset]:
    """The requested datasets the decision approved: those it names ``approved`` in its
    ``dataset_outcomes`` (by dataset id), or — when it names none — those in an approved
    state."""
    outcomes = decision.dataset_outcomes or {}
    if outcomes:
        return [
            rd
            for rd in request.datasets
            if (outcomes.get(rd.dataset_id) or outcomes.get(rd.id)) == "approved"
        ]
    return [
        rd for rd in request.datasets if rd.state in (DatasetState.APPROVED, DatasetState.GRANTED)
    ]


@dataclass(frozen=True)
class EndDate:
    """An entitlement's last day and which limit set it (``requested``, ``agreement``,
    ``time_limit`` or ``default``)."""

    ends_on: dt.date
    limit: str
    limits: dict[str, dt.date] = field(default_factory=dict, compare=False)


def end_date(
    start: dt.date,
    *,
    requested_months: int | None,
    agreement_expires_on: dt.date | None,
    ts_months: int | None,
) -> EndDate:
    """The last day of access: the earliest of the requested duration, the covering
    agreement's last day in effect and the TS limit, each counted from ``start`` (see the
    module for the days). Without any of them: :data:`DEFAULT_MONTHS`."""
    limits: dict[str, dt.date] = {}
    if requested_months and requested_months > 0:
        limits["requested"] = add_months(start, requested_months) - dt.timedelta(days=1)
    if agreement_expires_on is not None:
        limits["agreement"] = agreement_expires_on - dt.timedelta(days=1)
    if ts_months and ts_months > 0:
        limits["time_limit"] = add_months(start, ts_months) - dt.timedelta(days=1)
    if not limits:
        months = int(current_app.config.get("ENTITLEMENT_DEFAULT_MONTHS", DEFAULT_MONTHS))
        limits["default"] = add_months(start, months) - dt.timedelta(days=1)
    limit = min(limits, key=lambda name: (limits[name], name))
    return EndDate(ends_on=max(limits[limit], start), limit=limit, limits=limits)


def ts_months_of(dataset_ids: Iterable[str]) -> dict[str, int]:
    """The TS limit (months) of each dataset whose data-use conditions have a readable one."""
    from governance.data_use.services import conditions_of

    out: dict[str, int] = {}
    for dataset_id, conditions in conditions_of(list(dataset_ids)).items():
        modifier = conditions.modifier(TS)
        if modifier is None:
            continue
        try:
            months = int(modifier.params.get("months"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if months > 0:
            out[dataset_id] = months
    return out


def grant_for_decision(request: AccessRequest, decision: Decision) -> list[Entitlement]:
    """One entitlement (awaiting acceptance) per current team member with a user account and
    approved dataset, limited to the dataset's requested variables, from the decision date
    until :func:`end_date`; each grant audited under the request, and each person notified
    that they must accept the terms. A (member, dataset) that already has an entitlement of
    this request is left as it is. Does not commit (the decision's transaction does)."""
    from governance.agreements.services import covering_agreements

    session = get_session()
    start = decision.decided_at.date() if decision.decided_at else today()
    approved = approved_datasets(request, decision)
    if not approved:
        return []
    dataset_ids = [rd.dataset_id for rd in approved]
    covering = covering_agreements(dataset_ids, start)
    ts = ts_months_of(dataset_ids)
    existing = set(
        session.execute(
            select(Entitlement.user_id, Entitlement.dataset_id).where(
                Entitlement.request_id == request.id
            )
        ).all()
    )
    members = [m for m in request.current_members() if m.user_id]
    made: list[Entitlement] = []
    for rd in approved:
        agreements = covering.get(rd.dataset_id) or []
        expires = max((a.expires_on for a in agreements if a.expires_on), default=None)
        end = end_date(
            start,
            requested_months=request.requested_months,
            agreement_expires_on=expires,
            ts_months=ts.get(rd.dataset_id),
        )
        for member in members:
            assert member.user_id is not None  # noqa: S101  (filtered above)
            if (member.user_id, rd.dataset_id) in existing:
                continue
            entitlement = Entitlement(
                request_id=request.id,
                decision_id=decision.id,
                user_id=member.user_id,
                dataset_id=rd.dataset_id,
                variables=list(rd.variables) if rd.variables else None,
                state=EntitlementState.AWAITING_ACCEPTANCE,
                starts_on=start,
                ends_on=end.ends_on,
                created_at=utcnow(),
            )
            session.add(entitlement)
            made.append(entitlement)
    if not made:
        return []
    session.flush()
    for entitlement in made:
        rd = next(r for r in approved if r.dataset_id == entitlement.dataset_id)
        audit.record(
            SYSTEM if decision.decided_by is None else decision.decided_by,
            "entitlement.granted",
            "access_request",
            request.id,
            after={
                "state": entitlement.state.value,
                "starts_on": entitlement.starts_on,
                "ends_on": entitlement.ends_on,
                "variables": entitlement.variables,
            },
            summary=(
                f"Access to {rd.dataset.identifier} granted to {_person(entitlement.user_id)} "
                f"until {long_date(entitlement.ends_on)}, once the terms are accepted"
            ),
            context={
                "entitlement_id": entitlement.id,
                "user_id": entitlement.user_id,
                "dataset_id": entitlement.dataset_id,
                "dataset": rd.dataset.identifier,
                "decision_id": decision.id,
            },
        )
    by_user: dict[str, list[Entitlement]] = {}
    for entitlement in made:
        by_user.setdefault(entitlement.user_id, []).append(entitlement)
    for user_id, mine in by_user.items():
        names = ", ".join(sorted(_identifier(e.dataset_id) for e in mine))
        notify(
            [user_id],
            kind="entitlement.granted",
            subject=f"{request.reference}: accept the terms to start your access",
            body=(
                f"The committee approved the access request {request.reference} "
                f"“{request.title}”. Your access to {names} starts once you have read and "
                "accepted the terms (the agreements' obligations and the committee's "
                "conditions)."
            ),
            link=terms_link(request.id),
            object_type="access_request",
            object_id=request.id,
        )
    return made


def _person(user_id: str | None) -> str:
    user = get_session().get(User, user_id) if user_id else None
    return user.name or user.email if user is not None else "a former user"


def _identifier(dataset_id: str) -> str:
    dataset = get_session().get(Dataset, dataset_id)
    return dataset.identifier if dataset is not None else dataset_id


# --- terms and acceptance -------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The text a team member accepts, and its version (the SHA-256 of the UTF-8 text)."""

    text: str
    sha256: str
    sections: list[tuple[str, list[str]]]  # (heading, items), as the page shows them


def _title(dataset: Dataset) -> str:
    from governance.agreements.services import dataset_title

    return dataset_title(SYSTEM, dataset)


def terms_of(request: AccessRequest) -> Terms:
    """The current terms of an approved request: per approved dataset, the obligations of
    the agreements now in effect that cover it and those the consent check found in its
    data-use conditions; then the decision's conditions. Deterministic: the same facts give
    the same text, hence the same SHA-256.

    :raises Conflict: when the request has no approval.
    """
    from governance.agreements.services import agreement_obligations

    decision = approving_decision(request)
    if decision is None:
        raise Conflict("This request has not been approved: there are no terms to accept.")
    approved = approved_datasets(request, decision)
    obligations = agreement_obligations([rd.dataset_id for rd in approved])
    sections: list[tuple[str, list[str]]] = []
    for rd in sorted(approved, key=lambda r: r.dataset.identifier):
        items: list[str] = []
        for obligation in obligations.get(rd.dataset_id, []):
            if obligation.text not in items:
                items.append(obligation.text)
        for stored in rd.check_obligations or []:
            text = str(stored.get("text") or "").strip()
            if text and text not in items:
                items.append(text)
        if not items:
            items.append("No obligations beyond these terms.")
        sections.append((f"{_title(rd.dataset)} ({rd.dataset.identifier})", items))
    conditions = [c.strip() for c in decision.conditions or [] if c and c.strip()]
    sections.append(
        ("Conditions set by the committee", conditions or ["The committee set no conditions."])
    )
    lines = [
        f"Terms of access for {request.reference}: {request.title}".rstrip(": "),
        "",
        "By accepting, I agree to use the data only for the approved project, by the "
        "approved team, in the approved setting, and to meet each obligation below.",
    ]
    for heading, items in sections:
        lines += ["", heading, *[f"- {item}" for item in items]]
    text = "\n".join(lines) + "\n"
    return Terms(
        text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), sections=sections
    )


def get_request(actor: Actor, request_id: str) -> AccessRequest:
    """The request, for someone who may see it.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or the caller may not see it.
    """
    require_login(actor)
    request = get_session().get(AccessRequest, request_id)
    if request is None:
        raise NotFound("There is no access request with this id.")
    require(actor, Permission.ACCESS_REQUEST_READ, request, hide=True)
    return request


def entitlements_of_request(request_id: str, user_id: str | None = None) -> list[Entitlement]:
    statement = select(Entitlement).where(Entitlement.request_id == request_id)
    if user_id is not None:
        statement = statement.where(Entitlement.user_id == user_id)
    return list(
        get_session().scalars(
            statement.join(Dataset, Dataset.id == Entitlement.dataset_id).order_by(
                Dataset.identifier, Entitlement.user_id
            )
        )
    )


@dataclass
class TermsView:
    """What the terms page shows one team member."""

    request: AccessRequest
    terms: Terms
    mine: list[Entitlement]
    awaiting: list[Entitlement]
    accepted: Acceptance | None  # their acceptance of the current version, if any


def terms_for(actor: Actor, request_id: str) -> TermsView:
    """The current terms of a request for a team member, with their entitlements.

    :raises NotFound: when the caller may not see the request.
    :raises Forbidden: for someone who sees it but is not on its team.
    :raises Conflict: when the request has no approval.
    """
    request = get_request(actor, request_id)
    require(actor, Permission.ENTITLEMENT_ACCEPT, request)
    terms = terms_of(request)
    user_id = actor.id  # type: ignore[union-attr]
    mine = entitlements_of_request(request.id, user_id)
    accepted = get_session().scalar(
        select(Acceptance).where(
            Acceptance.request_id == request.id,
            Acceptance.user_id == user_id,
            Acceptance.terms_sha256 == terms.sha256,
        )
    )
    return TermsView(
        request=request,
        terms=terms,
        mine=mine,
        awaiting=[e for e in mine if e.state is EntitlementState.AWAITING_ACCEPTANCE],
        accepted=accepted,
    )


@transactional
def accept_terms(actor: Actor, request_id: str, terms_sha256: str) -> list[Entitlement]:
    """Record the caller's acceptance of the request's current terms (the version they read:
    ``terms_sha256``) and activate their entitlements of the request that await it; each
    activation audited, the person told that access started. Commits.

    :raises NotFound: when the caller may not see the request.
    :raises Forbidden: for someone who is not on the request's team.
    :raises InvalidInput: (terms_sha256) for something that is not a SHA-256.
    :raises Conflict: when the terms changed since that version (read them again), the request
        is not approved, or the caller has no entitlement awaiting acceptance.
    """
    sha = (terms_sha256 or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise InvalidInput.field("terms_sha256", "Send the SHA-256 (64 hex digits) of the terms.")
    request = get_request(actor, request_id)
    require(actor, Permission.ENTITLEMENT_ACCEPT, request)
    lock_revision(request)
    if request.state is not RequestState.APPROVED:
        raise Conflict(f"The request is {request.state.value}: access can no longer be accepted.")
    terms = terms_of(request)
    if sha != terms.sha256:
        raise Conflict(
            "The terms changed since you read them (an agreement or a condition changed). "
            "Read the current terms and accept them again."
        )
    user_id = str(actor.id)  # type: ignore[union-attr]
    session = get_session()
    awaiting = [
        e
        for e in entitlements_of_request(request.id, user_id)
        if e.state is EntitlementState.AWAITING_ACCEPTANCE
    ]
    if not awaiting:
        raise Conflict("You have no access waiting for your acceptance on this request.")
    for entitlement in awaiting:
        lock_revision(entitlement)
        if entitlement.state is not EntitlementState.AWAITING_ACCEPTANCE:
            raise Conflict("Your access changed a moment ago. Reload the page.")
    now = utcnow()
    known = session.scalar(
        select(Acceptance).where(
            Acceptance.request_id == request.id,
            Acceptance.user_id == user_id,
            Acceptance.terms_sha256 == sha,
        )
    )
    if known is None:
        session.add(
            Acceptance(
                request_id=request.id,
                user_id=user_id,
                terms_sha256=sha,
                terms_text=terms.text,
                accepted_at=now,
            )
        )
    for entitlement in awaiting:
        entitlement.state = EntitlementState.ACTIVE
        entitlement.activated_at = now
        entitlement.revision += 1
    for rd in request.datasets:
        if rd.state is DatasetState.APPROVED and any(
            e.dataset_id == rd.dataset_id for e in awaiting
        ):
            rd.state = DatasetState.GRANTED
            rd.state_changed_at = now
    session.flush()
    audit.record(
        actor,
        "access_request.terms_accepted",
        "access_request",
        request.id,
        after={"terms_sha256": sha},
        summary=f"{_person(user_id)} accepted the terms (version {sha[:12]})",
        context={"user_id": user_id, "terms_sha256": sha},
    )
    for entitlement in awaiting:
        audit.record(
            actor,
            "entitlement.activated",
            "access_request",
            request.id,
            before={"state": EntitlementState.AWAITING_ACCEPTANCE.value},
            after={"state": EntitlementState.ACTIVE.value, "activated_at": now},
            summary=(
                f"Access to {entitlement.dataset.identifier} started for {_person(user_id)} "
                f"(until {long_date(entitlement.ends_on)})"
            ),
            context=_context(entitlement),
        )
    names = ", ".join(e.dataset.identifier for e in awaiting)
    last = max(e.ends_on for e in awaiting)
    notify(
        [user_id],
        kind="entitlement.started",
        subject=f"{request.reference}: your access started",
        body=(
            f"Your access to {names} under {request.reference} “{request.title}” started "
            f"today and lasts until {long_date(last)} at the latest."
        ),
        link="/me/access",
        object_type="access_request",
        object_id=request.id,
    )
    session.commit()
    return awaiting


def _context(entitlement: Entitlement) -> dict[str, Any]:
    return {
        "entitlement_id": entitlement.id,
        "user_id": entitlement.user_id,
        "dataset_id": entitlement.dataset_id,
        "dataset": entitlement.dataset.identifier,
    }


# --- revocation and ending ------------------------------------------------------------------


def _dataset_by_key(key: str) -> Dataset | None:
    session = get_session()
    return session.get(Dataset, key) or session.scalar(
        select(Dataset).where(Dataset.identifier == key)
    )


@transactional
def revoke(
    actor: Actor,
    request_id: str,
    *,
    reason: str,
    entitlement_id: str | None = None,
    user_id: str | None = None,
    dataset: str | None = None,
) -> list[Entitlement]:
    """Revoke the request's live entitlements (awaiting or active) that match: one
    (``entitlement_id``), a person's (``user_id``), a dataset's (``dataset``: its id or
    identifier), or all of them when none is named; each audited with the reason, each person
    notified. Commits.

    :raises NotFound: when the caller may not see the request.
    :raises Forbidden: unless the caller chairs the request's committee or is an administrator.
    :raises InvalidInput: (reason) without a reason; (entitlement, user, dataset) for one the
        request has no entitlement of.
    :raises Conflict: when nothing that matches is live any more (revoked or ended already).
    """
    request = get_request(actor, request_id)
    require(actor, Permission.ENTITLEMENT_REVOKE, request)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the access is revoked.")
    if len(reason) > REASON_MAX:
        raise InvalidInput.field("reason", f"At most {REASON_MAX} characters.")
    lock_revision(request)
    chosen = entitlements_of_request(request.id)
    if entitlement_id is not None:
        chosen = [e for e in chosen if e.id == entitlement_id]
        if not chosen:
            raise InvalidInput.field("entitlement", "The request has no such entitlement.")
    if user_id is not None:
        chosen = [e for e in chosen if e.user_id == user_id]
        if not chosen:
            raise InvalidInput.field("user", "This person has no entitlement on the request.")
    if dataset is not None:
        found = _dataset_by_key(dataset)
        chosen = [e for e in chosen if found is not None and e.dataset_id == found.id]
        if not chosen:
            raise InvalidInput.field("dataset", "The request gives no access to this dataset.")
    live = [e for e in chosen if e.state in LIVE]
    if not live:
        raise Conflict("That access was already revoked or has ended.")
    now = utcnow()
    for entitlement in live:
        lock_revision(entitlement)
    for entitlement in live:
        entitlement.revoked_by_id = actor.id  # type: ignore[union-attr]
        entitlement.revocation_reason = reason
        _finish(actor, entitlement, EntitlementState.REVOKED, now, reason)
    for person, theirs in _by_user(live).items():
        notify(
            [person],
            kind="entitlement.revoked",
            subject=f"{request.reference}: your access was revoked",
            body=(
                f"Your access to {', '.join(e.dataset.identifier for e in theirs)} under "
                f"{request.reference} “{request.title}” was revoked. Reason: {reason}"
            ),
            link="/me/access",
            object_type="access_request",
            object_id=request.id,
        )
    get_session().commit()
    return live


def _by_user(entitlements: Iterable[Entitlement]) -> dict[str, list[Entitlement]]:
    out: dict[str, list[Entitlement]] = {}
    for entitlement in entitlements:
        out.setdefault(entitlement.user_id, []).append(entitlement)
    return out


def _end(
    actor: Actor, entitlements: Sequence[Entitlement], why: str, now: dt.datetime
) -> list[Entitlement]:
    """End the live ones among ``entitlements`` (audited under their request, with ``why``)."""
    ended = [e for e in entitlements if e.state in LIVE]
    for entitlement in ended:
        _finish(actor, entitlement, EntitlementState.ENDED, now, why)
    return ended


def _finish(
    actor: Actor, entitlement: Entitlement, state: EntitlementState, now: dt.datetime, why: str
) -> None:
    """Revoke or end one live entitlement, audited under its request with ``why``."""
    before = entitlement.state.value
    entitlement.state = state
    stamp = "revoked_at" if state is EntitlementState.REVOKED else "ended_at"
    setattr(entitlement, stamp, now)
    entitlement.revision += 1
    get_session().flush()
    revoked = state is EntitlementState.REVOKED
    audit.record(
        actor,
        f"entitlement.{state.value}",
        "access_request",
        entitlement.request_id,
        before={"state": before},
        after={"state": state.value, stamp: now},
        summary=(
            f"Access to {entitlement.dataset.identifier} {state.value} for "
            f"{_person(entitlement.user_id)}" + ("" if revoked else f": {why}")
        ),
        context=_context(entitlement),
        reason=why,
    )


def end_membership(request: AccessRequest, member: RequestMember, actor: Actor = SYSTEM) -> None:
    """A member left the team (``removed_at`` set, e.g. by an approved amendment): their
    entitlements of the request end, audited and notified. Does not commit (the caller's
    change does)."""
    if not member.user_id:
        return
    mine = [e for e in entitlements_of_request(request.id, member.user_id) if e.state in LIVE]
    ended = _end(actor, mine, "the person is no longer on the request's team", utcnow())
    if ended:
        notify(
            [member.user_id],
            kind="entitlement.ended",
            subject=f"{request.reference}: your access ended",
            body=(
                f"You are no longer on the team of {request.reference} “{request.title}”, so "
                f"your access to {', '.join(e.dataset.identifier for e in ended)} ended."
            ),
            link="/me/access",
            object_type="access_request",
            object_id=request.id,
        )


def _project() -> Any:
    """The project a request belongs to: the original request, for itself and each of its
    amendments (an amendment that only extends access or removes members gives no
    entitlement of its own; it ends with its project)."""
    return func.coalesce(AccessRequest.amends_id, AccessRequest.id)


def all_ended(request: AccessRequest) -> bool:
    """Whether the access of the request's project (the original and its amendments) is over:
    it gave entitlements and each one is revoked or ended (a project whose approval gave no
    entitlement yet is not over)."""
    root = request.amends_id or request.id
    states = set(
        get_session().scalars(
            select(Entitlement.state)
            .join(AccessRequest, AccessRequest.id == Entitlement.request_id)
            .where(_project() == root)
        )
    )
    return bool(states) and states <= set(FINISHED)


# --- reading --------------------------------------------------------------------------------


def is_current(entitlement: Entitlement, on: dt.date | None = None) -> bool:
    """Active and within its dates on ``on`` (default: today)."""
    on = on or today()
    return (
        entitlement.state is EntitlementState.ACTIVE
        and entitlement.starts_on <= on <= entitlement.ends_on
    )


@dataclass
class Answer:
    """The answer to "may this user use this dataset now?"."""

    user: User
    dataset: Dataset | None
    on: dt.date
    entitlements: list[Entitlement]

    @property
    def allowed(self) -> bool:
        return bool(self.entitlements)

    @property
    def variables(self) -> list[str] | None:
        """The variables the user may use (the union over the entitlements; None: all of
        them, as soon as one entitlement is not limited; [] when not allowed)."""
        if not self.entitlements:
            return []
        names: list[str] = []
        for entitlement in self.entitlements:
            if not entitlement.variables:
                return None
            names += [v for v in entitlement.variables if v not in names]
        return sorted(names)


def query(actor: Actor, user_id: str, dataset: str | None = None) -> Answer:
    """The entitlements that let ``user_id`` use ``dataset`` (its id or identifier; any
    dataset when None) today: active and within their dates.

    :raises Unauthenticated: for anonymous callers.
    :raises Forbidden: unless the caller is a data platform or an administrator.
    :raises NotFound: for an unknown user or dataset.
    """
    require(actor, Permission.ENTITLEMENT_QUERY)
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no user with this id.")
    found = None
    if dataset is not None:
        found = _dataset_by_key(dataset)
        if found is None:
            raise NotFound("There is no dataset with this identifier.")
    on = today()
    statement = select(Entitlement).where(
        Entitlement.user_id == user.id,
        Entitlement.state == EntitlementState.ACTIVE,
        Entitlement.starts_on <= on,
        Entitlement.ends_on >= on,
    )
    if found is not None:
        statement = statement.where(Entitlement.dataset_id == found.id)
    rows = list(session.scalars(statement.order_by(Entitlement.ends_on, Entitlement.id)))
    return Answer(user=user, dataset=found, on=on, entitlements=rows)


#: one's own list: what waits for one's acceptance, then what runs, then what is over
_STATE_ORDER = case(
    {
        EntitlementState.AWAITING_ACCEPTANCE: 0,
        EntitlementState.ACTIVE: 1,
        EntitlementState.ENDED: 2,
        EntitlementState.REVOKED: 3,
    },
    value=Entitlement.state,
    else_=4,
)


def own_entitlements(
    actor: Actor, *, state: EntitlementState | None = None, page: int = 1, per_page: int = 50
) -> Page[Entitlement]:
    """The caller's entitlements (every state, or one), those awaiting acceptance
    first, then the active, ended and revoked ones, latest end first.

    :raises Unauthenticated: for anonymous callers.
    """
    require_login(actor)
    require(actor, Permission.ENTITLEMENT_READ, actor)
    user_id = str(actor.id)  # type: ignore[union-attr]
    statement = select(Entitlement).where(Entitlement.user_id == user_id)
    if state is not None:
        statement = statement.where(Entitlement.state == state)
    return paginate(
        statement,
        page=page,
        per_page=per_page,
        order=[_STATE_ORDER, Entitlement.ends_on.desc()],
        tiebreak=Entitlement.id,
    )


def visible_panel(actor: Actor, request: AccessRequest) -> dict[str, Any]:
    """What the request page's access section shows ``actor`` (who sees the request): every
    entitlement of the request, whether the actor has something to accept, and whether they
    may revoke."""
    entitlements = entitlements_of_request(request.id)
    user_id = getattr(actor, "id", None)
    return {
        "request": request,
        "entitlements": entitlements,
        "awaiting_mine": [
            e
            for e in entitlements
            if e.user_id == user_id and e.state is EntitlementState.AWAITING_ACCEPTANCE
        ],
        "can_revoke": can(actor, Permission.ENTITLEMENT_REVOKE, request)
        and any(e.state in LIVE for e in entitlements),
    }


# --- visas ----------------------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of ``day`` (UTC): a visa of an entitlement ending that day expires
    no later."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def committee_iri(request: AccessRequest) -> str:
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return f"{base}/committees/{request.committee_id}" if request.committee_id else base


def visas_of(actor: Actor, user_id: str) -> list[str]:
    """Each of the user's entitlements active now as a signed GA4GH ``ControlledAccessGrants``
    visa: ``asserted`` when it was activated, ``value`` the dataset's IRI, ``source`` the
    committee's IRI, expiring at the end of its last day at the latest. The first visa ever
    makes the first signing key (a write in passing: this is a reading request).

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: for an unknown user.
    :raises Forbidden: unless it is the caller's own, or the caller is a data platform or an
        administrator.
    """
    from catalogue.dcat.graph import Iris
    from governance.visas import services as visas

    require_login(actor)
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no user with this id.")
    require(actor, Permission.VISA_READ, user)
    on = today()
    rows = list(
        session.scalars(
            select(Entitlement)
            .where(
                Entitlement.user_id == user.id,
                Entitlement.state == EntitlementState.ACTIVE,
                Entitlement.activated_at.is_not(None),
                Entitlement.starts_on <= on,
                Entitlement.ends_on >= on,
            )
            .order_by(Entitlement.activated_at, Entitlement.id)
        )
    )
    if not rows:
        return []
    if not any(key.is_signing() for key in visas.published_keys()):
        write_in_passing(lambda _session: visas.current_key(), "making the first visa key")
    iris = Iris.current()
    grants = [
        visas.Grant(
            user_id=e.user_id,
            dataset_id=e.dataset_id,
            dataset_iri=str(iris.dataset(e.dataset.identifier)),
            starts_at=e.activated_at,  # type: ignore[arg-type]
            ends_at=end_of_day(e.ends_on),
            source=committee_iri(e.request),
            asserted=e.activated_at,
        )
        for e in rows
    ]
    return visas.visas_for(grants)


# --- the hourly job's queries ---------------------------------------------------------------


def due_to_end(on: dt.date) -> list[Entitlement]:
    """Live entitlements whose last day is before ``on``."""
    return list(
        get_session().scalars(
            select(Entitlement)
            .where(Entitlement.state.in_(LIVE), Entitlement.ends_on < on)
            .order_by(Entitlement.request_id, Entitlement.ends_on, Entitlement.id)
        )
    )


def end_expired(entitlements: Sequence[Entitlement], now: dt.datetime) -> list[Entitlement]:
    """End these (past their last day), audited as the system, each person told. No commit."""
    ended = _end(SYSTEM, entitlements, "its end date passed", now)
    for person, theirs in _by_user(ended).items():
        references = sorted({e.request.reference for e in theirs})
        notify(
            [person],
            kind="entitlement.ended",
            subject=f"Your access under {', '.join(references)} ended",
            body=(
                f"Your access to {', '.join(e.dataset.identifier for e in theirs)} reached "
                "its end date. Delete the data you hold, or ask for an extension with an "
                "amendment of the request."
            ),
            link="/me/access",
            object_type="access_request",
            object_id=theirs[0].request_id,
        )
    return ended


def due_for_reminder(on: dt.date, days: int) -> list[Entitlement]:
    """Active entitlements ending within ``days`` days of ``on`` that were not reminded yet."""
    return list(
        get_session().scalars(
            select(Entitlement)
            .where(
                Entitlement.state == EntitlementState.ACTIVE,
                Entitlement.reminded_at.is_(None),
                Entitlement.ends_on >= on,
                Entitlement.ends_on <= on + dt.timedelta(days=days),
            )
            .order_by(Entitlement.user_id, Entitlement.ends_on, Entitlement.id)
        )
    )


def requests_to_close() -> list[str]:
    """Approved requests (originals and amendments) whose project gave entitlements and has
    none live any more."""
    granted = select(_project()).join(Entitlement, Entitlement.request_id == AccessRequest.id)
    live = granted.where(Entitlement.state.in_(LIVE))
    return list(
        get_session().scalars(
            select(AccessRequest.id)
            .where(
                AccessRequest.state == RequestState.APPROVED,
                _project().in_(granted),
                _project().not_in(live),
            )
            .order_by(AccessRequest.id)
        )
    )
