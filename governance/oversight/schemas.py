"""Shapes of reports, amendments and the committee dashboard (input and output apart)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema
from governance.requests.models import ReportKind

KINDS = [k.value for k in ReportKind]


class ReportInputSchema(StrictSchema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(KINDS),
        metadata={"description": "progress, final or publication"},
    )
    title = fields.String(required=True, validate=validate.Length(max=500))
    text = fields.String(
        load_default="",
        validate=validate.Length(max=20000),
        metadata={"description": "The report (required for progress and final reports)"},
    )
    doi = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "A publication's DOI (10.…/…); a publication needs a DOI or URL"},
    )
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ReportSchema(Schema):
    id = fields.String()
    kind = fields.Function(lambda r: r.kind.value)
    title = fields.String()
    text = fields.String()
    doi = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "Set when required"})
    required = fields.Function(lambda r: r.due_on is not None)
    submitted_at = fields.DateTime(allow_none=True)
    submitted_by = fields.String(attribute="submitted_by_id", allow_none=True)
    overdue = fields.Boolean()


class ReportListSchema(Schema):
    items = fields.List(fields.Nested(ReportSchema), required=True)
    total = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class AmendmentInputSchema(StrictSchema):
    add_members = fields.List(
        fields.String(validate=validate.Length(min=3, max=320)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "E-mail addresses of people to add to the team"},
    )
    remove_members = fields.List(
        fields.String(validate=validate.Length(min=3, max=320)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "E-mail addresses of team members to remove (on approval)"},
    )
    add_datasets = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "Identifiers of published datasets to add"},
    )
    extend_months = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=60),
        metadata={"description": "Months to add to the end of the access"},
    )
    justification = fields.String(required=True, validate=validate.Length(max=4000))


class AmendmentChangeSchema(Schema):
    add_members = fields.List(fields.String())
    remove_members = fields.List(fields.String())
    add_datasets = fields.List(fields.String())
    extend_months = fields.Integer()
    justification = fields.String()


class AmendmentSchema(Schema):
    id = fields.String()
    reference = fields.String()
    state = fields.Function(lambda r: r.state.value)
    amends = fields.String(attribute="amends_id")
    amendment = fields.Nested(AmendmentChangeSchema)
    summary = fields.String()
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    url = fields.String()


class AmendmentListSchema(Schema):
    items = fields.List(fields.Nested(AmendmentSchema), required=True)
    total = fields.Integer(required=True)


class StateCountSchema(Schema):
    state = fields.String()
    label = fields.String()
    count = fields.Integer()


class StageSchema(Schema):
    key = fields.String()
    label = fields.String()
    median_days = fields.Float(allow_none=True)
    count = fields.Integer(metadata={"description": "How many stages were measured"})


class AgreementRowSchema(Schema):
    check = fields.String(metadata={"description": "compatible, needs_review, incompatible"})
    decision = fields.String(metadata={"description": "approved or rejected"})
    kind = fields.String(metadata={"description": "agreed, override, stricter, judged"})
    label = fields.String()
    count = fields.Integer()


class OverrideSchema(Schema):
    request_id = fields.String()
    reference = fields.String()
    dataset_id = fields.String()
    dataset = fields.String(metadata={"description": "The dataset's identifier"})
    justification = fields.String()
    decided_at = fields.DateTime()


class OverdueSchema(Schema):
    request_id = fields.String()
    reference = fields.String()
    title = fields.String()
    kind = fields.String()
    due_on = fields.Date()
    days_overdue = fields.Integer()


class DashboardSchema(Schema):
    committees = fields.List(fields.String(), metadata={"description": "Empty: all (admin)"})
    all_committees = fields.Boolean()
    total = fields.Integer()
    states = fields.List(fields.Nested(StateCountSchema))
    stages = fields.List(fields.Nested(StageSchema))
    agreement = fields.List(fields.Nested(AgreementRowSchema))
    agreement_rate = fields.Float(
        allow_none=True,
        metadata={
            "description": "Share of decided datasets with a compatible or incompatible check "
            "where the decision agreed with it"
        },
    )
    decided_datasets = fields.Integer()
    overrides = fields.List(fields.Nested(OverrideSchema))
    overdue = fields.List(fields.Nested(OverdueSchema))
    generated_at = fields.DateTime()
