"""HTML pages of the application: "My requests", starting a request (from scratch, for a
dataset, or from the selection), the application form in the Five Safes' sections (autosaved
by a small script; a Save button without it), the request's page for its readers (state,
each dataset's state and consent check, the timeline, the actions) and a print view that
holds everything a committee judges.

Views are thin: they parse the form into the service's shape and call one service.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core import workflow
from core.api import actor
from core.db import get_session
from core.errors import InvalidInput, PreconditionFailed, ServiceError
from core.forms import form_action
from core.models import Organisation
from core.nav import NavEntry, register
from core.permissions import Permission
from core.policies import Actor, can, require, require_login
from governance.requests import services
from governance.requests.api import request_json
from governance.requests.models import AccessRequest, DatasetState, RequestState

bp = Blueprint(
    "requests",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/requests",
)


def _researcher(who: Actor) -> bool:
    return who is not None and can(who, Permission.ACCESS_REQUEST_CREATE)


register(NavEntry("My requests", "requests.my_requests", _researcher, "user", 20))

STALE = "Someone changed this request after you opened the page. Reload it and try again."
MEMBER_ROWS = 2  # empty team rows the form offers beyond those filled
#: the form's groups of fields: what autosave sends together (a group is sent whole)
GROUPS = (*services.EDITABLE, "datasets", "members")
LABELS = {
    "title": "Project title",
    "lay_summary": "Lay summary",
    "scientific_abstract": "Scientific abstract",
    "public_benefit": "Public benefit",
    "purpose": "Research purpose",
    "purpose.terms": "Kind of research",
    "purpose.diseases": "Diseases studied",
    "purpose.commercial": "Commercial use",
    "purpose.publication_not_before": "Earliest publication",
    "ethics_reference": "Ethics approval reference",
    "processing_country": "Country of processing",
    "processing_environment": "Processing environment",
    "data_justification": "Why these data",
    "publication_plan": "Publication plan",
    "team_training": "Team training",
    "requested_months": "Duration of access",
    "funding": "Funding",
    "conflicts_of_interest": "Conflicts of interest",
    "datasets": "Datasets",
    "members": "Team",
}
STATE_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "under_review": "Under review",
    "returned": "Returned for changes",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "closed": "Closed",
    "requested": "Requested",
    "pending_signoff": "Awaiting custodian sign-off",
    "signed_off": "Signed off",
    "declined": "Declined by the custodian",
    "granted": "Access granted",
}
#: badge classes of the states, in the palette of the catalogue's status badges: amber when
#: the applicant has something to do, blue while others work on it, green for yes, red for
#: no, grey when it is over (``badge-pending`` is in requests.css)
BADGES = {
    "draft": "badge-draft",
    "submitted": "badge-pending",
    "under_review": "badge-pending",
    "returned": "badge-draft",
    "approved": "badge-published",
    "rejected": "badge-mapping-rejected",
    "withdrawn": "badge-retired",
    "closed": "badge-retired",
    "requested": "badge-pending",
    "pending_signoff": "badge-pending",
    "signed_off": "badge-published",
    "declined": "badge-mapping-rejected",
    "granted": "badge-published",
    "compatible": "badge-published",
    "needs_review": "badge-draft",
    "incompatible": "badge-mapping-rejected",
}
DECISION_LABELS = {
    "approve": "Approved",
    "approve_with_conditions": "Approved with conditions",
    "reject": "Rejected",
    "return": "Returned for changes",
}
DECISION_BADGES = {
    "approve": "badge-published",
    "approve_with_conditions": "badge-published",
    "reject": "badge-mapping-rejected",
    "return": "badge-draft",
}


@bp.app_template_filter("request_field_id")
def field_id(name: str) -> str:
    """A form field's id for an error key (``datasets[0].variables`` → ``datasets-0-variables``)."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "request_state_labels": STATE_LABELS,
        "request_badges": BADGES,
        "decision_labels": DECISION_LABELS,
        "decision_badges": DECISION_BADGES,
    }


# --- my requests ----------------------------------------------------------------------------


@bp.get("/requests")
def my_requests() -> str:
    who = actor()
    require_login(who)
    state = request.args.get("state") or None
    if state not in {None, *(s.value for s in RequestState)}:
        state = None
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    page = services.list_requests(
        who,
        state=RequestState(state) if state else None,
        mine=True,
        page=page_number,
        per_page=25,
    )
    return render_template(
        "requests/list.html",
        page=page,
        state=state,
        states=[s.value for s in RequestState],
        can_create=_researcher(who),
    )


