"""``/api/v1/access-requests``: the application.

Logged-in callers only (401 otherwise). A request is seen by its team (in every state), by the
committee it went to, by the custodians of the datasets it asks for and by administrators —
a draft only by its team (404 for anyone else). Changes quote the request's ETag in
``If-Match`` (428 without, 412 when stale); submit and withdraw go through the
``access_request`` workflow (409 naming the allowed actions in a state that forbids them).
"""

from __future__ import annotations

from typing import Any

from flask import request as http_request
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core import workflow
from core.api import API_PREFIX, actor, login_required
from core.openapi import if_match_doc
from core.policies import Actor
from governance.requests import services
from governance.requests.models import AccessRequest, RequestState
from governance.requests.schemas import (
    AccessRequestInputSchema,
    AccessRequestPageSchema,
    AccessRequestQuerySchema,
    AccessRequestSchema,
    AccessRequestUpdateSchema,
    WithdrawSchema,
)

blp = Blueprint(
    "requests_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Access requests: a researcher's application for datasets",
)
IF_MATCH = if_match_doc("access request")


def request_json(
    who: Actor, request: AccessRequest, titles: dict[str, str] | None = None
) -> dict[str, Any]:
    """The request as the API and the pages show it."""
    if titles is None:
        titles = services.dataset_titles(request.datasets)
    editable = services.can_edit(who, request)
    organisation = None
    if request.organisation_id:
        from core.db import get_session
        from core.models import Organisation

        organisation = get_session().get(Organisation, request.organisation_id)
    return {
        "id": request.id,
        "reference": request.reference,
        "state": request.state.value,
        "applicant": {"id": request.applicant_id, "name": request.applicant.name},
        "organisation": organisation,
        "committee_id": request.committee_id,
        "amends_id": request.amends_id,
        **{name: getattr(request, name) for name in services.EDITABLE},
        "purpose": dict(request.purpose or {}),
        "members": [
            {
                "id": m.id,
                "user_id": m.user_id,
                "email": m.email,
                "name": m.name,
                "affiliation": m.affiliation,
                "role": m.role,
                "is_applicant": m.is_applicant,
                "invited": m.user_id is None,
            }
            for m in request.current_members()
        ],
        "datasets": [
            {
                "id": d.id,
                "dataset_id": d.dataset_id,
                "identifier": d.dataset.identifier,
                "title": titles.get(d.dataset_id, d.dataset.identifier),
                "variables": d.variables,
                "state": d.state.value,
                "signoff_required": d.signoff_required,
                "agreement_id": d.agreement_id,
                "check": {
                    "outcome": d.check_outcome,
                    "reasons": d.check_reasons or [],
                    "obligations": d.check_obligations or [],
                    "conditions_revision": d.check_conditions_revision,
                    "ontology_versions": d.check_ontology_versions or {},
                    "checked_at": d.checked_at,
                },
            }
            for d in request.datasets
        ],
        "round": request.round,
        "return_comments": request.return_comments,
        "submitted_at": request.submitted_at,
        "state_changed_at": request.state_changed_at,
        "decided_at": request.decided_at,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "revision": request.revision,
        "missing": services.completeness(request) if editable else {},
        "actions": workflow.available_actions(services.WORKFLOW, who, request),
        "url": url_for("requests_api.AccessRequestResource", request_id=request.id, _external=True),
    }


def _answer(request: AccessRequest, status: int = 200) -> Any:
    return request_json(actor(), request), status, {"ETag": services.etag(request)}


@blp.route("/access-requests")
class AccessRequestsResource(MethodView):
    @login_required
    @blp.arguments(AccessRequestQuerySchema, location="query")
    @blp.response(200, AccessRequestPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The requests you may see, newest change first: your own and your teams' (drafts
        too), your committee's, those asking for your organisation's datasets (custodians),
        all (administrators; no one else's drafts). Filter by ``state``; ``mine`` for only
        your own and your teams'."""
        who = actor()
        state = query.get("state")
        page = services.list_requests(
            who,
            state=RequestState(state) if state else None,
            mine=query["mine"],
            sort=query.get("sort"),
            page=query["page"],
            per_page=query["per_page"],
        )
        # one query each for the page's dataset titles and organisations (not one per request)
        titles = services.dataset_titles([i for r in page.items for i in r.datasets])
        held = services.load_organisations(r.organisation_id for r in page.items)  # noqa: F841
        return {
            "items": [request_json(who, r, titles) for r in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }

    @login_required
    @blp.arguments(AccessRequestInputSchema)
    @blp.response(201, AccessRequestSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Start a draft request (researchers): any of the fields now, the rest later.
        ``from_selection``: the datasets and variables of your selection."""
        from_selection = bool(data.pop("from_selection", False))
        created = services.create_request(actor(), data, from_selection=from_selection)
        body, status, headers = _answer(created, 201)
        headers["Location"] = body["url"]
        return body, status, headers


@blp.route("/access-requests/<request_id>")
class AccessRequestResource(MethodView):
    @login_required
    @blp.response(200, AccessRequestSchema)
    def get(self, request_id: str) -> Any:
        """One request with its ETag (404 unless you may see it)."""
        return _answer(services.get_request(actor(), request_id))

    @login_required
    @blp.arguments(AccessRequestUpdateSchema)
    @blp.response(200, AccessRequestSchema)
    @blp.doc(**IF_MATCH)
    def patch(self, data: dict[str, Any], request_id: str) -> Any:
        """Change a draft or returned request (the applicant; only the fields sent — this is
        what autosave calls). 409 once it is submitted."""
        updated = services.update_request(
            actor(), request_id, data, http_request.headers.get("If-Match")
        )
        return _answer(updated)


@blp.route("/access-requests/<request_id>/submit")
class SubmitResource(MethodView):
    @login_required
    @blp.response(200, AccessRequestSchema)
    @blp.doc(**IF_MATCH)
    def post(self, request_id: str) -> Any:
        """Submit a draft (or a returned request, again): 422 names every field still
        missing; 403 when the eligibility rule refuses the applicant; 409 when no committee
        can review it. The consent check runs for every dataset and is stored."""
        outcome = workflow.apply(
            services.WORKFLOW,
            actor(),
            request_id,
            "submit",
            if_match=http_request.headers.get("If-Match"),
        )
        return _answer(outcome.obj)


@blp.route("/access-requests/<request_id>/withdraw")
class WithdrawResource(MethodView):
    @login_required
    @blp.arguments(WithdrawSchema)
    @blp.response(200, AccessRequestSchema)
    @blp.doc(**IF_MATCH)
    def post(self, data: dict[str, Any], request_id: str) -> Any:
        """Withdraw the request (the applicant; before the decision), with a reason if you
        like."""
        outcome = workflow.apply(
            services.WORKFLOW,
            actor(),
            request_id,
            "withdraw",
            if_match=http_request.headers.get("If-Match"),
            params={"reason": data.get("reason") or ""},
        )
        return _answer(outcome.obj)
