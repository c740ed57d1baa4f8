"""Access under approved requests, under ``/api/v1``:

- ``GET /entitlements?user=…&dataset=…`` — "may this user use this dataset now?", for data
  platforms (a service account's token with the ``platform`` role) and administrators;
- ``GET /me/entitlements`` — the caller's own, in every state;
- ``GET /access-requests/{id}/terms`` and ``POST /access-requests/{id}/acceptance`` — the
  terms a team member accepts (the text and its SHA-256), and the acceptance that starts their
  access (409 when the terms changed since);
- ``POST /access-requests/{id}/revocations`` — the chair of the request's committee or an
  administrator revokes access, with a reason;
- ``GET /users/{id}/visas`` — the user's active entitlements as GA4GH Passport visas.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import API_PREFIX, actor, login_required, page_body, permission_required
from core.permissions import Permission
from governance.entitlements import services
from governance.entitlements.schemas import (
    AcceptanceInputSchema,
    EntitlementAnswerSchema,
    EntitlementListSchema,
    EntitlementPageSchema,
    EntitlementQuerySchema,
    OwnQuerySchema,
    PassportSchema,
    RevocationInputSchema,
    TermsSchema,
)
from governance.requests.models import EntitlementState

blp = Blueprint(
    "entitlements_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Access granted by approved requests: entitlements, acceptance, revocation, "
    "GA4GH Passport visas",
)


@blp.route("/entitlements")
class EntitlementsResource(MethodView):
    @permission_required(Permission.ENTITLEMENT_QUERY)
    @blp.arguments(EntitlementQuerySchema, location="query")
    @blp.response(200, EntitlementAnswerSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """May this user use this dataset today? ``allowed`` answers; ``entitlements`` are
        the active ones that allow it and ``variables`` what they allow (null: all). Data
        platforms (service accounts) and administrators; 404 for an unknown user or
        dataset."""
        answer = services.query(actor(), query["user"], query.get("dataset"))
        return {
            "user": answer.user.id,
            "dataset": answer.dataset.identifier if answer.dataset is not None else None,
            "allowed": answer.allowed,
            "on": answer.on,
            "variables": answer.variables,
            "entitlements": answer.entitlements,
        }


@blp.route("/me/entitlements")
class OwnEntitlementsResource(MethodView):
    @login_required
    @blp.arguments(OwnQuerySchema, location="query")
    @blp.response(200, EntitlementPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Your entitlements in every state (or one: ``state``): awaiting your acceptance,
        active, revoked, ended."""
        state = query.get("state")
        page = services.own_entitlements(
            actor(),
            state=EntitlementState(state) if state else None,
            page=query["page"],
            per_page=query["per_page"],
        )
        return page_body(page)


@blp.route("/access-requests/<request_id>/terms")
class TermsResource(MethodView):
    @login_required
    @blp.response(200, TermsSchema)
    def get(self, request_id: str) -> dict[str, Any]:
        """The current terms of an approved request for a member of its team: the text to
        read, and its SHA-256 to send with the acceptance."""
        view = services.terms_for(actor(), request_id)
        return {"request_id": request_id, "text": view.terms.text, "sha256": view.terms.sha256}


@blp.route("/access-requests/<request_id>/acceptance")
class AcceptanceResource(MethodView):
    @login_required
    @blp.arguments(AcceptanceInputSchema)
    @blp.response(200, EntitlementListSchema)
    def post(self, data: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Accept the terms you read (their ``terms_sha256``): your access to the request's
        approved datasets starts. 409 when the terms changed since (read them again) or
        nothing awaits your acceptance; 403 for someone not on the team."""
        return {"items": services.accept_terms(actor(), request_id, data["terms_sha256"])}


@blp.route("/access-requests/<request_id>/revocations")
class RevocationsResource(MethodView):
    @login_required
    @blp.arguments(RevocationInputSchema)
    @blp.response(200, EntitlementListSchema)
    def post(self, data: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Revoke access under the request: one ``entitlement``, a ``user``'s, a ``dataset``'s
        or (naming none) all of it, with the ``reason``. The chair of the request's committee
        or an administrator; 409 when it is already over."""
        revoked = services.revoke(
            actor(),
            request_id,
            reason=data["reason"],
            entitlement_id=data.get("entitlement"),
            user_id=data.get("user"),
            dataset=data.get("dataset"),
        )
        return {"items": revoked}


@blp.route("/users/<user_id>/visas")
class VisasResource(MethodView):
    @login_required
    @blp.response(200, PassportSchema)
    def get(self, user_id: str) -> dict[str, Any]:
        """The user's active entitlements as GA4GH Passport v1.2 ``ControlledAccessGrants``
        visas (RS256 JWTs; keys at ``/.well-known/jwks.json``). Yourself, data platforms and
        administrators; 404 for an unknown user."""
        return {"ga4gh_passport_v1": services.visas_of(actor(), user_id)}
