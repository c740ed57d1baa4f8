"""Shapes of the selection API: ``{"variables": [names]}`` in (optional) to add a dataset, a
name (and ``is_current``) to make or change a named selection; a selection with its datasets
and their chosen variables out, the list of one's selections, a share link, and what a shared
selection shows (nothing of its owner)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from catalogue.selection.models import NAME_MAX
from catalogue.selection.services import MAX_VARIABLES
from core.schemas import PageQuerySchema, StrictSchema, page_schema


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


_NAME_DOC = {"description": "Unique among your selections (in any case)"}


class SelectionCreateSchema(StrictSchema):
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=NAME_MAX), metadata=_NAME_DOC
    )


class SelectionUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX), metadata=_NAME_DOC)
    is_current = fields.Boolean(
        metadata={
            "description": "true: make it your current selection (where the “Add to "
            "selection” buttons and /me/selection put things). false is refused: make another "
            "one current instead."
        }
    )

    @validates("is_current")
    def _only_true(self, value: bool, **kwargs: object) -> None:
        if value is not True:
            raise ValidationError("Make another selection current instead.")


class SelectionCopySchema(StrictSchema):
    name = fields.String(
        validate=validate.Length(min=1, max=NAME_MAX),
        metadata={"description": "Your copy's name (the shared selection's when absent)"},
    )


class SelectionQuerySchema(PageQuerySchema):
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
        ),
        metadata={
            "description": "The current selection first, then the most recently current, "
            "when absent"
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
    is_current = fields.Boolean(
        metadata={"description": "Your current selection (where the add buttons put things)"}
    )
    is_shared = fields.Boolean(metadata={"description": "Whether a read-only link is in force"})
    shared_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    total = fields.Integer(metadata={"description": "The number of datasets"})
    variable_total = fields.Integer(metadata={"description": "The number of chosen variables"})
    datasets = fields.List(fields.Nested(SelectedDatasetSchema))


class SelectionSummarySchema(Schema):
    id = fields.String()
    name = fields.String()
    revision = fields.Integer()
    is_current = fields.Boolean()
    is_shared = fields.Boolean()
    dataset_total = fields.Integer()
    variable_total = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


SelectionPageSchema = page_schema(SelectionSummarySchema, "SelectionPage")


class ShareLinkSchema(Schema):
    url = fields.String(
        metadata={
            "description": "The read-only link: anyone who has it sees the selection's "
            "published datasets and chosen variables. Shown this once; make a new link to see "
            "one again (the old one stops working)."
        }
    )
    token = fields.String(metadata={"description": "The link's secret part"})
    shared_at = fields.DateTime()
    selection = fields.Nested(SelectionSchema)


class SharedSelectionSchema(Schema):
    """What a share link shows: never the owner, only published datasets."""

    name = fields.String()
    shared_at = fields.DateTime(allow_none=True)
    total = fields.Integer(metadata={"description": "The number of datasets"})
    variable_total = fields.Integer()
    datasets = fields.List(fields.Nested(SelectedDatasetSchema))
