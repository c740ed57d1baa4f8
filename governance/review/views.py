"""The committee's pages: the queue (``/review``) and a request's review page
(``/review/<id>``) with the forms of a vote, a recusal, a custodian's sign-off, an override
and the chair's decision. Views parse the form, call one service, and show the result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core.api import actor
from core.db import get_session
from core.errors import Conflict, InvalidInput, PreconditionFailed
from core.forms import form_action
from core.models import Role, User
from core.nav import NavEntry, has_role, register
from core.permissions import Permission
from core.policies import Actor, can, require, require_login
from governance.requests.models import (
    AccessRequest,
    DatasetState,
    DecisionOutcome,
    ReportKind,
    RequestState,
    VoteChoice,
)
from governance.review import services

bp = Blueprint(
    "review",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/review/static",
)
register(
    NavEntry(
        "Review", "review.queue", has_role(Role.DAC_MEMBER, Role.DAC_CHAIR, Role.ADMIN), "main", 47
    )
)
register(NavEntry("Sign-offs", "review.signoffs", has_role(Role.CUSTODIAN), "user", 25))

CHECK_WORDS = {
    "compatible": "Compatible",
    "needs_review": "Needs review",
    "incompatible": "Incompatible",
    "no_conditions": "No conditions stated",
}
STATE_WORDS = {s.value: s.value.replace("_", " ").capitalize() for s in RequestState}
DATASET_WORDS = {
    DatasetState.REQUESTED.value: "Awaiting the committee",
    DatasetState.PENDING_SIGNOFF.value: "Awaiting the custodian's sign-off",
    DatasetState.SIGNED_OFF.value: "Signed off",
    DatasetState.DECLINED.value: "Declined by the custodian",
    DatasetState.APPROVED.value: "Approved",
    DatasetState.REJECTED.value: "Rejected",
    DatasetState.GRANTED.value: "Access granted",
}
OUTCOME_LABELS = {
    DecisionOutcome.APPROVE.value: "Approve",
    DecisionOutcome.APPROVE_WITH_CONDITIONS.value: "Approve with conditions",
    DecisionOutcome.REJECT.value: "Reject",
    DecisionOutcome.RETURN.value: "Return to the applicant for changes",
}
#: the votes in the request pages' colours: green yes, red no, grey abstain
VOTE_BADGES = {
    VoteChoice.APPROVE.value: "badge-published",
    VoteChoice.REJECT.value: "badge-mapping-rejected",
    VoteChoice.ABSTAIN.value: "badge-retired",
}
REPORT_ROWS = 2
STALE = "Someone changed this request after you opened the page. Reload it and decide again."


@bp.app_template_filter("review_day")
def review_day(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    day = value.date() if isinstance(value, dt.datetime) else value
    return f"{day.day} {day.strftime('%B %Y')}"


# --- the queue ------------------------------------------------------------------------------


@bp.get("/review")
def queue() -> str:
    who = actor()
    require_login(who)
    require(who, Permission.ACCESS_REQUEST_REVIEW)
    filters = services.QueueFilters(
        state=request.args.get("state") or None,
        dataset=request.args.get("dataset") or None,
        custodian=request.args.get("custodian") or None,
        check=request.args.get("check") or None,
    )
    errors: dict[str, list[str]] = {}
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    total = 0
    try:
        items = services.queue(who, filters, page=page_number)
        total = services.queue_size(who, filters)
    except InvalidInput as exc:
        errors = exc.errors or {}
        items = []
    now = services.utcnow()
    rows = [
        {
            "request": r,
            "waiting": services.waiting_days(r, now),
            "applicant": r.applicant,
            "checks": sorted({i.check_outcome for i in r.datasets if i.check_outcome}),
            "pending_signoffs": sum(i.state is DatasetState.PENDING_SIGNOFF for i in r.datasets),
        }
        for r in items
    ]
    datasets, custodians = services.queue_filter_choices()
    return render_template(
        "review/queue.html",
        rows=rows,
        titles=services.titles([i for r in items for i in r.datasets]),
        filters=filters,
        errors=errors,
        states=[s.value for s in services.QUEUE_STATES],
        state_words=STATE_WORDS,
        check_words=CHECK_WORDS,
        page=page_number,
        pages=max(1, -(-total // services.QUEUE_PAGE_SIZE)),
        total=total,
        datasets=datasets,
        custodians=custodians,
        filtered=any((filters.state, filters.dataset, filters.custodian, filters.check)),
    )


# --- one request ----------------------------------------------------------------------------


@bp.get("/review/<request_id>")
def review_page(request_id: str) -> str:
    return _page(request_id)


def _page(
    request_id: str,
    *,
    decision_errors: dict[str, list[str]] | None = None,
    form: MultiDict[str, str] | None = None,
    status: int = 200,
) -> Any:
    who = actor()
    require_login(who)
    req = services.get_request(who, request_id)
    from governance.data_use import services as data_use

    shapes = data_use.shapes_of([i.dataset_id for i in req.datasets])
    counted = services.count(req)
    recusals = services.recusals(req)
    user_id = getattr(who, "id", None)
    my_recusal = next((r for r in recusals if r.member_id == user_id), None)
    my_conflict = services.conflict_of(req, who) if isinstance(who, User) else None
    votes = services.votes(req)
    my_vote = next((v for v in votes if v.member_id == user_id), None)
    decision = services.decision_of(req)
    events = services.timeline(req)
    open_round = req.state in services.VOTING_STATES and decision is None
    may_vote = can(who, Permission.ACCESS_REQUEST_VOTE, req) and open_round
    is_chair = services.is_chair(who, req)
    signoff_items = [
        i
        for i in req.datasets
        if i.state is DatasetState.PENDING_SIGNOFF
        and can(who, Permission.ACCESS_REQUEST_SIGNOFF, i)
        and req.state in services.VOTING_STATES
    ]
    signoffs = services.signoffs(req)
    signoff_by_item: dict[str, Any] = {}
    for s in signoffs:
        if s.round == req.round:
            signoff_by_item[s.request_dataset_id] = s
    signer_ids = sorted({s.user_id for s in signoffs if s.user_id})
    names = {
        u.id: u.name for u in get_session().scalars(select(User).where(User.id.in_(signer_ids)))
    }
    committee = services.committee_of(req)
    body = render_template(
        "review/request.html",
        r=req,
        titles=services.titles(req.datasets),
        shapes=shapes,
        tally=counted,
        recusals=recusals,
        votes=votes,
        my_vote=my_vote,
        my_recusal=my_recusal,
        my_conflict=my_conflict,
        may_vote=may_vote and my_recusal is None and my_conflict is None,
        is_member=can(who, Permission.ACCESS_REQUEST_VOTE, req),
        open_round=open_round,
        is_chair=is_chair,
        can_decide=is_chair and req.state is RequestState.UNDER_REVIEW and decision is None,
        decision=decision,
        decisions=services.decisions(req),
        signoff_items=signoff_items,
        signoff_by_item=signoff_by_item,
        signer_names=names,
        events=events,
        stages=services.stages(req, events),
        deadlines=services.deadlines(),
        deadline_source=services.DEADLINE_SOURCE,
        committee=committee,
        etag=services.etag(req),
        check_words=CHECK_WORDS,
        state_words=STATE_WORDS,
        dataset_words=DATASET_WORDS,
        outcome_labels=OUTCOME_LABELS,
        report_kinds=[k.value for k in ReportKind],
        report_rows=REPORT_ROWS,
        choices=[c.value for c in VoteChoice],
        errors=decision_errors or {},
        form=form or MultiDict(),
        today=services.utcnow().date(),
        purpose_terms=_purpose_terms(),
        disease_labels=_disease_labels(req),
        vote_badges=VOTE_BADGES,
        error_labels=_error_labels(req, decision_errors or {}),
    )
    return body, status


def _purpose_terms() -> dict[str, str]:
    """The research purposes' labels, as the applicant's request page shows them."""
    from governance.matching.check import PURPOSE_TERMS

    return dict(PURPOSE_TERMS)


def _disease_labels(req: AccessRequest) -> dict[str, str]:
    """The labels of the purpose's disease terms (a term the store does not know keeps its
    CURIE)."""
    from ontologies import hierarchy_cache

    return hierarchy_cache.labels((req.purpose or {}).get("diseases") or [])


def _error_labels(req: AccessRequest, errors: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """Each decision error's field as the error summary names it, and the id of the control
    its link moves to."""
    titles = services.titles(req.datasets)
    names = {
        i.dataset.identifier: titles.get(i.dataset_id, i.dataset.identifier) for i in req.datasets
    }
    fixed = {
        "outcome": ("The committee's decision", "f-outcome-0"),
        "reasons": ("Reasons", "f-reasons"),
        "conditions": ("Conditions", "f-conditions"),
        "datasets": ("Datasets", "f-datasets"),
        "reports": ("Reports", "f-report-kind-0"),
    }
    labels: dict[str, tuple[str, str]] = {}
    for name in errors:
        area, _, ident = name.partition(".")
        if name in fixed:
            labels[name] = fixed[name]
        elif area == "datasets":
            labels[name] = (names.get(ident, ident), f"f-dataset-{ident}")
        elif area == "overrides":
            labels[name] = (
                f"Override justification for {names.get(ident, ident)}",
                f"f-override-{ident}",
            )
        elif area == "review_notes":
            labels[name] = (f"Review note for {names.get(ident, ident)}", f"f-note-{ident}")
        else:
            labels[name] = (name.replace("_", " ").capitalize(), "decision-form")
    return labels


def _back(request_id: str) -> str:
    return url_for("review.review_page", request_id=request_id)


@bp.post("/review/<request_id>/vote")
def vote(request_id: str) -> WerkzeugResponse:
    choice = request.form.get("choice", "")
    comment = request.form.get("comment", "")

    def act(who: Actor) -> Any:
        if choice not in {c.value for c in VoteChoice}:
            raise InvalidInput.field("choice", "Choose approve, reject or abstain.")
        return services.cast_vote(who, request_id, choice, comment)

    return form_action(
        act,
        success=lambda v: f"Your vote ({v.choice.value}) is recorded.",
        done=_back(request_id) + "#votes",
        back=_back(request_id) + "#votes",
    )


@bp.post("/review/<request_id>/recusal")
def recusal(request_id: str) -> WerkzeugResponse:
    reason = request.form.get("reason", "")
    return form_action(
        lambda who: services.declare_recusal(who, request_id, reason),
        success="You stepped aside from this request's review.",
        done=_back(request_id) + "#votes",
        back=_back(request_id) + "#votes",
    )


@bp.post("/review/<request_id>/signoff")
def signoff(request_id: str) -> WerkzeugResponse:
    dataset = request.form.get("dataset", "")
    approve = request.form.get("approve") == "yes"
    reason = request.form.get("reason", "")
    return form_action(
        lambda who: services.signoff(who, request_id, dataset, approve, reason),
        success="Signed off." if approve else "Declined; the applicant is told.",
        done=_back(request_id) + "#datasets",
        back=_back(request_id) + "#datasets",
        invalid="Not recorded:",
    )


@bp.post("/review/<request_id>/override")
def override(request_id: str) -> WerkzeugResponse:
    dataset = request.form.get("dataset", "")
    justification = request.form.get("justification", "")
    return form_action(
        lambda who: services.override(who, request_id, dataset, justification),
        success="The committee keeps the dataset; the justification is recorded.",
        done=_back(request_id) + "#datasets",
        back=_back(request_id) + "#datasets",
        invalid="Not recorded:",
    )


def decision_from_form(req: AccessRequest, form: MultiDict[str, str]) -> dict[str, Any]:
    """The decision form as the API's shape (the service checks it)."""
    datasets, overrides, notes = {}, {}, {}
    for item in req.datasets:
        identifier = item.dataset.identifier
        verdict = form.get(f"dataset-{identifier}", "")
        if verdict in ("approve", "reject"):
            datasets[identifier] = verdict
        if form.get(f"override-{identifier}", "").strip():
            overrides[identifier] = form[f"override-{identifier}"]
        if form.get(f"note-{identifier}", "").strip():
            notes[identifier] = form[f"note-{identifier}"]
    reports = []
    errors: dict[str, list[str]] = {}
    for n in range(REPORT_ROWS):
        kind, due = form.get(f"report-kind-{n}", ""), form.get(f"report-due-{n}", "").strip()
        if not kind and not due:
            continue
        try:
            reports.append({"kind": kind, "due_on": dt.date.fromisoformat(due)})
        except ValueError:
            errors.setdefault("reports", []).append(
                f"Report {n + 1}: give the due date as a date (YYYY-MM-DD)."
            )
    outcome = form.get("outcome", "")
    if outcome not in OUTCOME_LABELS:
        errors["outcome"] = ["Choose the decision."]
    if errors:
        raise InvalidInput(errors)
    return {
        "outcome": outcome,
        "reasons": form.get("reasons", ""),
        "conditions": [c.strip() for c in form.get("conditions", "").splitlines() if c.strip()],
        "datasets": datasets,
        "overrides": overrides,
        "review_notes": notes,
        "reports": reports,
    }


