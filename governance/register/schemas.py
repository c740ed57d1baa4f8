"""Shapes of the public register."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import PageQuerySchema


class RegisterQuerySchema(PageQuerySchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "Words in the project title or lay summary"},
    )
    sort = fields.String(load_default=None, validate=validate.OneOf(["-decided"]))


class RegisterDatasetSchema(Schema):
    identifier = fields.String()
    title = fields.String()
    url = fields.String(allow_none=True, metadata={"description": "The dataset in the API"})
    page = fields.String(allow_none=True, metadata={"description": "The dataset's web page"})


class RegisterPublicationSchema(Schema):
    title = fields.String()
    doi = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    added_on = fields.Date(allow_none=True)


class RegisterAmendmentSchema(Schema):
    reference = fields.String()
    decided_on = fields.Date(allow_none=True)
    datasets = fields.List(
        fields.Nested(RegisterDatasetSchema), metadata={"description": "Datasets it added"}
    )
    extend_months = fields.Integer(metadata={"description": "Months it extended the use by"})


class RegisterEntrySchema(Schema):
    reference = fields.String()
    title = fields.String()
    lay_summary = fields.String()
    institution = fields.String(allow_none=True, metadata={"description": "The applicant's"})
    decided_on = fields.Date(allow_none=True)
    datasets = fields.List(fields.Nested(RegisterDatasetSchema))
    publications = fields.List(fields.Nested(RegisterPublicationSchema))
    amendments = fields.List(fields.Nested(RegisterAmendmentSchema))


class RegisterPageSchema(Schema):
    items = fields.List(fields.Nested(RegisterEntrySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
