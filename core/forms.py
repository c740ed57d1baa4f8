"""HTML forms go through the same marshmallow schemas as the JSON API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from core.errors import InvalidInput, flatten_webargs_messages


def load_form(
    schema: Schema, form: MultiDict[str, str], *, drop_empty: bool = True
) -> dict[str, Any]:
    """Validate a submitted form with ``schema`` (csrf_token and empty optional fields dropped).

    :raises InvalidInput: with per-field messages.
    """
    data = {
        key: value
        for key, value in form.items()
        if key != "csrf_token" and not (drop_empty and value.strip() == "")
    }
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(flatten_webargs_messages({"json": exc.messages})) from exc
    return loaded
