"""Shapes of ``/api/v1/agreements``.

Two output shapes: :class:`AgreementSchema` (the full view: custodians of the organisation,
administrators) and :class:`AgreementPublicSchema` (every other logged-in user: that the
agreement exists, what it covers, its dates and obligations — no document, no signatories).
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from core.schemas import OrganisationBriefSchema, PageQuerySchema, StrictSchema
from governance.agreements.models import AgreementStatus, SignatorySide

STATUSES = [s.value for s in AgreementStatus]


class AgreementSignatoryInputSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    side = fields.String(required=True, validate=validate.OneOf([s.value for s in SignatorySide]))
    signed_on = fields.Date(load_default=None, allow_none=True)


class AgreementObligationsInputSchema(StrictSchema):
    acknowledgement = fields.String(allow_none=True, validate=validate.Length(max=4000))
    publication_review_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=3650)
    )
    return_of_results = fields.Boolean()
    return_of_results_text = fields.String(allow_none=True, validate=validate.Length(max=4000))
    moratorium_until = fields.Date(allow_none=True)
    moratorium_months = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=3650))


class AgreementUpdateSchema(StrictSchema):
    """The draft's content; every field optional (PATCH changes only what is sent)."""

    title = fields.String(allow_none=True, validate=validate.Length(max=300))
    datasets = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        validate=validate.Length(max=500),
        metadata={"description": "Identifiers of datasets of the custodian organisation"},
    )
    effective_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    permitted_uses = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=50),
        metadata={"description": "DUO terms (CURIEs such as DUO:0000042, or IRIs)"},
    )
    obligations = fields.Nested(AgreementObligationsInputSchema)
    requires_custodian_signoff = fields.Boolean(
        metadata={"description": "Each access request needs the custodian's own sign-off too"}
    )
    signatories = fields.List(
        fields.Nested(AgreementSignatoryInputSchema), validate=validate.Length(max=50)
    )


class AgreementInputSchema(AgreementUpdateSchema):
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The agreement's reference, e.g. DSA-2026-014 (unique)"},
    )
    organisation_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={"description": "The custodian organisation (default: yours)"},
    )


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """The input's ``obligations`` object spread into the service's flat field names."""
    out = {k: v for k, v in data.items() if k != "obligations"}
    out.update(data.get("obligations") or {})
    return out


class AgreementTerminateSchema(StrictSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Why the agreement ends before its expiry"},
    )


class AgreementQuerySchema(PageQuerySchema):
    organisation = fields.String(
        validate=validate.Length(max=32), metadata={"description": "Organisation id"}
    )
    status = fields.String(validate=validate.OneOf(STATUSES))
    dataset = fields.String(
        validate=validate.Length(max=80), metadata={"description": "Dataset identifier"}
    )
    all_versions = fields.Boolean(
        load_default=False,
        metadata={"description": "Include the versions an amendment superseded"},
    )
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(
            [
                k
                for key in ("reference", "status", "effective_on", "expires_on", "updated")
                for k in (key, f"-{key}")
            ]
        ),
        metadata={"description": "default reference"},
    )


class AgreementDocumentUploadSchema(Schema):
    file = Upload(metadata={"description": "The signed agreement, a PDF"})


# --- output ---------------------------------------------------------------------------------


class AgreementDatasetSchema(Schema):
    id = fields.String()
    identifier = fields.String()
    title = fields.String()
    url = fields.String()


class AgreementObligationSchema(Schema):
    term = fields.String()
    text = fields.String()


class AgreementObligationsSchema(Schema):
    acknowledgement = fields.String(allow_none=True)
    publication_review_days = fields.Integer(allow_none=True)
    return_of_results = fields.Boolean()
    return_of_results_text = fields.String(allow_none=True)
    moratorium_until = fields.Date(allow_none=True)
    moratorium_months = fields.Integer(allow_none=True)
    summary = fields.List(fields.Nested(AgreementObligationSchema))


class AgreementPublicSchema(Schema):
    """What any logged-in user sees of an agreement that is not a draft. (The API dumps
    each agreement with :class:`AgreementSchema` from a dict that holds only the fields of
    the caller's view: the full view's fields are absent from a public one.)"""

    id = fields.String()
    reference = fields.String()
    version = fields.Integer()
    title = fields.String(allow_none=True)
    custodian = fields.Nested(OrganisationBriefSchema)
    counterparty = fields.String()
    status = fields.String()
    effective_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    datasets = fields.List(fields.Nested(AgreementDatasetSchema))
    permitted_uses = fields.List(fields.String())
    obligations = fields.Nested(AgreementObligationsSchema)
    requires_custodian_signoff = fields.Boolean()
    supersedes = fields.String(allow_none=True, metadata={"description": "The version before"})
    full = fields.Boolean(metadata={"description": "Whether this is the full view"})
    url = fields.String()


class AgreementSignatorySchema(Schema):
    name = fields.String()
    role = fields.String(allow_none=True)
    side = fields.String()
    signed_on = fields.String(allow_none=True)


class AgreementDocumentSchema(Schema):
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime(allow_none=True)
    download_url = fields.String()


class AgreementSchema(AgreementPublicSchema):
    """The full view (the organisation's custodians, administrators)."""

    signatories = fields.List(fields.Nested(AgreementSignatorySchema))
    document = fields.Nested(AgreementDocumentSchema, allow_none=True)
    termination_reason = fields.String(allow_none=True)
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    revision = fields.Integer()
    actions = fields.List(fields.String(), metadata={"description": "What you may do now"})


class AgreementPageSchema(Schema):
    items = fields.List(
        fields.Nested(AgreementSchema),
        required=True,
        metadata={"description": "Each in the view you may see (full, or public)"},
    )
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
