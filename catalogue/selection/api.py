"""JSON API of the caller's selection: ``/api/v1/me/selection`` (logged-in callers only).
Changes may quote the selection's ETag in ``If-Match`` (optional; when given it must be
current)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.selection import services
from catalogue.selection.schemas import SelectionAddSchema, SelectionSchema
from core.api import API_PREFIX, actor, login_required
from core.openapi import if_match_doc

blp = Blueprint(
    "selection_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Your selection: the datasets and variables you collect to request access",
)
_IF_MATCH = if_match_doc("selection")
IF_MATCH_OPTIONAL = {"parameters": [{**_IF_MATCH["parameters"][0], "required": False}]}


def _with_etag(view: services.SelectionView) -> Any:
    return view, 200, {"ETag": view.etag}


@blp.route("/me/selection")
class SelectionResource(MethodView):
    @login_required
    @blp.response(200, SelectionSchema)
    def get(self) -> Any:
        """Your selection: its datasets in the order you added them, with their titles and
        status and the variables you chose in each."""
        return _with_etag(services.list_selection(actor()))

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self) -> Response:
        """Empty your selection."""
        services.clear_selection(actor(), request.headers.get("If-Match"))
        return Response(status=204)


@blp.route("/me/selection/datasets/<dataset_id>")
class SelectedDatasetResource(MethodView):
    @login_required
    @blp.arguments(SelectionAddSchema, required=False)
    @blp.response(200, SelectionSchema)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def put(self, data: dict[str, Any], dataset_id: str) -> Any:
        """Add a published dataset (its identifier or id) to your selection, with the named
        variables of its latest published version if you give any; adding what is there
        already changes nothing. 404 for a draft or a dataset you may not see, 409 for a
        retired one, 422 naming variables the dataset does not have."""
        view = services.add_dataset(
            actor(), dataset_id, data.get("variables") or (), request.headers.get("If-Match")
        )
        return _with_etag(view)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, dataset_id: str) -> Response:
        """Remove a dataset, and the variables you chose in it, from your selection."""
        services.remove_dataset(actor(), dataset_id, request.headers.get("If-Match"))
        return Response(status=204)


@blp.route("/me/selection/datasets/<dataset_id>/variables/<path:name>")
class SelectedVariableResource(MethodView):
    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, dataset_id: str, name: str) -> Response:
        """Remove one variable from your selection (its dataset stays)."""
        services.remove_variable(actor(), dataset_id, name, request.headers.get("If-Match"))
        return Response(status=204)
