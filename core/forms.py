"""HTML forms: they go through the same marshmallow schemas as the JSON API, and the POSTs of
action buttons share one handler (:func:`form_action`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core.api import actor
from core.errors import (
    Conflict,
    InvalidInput,
    PreconditionFailed,
    flatten_webargs_messages,
)
from core.policies import Actor, require_login


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


# --- one handler for the POST of an action button -------------------------------------------

T = TypeVar("T")

STALE_FORM = (
    "Someone changed this after you opened this page, so nothing was saved. "
    "Reload the page to see the change, then try again."
)


def form_action(
    action: Callable[[Actor], T],
    *,
    success: str | Callable[[T], str],
    done: str | Callable[[T], str],
    back: str,
    stale: str = STALE_FORM,
    invalid: str = "",
    json_errors: bool = False,
) -> WerkzeugResponse:
    """The POST of an action button on an HTML page (publish, retire, accept …), the same way
    everywhere: the caller must be logged in (401 otherwise, before anything is read);
    ``action(actor)`` is called once (it loads the object, checks the ETag of the form's
    ``revision`` field and commits); on success the ``success`` message is flashed and the
    browser goes to ``done`` (a URL, or made from the action's result); when the action is
    refused for a reason the user can act on, the browser goes ``back`` with a message:

    - 412 (someone changed the object after the page was shown): ``stale``;
    - 409 (the state does not allow it now): the refusal's own words;
    - 422 (the object or the input is not ready): ``invalid`` followed by the messages.

    404, 403 and 428 are left to the error pages (nothing a message could fix). With
    ``json_errors`` (a page's script asked for JSON, :func:`core.errors.wants_json`) the
    refusals are raised too, for the problem+json handler.
    """
    who = actor()
    require_login(who)
    try:
        result = action(who)
    except (PreconditionFailed, Conflict, InvalidInput) as exc:
        if json_errors:
            raise
        flash(refusal_message(exc, stale=stale, invalid=invalid), "error")
        return redirect(back)
    flash(success(result) if callable(success) else success, "success")
    return redirect(done(result) if callable(done) else done)


def refusal_message(
    exc: PreconditionFailed | Conflict | InvalidInput, *, stale: str = STALE_FORM, invalid: str = ""
) -> str:
    """What a page says when an action is refused (see :func:`form_action`)."""
    if isinstance(exc, PreconditionFailed):
        return stale
    if isinstance(exc, InvalidInput):
        messages = " ".join(m for ms in (exc.errors or {}).values() for m in ms) or exc.detail
        return f"{invalid} {messages}".strip()
    return exc.detail
