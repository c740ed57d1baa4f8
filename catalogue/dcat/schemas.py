"""Query parameters of the metadata endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, post_load, validate

from catalogue.dcat.services import DEFAULT_PER_PAGE, MAX_PER_PAGE, parse_modified_since
from core.errors import InvalidInput
from core.schemas import StrictSchema


class HarvestQuerySchema(StrictSchema):
    """``/catalogue?modified_since=…&page=…&per_page=…``. Other parameters (a harvester's cache
    buster, say) are ignored."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )
    modified_since = fields.String(load_default=None)

    @post_load
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            data["modified_since"] = parse_modified_since(data.get("modified_since"))
        except InvalidInput as exc:
            raise ValidationError(exc.errors or {}) from exc
        return data


class VersionQuerySchema(StrictSchema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "A published version number (default: the latest)"},
    )


def load_query(schema: StrictSchema, args: Any) -> dict[str, Any]:
    """The parsed query, or 422 naming each bad parameter."""
    try:
        data: dict[str, Any] = schema.load(args)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        errors = {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
            for k, v in messages.items()
        }
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
        raise InvalidInput(errors, detail=detail) from None
    return data
