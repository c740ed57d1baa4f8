"""After approval: the reports and publications an applicant files on an approved request,
and amendments (add or remove a team member, add a dataset, extend the duration).

Reports
    A committee requires reports by a date when it decides (rows with ``due_on`` and no
    ``submitted_at``, made by the decision). A report the team submits fulfils the earliest
    open required report of its kind; otherwise it is a new row. A required report whose date
    has passed unsubmitted is *overdue* (:func:`is_overdue`).

Amendments
    An amendment is an :class:`AccessRequest` of its own (``amends_id`` = the original, its
    reference ``<original>-A<n>``) that copies the original's content and says in
    ``amendment`` what changes. It is a draft and goes through the same workflow as any request
    (submit → review → decision). Nothing changes for the original until the amendment is
    approved: then :func:`apply_amendment` moves the end of the running access (an extension),
    grants access to new members and datasets, and ends the access of removed members.

    A *project* is an original request with its approved amendments; its team is the
    original's current team (amendments add and remove members there).

    Access continues without a gap while an extension is reviewed: an extension submitted on or
    before the end of an entitlement holds that entitlement open while it is ``submitted`` or
    ``under_review`` (the expiry job asks :func:`held_open`); once approved, the end moves from
    the *old end date* by the extension's months, so no day is lost or gained. An entitlement
    that already ended when the extension is approved (the extension came after the end, or
    was returned to the applicant across it) is not revived — history is not edited — and the
    approval grants a fresh one under the amendment from the decision date for the extension's
    months, awaiting the member's acceptance like any new access. Revoked access is never
    extended or renewed.

Dates: "today" is the UTC date (:func:`today`); functions that depend on it take ``today=``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from catalogue.models import Dataset
from core import audit
from core.db import get_session, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Role, RoleGrant, User, casefold_key
from core.notifications import long_date
from core.permissions import Permission
from core.policies import SYSTEM, Actor, can, require, require_login
from core.text import plural
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    Decision,
    DecisionOutcome,
    Entitlement,
    EntitlementState,
    ReportKind,
    RequestDataset,
    RequestMember,
    RequestReport,
    RequestState,
)

OBJECT_TYPE = "access_request"
REPORTABLE = (RequestState.APPROVED, RequestState.CLOSED)
#: an amendment is reviewed (and holds running access open) in these states
UNDER_CONSIDERATION = (RequestState.SUBMITTED, RequestState.UNDER_REVIEW)
#: an amendment in these states is still open: another one waits until it is decided
AMENDMENT_OPEN = (
    RequestState.DRAFT,
    RequestState.SUBMITTED,
    RequestState.UNDER_REVIEW,
    RequestState.RETURNED,
)
LIVE = (EntitlementState.AWAITING_ACCEPTANCE, EntitlementState.ACTIVE)
APPROVED_DATASET = (DatasetState.APPROVED, DatasetState.GRANTED)
MAX_EXTENSION_MONTHS = 60
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
#: what an amendment copies from the original (all of its content)
COPIED = (
    "organisation_id",
    "title",
    "lay_summary",
    "scientific_abstract",
    "public_benefit",
    "purpose",
    "ethics_reference",
    "ethics_document_sha256",
    "ethics_document_filename",
    "ethics_document_size",
    "processing_country",
    "processing_environment",
    "data_justification",
    "publication_plan",
    "team_training",
    "requested_months",
    "funding",
    "conflicts_of_interest",
)
REPORT_KIND_NAMES = {
    ReportKind.PROGRESS: "progress report",
    ReportKind.FINAL: "final report",
    ReportKind.PUBLICATION: "publication",
}


def today() -> dt.date:
    """Today's date in UTC: the sub-area's one clock."""
    return utcnow().date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (31 January + 1 month = 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- reading --------------------------------------------------------------------------------


def get_request(actor: Actor, request_id: str) -> AccessRequest:
    """The request as ``actor`` may see it.

    :raises Unauthenticated: (401) for anonymous callers.
    :raises NotFound: (404) when it does not exist or the actor may not see it.
    """
    require_login(actor)
    request = get_session().get(AccessRequest, request_id) if request_id else None
    if request is None:
        raise NotFound("No such access request.")
    require(actor, Permission.ACCESS_REQUEST_READ, request, hide=True)
    return request


def original_of(request: AccessRequest) -> AccessRequest:
    """The request an amendment amends (itself for an original)."""
    if request.amends_id is None:
        return request
    original = get_session().get(AccessRequest, request.amends_id)
    return original if original is not None else request


def is_overdue(report: RequestReport, on: dt.date | None = None) -> bool:
    """A required report whose date passed without it."""
    return (
        report.submitted_at is None
        and report.due_on is not None
        and report.due_on < (on or today())
    )


def reports_of(request_id: str) -> list[RequestReport]:
    """Every report row of a request: the awaited ones by due date first, then the submitted
    ones, newest first."""
    rows = list(
        get_session().scalars(select(RequestReport).where(RequestReport.request_id == request_id))
    )
    awaited = [r for r in rows if r.submitted_at is None]
    done = [r for r in rows if r.submitted_at is not None]
    done.sort(key=lambda r: (r.submitted_at, r.id), reverse=True)
    awaited.sort(key=lambda r: (r.due_on or dt.date.max, r.created_at))
    return awaited + done


def list_reports(actor: Actor, request_id: str) -> list[RequestReport]:
    """The reports of a request the actor may see (404 otherwise)."""
    request = get_request(actor, request_id)
    return reports_of(request.id)


def can_report(actor: Actor, request: AccessRequest) -> bool:
    return request.state in REPORTABLE and can(actor, Permission.REPORT_SUBMIT, request)


def can_amend(actor: Actor, request: AccessRequest) -> bool:
    return (
        request.state is RequestState.APPROVED
        and request.amends_id is None
        and can(actor, Permission.ACCESS_REQUEST_APPLY, request)
    )


# --- reports --------------------------------------------------------------------------------


def _check_report(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = ReportKind(data["kind"])
    title = (data.get("title") or "").strip()
    text = (data.get("text") or "").strip()
    doi = (data.get("doi") or "").strip() or None
    url = (data.get("url") or "").strip() or None
    if not title:
        errors["title"] = ["Give the report or publication a title."]
    if kind is not ReportKind.PUBLICATION and not text:
        errors["text"] = ["Write the report: what was done, what was found, what comes next."]
    if doi is not None:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.IGNORECASE)
        if not DOI.match(doi):
            errors["doi"] = ["A DOI starts with “10.” and a slash follows (10.1182/blood.2024…)."]
    if url is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", url):
        errors["url"] = ["Give the full web address, starting with https://."]
    if kind is ReportKind.PUBLICATION and doi is None and url is None and "doi" not in errors:
        errors["doi"] = ["Give the publication's DOI or a web address where it can be read."]
    if errors:
        raise InvalidInput(errors)
    return {"kind": kind, "title": title, "text": text, "doi": doi, "url": url}


def _chairs(committee_id: str | None) -> list[str]:
    if committee_id is None:
        return []
    return list(
        get_session().scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.committee_id == committee_id, RoleGrant.role == Role.DAC_CHAIR
            )
        )
    )


def submit_report(actor: Actor, request_id: str, data: Mapping[str, Any]) -> RequestReport:
    """File a progress or final report or a publication on an approved (or closed) request,
    as its applicant or a current team member. It fulfils the earliest open required report of
    its kind when there is one. Audited; the committee's chair is notified after the commit.

    :raises NotFound: (404) the request does not exist or the actor may not see it.
    :raises Forbidden: (403) the actor is not on the request's team.
    :raises Conflict: (409) the request is not approved (or closed).
    :raises InvalidInput: (422) naming the field: a missing title or text, a malformed DOI or
        URL, a publication with neither.
    """
    from core.notifications import notify

    request = get_request(actor, request_id)
    require(actor, Permission.REPORT_SUBMIT, request)
    if request.state not in REPORTABLE:
        raise Conflict(
            "Reports and publications are filed on an approved request; this one is "
            f"{request.state.value.replace('_', ' ')}."
        )
    content = _check_report(data)
    session = get_session()
    required = session.scalars(
        select(RequestReport)
        .where(
            RequestReport.request_id == request.id,
            RequestReport.kind == content["kind"],
            RequestReport.submitted_at.is_(None),
            RequestReport.due_on.is_not(None),
        )
        .order_by(RequestReport.due_on, RequestReport.created_at)
        .limit(1)
    ).first()
    report = required or RequestReport(request_id=request.id, kind=content["kind"])
    was_overdue = required is not None and is_overdue(required)
    for key in ("title", "text", "doi", "url"):
        setattr(report, key, content[key])
    report.submitted_at = utcnow()
    report.submitted_by_id = actor.id if isinstance(actor, User) else None
    session.add(report)
    session.flush()
    kind_name = REPORT_KIND_NAMES[report.kind]
    chairs = _chairs(request.committee_id)
    notify(
        chairs,
        kind="access_request.report_submitted",
        subject=f"{request.reference}: a {kind_name} was submitted",
        body=f"“{report.title}” was filed on {request.reference} ({request.title})."
        + (f" It was due on {long_date(report.due_on)}." if report.due_on else ""),
        link=f"/review/{request.id}",
        object_type=OBJECT_TYPE,
        object_id=request.id,
    )
    audit.record(
        actor,
        "access_request.report_submitted",
        OBJECT_TYPE,
        request.id,
        after={
            "report": report.id,
            "kind": report.kind.value,
            "title": report.title,
            "doi": report.doi,
            "url": report.url,
        },
        context={
            "reference": request.reference,
            "due_on": report.due_on,
            "fulfils_required": required is not None,
            "late": was_overdue,
        },
        summary=f"A {kind_name} was submitted: {report.title}",
    )
    session.commit()
    return report


def overdue_reports(
    committee_ids: Iterable[str] | None, on: dt.date | None = None
) -> list[tuple[RequestReport, AccessRequest]]:
    """Required reports past their date, oldest first, of the requests of these committees
    (all committees with ``None``)."""
    query = (
        select(RequestReport, AccessRequest)
        .join(AccessRequest, AccessRequest.id == RequestReport.request_id)
        .where(RequestReport.submitted_at.is_(None), RequestReport.due_on < (on or today()))
        .order_by(RequestReport.due_on, AccessRequest.reference)
    )
    if committee_ids is not None:
        query = query.where(AccessRequest.committee_id.in_(sorted(committee_ids)))
    return [(r, a) for r, a in get_session().execute(query).all()]


# --- amendments -----------------------------------------------------------------------------


def amendments_of(request: AccessRequest) -> list[AccessRequest]:
    """The amendments of an original request, oldest first."""
    return list(
        get_session().scalars(
            select(AccessRequest)
            .where(AccessRequest.amends_id == request.id)
            .order_by(AccessRequest.created_at, AccessRequest.reference)
        )
    )


def visible_amendments(actor: Actor, request: AccessRequest) -> list[AccessRequest]:
    return [a for a in amendments_of(request) if can(actor, Permission.ACCESS_REQUEST_READ, a)]


def _emails(values: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        email = (value or "").strip()
        if email:
            seen.setdefault(casefold_key(email), email)
    return list(seen.values())


def project_datasets(original: AccessRequest) -> dict[str, RequestDataset]:
    """The datasets a project may use, by dataset id: the original's approved ones and those
    its approved amendments added."""
    found = {d.dataset_id: d for d in original.datasets if d.state in APPROVED_DATASET}
    for amendment in amendments_of(original):
        if amendment.state not in REPORTABLE:
            continue
        for item in amendment.datasets:
            if item.state in APPROVED_DATASET:
                found.setdefault(item.dataset_id, item)
    return found


def _check_amendment(original: AccessRequest, data: Mapping[str, Any]) -> dict[str, Any]:
    """The amendment's changes, each checked against the project (422 naming the field)."""
    errors: dict[str, list[str]] = {}
    team = {casefold_key(m.email): m for m in original.current_members()}
    add = _emails(data.get("add_members") or [])
    remove = _emails(data.get("remove_members") or [])
    for email in add:
        if casefold_key(email) in team:
            errors.setdefault("add_members", []).append(f"{email} is on the team already.")
        elif "@" not in email or email.startswith("@") or email.endswith("@"):
            errors.setdefault("add_members", []).append(f"{email} is not an e-mail address.")
    for email in remove:
        member = team.get(casefold_key(email))
        if member is None:
            errors.setdefault("remove_members", []).append(f"{email} is not on the team.")
        elif member.is_applicant or member.user_id == original.applicant_id:
            errors.setdefault("remove_members", []).append(
                "The applicant stays on the team; make a new request to change the applicant."
            )
        elif casefold_key(email) in {casefold_key(e) for e in add}:
            errors.setdefault("remove_members", []).append(f"{email} cannot be added and removed.")
    session = get_session()
    have = set(project_datasets(original))
    add_datasets: list[str] = []
    for value in dict.fromkeys(str(v).strip() for v in data.get("add_datasets") or [] if v):
        dataset = session.scalar(
            select(Dataset).where((Dataset.identifier == value) | (Dataset.id == value))
        )
        if dataset is None or not can(None, Permission.DATASET_READ, dataset):
            errors.setdefault("add_datasets", []).append(f"No published dataset “{value}”.")
        elif dataset.id in have:
            errors.setdefault("add_datasets", []).append(f"“{value}” is in the project already.")
        else:
            add_datasets.append(dataset.id)
    months = data.get("extend_months") or 0
    if not 0 <= months <= MAX_EXTENSION_MONTHS:
        errors["extend_months"] = [f"Extend by 1 to {MAX_EXTENSION_MONTHS} months."]
    justification = (data.get("justification") or "").strip()
    if not justification:
        errors["justification"] = ["Say why the project needs this change."]
    if not (add or remove or add_datasets or months) and not errors:
        errors["amendment"] = [
            "Say what changes: members to add or remove, datasets to add, or months to extend."
        ]
    if errors:
        raise InvalidInput(errors)
    return {
        "add_members": add,
        "remove_members": remove,
        "add_datasets": add_datasets,
        "extend_months": months,
        "justification": justification,
    }


