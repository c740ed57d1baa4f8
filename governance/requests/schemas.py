"""Shapes of ``/api/v1/access-requests``.

Input: :class:`AccessRequestInputSchema` (POST; every field optional — a draft is completed
over several visits) and :class:`AccessRequestUpdateSchema` (PATCH: only the fields sent;
``datasets`` and ``members`` replace the lists). The purpose is the compatibility check's
JSON (``governance.matching.schemas.PurposeSchema``); a draft may hold part of it, the
service checks it (422 naming ``purpose.<field>``) and submission needs it whole.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import OrganisationBriefSchema, PageQuerySchema, StrictSchema
from governance.requests.models import RequestState
from governance.requests.services import MAX_DATASETS, MAX_MEMBERS, MAX_MONTHS, MAX_VARIABLES

STATES = [s.value for s in RequestState]


class RequestedDatasetInputSchema(StrictSchema):
    dataset = fields.String(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "The dataset's identifier", "example": "hovon-132"},
    )
    variables = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_VARIABLES),
        metadata={"description": "The variables needed (names); none or null: the whole dataset"},
    )


class MemberInputSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    affiliation = fields.String(load_default="", validate=validate.Length(max=300))
    role = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "The person's role in the project, e.g. statistician"},
    )


class AccessRequestUpdateSchema(StrictSchema):
    """The application's content; every field optional (PATCH changes only what is sent)."""

    title = fields.String(validate=validate.Length(max=300))
    lay_summary = fields.String(
        validate=validate.Length(max=5000),
        metadata={"description": "Safe projects: the project in plain words (public register)"},
    )
    scientific_abstract = fields.String(validate=validate.Length(max=10000))
    public_benefit = fields.String(validate=validate.Length(max=5000))
    purpose = fields.Dict(
        allow_none=True,
        metadata={
            "description": "The research purpose as the compatibility check reads it (terms, "
            "diseases, commercial, publication_not_before …; see POST /data-use/check). "
            "Country, duration and ethics approval come from the request's own fields when "
            "left out."
        },
    )
    ethics_reference = fields.String(allow_none=True, validate=validate.Length(max=200))
    processing_country = fields.String(
        allow_none=True,
        validate=validate.Length(max=2),
        metadata={"description": "Safe settings: ISO 3166-1 alpha-2 code"},
    )
    processing_environment = fields.String(validate=validate.Length(max=5000))
    data_justification = fields.String(
        validate=validate.Length(max=10000),
        metadata={"description": "Safe data: why these datasets and variables"},
    )
    publication_plan = fields.String(
        validate=validate.Length(max=5000), metadata={"description": "Safe outputs"}
    )
    team_training = fields.String(
        validate=validate.Length(max=5000), metadata={"description": "Safe people"}
    )
    requested_months = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=MAX_MONTHS)
    )
    funding = fields.String(validate=validate.Length(max=5000))
    conflicts_of_interest = fields.String(validate=validate.Length(max=5000))
    datasets = fields.List(
        fields.Nested(RequestedDatasetInputSchema),
        validate=validate.Length(max=MAX_DATASETS),
        metadata={"description": "Requestable datasets only (422 naming datasets[i] otherwise)"},
    )
    members = fields.List(
        fields.Nested(MemberInputSchema),
        validate=validate.Length(max=MAX_MEMBERS),
        metadata={
            "description": "The team besides the applicant: people with an account are "
            "linked, others invited by e-mail"
        },
    )


class AccessRequestInputSchema(AccessRequestUpdateSchema):
    from_selection = fields.Boolean(
        load_default=False,
        metadata={"description": "Take the datasets and variables of your selection"},
    )


class WithdrawSchema(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class AccessRequestQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(STATES))
    mine = fields.Boolean(
        load_default=False, metadata={"description": "Only your own and your teams' requests"}
    )
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(
            [
                k
                for key in ("updated", "created", "reference", "state", "title")
                for k in (key, f"-{key}")
            ]
        ),
        metadata={"description": "default -updated"},
    )


# --- output ---------------------------------------------------------------------------------


class PersonSchema(Schema):
    id = fields.String()
    name = fields.String()


class MemberSchema(Schema):
    id = fields.String()
    user_id = fields.String(allow_none=True)
    email = fields.String()
    name = fields.String()
    affiliation = fields.String()
    role = fields.String()
    is_applicant = fields.Boolean()
    invited = fields.Boolean(metadata={"description": "Invited by e-mail, no account linked yet"})


class CheckSchema(Schema):
    outcome = fields.String(allow_none=True)
    reasons = fields.List(fields.Dict())
    obligations = fields.List(fields.Dict())
    conditions_revision = fields.Integer(allow_none=True)
    ontology_versions = fields.Dict(keys=fields.String(), values=fields.String())
    checked_at = fields.DateTime(allow_none=True)


class RequestDatasetSchema(Schema):
    id = fields.String(metadata={"description": "The requested dataset's id in the request"})
    dataset_id = fields.String()
    identifier = fields.String()
    title = fields.String()
    variables = fields.List(fields.String(), allow_none=True)
    state = fields.String()
    signoff_required = fields.Boolean()
    agreement_id = fields.String(allow_none=True)
    check = fields.Nested(CheckSchema)


class AccessRequestSchema(Schema):
    id = fields.String()
    reference = fields.String()
    state = fields.String()
    applicant = fields.Nested(PersonSchema)
    organisation = fields.Nested(OrganisationBriefSchema, allow_none=True)
    committee_id = fields.String(allow_none=True)
    amends_id = fields.String(allow_none=True)
    title = fields.String()
    lay_summary = fields.String()
    scientific_abstract = fields.String()
    public_benefit = fields.String()
    purpose = fields.Dict()
    ethics_reference = fields.String(allow_none=True)
    processing_country = fields.String(allow_none=True)
    processing_environment = fields.String()
    data_justification = fields.String()
    publication_plan = fields.String()
    team_training = fields.String()
    requested_months = fields.Integer(allow_none=True)
    funding = fields.String()
    conflicts_of_interest = fields.String()
    members = fields.List(fields.Nested(MemberSchema))
    datasets = fields.List(fields.Nested(RequestDatasetSchema))
    round = fields.Integer()
    return_comments = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    state_changed_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    revision = fields.Integer()
    missing = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "What a submission still needs, by field (editable only)"},
    )
    actions = fields.List(fields.String(), metadata={"description": "What you may do now"})
    url = fields.String()


class AccessRequestPageSchema(Schema):
    items = fields.List(fields.Nested(AccessRequestSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
