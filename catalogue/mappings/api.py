"""JSON API of mappings: list, create, review (accept, reject, replace), delete, the mapping
assistant's suggestions, bulk acceptance, and SSSOM/TSV export and import.

Changes go to the dataset's open draft and carry its ETag in ``If-Match`` (428 without, 412
when stale); their responses send the new ETag. A mapping's JSON uses SSSOM's names
(``subject_value`` is the permissible value's code, ``null`` for the variable itself).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.datasets import services as datasets
from catalogue.dcat.graph import Iris
from catalogue.mappings import services as mappings
from catalogue.mappings import sssom
from catalogue.mappings.schemas import (
    BulkAcceptResultSchema,
    BulkAcceptSchema,
    MappingEntrySchema,
    MappingInputSchema,
    MappingPageSchema,
    MappingQuerySchema,
    MappingReviewSchema,
    SssomImportReportSchema,
    SssomQuerySchema,
    SssomUploadSchema,
    SuggestResultSchema,
)
from core import jobs
from core.api import API_PREFIX, actor, login_required
from core.errors import InvalidInput
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted, runs_as_job
from core.openapi import IF_MATCH_DOC
from core.security import accept_uploads

blp = Blueprint(
    "mappings_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Mappings of variables and values to ontology terms (SSSOM)",
)

SSSOM_DOC = {"responses": {"200": {"content": {sssom.MEDIA_TYPE: {"schema": {"type": "string"}}}}}}


def _etag(identifier: str) -> dict[str, str]:
    return {"ETag": datasets.etag(datasets.get_dataset(actor(), identifier))}


def _changed(identifier: str, mapping_id: int, status: int = 200) -> Any:
    """The mapping as it is now (with the actions it allows now) and the dataset's new ETag."""
    entry = mappings.get_mapping(actor(), identifier, mapping_id)
    headers = _etag(identifier)
    if status == 201:
        headers["Location"] = url_for(
            "mappings_api.MappingResource",
            identifier=identifier,
            mapping_id=mapping_id,
            _external=True,
        )
    return entry, status, headers


@blp.route("/datasets/<identifier>/mappings")
class MappingsResource(MethodView):
    @blp.arguments(MappingQuerySchema, location="query")
    @blp.response(200, MappingPageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> Any:
        """Mappings of the version you see (``version``: another one), in dictionary order.
        Filters: ``status``, ``variable`` (name), ``subject`` (variable or value)."""
        return mappings.list_mappings(
            actor(),
            identifier,
            status=query.get("status"),
            variable=query.get("variable"),
            subject=query.get("subject"),
            number=query.get("version"),
            page=query["page"],
            per_page=query["per_page"],
        )

    @login_required
    @blp.arguments(MappingInputSchema)
    @blp.response(201, MappingEntrySchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, data: dict[str, Any], identifier: str) -> Any:
        """Map a variable of the open draft (or one of its values: ``subject_value``) to a
        term; you are its author, dated today. 422 names the field at fault."""
        mapping = mappings.create_mapping(
            actor(), identifier, data, request.headers.get("If-Match")
        )
        return _changed(identifier, mapping.id, 201)


@blp.route("/datasets/<identifier>/mappings/<int:mapping_id>")
class MappingResource(MethodView):
    @blp.response(200, MappingEntrySchema)
    def get(self, identifier: str, mapping_id: int) -> Any:
        """One mapping of the version you see, with the review ``actions`` you may take on it
        now."""
        return mappings.get_mapping(actor(), identifier, mapping_id)

    @login_required
    @blp.arguments(MappingReviewSchema)
    @blp.response(200, MappingEntrySchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, data: dict[str, Any], identifier: str, mapping_id: int) -> Any:
        """Review a mapping: ``status`` accepted (accept), rejected (reject) or suggested
        (re-open), or another term (``object_id``: change_term, the mapping becomes a manual,
        accepted one), or only ``predicate_id``/``comment`` (edit). Accepting withdraws the
        other open suggestions for the same subject; a rejected term is not suggested again.
        409 when the mapping's state does not allow the action (the answer names the ones it
        allows: the mapping's ``actions``) or the dataset has no open draft."""
        if not data:
            raise InvalidInput.field("status", "Send a status, an object_id or both.")
        mapping = mappings.review_mapping(
            actor(),
            identifier,
            mapping_id,
            data.get("status"),
            data.get("object_id"),
            request.headers.get("If-Match"),
            predicate=data.get("predicate_id"),
            comment=data.get("comment"),
        )
        return _changed(identifier, mapping.id)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_DOC)
    def delete(self, identifier: str, mapping_id: int) -> Response:
        """Delete a mapping of the open draft."""
        mappings.delete_mapping(actor(), identifier, mapping_id, request.headers.get("If-Match"))
        return Response(status=204, headers=_etag(identifier))


