"""JSON API of selections (logged-in callers, each their own):

- ``/api/v1/me/selection`` — the current selection (where the "Add to selection" buttons put
  things), as before several selections existed;
- ``/api/v1/me/selections`` — all of one's named selections: list, create, rename, make
  current, delete, the same item operations per selection, a read-only share link, and the
  combined dictionary (CSV streamed, or XLSX);
- ``/api/v1/shared-selections/<token>`` — what a share link shows (anyone holding it), its
  combined dictionary, and a copy into one's own selections (logged in).

Changes may quote the selection's ETag in ``If-Match`` (optional; when given it must be
current)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.dictionary import export
from catalogue.selection import dictionary, services
from catalogue.selection.schemas import (
    SelectionAddSchema,
    SelectionCopySchema,
    SelectionCreateSchema,
    SelectionPageSchema,
    SelectionQuerySchema,
    SelectionSchema,
    SelectionUpdateSchema,
    SharedSelectionSchema,
    ShareLinkSchema,
)
from core.api import API_PREFIX, actor, login_required
from core.openapi import if_match_doc

blp = Blueprint(
    "selection_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Your selections: the datasets and variables you collect to compare, share "
    "and request access to",
)
_IF_MATCH = if_match_doc("selection")
IF_MATCH_OPTIONAL = {"parameters": [{**_IF_MATCH["parameters"][0], "required": False}]}
CSV_DOC = {"responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_DOC = {"responses": {"200": {"content": {XLSX_TYPE: {"schema": {"type": "string"}}}}}}


def _with_etag(view: services.SelectionView, status: int = 200) -> Any:
    headers = {"ETag": view.etag}
    if status == 201 and view.id is not None:
        headers["Location"] = url_for("selection_api.NamedSelectionResource", selection_id=view.id)
    return view, status, headers


def _if_match() -> str | None:
    return request.headers.get("If-Match")


def share_url(token: str) -> str:
    """The share link as given out: from ``BASE_URL``, never from the request's Host."""
    base = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    return base + url_for("selection.shared_page", token=token)


def _csv(combined: dictionary.CombinedDictionary) -> Response:
    return Response(
        stream_with_context(export.csv_lines(combined.rows(), bom=True)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{combined.filename("csv")}"'},
    )


def _xlsx(combined: dictionary.CombinedDictionary) -> Response:
    return Response(
        export.xlsx_bytes(combined.rows(), title="Selection"),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{combined.filename("xlsx")}"'},
    )


# --- the current selection ------------------------------------------------------------------


@blp.route("/me/selection")
class SelectionResource(MethodView):
    @login_required
    @blp.response(200, SelectionSchema)
    def get(self) -> Any:
        """Your current selection: its datasets in the order you added them, with their titles
        and status and the variables you chose in each."""
        return _with_etag(services.list_selection(actor()))

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self) -> Response:
        """Empty your current selection."""
        services.clear_selection(actor(), _if_match())
        return Response(status=204)


@blp.route("/me/selection/datasets/<dataset_id>")
class SelectedDatasetResource(MethodView):
    @login_required
    @blp.arguments(SelectionAddSchema, required=False)
    @blp.response(200, SelectionSchema)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def put(self, data: dict[str, Any], dataset_id: str) -> Any:
        """Add a published dataset (its identifier or id) to your current selection, with the
        named variables of its latest published version if you give any; adding what is there
        already changes nothing. 404 for a draft or a dataset you may not see, 409 for a
        retired one, 422 naming variables the dataset does not have."""
        view = services.add_dataset(actor(), dataset_id, data.get("variables") or (), _if_match())
        return _with_etag(view)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, dataset_id: str) -> Response:
        """Remove a dataset, and the variables you chose in it, from your current selection."""
        services.remove_dataset(actor(), dataset_id, _if_match())
        return Response(status=204)


@blp.route("/me/selection/datasets/<dataset_id>/variables/<path:name>")
class SelectedVariableResource(MethodView):
    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, dataset_id: str, name: str) -> Response:
        """Remove one variable from your current selection (its dataset stays)."""
        services.remove_variable(actor(), dataset_id, name, _if_match())
        return Response(status=204)


# --- named selections -----------------------------------------------------------------------


@blp.route("/me/selections")
class SelectionsResource(MethodView):
    @login_required
    @blp.arguments(SelectionQuerySchema, location="query")
    @blp.response(200, SelectionPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Your selections with how many datasets and variables each holds; the current one
        first (unless ``sort`` says otherwise)."""
        return services.list_selections(
            actor(), page=query["page"], per_page=query["per_page"], sort=query.get("sort")
        )

    @login_required
    @blp.arguments(SelectionCreateSchema)
    @blp.response(201, SelectionSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Make a new, empty selection; it becomes your current one. 422 for a name you use
        already (in any case) or past the number of selections one keeps."""
        return _with_etag(services.create_selection(actor(), data["name"]), 201)


@blp.route("/me/selections/<selection_id>")
class NamedSelectionResource(MethodView):
    @login_required
    @blp.response(200, SelectionSchema)
    def get(self, selection_id: str) -> Any:
        """One of your selections with its datasets and chosen variables."""
        return _with_etag(services.get_selection(actor(), selection_id))

    @login_required
    @blp.arguments(SelectionUpdateSchema)
    @blp.response(200, SelectionSchema)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def patch(self, data: dict[str, Any], selection_id: str) -> Any:
        """Rename it (``name``) and/or make it your current selection (``is_current: true``)."""
        view = services.update_selection(
            actor(),
            selection_id,
            name=data.get("name"),
            make_current=bool(data.get("is_current")),
            if_match=_if_match(),
        )
        return _with_etag(view)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, selection_id: str) -> Response:
        """Delete it, with its datasets and variables; its share link stops working. When it
        was your current selection, the one current before it is current again."""
        services.delete_selection(actor(), selection_id, _if_match())
        return Response(status=204)


