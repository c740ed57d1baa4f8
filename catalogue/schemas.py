"""Shapes of the catalogue API."""

from marshmallow import Schema, fields


class SummarySchema(Schema):
    organisations = fields.Integer(metadata={"description": "Partner organisations registered"})
    datasets = fields.Integer(metadata={"description": "Published datasets"})
    patients = fields.Integer(metadata={"description": "Patients covered by published datasets"})
