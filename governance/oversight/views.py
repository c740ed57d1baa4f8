"""Pages after approval: a request's reports, publications and amendments (a section the
request page includes, ``oversight/_request_section.html``, and a page of its own), the
amendment form, and the committee dashboard (``/review/dashboard``)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from catalogue.stats import charts as chart_style
from core.api import actor
from core.errors import Conflict, InvalidInput, NotFound, flatten_webargs_messages
from core.notifications import is_site_path
from core.permissions import Permission
from core.policies import Actor, require, require_login
from core.text import number_word
from governance.oversight import dashboard, services
from governance.oversight.schemas import AmendmentInputSchema, ReportInputSchema
from governance.requests.models import AccessRequest, ReportKind

bp = Blueprint("oversight", __name__, template_folder="templates")

KIND_LABELS = {
    ReportKind.PROGRESS.value: "Progress report",
    ReportKind.FINAL.value: "Final report",
    ReportKind.PUBLICATION.value: "Publication",
}
SPLIT = re.compile(r"[\s,;]+")


def section_context(access_request: AccessRequest) -> dict[str, Any]:
    """What ``oversight/_request_section.html`` shows for the current user (a template
    global: the request page includes the section with ``access_request`` in its context)."""
    who = actor()
    original = services.original_of(access_request)
    reports = services.reports_of(access_request.id)
    return {
        "reports": reports,
        "overdue": [r for r in reports if services.is_overdue(r)],
        "can_report": services.can_report(who, access_request),
        "can_amend": services.can_amend(who, access_request),
        "amendments": services.visible_amendments(who, original)
        if original is access_request
        else [],
        "original": original if original is not access_request else None,
        "kind_labels": KIND_LABELS,
        "is_overdue": services.is_overdue,
        "describe": services.describe_amendment,
    }


def _back(request_id: str) -> str:
    target = request.form.get("next") or ""
    if target and is_site_path(target):
        return target
    return url_for("oversight.request_reports", request_id=request_id)


def _form_errors(exc: ValidationError | InvalidInput) -> dict[str, list[str]]:
    if isinstance(exc, ValidationError):
        return flatten_webargs_messages({"json": exc.messages})
    return exc.errors or {}


@bp.get("/requests/<request_id>/reports")
def request_reports(request_id: str) -> str:
    """A request's reports, publications and amendments, with the forms."""
    who = actor()
    access_request = services.get_request(who, request_id)
    return render_template(
        "oversight/reports.html",
        access_request=access_request,
        form={},
        errors={},
        back=request.path,
    )


@bp.post("/requests/<request_id>/reports")
def submit_report(request_id: str) -> Any:
    who = actor()
    require_login(who)
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "next")}
    try:
        data = ReportInputSchema().load({k: v for k, v in form.items() if v.strip()})
        report = services.submit_report(who, request_id, data)
    except (ValidationError, InvalidInput) as exc:
        access_request = services.get_request(who, request_id)
        html = render_template(
            "oversight/reports.html",
            access_request=access_request,
            form=form,
            errors=_form_errors(exc),
            back=request.form.get("next") or request.path,
        )
        return html, 422
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(_back(request_id))
    flash(f"{KIND_LABELS[report.kind.value]} “{report.title}” submitted.", "success")
    return redirect(_back(request_id))


def _amendment_form(
    who: Actor, access_request: AccessRequest, form: dict[str, Any], errors: dict[str, Any]
) -> str:
    return render_template(
        "oversight/amend.html",
        access_request=access_request,
        members=[m for m in access_request.current_members() if not m.is_applicant],
        form=form,
        errors=errors,
    )


@bp.get("/requests/<request_id>/amend")
def amend(request_id: str) -> str:
    who = actor()
    access_request = services.get_request(who, request_id)
    require(who, Permission.ACCESS_REQUEST_APPLY, access_request)  # seen, not theirs: 403
    if not services.can_amend(who, access_request):
        raise Conflict(
            "Only an approved request is amended (not an amendment, and one amendment at a "
            "time); this one is "
            f"{access_request.state.value.replace('_', ' ')}."
        )
    return _amendment_form(who, access_request, {}, {})