def create_amendment(actor: Actor, request_id: str, data: Mapping[str, Any]) -> AccessRequest:
    """Open an amendment of an approved request, as its applicant: a new request, a draft,
    that copies the original's content and team with the changes applied (``amendment`` says
    what changes). It is then submitted and reviewed like any request; nothing changes for the
    original until it is approved (:func:`apply_amendment`).

    :raises NotFound: (404) the request does not exist or the actor may not see it.
    :raises Forbidden: (403) the actor is not the applicant.
    :raises Conflict: (409) the request is not approved, is itself an amendment, or has an
        amendment still open.
    :raises InvalidInput: (422) naming the field (see :func:`_check_amendment`).
    """
    original = get_request(actor, request_id)
    require(actor, Permission.ACCESS_REQUEST_APPLY, original)
    if original.amends_id is not None:
        raise Conflict("This is an amendment; amend the original request instead.")
    if original.state is not RequestState.APPROVED:
        raise Conflict(
            "Only an approved request can be amended; this one is "
            f"{original.state.value.replace('_', ' ')}."
        )
    earlier = amendments_of(original)
    still_open = [a for a in earlier if a.state in AMENDMENT_OPEN]
    if still_open:
        raise Conflict(
            f"The amendment {still_open[0].reference} is still open: submit or withdraw it "
            "before opening another."
        )
    change = _check_amendment(original, data)
    session = get_session()
    now = utcnow()
    amendment = AccessRequest(
        reference=f"{original.reference}-A{len(earlier) + 1}",
        state=RequestState.DRAFT,
        applicant_id=original.applicant_id,
        amends_id=original.id,
        committee_id=original.committee_id,
        amendment={k: change[k] for k in ("add_members", "remove_members", "add_datasets")}
        | {"extend_months": change["extend_months"], "justification": change["justification"]},
        round=0,
        revision=1,
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    for key in COPIED:
        setattr(amendment, key, getattr(original, key))
    if change["extend_months"] and original.requested_months:
        amendment.requested_months = original.requested_months + change["extend_months"]
    removed = {casefold_key(e) for e in change["remove_members"]}
    members = [
        RequestMember(
            user_id=m.user_id,
            email=m.email,
            email_key=m.email_key,
            name=m.name,
            affiliation=m.affiliation,
            role=m.role,
            is_applicant=m.is_applicant,
            added_at=now,
        )
        for m in original.current_members()
        if casefold_key(m.email) not in removed
    ]
    for email in change["add_members"]:
        user = session.scalar(select(User).where(User.email_key == casefold_key(email)))
        members.append(
            RequestMember(
                user_id=user.id if user is not None else None,
                email=email,
                email_key=casefold_key(email),
                name=user.name if user is not None else "",
                added_at=now,
                invited_at=None if user is not None else now,
            )
        )
    amendment.members = members
    items = list(project_datasets(original).values())
    amendment.datasets = [
        RequestDataset(dataset_id=item.dataset_id, variables=item.variables, position=i)
        for i, item in enumerate(items)
    ] + [
        RequestDataset(dataset_id=dataset_id, position=len(items) + i)
        for i, dataset_id in enumerate(change["add_datasets"])
    ]
    session.add(amendment)
    session.flush()
    audit.record(
        actor,
        "access_request.amendment_opened",
        OBJECT_TYPE,
        original.id,
        after={"amendment": amendment.id, **(amendment.amendment or {})},
        context={"reference": original.reference, "amendment": amendment.reference},
        summary=f"Amendment {amendment.reference} opened: {describe_amendment(amendment)}",
        reason=change["justification"],
    )
    session.commit()
    return amendment


def describe_amendment(amendment: AccessRequest) -> str:
    """The changes in words: "adds 2 members, removes 1, adds 1 dataset, extends by 6 months"."""
    change = amendment.amendment or {}
    parts = []
    for key, action, noun in (
        ("add_members", "adds", "member"),
        ("remove_members", "removes", "member"),
        ("add_datasets", "adds", "dataset"),
    ):
        n = len(change.get(key) or [])
        if n:
            parts.append(f"{action} {plural(n, noun)}")
    months = change.get("extend_months") or 0
    if months:
        parts.append(f"extends by {plural(months, 'month')}")
    return ", ".join(parts) or "no change"


# --- applying an approved amendment ---------------------------------------------------------


def _project_ids(original: AccessRequest) -> list[str]:
    return [original.id] + [a.id for a in amendments_of(original) if a.state in REPORTABLE]


def approved_datasets_of(amendment: AccessRequest, decision: Decision) -> list[RequestDataset]:
    """The amendment's datasets the decision approved (none unless it approves)."""
    from governance.entitlements import services as entitlements

    if decision.outcome not in (DecisionOutcome.APPROVE, DecisionOutcome.APPROVE_WITH_CONDITIONS):
        return []
    return entitlements.approved_datasets(amendment, decision)


class _Limits:
    """The limits no access may pass, per dataset: the covering agreement's last day in
    effect and the TS (time limit) modifier counted from the access's start."""

    def __init__(self, dataset_ids: Iterable[str], on: dt.date):
        from governance.agreements.services import covering_agreements
        from governance.entitlements import services as entitlements

        ids = sorted(set(dataset_ids))
        covering = covering_agreements(ids, on)
        self.expires = {
            i: max((a.expires_on for a in covering.get(i) or [] if a.expires_on), default=None)
            for i in ids
        }
        self.ts = entitlements.ts_months_of(ids)

    def cap(self, dataset_id: str, starts_on: dt.date, ends_on: dt.date) -> dt.date:
        from governance.entitlements.services import add_months as months_after

        limits = [ends_on]
        expires = self.expires.get(dataset_id)
        if expires is not None:
            limits.append(expires - dt.timedelta(days=1))
        ts = self.ts.get(dataset_id)
        if ts:
            limits.append(months_after(starts_on, ts) - dt.timedelta(days=1))
        return min(limits)


def _later(last_day: dt.date, months: int) -> dt.date:
    """The last day of access ``months`` after one ending on ``last_day`` (inclusive days, as
    entitlements count them: ending 31 December, 6 months more end on 30 June)."""
    return add_months(last_day + dt.timedelta(days=1), months) - dt.timedelta(days=1)


def apply_amendment(
    amendment: AccessRequest, decision: Decision, *, on: dt.date | None = None
) -> list[Entitlement]:
    """Put an approved amendment into effect for its project (no commit: it runs inside the
    decision's transaction). Called on approval of a request with ``amends_id`` *instead of*
    :func:`governance.entitlements.services.grant_for_decision`.

    - removed members leave the team of the original (and of its approved amendments), and
      their access in the project ends (``end_membership``);
    - an extension: each running entitlement of the project ends ``extend_months`` later
      than it would have (still within its agreement and TS limit); one that already ended by
      date is renewed under the amendment from ``on`` (default: the decision's date) for those
      months; revoked access stays revoked;
    - new members join the original's team and get access to every dataset of the project;
      every current member gets access to each dataset the amendment added and the decision
      approved. New access belongs to the amendment (its decision and conditions: the members
      accept its terms), starts on ``on``, ends with the project's (extended) end, and awaits
      acceptance.

    Returns the entitlements made.
    """
    from governance.entitlements import services as entitlements

    session = get_session()
    original = original_of(amendment)
    if original is amendment:
        return []
    who: Actor = decision.decided_by if decision.decided_by is not None else SYSTEM
    change = amendment.amendment or {}
    on = on or decision.decided_at.date()
    project = _project_ids(original)
    now = utcnow()
    # removed members
    removed = {casefold_key(e) for e in change.get("remove_members") or []}
    ended_members: list[str] = []
    for request_id in project:
        request = session.get(AccessRequest, request_id)
        for member in request.current_members() if request is not None else []:
            if casefold_key(member.email) in removed:
                member.removed_at = now
                session.flush()
                entitlements.end_membership(request, member, who)  # type: ignore[arg-type]
                if request is original:
                    ended_members.append(member.email)
    # the extension
    months = int(change.get("extend_months") or 0)
    held = list(session.scalars(select(Entitlement).where(Entitlement.request_id.in_(project))))
    added = {
        d.dataset_id: d
        for d in approved_datasets_of(amendment, decision)
        if d.dataset_id in set(change.get("add_datasets") or [])
    }
    datasets_now = {**project_datasets(original), **added}
    limits = _Limits(list(datasets_now) + [e.dataset_id for e in held], on)
    extended: list[Entitlement] = []
    renew: list[Entitlement] = []
    if months:
        for entitlement in held:
            if entitlement.state in LIVE:
                new_end = limits.cap(
                    entitlement.dataset_id,
                    entitlement.starts_on,
                    _later(entitlement.ends_on, months),
                )
                if new_end > entitlement.ends_on:
                    before = entitlement.ends_on
                    entitlement.ends_on = new_end
                    entitlement.reminded_at = None
                    entitlement.revision += 1
                    extended.append(entitlement)
                    audit.record(
                        who,
                        "entitlement.extended",
                        OBJECT_TYPE,
                        entitlement.request_id,
                        before={"ends_on": before},
                        after={"ends_on": new_end},
                        summary=f"Access to {entitlement.dataset.identifier} extended to "
                        f"{new_end.isoformat()} by amendment {amendment.reference}",
                        context={
                            "entitlement_id": entitlement.id,
                            "user_id": entitlement.user_id,
                            "amendment": amendment.id,
                        },
                    )
            elif entitlement.state is EntitlementState.ENDED and _ended_by_date(entitlement):
                renew.append(entitlement)
    live_ends = [e.ends_on for e in held if e.state in LIVE and e.ends_on >= on]
    project_end = max(live_ends) if live_ends else _later(on - dt.timedelta(days=1), months or 12)
    # new members join the original's team
    team_keys = {m.email_key for m in original.current_members()}
    new_members = {casefold_key(e) for e in change.get("add_members") or []}
    for email in change.get("add_members") or []:
        key = casefold_key(email)
        if key in team_keys:
            continue
        source = next((m for m in amendment.members if m.email_key == key), None)
        original.members.append(
            RequestMember(
                user_id=source.user_id if source else None,
                email=email,
                email_key=key,
                name=source.name if source else "",
                affiliation=source.affiliation if source else "",
                role=source.role if source else "",
                added_at=now,
                invited_at=source.invited_at if source else now,
            )
        )
    session.flush()
    # who gets what is new
    members_now = [m for m in original.current_members() if m.user_id]
    wanted: dict[tuple[str, str], dt.date] = {}
    for member in members_now:
        for dataset_id in datasets_now:
            if dataset_id in added or member.email_key in new_members:
                wanted[(str(member.user_id), dataset_id)] = project_end
    current = {str(m.user_id) for m in members_now}
    for old in renew:
        if old.user_id in current:
            renewed_to = _later(on - dt.timedelta(days=1), months)
            wanted.setdefault((old.user_id, old.dataset_id), renewed_to)
    running = {(e.user_id, e.dataset_id) for e in held if e.state in LIVE}
    items = {d.dataset_id: d for d in amendment.datasets}
    made: list[Entitlement] = []
    for (user_id, dataset_id), last_day in sorted(wanted.items()):
        if (user_id, dataset_id) in running:
            continue
        ends_on = limits.cap(dataset_id, on, last_day)
        if ends_on < on:
            continue
        item = items.get(dataset_id) or datasets_now.get(dataset_id)
        made.append(
            Entitlement(
                request_id=amendment.id,
                decision_id=decision.id,
                user_id=user_id,
                dataset_id=dataset_id,
                variables=list(item.variables) if item is not None and item.variables else None,
                state=EntitlementState.AWAITING_ACCEPTANCE,
                starts_on=on,
                ends_on=ends_on,
                created_at=now,
            )
        )
    session.add_all(made)
    session.flush()
    for entitlement in made:
        audit.record(
            who,
            "entitlement.granted",
            OBJECT_TYPE,
            amendment.id,
            after={
                "state": entitlement.state.value,
                "starts_on": entitlement.starts_on,
                "ends_on": entitlement.ends_on,
                "variables": entitlement.variables,
            },
            summary=f"Access granted by amendment {amendment.reference} until "
            f"{long_date(entitlement.ends_on)}, once the terms are accepted",
            context={
                "entitlement_id": entitlement.id,
                "user_id": entitlement.user_id,
                "dataset_id": entitlement.dataset_id,
                "decision_id": decision.id,
            },
        )
    _tell(amendment, made, extended)
    audit.record(
        who,
        "access_request.amendment_applied",
        OBJECT_TYPE,
        original.id,
        after={
            "amendment": amendment.id,
            "extended": len(extended),
            "granted": len(made),
            "members_ended": ended_members,
        },
        context={"reference": original.reference, "amendment": amendment.reference},
        summary=f"Amendment {amendment.reference} approved: {describe_amendment(amendment)}.",
    )
    return made


def _tell(amendment: AccessRequest, made: list[Entitlement], extended: list[Entitlement]) -> None:
    """New access: accept the amendment's terms; extended access: the new end date."""
    from core.notifications import notify
    from governance.entitlements.services import terms_link

    for user_id in sorted({e.user_id for e in made}):
        notify(
            [user_id],
            kind="entitlement.granted",
            subject=f"{amendment.reference}: accept the terms to start your access",
            body=f"The committee approved the amendment {amendment.reference} “"
            f"{amendment.title}”. Your new access starts once you have read and accepted its "
            "terms.",
            link=terms_link(amendment.id),
            object_type=OBJECT_TYPE,
            object_id=amendment.id,
        )
    for user_id in sorted({e.user_id for e in extended}):
        last = max(e.ends_on for e in extended if e.user_id == user_id)
        notify(
            [user_id],
            kind="entitlement.extended",
            subject=f"{amendment.reference}: your access is extended",
            body=f"The committee approved the extension {amendment.reference}: your access "
            f"now runs until {long_date(last)}.",
            link="/me/access",
            object_type=OBJECT_TYPE,
            object_id=amendment.id,
        )


def _ended_by_date(entitlement: Entitlement) -> bool:
    """Ended because its end date came (not by a membership's end, which comes earlier)."""
    return entitlement.revoked_at is None and (
        entitlement.ended_at is None or entitlement.ended_at.date() > entitlement.ends_on
    )


def held_open(entitlements: Iterable[Entitlement]) -> set[str]:
    """The ids of those ``entitlements`` that the expiry job must not end yet: an extension of
    their project was submitted on or before their end date and is being reviewed
    (``submitted`` or ``under_review``). For the entitlements' hourly job."""
    items = list(entitlements)
    if not items:
        return set()
    session = get_session()
    pending = session.execute(
        select(AccessRequest.amends_id, AccessRequest.submitted_at, AccessRequest.amendment).where(
            AccessRequest.amends_id.is_not(None),
            AccessRequest.state.in_(UNDER_CONSIDERATION),
        )
    ).all()
    since: dict[str, dt.date] = {}
    for amends_id, submitted_at, change in pending:
        if submitted_at is None or not (change or {}).get("extend_months"):
            continue
        day = submitted_at.date()
        since[amends_id] = min(day, since.get(amends_id, day))
    if not since:
        return set()
    roots = dict(
        session.execute(
            select(
                AccessRequest.id, func.coalesce(AccessRequest.amends_id, AccessRequest.id)
            ).where(AccessRequest.id.in_(sorted({e.request_id for e in items})))
        ).all()
    )
    return {
        e.id
        for e in items
        if roots.get(e.request_id) in since and since[roots[e.request_id]] <= e.ends_on
    }
