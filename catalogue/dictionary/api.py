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
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from catalogue.datasets import services as datasets
from catalogue.dictionary import export
from catalogue.dictionary import services as variables
from catalogue.dictionary.importer import DictionaryRejected, import_dictionary, submit_import
from catalogue.dictionary.records import ValueType
from core.api import API_PREFIX, actor, login_required
from core.errors import InvalidInput, problem
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted, runs_as_job
from core.schemas import PageQuerySchema, StrictSchema, page_schema
from core.security import accept_uploads

blp = Blueprint(
    "dictionary_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Data dictionaries and variables",
)

IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string"},
            "description": "The dataset's current ETag (from a GET); 412 when it is stale",
        }
    ]
}


class DictionaryUploadSchema(Schema):
    file = Upload(
        metadata={
            "description": "The dictionary: our template (CSV or XLSX), a REDCap data dictionary "
            "(CSV) or an OMOP concept list (CSV or XLSX)"
        }
    )


class DictionaryFormSchema(StrictSchema):
    format = fields.String(
        metadata={
            "description": "template, redcap or omop (default: recognised from the header row); "
            "415 for anything else"
        }
    )


class ImportProblemSchema(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    message = fields.String()


class ImportReportSchema(Schema):
    dataset = fields.String()
    version = fields.Integer(metadata={"description": "The draft version that was changed"})
    imported = fields.Boolean()
    format = fields.String()
    file = fields.String()
    rows = fields.Integer(metadata={"description": "Data rows read from the file"})
    variables = fields.Integer(metadata={"description": "Variables the file describes"})
    added = fields.Integer()
    changed = fields.Integer()
    removed = fields.Integer()
    unchanged = fields.Integer()
    mappings_added = fields.Integer()
    mappings_removed = fields.Integer()
    problem_count = fields.Integer()
    problems = fields.List(fields.Nested(ImportProblemSchema))
    note_count = fields.Integer()
    notes = fields.List(fields.Nested(ImportProblemSchema))
    seconds = fields.Float()


class PermissibleValueSchema(Schema):
    code = fields.String()
    label = fields.String()
    term = fields.String(allow_none=True, metadata={"description": "CURIE of its accepted term"})


class MappingSchema(Schema):
    id = fields.Integer()
    subject_value = fields.String(
        allow_none=True, metadata={"description": "The permissible value's code; null: variable"}
    )
    predicate_id = fields.String()
    object_id = fields.String()
    object_label = fields.String(allow_none=True)
    mapping_justification = fields.String()
    confidence = fields.Float(allow_none=True)
    status = fields.String(metadata={"description": "suggested, accepted or rejected"})
    author = fields.String(allow_none=True)
    mapping_date = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class VariableSchema(Schema):
    name = fields.String()
    label = fields.String()
    description = fields.String(allow_none=True)
    form = fields.String(allow_none=True)
    section = fields.String(allow_none=True)
    time_point = fields.String(allow_none=True)
    value_type = fields.String()
    unit = fields.String(allow_none=True, metadata={"description": "UCUM"})
    minimum = fields.String(allow_none=True)
    maximum = fields.String(allow_none=True)
    multiple = fields.Boolean()
    source_type = fields.String(allow_none=True)
    position = fields.Integer()
    permissible_values = fields.List(fields.Nested(PermissibleValueSchema))
    missing_codes = fields.List(fields.String())
    mapped = fields.Boolean(metadata={"description": "Has an accepted mapping of its own"})
    mappings = fields.List(fields.Nested(MappingSchema))


VariablePageSchema = page_schema(VariableSchema, "VariablePage")


class VersionQuerySchema(StrictSchema):
    version = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "A version number (default: the version you see)"},
    )


class VariableQuerySchema(PageQuerySchema):
    version = fields.Integer(validate=validate.Range(min=1))
    mapped = fields.Boolean(metadata={"description": "true: mapped variables; false: unmapped"})
    type = fields.String(
        validate=validate.OneOf([v.value for v in ValueType]),
        metadata={"description": "Value type"},
    )
    form = fields.String()
    q = fields.String(metadata={"description": "Name or label contains (any case)"})


@blp.errorhandler(DictionaryRejected)
def _rejected(exc: DictionaryRejected) -> Response:
    """422 problem+json with the report as an extension member."""
    response = problem(exc.status, exc.detail, title=exc.title, slug=exc.slug, errors=exc.errors)
    body = response.get_json()
    body["report"] = exc.report.as_json()
    response.set_data(json.dumps(body))
    return response


@blp.route("/datasets/<identifier>/dictionary")
class DictionaryResource(MethodView):
    @login_required
    @blp.arguments(DictionaryUploadSchema, location="files")
    @blp.arguments(DictionaryFormSchema, location="form")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(202, schema=JobSchema, **ACCEPTED_DOC)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, files: dict[str, Any], form: dict[str, Any], identifier: str) -> Any:
        """Import a whole data dictionary into the open draft (multipart ``file``). All or
        nothing: 422 with the report (every problem by row and column) writes nothing; 200
        with the report (variables added, changed, removed, unchanged). 409 on a published
        dataset without an open draft, 413 too large, 415 unknown format or extension.
        A file larger than ``JOBS_INLINE_MAX_KB`` (or any, with ``Prefer: respond-async``)
        is imported by a job: 202 with the job (``Location``), whose result is the report and
        whose error is the 422 problem with the report."""
        who = actor()
        if_match = request.headers.get("If-Match")
        upload = files.get("file")
        if upload is None:
            datasets.editable_version(who, identifier, if_match)  # 404/403/409/412 come first
            raise InvalidInput.field("file", "Send the dictionary as a multipart file “file”.")
        data = upload.read()
        if runs_as_job(len(data)):
            fmt = form.get("format")
            return accepted(
                submit_import(who, identifier, data, upload.filename or "", fmt, if_match)
            )
        report = import_dictionary(
            who, identifier, data, upload.filename or "", form.get("format"), if_match
        )
        dataset = datasets.get_dataset(who, identifier)
        return report.as_json(), 200, {"ETag": datasets.etag(dataset)}


accept_uploads("dictionary_api.DictionaryResource")


@blp.route("/datasets/<identifier>/variables")
class VariablesResource(MethodView):
    @blp.arguments(VariableQuerySchema, location="query")
    @blp.response(200, VariablePageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> dict[str, Any]:
        """A version's variables in dictionary order with their permissible values and
        mappings. Filters: ``mapped``, ``type``, ``form``, ``q`` (name or label)."""
        page = variables.list_variables(
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
        return {
            "items": page.items,
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }


@blp.route("/datasets/<identifier>/variables/<name>")
class VariableResource(MethodView):
    @blp.arguments(VersionQuerySchema, location="query")
    @blp.response(200, VariableSchema)
    def get(self, query: dict[str, Any], identifier: str, name: str) -> dict[str, Any]:
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
