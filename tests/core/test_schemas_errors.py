"""Every input schema of the service (:class:`core.schemas.StrictSchema`) names all the
mistakes of an input at once: a cross-field check (``@validates_schema``) runs beside the
fields' errors, and what the input's preparation refuses (a number for a yes/no, an empty id)
comes with the other errors instead of hiding them."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError, fields, validate, validates_schema

from core.schemas import StrictSchema


class PeriodSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=3))
    start = fields.Integer(allow_none=True)
    end = fields.Integer(allow_none=True)
    open = fields.Boolean()
    owner_id = fields.String(required=True)

    @validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("start") or 0) > (data.get("end") or 10**9):
            raise ValidationError("The start comes after the end.", "end")


def errors_of(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as raised:
        PeriodSchema().load(data)
    return raised.value.messages  # type: ignore[return-value]


def test_a_cross_field_check_runs_beside_field_errors():
    errors = errors_of({"name": "x", "start": 5, "end": 1, "owner_id": "o1"})
    assert errors == {
        "name": ["Shorter than minimum length 3."],
        "end": ["The start comes after the end."],
    }


def test_a_number_for_a_yes_no_comes_with_the_other_errors():
    errors = errors_of({"name": "x", "open": 1, "start": 5, "end": 1, "owner_id": "o1"})
    assert set(errors) == {"name", "open", "end"}
    assert errors["open"] == ["Not a valid boolean: give true or false."]


def test_an_empty_required_id_comes_with_the_other_errors():
    errors = errors_of({"name": "x", "owner_id": "  "})
    assert errors == {
        "name": ["Shorter than minimum length 3."],
        "owner_id": ["Give an id, not an empty text."],
    }


def test_a_valid_input_loads():
    loaded = PeriodSchema().load(
        {"name": "Q1 2025", "start": 1, "end": 3, "open": True, "owner_id": "o"}
    )
    assert loaded == {"name": "Q1 2025", "start": 1, "end": 3, "open": True, "owner_id": "o"}


def test_a_cross_field_check_sees_an_input_that_is_not_an_object():
    assert set(errors_of([1, 2])) == {"_schema"}  # type: ignore[arg-type]