@blp.route("/datasets/<identifier>/mappings/suggest")
class SuggestResource(MethodView):
    @login_required
    @blp.response(200, SuggestResultSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, identifier: str) -> Any:
        """Run the mapping assistant on the open draft: its best terms for every variable and
        value without an accepted mapping become ``suggested`` mappings (lexical matching,
        confidence = score, with the reason). Earlier open suggestions are replaced."""
        counts = mappings.suggest(actor(), identifier, request.headers.get("If-Match"))
        return counts, 200, _etag(identifier)


@blp.route("/datasets/<identifier>/mappings/accept")
class BulkAcceptResource(MethodView):
    @login_required
    @blp.arguments(BulkAcceptSchema)
    @blp.response(200, BulkAcceptResultSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, data: dict[str, Any], identifier: str) -> Any:
        """Accept, for every subject, its best open suggestion with a confidence of at least
        ``min_confidence``."""
        result = mappings.bulk_accept(
            actor(), identifier, data["min_confidence"], request.headers.get("If-Match")
        )
        return result, 200, _etag(identifier)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _licence() -> str:
    return str(current_app.config.get("MAPPINGS_LICENSE") or sssom.DEFAULT_LICENSE)


@blp.route("/datasets/<identifier>/mappings.sssom.tsv")
class DatasetSssomResource(MethodView):
    @blp.arguments(SssomQuerySchema, location="query")
    @blp.doc(**SSSOM_DOC)
    def get(self, query: dict[str, Any], identifier: str) -> Response:
        """The dataset's mappings as SSSOM/TSV (streamed), accepted ones unless ``status``
        says otherwise; ``version``: another version. Subjects are the variables' IRIs under
        ``BASE_URL`` (the same as in the DCAT-AP records), whatever host was asked."""
        export = sssom.export_dataset(
            actor(),
            identifier,
            base_url=Iris.current().base,
            status=query["status"],
            number=query.get("version"),
            license=_licence(),
        )
        return Response(
            stream_with_context(export.chunks),
            mimetype=sssom.MEDIA_TYPE,
            headers=_attachment(export.filename),
        )

    @login_required
    @blp.arguments(SssomUploadSchema, location="files")
    @blp.response(200, SssomImportReportSchema)
    @blp.alt_response(202, schema=JobSchema, **ACCEPTED_DOC)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, files: dict[str, Any], identifier: str) -> Any:
        """Add the mappings of an SSSOM/TSV file (multipart ``file``) to the open draft. All
        or nothing: 422 with the report (every problem by line and column) writes nothing.
        A file larger than ``JOBS_INLINE_MAX_KB`` (or any, with ``Prefer: respond-async``)
        is imported by a job: 202 with the job (``Location``)."""
        who = actor()
        if_match = request.headers.get("If-Match")
        upload = files.get("file")
        if upload is None:
            datasets.editable_version(who, identifier, if_match)  # 404/403/409/412 come first
            raise InvalidInput.field("file", "Send the SSSOM/TSV file as a multipart file “file”.")
        data = upload.read()
        if runs_as_job(len(data)):
            datasets.editable_version(who, identifier, if_match)  # 404/403/409/412 at once
            params = {
                "dataset": identifier,
                "filename": upload.filename or "",
                "if_match": if_match,
            }
            title = f"Import of {upload.filename or 'SSSOM mappings'} into {identifier}"
            return accepted(jobs.submit_job(who, "sssom_import", title, params, data))
        report = sssom.import_sssom(who, identifier, data, upload.filename or "", if_match)
        return report.as_json(), 200, _etag(identifier)


@jobs.handler("sssom_import")
def _import_job(job: jobs.JobContext) -> dict[str, Any]:
    """An SSSOM import run by the job worker, as its owner, all or nothing."""
    params = job.params
    job.progress("importing", 0, 1)
    report = sssom.import_sssom(
        job.actor, params["dataset"], job.data or b"", params["filename"], params["if_match"]
    )
    return {**report.as_json(), "dataset_url": f"/datasets/{params['dataset']}/mappings"}


accept_uploads("mappings_api.DatasetSssomResource")


@blp.route("/mappings.sssom.tsv")
class CatalogueSssomResource(MethodView):
    @blp.doc(**SSSOM_DOC)
    def get(self) -> Response:
        """The accepted mappings of every published dataset as one SSSOM/TSV file (streamed;
        public)."""
        export = sssom.export_catalogue(actor(), base_url=Iris.current().base, license=_licence())
        return Response(
            stream_with_context(export.chunks),
            mimetype=sssom.MEDIA_TYPE,
            headers=_attachment(export.filename),
        )