@bp.post("/review/<request_id>/decision")
def decide(request_id: str) -> Any:
    """The chair's decision; a refused one shows the page again with each error next to its
    field (422), a stale page or a decided round go back with the message."""
    who = actor()
    require_login(who)
    req = services.get_request(who, request_id)
    try:
        data = decision_from_form(req, request.form)
        decision = services.decide(who, request_id, data, request.form.get("revision"))
    except InvalidInput as exc:
        return _page(request_id, decision_errors=exc.errors or {}, form=request.form, status=422)
    except PreconditionFailed:
        flash(STALE, "error")
        return redirect(_back(request_id) + "#decision")
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(_back(request_id) + "#decision")
    flash(f"Decision recorded: {OUTCOME_LABELS[decision.outcome.value].lower()}.", "success")
    return redirect(_back(request_id) + "#decision")


@bp.post("/datasets/<identifier>/committee")
def dataset_committee(identifier: str) -> WerkzeugResponse:
    """An administrator assigns the committee that reviews requests for a dataset."""
    from governance.review import committees

    chosen = request.form.get("committee_id") or None
    page = url_for("datasets.dataset", identifier=identifier) + "#dataset-committee-heading"
    return form_action(
        lambda who: committees.assign(who, identifier, chosen),
        success=lambda a: (
            f"Requests for this dataset are reviewed by {a.committee_name}."
            if a.committee_name
            else "Requests for this dataset go to the default committee."
        ),
        done=page,
        back=page,
    )


@bp.get("/signoffs")
def signoffs() -> str:
    """A custodian's requested datasets waiting for their sign-off, with the way to it."""
    who = actor()
    require_login(who)
    pending = services.pending_signoffs(who)
    items = [item for item, _ in pending]
    requests = {item.request_id: found for item, found in pending}
    return render_template(
        "review/signoffs.html",
        items=items,
        requests=requests,
        titles=services.titles(items),
        now=services.utcnow(),
        custodian=bool(who is not None and who.custodian_of()),  # type: ignore[union-attr]
        check_words=CHECK_WORDS,
    )