# --- starting one ---------------------------------------------------------------------------


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request() -> Any:
    """GET: what a request needs, and a button to start; POST: start the draft (for the
    datasets named, or from the selection) and go to its form."""
    who = actor()
    require(who, Permission.ACCESS_REQUEST_CREATE)
    chosen = [d for d in request.values.getlist("dataset") if d]
    if request.method == "GET":
        return render_template("requests/new.html", datasets=chosen, errors={})
    from_selection = request.form.get("from_selection") == "1"
    try:
        created = services.create_request(
            who,
            {"datasets": [{"dataset": d} for d in chosen]},
            from_selection=from_selection,
        )
    except InvalidInput as exc:
        return render_template("requests/new.html", datasets=chosen, errors=exc.errors or {}), 422
    flash(
        f"Draft {created.reference} started. It is saved as you write; submit it when complete.",
        "success",
    )
    return redirect(url_for("requests.edit_request", request_id=created.id))


# --- the form -------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\n]", text or "") if p.strip()]


def parse_form(values: MultiDict, groups: set[str] | None = None) -> dict[str, Any]:
    """The form's fields as the service takes them — only the ``groups`` named (autosave
    sends what changed), all of them when None (the Save button)."""

    def wanted(name: str) -> bool:
        return groups is None or name in groups

    data: dict[str, Any] = {}
    for name in services.TEXT_FIELDS:
        if wanted(name) and name in values:
            data[name] = values.get(name) or ""
    for name in ("ethics_reference", "processing_country", "requested_months"):
        if wanted(name) and name in values:
            data[name] = (values.get(name) or "").strip() or None
    if wanted("purpose"):
        purpose: dict[str, Any] = {
            "terms": [t for t in values.getlist("purpose_terms") if t],
            "diseases": _lines(values.get("purpose_diseases") or ""),
        }
        commercial = values.get("purpose_commercial")
        if commercial in ("yes", "no"):
            purpose["commercial"] = commercial == "yes"
        day = (values.get("purpose_publication_not_before") or "").strip()
        if day:
            purpose["publication_not_before"] = day
        data["purpose"] = purpose
    if wanted("datasets"):
        refs = values.getlist("dataset_ref")
        variables = values.getlist("dataset_variables")
        removed = set(values.getlist("dataset_remove"))
        items = []
        for n, ref in enumerate(refs):
            if not ref or ref in removed:
                continue
            names = _lines(variables[n] if n < len(variables) else "")
            items.append({"dataset": ref, "variables": names or None})
        added = (values.get("dataset_add") or "").strip()
        if added:
            items.append({"dataset": added, "variables": None})
        data["datasets"] = items
    if wanted("members"):
        emails = values.getlist("member_email")
        names = values.getlist("member_name")
        affiliations = values.getlist("member_affiliation")
        roles = values.getlist("member_role")
        members = []
        for n, email in enumerate(emails):
            if not email.strip():
                continue
            members.append(
                {
                    "email": email.strip(),
                    "name": names[n].strip() if n < len(names) else "",
                    "affiliation": affiliations[n].strip() if n < len(affiliations) else "",
                    "role": roles[n].strip() if n < len(roles) else "",
                }
            )
        data["members"] = members
    return data


def _purpose_terms() -> list[tuple[str, str]]:
    from governance.matching.check import PURPOSE_TERMS

    return list(PURPOSE_TERMS.items())


