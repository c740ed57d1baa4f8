"""After approval, in the JSON API: ``/api/v1/access-requests/{id}/reports`` (reports and
publications), ``/api/v1/access-requests/{id}/amendments`` and
``/api/v1/review/dashboard`` (the committee dashboard). Logged-in callers only (401)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import API_PREFIX, actor, login_required
from governance.oversight import dashboard, services
from governance.oversight.schemas import (
    AmendmentInputSchema,
    AmendmentListSchema,
    AmendmentSchema,
    DashboardSchema,
    ReportInputSchema,
    ReportListSchema,
    ReportSchema,
)
from governance.requests.models import AccessRequest, RequestReport

blp = Blueprint(
    "oversight_api",
    __name__,
    url_prefix=API_PREFIX,
    description="After approval: reports, publications, amendments; the committee dashboard",
)


def report_json(report: RequestReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "kind": report.kind,
        "title": report.title,
        "text": report.text,
        "doi": report.doi,
        "url": report.url,
        "due_on": report.due_on,
        "submitted_at": report.submitted_at,
        "submitted_by_id": report.submitted_by_id,
        "overdue": services.is_overdue(report),
    }


class _Report(dict[str, Any]):
    """A report's JSON, readable as the object ReportSchema expects."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def amendment_json(amendment: AccessRequest) -> dict[str, Any]:
    return {
        "id": amendment.id,
        "reference": amendment.reference,
        "state": amendment.state,
        "amends_id": amendment.amends_id,
        "amendment": amendment.amendment or {},
        "summary": services.describe_amendment(amendment),
        "created_at": amendment.created_at,
        "submitted_at": amendment.submitted_at,
        "decided_at": amendment.decided_at,
        "url": f"{API_PREFIX}/access-requests/{amendment.id}",
    }


@blp.route("/access-requests/<request_id>/reports")
class ReportsResource(MethodView):
    @login_required
    @blp.response(200, ReportListSchema)
    def get(self, request_id: str) -> dict[str, Any]:
        """The request's reports and publications: the required ones still awaited (by due
        date; ``overdue`` once the date passed), then the submitted ones, newest first."""
        items = [_Report(report_json(r)) for r in services.list_reports(actor(), request_id)]
        return {
            "items": items,
            "total": len(items),
            "overdue": sum(1 for i in items if i["overdue"]),
        }

    @login_required
    @blp.arguments(ReportInputSchema)
    @blp.response(201, ReportSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """File a progress or final report or a publication on an approved request (its
        applicant and team). It fulfils the earliest report of that kind the committee
        required and that is still awaited. 409 before approval; 422 naming the field."""
        report = services.submit_report(actor(), request_id, data)
        location = url_for("oversight_api.ReportsResource", request_id=request_id, _external=True)
        return _Report(report_json(report)), 201, {"Location": location}


@blp.route("/access-requests/<request_id>/amendments")
class AmendmentsResource(MethodView):
    @login_required
    @blp.response(200, AmendmentListSchema)
    def get(self, request_id: str) -> dict[str, Any]:
        """The amendments of a request that you may see, oldest first."""
        who = actor()
        request = services.get_request(who, request_id)
        items = [_Report(amendment_json(a)) for a in services.visible_amendments(who, request)]
        return {"items": items, "total": len(items)}

    @login_required
    @blp.arguments(AmendmentInputSchema)
    @blp.response(201, AmendmentSchema)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """Open an amendment of an approved request (its applicant): add or remove team
        members, add datasets, extend the access by some months, with a justification. The
        amendment is a new request (reference ``<original>-A<n>``), a draft that copies the
        original: submit it with ``POST /api/v1/access-requests/{id}/submit``; the committee
        reviews it like any request. Nothing changes until it is approved; running access
        continues while an extension is reviewed."""
        amendment = services.create_amendment(actor(), request_id, data)
        body = _Report(amendment_json(amendment))
        return body, 201, {"Location": body["url"]}


@blp.route("/review/dashboard")
class DashboardResource(MethodView):
    @login_required
    @blp.response(200, DashboardSchema)
    def get(self) -> Any:
        """The committee dashboard: requests per state, median days per stage, agreement of
        decisions with the automatic check and the overrides, overdue reports (your
        committees; administrators: all)."""
        return dashboard.committee_dashboard(actor())
