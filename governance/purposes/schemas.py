"""Shapes of the saved-purposes API: ``{"name": …, "purpose": {…}}`` in, the same with the
id, revision and times out. ``purpose`` is the compatibility check's purpose
(:class:`governance.matching.schemas.PurposeSchema`: terms, diseases, commercial,
ethics_approval, country, publication_not_before, duration_months, sensitive …); its errors
name the field inside it (``purpose.terms.0``)."""

from __future__ import annotations

import copy
from typing import Any, cast

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from core.schemas import StrictSchema
from governance.matching.check import PURPOSE_TERMS
from governance.matching.schemas import PurposeSchema
from governance.purposes.models import NAME_MAX

#: what a user reads for an empty name or no kind of research (the form's and the API's)
NO_NAME = "Give the purpose a name."
NO_TERMS = "Tick at least one kind of research."

_TERMS = cast(fields.List, PurposeSchema._declared_fields["terms"])


class SavedPurposeBodySchema(PurposeSchema):
    """:class:`PurposeSchema` as a saved purpose takes it: yes/no answers are JSON booleans
    (``true``/``false``/``null``), not ``0``, ``1``, ``"yes"`` or ``"on"``, which marshmallow
    would otherwise read as booleans; no terms at all is said in words, not as a length."""

    terms = fields.List(
        copy.deepcopy(_TERMS.inner),
        required=True,
        validate=[
            validate.Length(min=1, error=NO_TERMS),
            validate.Length(max=len(PURPOSE_TERMS)),
        ],
        metadata=_TERMS.metadata,
    )

    @pre_load
    def _json_booleans(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            errors = {
                name: ["Not a JSON boolean (true, false or null)."]
                for name, field in self.fields.items()
                if isinstance(field, fields.Boolean)
                and name in data
                and data[name] is not None
                and not isinstance(data[name], bool)
            }
            if errors:
                raise ValidationError(errors)
        return data


class SavedPurposeInputSchema(StrictSchema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, error=NO_NAME), validate.Length(max=NAME_MAX)],
        metadata={"description": "unique among your purposes", "example": "AML relapse study"},
    )
    purpose = fields.Nested(SavedPurposeBodySchema, required=True)


class StoredPurpose(fields.Nested):
    """A stored purpose's JSON, dumped through :class:`PurposeSchema` (as the check reads it)."""

    def _serialize(self, nested_obj: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        from governance.purposes.services import purpose_of

        if isinstance(nested_obj, dict):
            nested_obj = purpose_of(nested_obj)
        return super()._serialize(nested_obj, attr, obj, **kwargs)


class SavedPurposeSchema(Schema):
    id = fields.String()
    name = fields.String()
    purpose = StoredPurpose(PurposeSchema)
    revision = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    search_url = fields.Method(
        "_search_url", metadata={"description": "the search by fit to this purpose"}
    )

    def _search_url(self, saved: object) -> str:
        from flask import url_for

        return url_for(
            "search_api.SearchResource",
            purpose=saved.id,  # type: ignore[attr-defined]
            _external=True,
        )


class SavedPurposePageSchema(Schema):
    items = fields.List(fields.Nested(SavedPurposeSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class SavedPurposeQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