def _form(
    who: Actor, req: AccessRequest, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Any:
    return render_template(
        "requests/form.html",
        req=req,
        data=request_json(who, req),
        etag=services.etag(req),
        errors=errors or {},
        labels=LABELS,
        purpose_terms=_purpose_terms(),
        member_rows=MEMBER_ROWS,
        can_submit="submit" in workflow.available_actions(services.WORKFLOW, who, req),
    ), status


@bp.get("/requests/<request_id>/edit")
def edit_request(request_id: str) -> Any:
    who = actor()
    require_login(who)
    req = services.get_request(who, request_id)
    require(who, Permission.ACCESS_REQUEST_APPLY, req)  # seen, but not the applicant's: 403
    if not services.can_edit(who, req):
        flash("This request cannot be changed now.", "error")
        return redirect(url_for("requests.request_page", request_id=req.id))
    return _form(who, req)


@bp.post("/requests/<request_id>/edit")
def save_request(request_id: str) -> Any:
    """The form's Save (and Submit) buttons: save everything; with ``submit``, submit it
    then. Errors are shown next to their fields."""
    who = actor()
    require_login(who)
    revision = request.form.get("revision") or None
    try:
        req = services.update_request(who, request_id, parse_form(request.form), revision)
    except InvalidInput as exc:
        req = services.get_request(who, request_id)
        return _form(who, req, exc.errors, 422)
    except PreconditionFailed:
        flash(STALE, "error")
        return redirect(url_for("requests.edit_request", request_id=request_id))
    if request.form.get("action") != "submit":
        flash("Saved.", "success")
        return redirect(url_for("requests.edit_request", request_id=req.id))
    try:
        workflow.apply(services.WORKFLOW, who, req.id, "submit", if_match=services.etag(req))
    except InvalidInput as exc:
        req = services.get_request(who, request_id)
        return _form(who, req, exc.errors, 422)
    except ServiceError as exc:
        if exc.status in (403, 409):
            req = services.get_request(who, request_id)
            return _form(who, req, {"_form": [exc.detail]}, exc.status)
        raise
    flash(f"{req.reference} is submitted to the committee.", "success")
    return redirect(url_for("requests.request_page", request_id=req.id))


@bp.post("/requests/<request_id>/autosave")
def autosave(request_id: str) -> Any:
    """The form's script: save the groups of fields that changed (``_groups``); answers the
    new ETag and the time, or the problem (412 stale, 422 by field)."""
    who = actor()
    require_login(who)
    groups = {g for g in request.form.getlist("_groups") if g in GROUPS}
    req = services.update_request(
        who, request_id, parse_form(request.form, groups), request.form.get("revision") or None
    )
    return jsonify(
        {
            "etag": services.etag(req),
            "saved_at": req.updated_at.strftime("%H:%M"),
            "missing": services.completeness(req),
        }
    )


# --- the request's page ---------------------------------------------------------------------


def _organisation_name(req: AccessRequest) -> str:
    if not req.organisation_id:
        return ""
    organisation = get_session().get(Organisation, req.organisation_id)
    return organisation.name if organisation else ""


def _page_context(who: Actor, req: AccessRequest) -> dict[str, Any]:
    from core.models import DataAccessCommittee
    from governance.review import services as review  # builds on this package

    committee = (
        get_session().get(DataAccessCommittee, req.committee_id) if req.committee_id else None
    )
    # a custodian who must sign off a dataset is shown the way to the review page's form
    to_sign_off = [
        item
        for item in req.datasets
        if item.state is DatasetState.PENDING_SIGNOFF
        and req.state in review.VOTING_STATES
        and can(who, Permission.ACCESS_REQUEST_SIGNOFF, item)
    ]
    return {
        "to_sign_off": to_sign_off,
        "dataset_titles": services.dataset_titles(to_sign_off) if to_sign_off else {},
        "req": req,
        "data": request_json(who, req),
        "etag": services.etag(req),
        "actions": workflow.available_actions(services.WORKFLOW, who, req),
        "editable": services.can_edit(who, req),
        "timeline": services.timeline(who, req),
        "committee": committee,
        "decisions": review.decisions(req),
        "titles": {d.dataset_id: d.dataset.identifier for d in req.datasets},
        "organisation": _organisation_name(req),
        "labels": LABELS,
        "purpose_terms": dict(_purpose_terms()),
    }


@bp.get("/requests/<request_id>")
def request_page(request_id: str) -> str:
    who = actor()
    require_login(who)
    req = services.get_request(who, request_id)
    return render_template("requests/request.html", **_page_context(who, req))


@bp.get("/requests/<request_id>/print")
def print_view(request_id: str) -> str:
    who = actor()
    require_login(who)
    req = services.get_request(who, request_id)
    return render_template("requests/print.html", **_page_context(who, req))


def _action(request_id: str, call: Any, success: str) -> WerkzeugResponse:
    page = url_for("requests.request_page", request_id=request_id)
    return form_action(
        call, success=success, done=page, back=page, stale=STALE,
        invalid="The request is not ready:",
    )  # fmt: skip


@bp.post("/requests/<request_id>/submit")
def submit(request_id: str) -> WerkzeugResponse:
    return _action(
        request_id,
        lambda who: workflow.apply(
            services.WORKFLOW, who, request_id, "submit",
            if_match=request.form.get("revision") or None,
        ),
        "The request is submitted to the committee.",
    )  # fmt: skip


@bp.post("/requests/<request_id>/withdraw")
def withdraw(request_id: str) -> WerkzeugResponse:
    return _action(
        request_id,
        lambda who: workflow.apply(
            services.WORKFLOW, who, request_id, "withdraw",
            if_match=request.form.get("revision") or None,
            params={"reason": request.form.get("reason") or ""},
        ),
        "The request is withdrawn.",
    )  # fmt: skip
