"""JSON API of saved research purposes: ``/api/v1/me/purposes`` (the caller's own, logged-in
callers only). Changes quote the purpose's ETag in ``If-Match`` (a PUT must; a DELETE may)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import API_PREFIX, actor, login_required, page_body
from core.openapi import if_match_doc
from governance.purposes import services
from governance.purposes.models import SavedPurpose
from governance.purposes.schemas import (
    SavedPurposeInputSchema,
    SavedPurposePageSchema,
    SavedPurposeQuerySchema,
    SavedPurposeSchema,
)

blp = Blueprint(
    "purposes_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Your saved research purposes, to search by fit",
)
IF_MATCH = if_match_doc("purpose")
IF_MATCH_OPTIONAL = {
    "parameters": [{**IF_MATCH["parameters"][0], "required": False}],
}


def _with_etag(saved: SavedPurpose, status: int = 200, **headers: str) -> Any:
    return saved, status, {"ETag": services.etag(saved), **headers}


@blp.route("/me/purposes")
class PurposesResource(MethodView):
    @login_required
    @blp.arguments(SavedPurposeQuerySchema, location="query")
    @blp.response(200, SavedPurposePageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Your saved research purposes, by name."""
        return page_body(services.list_purposes(actor(), **query))

    @login_required
    @blp.arguments(SavedPurposeInputSchema)
    @blp.response(201, SavedPurposeSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Save a research purpose under a name of your choice (unique among yours); search
        by fit to it with ``GET /api/v1/search?purpose={id}``."""
        saved = services.create_purpose(actor(), data["name"], data["purpose"])
        location = url_for("purposes_api.PurposeResource", purpose_id=saved.id, _external=True)
        return _with_etag(saved, 201, Location=location)


@blp.route("/me/purposes/<purpose_id>")
class PurposeResource(MethodView):
    @login_required
    @blp.response(200, SavedPurposeSchema)
    def get(self, purpose_id: str) -> Any:
        """One of your saved purposes (another user's is 404), with the ETag a change
        quotes."""
        return _with_etag(services.get_purpose(actor(), purpose_id))

    @login_required
    @blp.arguments(SavedPurposeInputSchema)
    @blp.response(200, SavedPurposeSchema)
    @blp.doc(**IF_MATCH)
    def put(self, data: dict[str, Any], purpose_id: str) -> Any:
        """Replace a saved purpose's name and content."""
        saved = services.update_purpose(
            actor(), purpose_id, data["name"], data["purpose"], request.headers.get("If-Match")
        )
        return _with_etag(saved)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, purpose_id: str) -> Response:
        """Delete a saved purpose (with ``If-Match``: only the version you read)."""
        services.delete_purpose(actor(), purpose_id, request.headers.get("If-Match"))
        return Response(status=204)
