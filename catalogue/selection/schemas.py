"""Shapes of the selection API: ``{"variables": [names]}`` in (optional), the selection with
its datasets and their chosen variables out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from catalogue.selection.services import MAX_VARIABLES
from core.schemas import StrictSchema


class SelectionAddSchema(StrictSchema):
    variables = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=MAX_VARIABLES),
        metadata={
            "description": "Names of variables of the dataset's latest published version to "
            "add with it (the dataset alone when absent or empty)."
        },
    )


class SelectedVariableSchema(Schema):
    name = fields.String()
    label = fields.String(
        allow_none=True,
        metadata={"description": "None when the latest published version has no such variable"},
    )
    available = fields.Boolean()
    added_at = fields.DateTime()


class SelectedDatasetSchema(Schema):
    id = fields.String(metadata={"description": "The dataset's internal id"})
    identifier = fields.String()
    title = fields.String()
    status = fields.String(metadata={"description": "published or retired"})
    version = fields.Integer(allow_none=True, metadata={"description": "latest published"})
    added_at = fields.DateTime()
    variables = fields.List(fields.Nested(SelectedVariableSchema))


class SelectionSchema(Schema):
    id = fields.String(allow_none=True, metadata={"description": "None until the first add"})
    name = fields.String()
    revision = fields.Integer()
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    total = fields.Integer(metadata={"description": "The number of datasets"})
    datasets = fields.List(fields.Nested(SelectedDatasetSchema))