@blp.route("/me/selections/<selection_id>/datasets")
class NamedSelectionDatasetsResource(MethodView):
    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, selection_id: str) -> Response:
        """Empty the selection (it stays, with its name and share link)."""
        services.clear_selection(actor(), _if_match(), selection_id=selection_id)
        return Response(status=204)


@blp.route("/me/selections/<selection_id>/datasets/<dataset_id>")
class NamedSelectedDatasetResource(MethodView):
    @login_required
    @blp.arguments(SelectionAddSchema, required=False)
    @blp.response(200, SelectionSchema)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def put(self, data: dict[str, Any], selection_id: str, dataset_id: str) -> Any:
        """Add a published dataset (with the named variables) to this selection; as
        ``PUT /me/selection/datasets/{dataset_id}``."""
        view = services.add_dataset(
            actor(),
            dataset_id,
            data.get("variables") or (),
            _if_match(),
            selection_id=selection_id,
        )
        return _with_etag(view)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, selection_id: str, dataset_id: str) -> Response:
        """Remove a dataset, and the variables you chose in it, from this selection."""
        services.remove_dataset(actor(), dataset_id, _if_match(), selection_id=selection_id)
        return Response(status=204)


@blp.route("/me/selections/<selection_id>/datasets/<dataset_id>/variables/<path:name>")
class NamedSelectedVariableResource(MethodView):
    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, selection_id: str, dataset_id: str, name: str) -> Response:
        """Remove one variable from this selection (its dataset stays)."""
        services.remove_variable(actor(), dataset_id, name, _if_match(), selection_id=selection_id)
        return Response(status=204)


@blp.route("/me/selections/<selection_id>/share")
class SelectionShareResource(MethodView):
    @login_required
    @blp.response(201, ShareLinkSchema)
    def post(self, selection_id: str) -> Any:
        """Make a read-only link to this selection (anyone who has it sees its published
        datasets and chosen variables, never who you are). The link is in this answer only;
        making another replaces it (the old one stops working). Audited."""
        link = services.share_selection(actor(), selection_id)
        return {
            "url": share_url(link.token),
            "token": link.token,
            "shared_at": link.selection.shared_at,
            "selection": link.selection,
        }

    @login_required
    @blp.response(204)
    def delete(self, selection_id: str) -> Response:
        """Stop sharing: the link answers 404 from now on (nothing happens when it is not
        shared). Audited."""
        services.unshare_selection(actor(), selection_id)
        return Response(status=204)


@blp.route("/me/selections/<selection_id>/dictionary.csv")
class SelectionDictionaryCsvResource(MethodView):
    @login_required
    @blp.doc(**CSV_DOC)
    def get(self, selection_id: str) -> Response:
        """The selection's combined dictionary (CSV, streamed): every chosen variable of every
        dataset (the whole dictionary where none was chosen), with the dataset, type, unit,
        permissible values, missing codes and mapped terms with their predicates."""
        return _csv(dictionary.owner_dictionary(actor(), selection_id))


@blp.route("/me/selections/<selection_id>/dictionary.xlsx")
class SelectionDictionaryXlsxResource(MethodView):
    @login_required
    @blp.doc(**XLSX_DOC)
    def get(self, selection_id: str) -> Response:
        """The selection's combined dictionary as an Excel workbook."""
        return _xlsx(dictionary.owner_dictionary(actor(), selection_id))


# --- shared selections ----------------------------------------------------------------------


@blp.route("/shared-selections/<token>")
class SharedSelectionResource(MethodView):
    @blp.response(200, SharedSelectionSchema)
    def get(self, token: str) -> Any:
        """What a share link shows (anyone holding it, logged in or not): the selection's
        name, its published datasets and their chosen variables. 404 for an unknown or
        revoked link."""
        return services.shared_selection(token)


@blp.route("/shared-selections/<token>/dictionary.csv")
class SharedDictionaryCsvResource(MethodView):
    @blp.doc(**CSV_DOC)
    def get(self, token: str) -> Response:
        """The shared selection's combined dictionary (CSV, streamed)."""
        return _csv(dictionary.shared_dictionary(token))


@blp.route("/shared-selections/<token>/dictionary.xlsx")
class SharedDictionaryXlsxResource(MethodView):
    @blp.doc(**XLSX_DOC)
    def get(self, token: str) -> Response:
        """The shared selection's combined dictionary as an Excel workbook."""
        return _xlsx(dictionary.shared_dictionary(token))


@blp.route("/shared-selections/<token>/copy")
class SharedSelectionCopyResource(MethodView):
    @login_required
    @blp.arguments(SelectionCopySchema, required=False)
    @blp.response(201, SelectionSchema)
    def post(self, data: dict[str, Any], token: str) -> Any:
        """Copy the shared selection (what the link shows) into your own selections, as your
        current one, named ``name`` or as the shared one (with “(copy)” when you use that
        name already)."""
        view = services.copy_shared_selection(actor(), token, (data or {}).get("name"))
        return _with_etag(view, 201)
