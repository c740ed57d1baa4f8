"""JSON API of data dictionaries: import a whole dictionary, list and read variables, export the
dictionary as our template (CSV, streamed, or XLSX) and download the empty template.

A rejected import answers 422 problem+json whose ``errors.file`` lists the problems as sentences
and whose ``report`` member holds the full report (rows read, each problem with its row, column
and message).
"""

from __future__ import annotations

from typing import Any

from flask import Response, json, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.datasets import services as datasets
from catalogue.dictionary import export
from catalogue.dictionary import services as variables
from catalogue.dictionary.importer import RemovalsUnconfirmed, import_dictionary, submit_import
from catalogue.dictionary.schemas import (
    DictionaryFormSchema,
    DictionaryUploadSchema,
    ImportReportSchema,
    VariablePageSchema,
    VariableQuerySchema,
    VariableSchema,
    VersionQuerySchema,
)
from core.api import API_PREFIX, actor, login_required
from core.errors import InvalidInput, problem
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted, runs_as_job
from core.openapi import IF_MATCH_DOC
from core.security import accept_uploads

blp = Blueprint(
    "dictionary_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Data dictionaries and variables",
)


@blp.route("/datasets/<identifier>/dictionary")
class DictionaryResource(MethodView):
    @login_required
    @blp.arguments(DictionaryUploadSchema, location="files")
    @blp.arguments(DictionaryFormSchema, location="form")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(202, schema=JobSchema, **ACCEPTED_DOC)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, files: dict[str, Any], form: dict[str, Any], identifier: str) -> Any:
        """Import a whole data dictionary into the open draft (multipart ``file``).

        All or nothing: 422 with the report (every problem by row and column) writes nothing; 200
        with the report (variables added, changed, removed, unchanged). 409 on a published
        dataset without an open draft, 413 too large, 415 unknown format or extension.
        A file that would remove variables or drop mappings is imported only with
        ``confirm_removals=true``; without it the answer is 409 (type
        ``…/removals-unconfirmed``) whose ``report.removals`` lists the variables and
        mappings that would go, with their counts, and nothing is written.
        A file larger than ``JOBS_INLINE_MAX_KB`` (or any, with ``Prefer: respond-async``)
        is imported by a job: 202 with the job (``Location``), whose result is the report and
        whose error is the 422 problem with the report (or the 409 with the removals)."""
        who = actor()
        if_match = request.headers.get("If-Match")
        upload = files.get("file")
        if upload is None:
            datasets.editable_version(who, identifier, if_match)  # 404/403/409/412 come first
            raise InvalidInput.field("file", "Send the dictionary as a multipart file “file”.")
        data = upload.read()
        confirm = bool(form.get("confirm_removals"))
        if runs_as_job(len(data)):
            fmt = form.get("format")
            return accepted(
                submit_import(
                    who,
                    identifier,
                    data,
                    upload.filename or "",
                    fmt,
                    if_match,
                    confirm_removals=confirm,
                )
            )
        report = import_dictionary(
            who,
            identifier,
            data,
            upload.filename or "",
            form.get("format"),
            if_match,
            confirm_removals=confirm,
        )
        dataset = datasets.get_dataset(who, identifier)
        return report.as_json(), 200, {"ETag": datasets.etag(dataset)}


accept_uploads("dictionary_api.DictionaryResource")


@blp.errorhandler(RemovalsUnconfirmed)
def _removals_unconfirmed(exc: RemovalsUnconfirmed) -> Response:
    """409 problem+json with the report (``report.removals``: what would go) as an extension
    member, like a rejected file's 422; the ETag the comparison was made against comes along,
    for the confirming request's ``If-Match``."""
    response = problem(exc.status, exc.detail, title=exc.title, slug=exc.slug)
    body = response.get_json()
    body["report"] = exc.report.as_json()
    response.set_data(json.dumps(body))
    response.headers["ETag"] = exc.revision
    return response


@blp.route("/datasets/<identifier>/variables")
class VariablesResource(MethodView):
    @blp.arguments(VariableQuerySchema, location="query")
    @blp.response(200, VariablePageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> Any:
        """A version's variables in dictionary order with their permissible values and
        mappings. Filters: ``mapped``, ``type``, ``form``, ``q`` (name or label)."""
        return variables.list_variables(
            actor(),
            identifier,
            query.get("version"),
            mapped=query.get("mapped"),
            value_type=query.get("type"),
            form=query.get("form"),
            q=query.get("q"),
            page=query["page"],
            per_page=query["per_page"],
        )


@blp.route("/datasets/<identifier>/variables/<name>")
class VariableResource(MethodView):
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.response(200, VariableSchema)
    def get(self, query: dict[str, Any], identifier: str, name: str) -> Any:
        """One variable with its permissible values and mappings."""
        return variables.get_variable(actor(), identifier, name, query.get("version"))


CSV_DOC = {"responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_DOC = {"responses": {"200": {"content": {XLSX_TYPE: {"schema": {"type": "string"}}}}}}


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@blp.route("/datasets/<identifier>/dictionary.csv")
class DictionaryCsvResource(MethodView):
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.doc(**CSV_DOC)
    def get(self, query: dict[str, Any], identifier: str) -> Response:
        """The dictionary as our CSV template (streamed); importing it again changes nothing."""
        version = export.export_version(actor(), identifier, query.get("version"))
        body = export.csv_lines(export.template_rows(version), bom=True)
        return Response(
            stream_with_context(body),
            mimetype="text/csv",
            headers=_attachment(export.export_filename(version, "csv")),
        )


@blp.route("/datasets/<identifier>/dictionary.xlsx")
class DictionaryXlsxResource(MethodView):
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.doc(**XLSX_DOC)
    def get(self, query: dict[str, Any], identifier: str) -> Response:
        """The dictionary as our XLSX template; importing it again changes nothing."""
        version = export.export_version(actor(), identifier, query.get("version"))
        data = export.xlsx_bytes(export.template_rows(version))
        return Response(
            data,
            mimetype=XLSX_TYPE,
            headers=_attachment(export.export_filename(version, "xlsx")),
        )


@blp.route("/dictionary-template.csv")
class TemplateCsvResource(MethodView):
    @blp.doc(**CSV_DOC)
    def get(self) -> Response:
        """Our dictionary template with a few example rows of an AML trial (public)."""
        return Response(
            "".join(export.csv_lines(export.example_rows(), bom=True)),
            mimetype="text/csv",
            headers=_attachment("harmony-dictionary-template.csv"),
        )


@blp.route("/dictionary-template.xlsx")
class TemplateXlsxResource(MethodView):
    @blp.doc(**XLSX_DOC)
    def get(self) -> Response:
        """Our dictionary template as an Excel workbook, with example rows (public)."""
        return Response(
            export.xlsx_bytes(export.example_rows()),
            mimetype=XLSX_TYPE,
            headers=_attachment("harmony-dictionary-template.xlsx"),
        )
