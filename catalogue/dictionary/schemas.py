"""Shapes of the dictionary API (flask-smorest): the upload, the import report, variables and
their queries."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from catalogue.models import ValueType
from core.schemas import PageQuerySchema, StrictSchema, page_schema


def _mapping_schema() -> Schema:
    """A variable's mappings have the mappings area's shape (imported here: that module
    imports :class:`ImportProblemSchema` from this one)."""
    from catalogue.mappings.schemas import MappingSchema

    return MappingSchema()


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
    confirm_removals = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: the variables the file no longer has may be removed and the "
            "mappings of removed variables and of changed values dropped. Without it such a "
            "file answers 409 (type …/removals-unconfirmed) with report.removals listing what "
            "would go, and nothing is written; send it again with true (and the same If-Match) "
            "to go ahead. A file that removes nothing never needs it."
        },
    )


class ImportProblemSchema(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    message = fields.String()


class RemovedVariableSchema(Schema):
    name = fields.String()
    label = fields.String()
    mappings = fields.Integer(metadata={"description": "Its mappings, deleted with it"})


class DroppedMappingSchema(Schema):
    variable = fields.String()
    subject_value = fields.String(
        allow_none=True, metadata={"description": "The value's code (null: the variable's own)"}
    )
    object_id = fields.String(metadata={"description": "The term's CURIE"})
    object_label = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "suggested, accepted or rejected"})
    why = fields.String(metadata={"description": "Its variable is removed, or its value changed"})


class RemovalsSchema(Schema):
    variable_count = fields.Integer()
    mapping_count = fields.Integer()
    variables = fields.List(
        fields.Nested(RemovedVariableSchema),
        metadata={"description": "The first 1,000 in dictionary order"},
    )
    mappings = fields.List(
        fields.Nested(DroppedMappingSchema), metadata={"description": "The first 1,000"}
    )


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
    removals = fields.Nested(
        RemovalsSchema,
        allow_none=True,
        metadata={"description": "The variables removed and the mappings dropped (null: none)"},
    )


class PermissibleValueSchema(Schema):
    code = fields.String()
    label = fields.String()
    term = fields.String(allow_none=True, metadata={"description": "CURIE of its accepted term"})


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
    mappings = fields.List(fields.Nested(_mapping_schema))


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
