"""Shapes of the entitlements' API: the query of a data platform, one's own list, acceptance,
revocation and the visas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema
from governance.entitlements.services import REASON_MAX
from governance.requests.models import EntitlementState

STATES = [s.value for s in EntitlementState]


class DatasetBriefSchema(Schema):
    id = fields.String()
    identifier = fields.String()


class EntitlementSchema(Schema):
    id = fields.String()
    request_id = fields.String()
    reference = fields.String(
        attribute="request.reference", metadata={"description": "the access request's reference"}
    )
    user_id = fields.String()
    dataset = fields.Nested(DatasetBriefSchema)
    variables = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "the variables it allows; null: the whole dataset"},
    )
    state = fields.Function(lambda e: e.state.value, metadata={"enum": STATES})
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "the last day of access (inclusive)"})
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)


class EntitlementQuerySchema(StrictSchema):
    user = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "the user's id"},
    )
    dataset = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "the dataset's identifier (or id); any dataset when absent"},
    )


class EntitlementAnswerSchema(Schema):
    user = fields.String(required=True)
    dataset = fields.String(allow_none=True, metadata={"description": "its identifier"})
    allowed = fields.Boolean(
        required=True,
        metadata={"description": "whether the user may use the dataset (any, without one) today"},
    )
    on = fields.Date(required=True, metadata={"description": "the day the answer is for (UTC)"})
    variables = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "the variables allowed; null: all; [] when not allowed"},
    )
    entitlements = fields.List(fields.Nested(EntitlementSchema), required=True)


class OwnQuerySchema(StrictSchema):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class EntitlementPageSchema(Schema):
    items = fields.List(fields.Nested(EntitlementSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class AcceptanceInputSchema(StrictSchema):
    terms_sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 hexadecimal digits."),
        metadata={"description": "the SHA-256 of the terms as read (GET …/terms)"},
    )


class TermsSchema(Schema):
    request_id = fields.String(required=True)
    text = fields.String(required=True)
    sha256 = fields.String(required=True)


class RevocationInputSchema(StrictSchema):
    entitlement = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    user = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    dataset = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "the dataset's identifier (or id)"},
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=REASON_MAX),
        metadata={"description": "why (kept in the audit trail, told to the person)"},
    )


class EntitlementListSchema(Schema):
    items = fields.List(fields.Nested(EntitlementSchema), required=True)


class PassportSchema(Schema):
    ga4gh_passport_v1 = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "signed ControlledAccessGrants visas (RS256 JWTs)"},
    )
