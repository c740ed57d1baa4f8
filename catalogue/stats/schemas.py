"""Shapes of ``GET /api/v1/stats``. Every ``patients`` figure is computed by the catalogue, so it
is an integer or, below the small-cell threshold and for everyone but administrators, the string
``"<10"`` (see :mod:`catalogue.counts`)."""

from __future__ import annotations

from marshmallow import Schema, fields

from catalogue.stats.counts import PatientCountField


class BreakdownRowSchema(Schema):
    value = fields.String(metadata={"description": "A code: CURIE, country, source type …"})
    label = fields.String()
    datasets = fields.Integer(metadata={"description": "Published datasets"})
    patients = PatientCountField("Patients the published datasets declare, added up.")


class DiseaseRowSchema(BreakdownRowSchema):
    depth = fields.Integer(metadata={"description": "Depth in the tree the dashboard draws"})
    broader = fields.List(
        fields.String(), metadata={"description": "Broader terms that are in the list too"}
    )


class MonthRowSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM of first publication"})
    datasets = fields.Integer()
    patients = PatientCountField("Patients of the datasets first published that month.")
    cumulative_datasets = fields.Integer()
    cumulative_patients = PatientCountField("Patients of the datasets published by then.")


class VariableShareSchema(Schema):
    variables = fields.Integer(metadata={"description": "Variables of the published versions"})
    mapped = fields.Integer(metadata={"description": "Of those, with an accepted mapping"})
    share = fields.Float(metadata={"description": "mapped / variables, 0 to 1"})


class GoalSchema(Schema):
    patients = fields.Integer(metadata={"description": "ALLIANCE_GOAL_PATIENTS"})
    share = fields.Float(
        allow_none=True,
        metadata={"description": "Patients / goal (null when the total is a small cell)"},
    )


class StatsSchema(Schema):
    generated_at = fields.DateTime()
    small_cell_threshold = fields.Integer()
    exact_counts = fields.Boolean(
        metadata={"description": "True for administrators, who see counts below the threshold"}
    )
    datasets = fields.Integer(metadata={"description": "Published datasets"})
    patients = PatientCountField("Patients the published datasets declare, added up.")
    datasets_without_patient_count = fields.Integer()
    custodians = fields.Integer(metadata={"description": "Organisations with published datasets"})
    countries = fields.Integer(metadata={"description": "Countries the datasets cover"})
    goal = fields.Nested(GoalSchema)
    by_disease = fields.List(
        fields.Nested(DiseaseRowSchema),
        metadata={"description": "HAEM terms, each dataset counted under every broader term"},
    )
    by_country = fields.List(
        fields.Nested(BreakdownRowSchema),
        metadata={"description": "A dataset of several countries counts under each"},
    )
    by_source_type = fields.List(fields.Nested(BreakdownRowSchema))
    by_custodian = fields.List(fields.Nested(BreakdownRowSchema))
    by_age_group = fields.List(
        fields.Nested(BreakdownRowSchema),
        metadata={"description": "A dataset of several age groups counts under each"},
    )
    growth = fields.List(fields.Nested(MonthRowSchema))
    variables = fields.Nested(VariableShareSchema)
