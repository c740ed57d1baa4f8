"""Shapes of the committee's review API (``/api/v1/access-requests/{id}/…``): separate input
and output schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema
from governance.requests.models import DecisionOutcome, ReportKind, VoteChoice

TEXT = validate.Length(max=4000)
IDENTIFIER = fields.String(validate=validate.Length(min=1, max=80))


class SignoffInputSchema(StrictSchema):
    dataset = fields.String(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "The requested dataset's identifier"},
    )
    approve = fields.Boolean(required=True)
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Required for a decline: the applicant reads it"},
    )


class OverrideInputSchema(StrictSchema):
    dataset = fields.String(required=True, validate=validate.Length(min=1, max=80))
    justification = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class VoteInputSchema(StrictSchema):
    choice = fields.String(required=True, validate=validate.OneOf([c.value for c in VoteChoice]))
    comment = fields.String(load_default="", validate=TEXT)


class RecusalInputSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReportRequirementSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ReportKind]))
    due_on = fields.Date(required=True)


class DecisionInputSchema(StrictSchema):
    outcome = fields.String(
        required=True, validate=validate.OneOf([o.value for o in DecisionOutcome])
    )
    reasons = fields.String(load_default="", validate=validate.Length(max=8000))
    conditions = fields.List(
        fields.String(validate=validate.Length(min=1, max=2000)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    datasets = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=80)),
        values=fields.String(validate=validate.OneOf(["approve", "reject"])),
        load_default=dict,
        metadata={
            "description": "{dataset identifier: approve | reject}; by default an "
            "approval approves every dataset still in the request"
        },
    )
    overrides = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=80)),
        values=fields.String(validate=TEXT),
        load_default=dict,
        metadata={
            "description": "{dataset identifier: justification}: needed to approve a "
            "dataset whose check was incompatible, or which its custodian declined"
        },
    )
    review_notes = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=80)),
        values=fields.String(validate=TEXT),
        load_default=dict,
        metadata={
            "description": "{dataset identifier: note} for each needs_review dataset approved"
        },
    )
    reports = fields.List(
        fields.Nested(ReportRequirementSchema), load_default=list, validate=validate.Length(max=20)
    )


class MemberBriefSchema(Schema):
    id = fields.String()
    name = fields.String()


class VoteSchema(Schema):
    id = fields.String()
    round = fields.Integer()
    member = fields.Nested(MemberBriefSchema)
    choice = fields.Function(lambda v: v.choice.value)
    comment = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RecusalSchema(Schema):
    id = fields.String()
    round = fields.Integer()
    member = fields.Nested(MemberBriefSchema)
    ground = fields.String()
    detail = fields.String()
    created_at = fields.DateTime()


class SignoffSchema(Schema):
    id = fields.String()
    round = fields.Integer()
    dataset = fields.String(metadata={"description": "The dataset's identifier"})
    user_id = fields.String(allow_none=True)
    approved = fields.Boolean()
    reason = fields.String()
    created_at = fields.DateTime()


class RequestDatasetStateSchema(Schema):
    dataset = fields.Function(lambda item: item.dataset.identifier)
    state = fields.Function(lambda item: item.state.value)
    check_outcome = fields.String(allow_none=True)
    override_justification = fields.String(allow_none=True)
    override_at = fields.DateTime(allow_none=True)


class DecisionSchema(Schema):
    id = fields.String()
    request_id = fields.String()
    round = fields.Integer()
    outcome = fields.Function(lambda d: d.outcome.value)
    reasons = fields.String()
    conditions = fields.List(fields.String())
    dataset_outcomes = fields.Dict(keys=fields.String(), values=fields.String())
    overrides = fields.Dict(keys=fields.String(), values=fields.String())
    review_notes = fields.Dict(keys=fields.String(), values=fields.String())
    required_reports = fields.List(fields.Dict())
    decided_by_id = fields.String(allow_none=True)
    decided_at = fields.DateTime()
    tally = fields.Dict(keys=fields.String(), values=fields.Integer())


class TallySchema(Schema):
    approve = fields.Integer()
    reject = fields.Integer()
    abstain = fields.Integer()
    votes = fields.Integer()
    eligible = fields.Integer()
    recused = fields.Integer()
    quorum = fields.Integer()
    reached = fields.Boolean()


class ReviewSchema(Schema):
    """The review of a request's current round, as a committee member sees it."""

    request_id = fields.String()
    reference = fields.String()
    state = fields.String()
    round = fields.Integer()
    tally = fields.Nested(TallySchema)
    votes = fields.List(fields.Nested(VoteSchema))
    recusals = fields.List(fields.Nested(RecusalSchema))
    signoffs = fields.List(fields.Nested(SignoffSchema))
    datasets = fields.List(fields.Nested(RequestDatasetStateSchema))
    decision = fields.Nested(DecisionSchema, allow_none=True)