@bp.post("/requests/<request_id>/amend")
def open_amendment(request_id: str) -> Any:
    who = actor()
    require_login(who)
    form = request.form
    data = {
        "add_members": [e for e in SPLIT.split(form.get("add_members", "")) if e],
        "remove_members": form.getlist("remove_members"),
        "add_datasets": [d for d in SPLIT.split(form.get("add_datasets", "")) if d],
        "extend_months": form.get("extend_months", "").strip() or 0,
        "justification": form.get("justification", ""),
    }
    try:
        amendment = services.create_amendment(who, request_id, AmendmentInputSchema().load(data))
    except (ValidationError, InvalidInput) as exc:
        access_request = services.get_request(who, request_id)
        shown = dict(form) | {"remove_members": form.getlist("remove_members")}
        return _amendment_form(who, access_request, shown, _form_errors(exc)), 422
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(url_for("oversight.request_reports", request_id=request_id))
    flash(
        f"Amendment {amendment.reference} opened as a draft: check it and submit it to the "
        "committee.",
        "success",
    )
    return redirect(url_for("oversight.request_reports", request_id=amendment.id))


# --- the committee dashboard ----------------------------------------------------------------


#: the charts' row labels, short enough for the chart's label column (the tables beside the
#: charts keep the long ones)
CHART_STAGE_LABELS = {
    "round": "Submitted → decision (per round)",
    "applicant": "Returned → submitted again",
}
CHART_CHECK_WORDS = {
    "compatible": "compatible",
    "needs_review": "needs review",
    "incompatible": "incompatible",
}


def _agreement_label(row: dashboard.AgreementRow) -> str:
    check = CHART_CHECK_WORDS.get(row.check, row.check or "not run")
    return f"Check {check}, {row.decision}"


def _days(days: float) -> str:
    """A median in days as a bar's value says it: "1 day", "1.5 days", "12 days"."""
    return f"{days:g} {number_word(1 if days == 1 else 2, 'day')}"


def dashboard_charts(stats: dashboard.CommitteeDashboard) -> dict[str, Any]:
    """The dashboard's charts, drawn like the catalogue's (server-side SVG, no script)."""
    Bar = chart_style.Bar
    states = [Bar(r.label, f"{r.count:,}", r.count) for r in stats.states]
    stages = [
        Bar(
            CHART_STAGE_LABELS.get(s.key, s.label),
            "no data yet" if s.median_days is None else _days(s.median_days),
            round((s.median_days or 0) * 10),
            note=f"{s.count} measured" if s.count else "",
        )
        for s in stats.stages
    ]
    agreement = [Bar(_agreement_label(r), f"{r.count:,}", r.count) for r in stats.agreement]
    return {
        "states": chart_style.bar_chart(
            "chart-states",
            "Requests per state",
            "How many of the committee's requests are in each state (drafts are not counted).",
            states if stats.total else [],
        ),
        "stages": chart_style.bar_chart(
            "chart-stages",
            "Median days per stage",
            "The median number of days each stage of the review took.",
            stages if any(s.count for s in stats.stages) else [],
        ),
        "agreement": chart_style.bar_chart(
            "chart-agreement",
            "Decisions and the automatic check",
            "Decided datasets by the consent check's outcome and the committee's decision.",
            agreement,
        ),
    }


@bp.get("/review/dashboard")
def committee_dashboard() -> str:
    stats = dashboard.committee_dashboard(actor())
    return render_template(
        "oversight/dashboard.html",
        stats=stats,
        charts=dashboard_charts(stats),
        kind_labels=KIND_LABELS,
    )


@bp.get("/review/dashboard/charts/<name>.svg")
def dashboard_chart(name: str) -> Response:
    """One chart of the committee dashboard as an SVG file."""
    drawn = dashboard_charts(dashboard.committee_dashboard(actor()))
    if name not in drawn:
        raise NotFound(f"No chart “{name}”; there are: {', '.join(sorted(drawn))}.")
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + str(drawn[name]), mimetype="image/svg+xml"
    )
