"""Hostile input stopped at the door, for every endpoint at once.

Whatever a client sends (JSON body, form fields and file names, query arguments, path segments)
passes through here before any schema or service sees it:

- text that cannot be stored or rendered is refused with 422 naming the field: lone UTF-16
  surrogates (``"\\ud800"`` in JSON), NUL and the other control characters (tab, line feed and
  carriage return stay: multi-line text needs them), and the non-characters U+FFFE/U+FFFF that
  XML exports cannot carry; all other text is normalised to NFC, so that "é" typed two ways is
  one value in searches and uniqueness checks;
- numbers are bounded: a JSON integer or an integer field beyond the database's INTEGER range,
  a non-finite float (``NaN``, ``1e999``), a JSON number of thousands of digits, and ``<int:…>``
  path segments beyond that range (404) never reach SQL;
- JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused (400) instead of recursing;
- ``PATCH`` with no body at all is refused (422) instead of being a silent no-op;
- and, as the last line behind the schemas, no flush writes text longer than its VARCHAR or an
  integer beyond its INTEGER (:func:`check_column_limits`: 422 naming the attribute).

:func:`init_app` installs it: the request class, the ``int`` URL converter, the webargs parser
of the API (see :class:`HarmonyParser`) and a ``before_request`` check of the query and path.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from flask import Flask, Request, current_app, request
from flask_smorest.arguments import ArgumentsMixin
from marshmallow import fields, validate
from sqlalchemy import BigInteger, Integer, String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from core.errors import InvalidInput, ServiceError

#: the range of an INTEGER column on PostgreSQL (and the one every integer input must fit)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: deepest JSON nesting accepted: every shape of the API is far shallower
MAX_JSON_DEPTH = 32
#: longest integer literal looked at (anything longer is out of range anyway)
_MAX_INT_DIGITS = 12

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class MalformedBody(ServiceError):
    status, title, slug = 400, "Malformed request body", "malformed-body"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or shown, or None when it can."""
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    what = "a lone UTF-16 surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"Contains {what} (U+{ord(char):04X} at position {found.start()}) that cannot be stored."


def clean_text(value: str, field: str) -> str:
    """``value`` in NFC.

    :raises InvalidInput: naming ``field`` when it holds a character that cannot be stored.
    """
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput.field(field, problem)
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


# --- JSON -----------------------------------------------------------------------------------


class _Rejected:
    """A JSON number the parser would not turn into a value; reported with its field path."""

    def __init__(self, message: str):
        self.message = message


def _parse_int(literal: str) -> int | _Rejected:
    digits = literal.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS or not INT_MIN <= int(literal) <= INT_MAX:
        return _Rejected(f"Integers must lie between {INT_MIN} and {INT_MAX}.")
    return int(literal)


def _parse_float(literal: str) -> float | _Rejected:
    if len(literal) > 64:
        return _Rejected("Numbers are limited to 64 characters.")
    number = float(literal)
    return number if math.isfinite(number) else _Rejected("Numbers must be finite.")


def _parse_constant(name: str) -> _Rejected:
    return _Rejected(f"{name} is not a number JSON allows.")


def _field(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _clean(value: Any, path: str, depth: int) -> Any:
    if isinstance(value, str):
        return clean_text(value, path or "_body")
    if isinstance(value, _Rejected):
        raise InvalidInput.field(path or "_body", value.message)
    if isinstance(value, dict | list):
        if depth >= MAX_JSON_DEPTH:
            raise MalformedBody(
                f"{path or 'The body'} is nested deeper than {MAX_JSON_DEPTH} levels.",
                errors={path or "_body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
            )
        if isinstance(value, list):
            return [_clean(item, _field(path, i), depth + 1) for i, item in enumerate(value)]
        cleaned = {}
        for key, item in value.items():
            name = clean_text(key, _field(path, key) if not text_problem(key) else path or "_body")
            cleaned[name] = _clean(item, _field(path, name), depth + 1)
        return cleaned
    return value


def parse_json(data: bytes | str) -> Any:
    """The JSON document ``data``, cleaned as this module's docstring says.

    :raises MalformedBody: for text that is not JSON or is nested too deeply (400).
    :raises InvalidInput: naming the field that holds unstorable text or an unusable number.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise MalformedBody(
            f"The body is nested deeper than {MAX_JSON_DEPTH} levels.",
            errors={"_body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
        ) from None
    except UnicodeDecodeError:
        raise MalformedBody(
            "The body is not UTF-8.", errors={"_body": ["Send JSON as UTF-8."]}
        ) from None
    except ValueError as exc:
        raise MalformedBody(
            f"The body is not valid JSON: {exc}", errors={"_body": ["Invalid JSON body."]}
        ) from None
    return _clean(document, "", 0)


# --- form fields, file names, query arguments and path segments ------------------------------


def clean_multidict(values: MultiDict[str, Any], location: str) -> ImmutableMultiDict[str, Any]:
    """``values`` with every text (and file name) checked and in NFC; ``location`` is only for
    messages ("query", "form")."""
    cleaned: list[tuple[str, Any]] = []
    for key, value in values.items(multi=True):
        if not isinstance(key, str):  # a multipart part whose name could not be read
            raise InvalidInput.field(location, "A part of the body has no readable name.")
        name = clean_text(key, location)
        if isinstance(value, FileStorage):
            if value.filename:
                value.filename = clean_text(value.filename, name)
        elif isinstance(value, str):
            value = clean_text(value, name)
        cleaned.append((name, value))
    return ImmutableMultiDict(cleaned)


def _paging_problem(name: str, value: str) -> str | None:
    """Page numbers and sizes are what HTML pages read by hand too: refuse out-of-range ones
    here, once. Values that are no integer at all are left to each page (most read them as 1)."""
    text = value.strip()
    if (
        re.fullmatch(r"[+-]?\d+", text)
        and not INT_MIN <= int(text[: _MAX_INT_DIGITS + 1]) <= INT_MAX
    ):
        return f"Must be at most {INT_MAX}."
    return None


class HarmonyRequest(Request):
    """Flask's request whose form fields, file names and JSON body are cleaned on reading."""

    _cleaned_json: Any = None
    _has_cleaned_json = False

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        try:
            self.__dict__["form"] = clean_multidict(self.__dict__["form"], "form")
            self.__dict__["files"] = clean_multidict(self.__dict__["files"], "files")
        except InvalidInput:
            self.__dict__["form"] = ImmutableMultiDict()
            self.__dict__["files"] = ImmutableMultiDict()
            raise

    def json_bytes(self) -> bytes:
        """The body, refused with 413 beyond MAX_JSON_KB. A chunked body (no Content-Length)
        is read to one byte past the limit (core.security sets that), so it is measured too."""
        data = self.get_data(cache=True)
        limit = current_app.config["MAX_JSON_BYTES"]
        if len(data) > limit:
            raise RequestEntityTooLarge(f"JSON bodies are limited to {limit} bytes.")
        return data

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        if not self._has_cleaned_json:
            try:
                document = parse_json(self.json_bytes())
            except ServiceError:
                if silent:
                    return None
                raise
            if not cache:
                return document
            self._cleaned_json, self._has_cleaned_json = document, True
        return self._cleaned_json


def check_request() -> None:
    """Query arguments and path segments, checked and in NFC before any view runs.

    :raises InvalidInput: naming the argument or segment.
    """
    if request.routing_exception is not None:
        return
    if request.args:
        args = clean_multidict(request.args, "query")
        for name in ("page", "per_page"):
            for value in args.getlist(name):
                problem = _paging_problem(name, value)
                if problem is not None:
                    raise InvalidInput.field(name, problem)
        request.args = args
    if request.view_args:
        request.view_args = {
            key: clean_text(value, key) if isinstance(value, str) else value
            for key, value in request.view_args.items()
        }


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` that matches only what an INTEGER column can hold (404 beyond)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


# --- schemas ---------------------------------------------------------------------------------


def bound_integer_field(field: fields.Field) -> None:
    """Give an Integer field the database's range unless it already states a narrower one."""
    if not isinstance(field, fields.Integer) or getattr(field, "_harmony_bounded", False):
        return
    field._harmony_bounded = True  # type: ignore[attr-defined]
    for rule in field.validators:
        if (
            isinstance(rule, validate.Range)
            and rule.min is not None
            and rule.max is not None
            and rule.min >= INT_MIN
            and rule.max <= INT_MAX
        ):
            return  # its own range is narrower: one message, not two
    field.validators.append(validate.Range(min=INT_MIN, max=INT_MAX))


def _inner_fields(field: fields.Field) -> Iterable[fields.Field]:
    if isinstance(field, fields.List):
        yield field.inner
    elif isinstance(field, fields.Tuple):
        yield from field.tuple_fields
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield field.value_field


def harden_schema(schema: ma.Schema, _seen: set[int] | None = None) -> ma.Schema:
    """Bound every Integer field of ``schema`` and of the schemas it nests (once per instance)."""
    seen = _seen if _seen is not None else set()
    if id(schema) in seen:
        return schema
    seen.add(id(schema))
    pending = list(schema.fields.values())
    while pending:
        field = pending.pop()
        bound_integer_field(field)
        pending.extend(_inner_fields(field))
        if isinstance(field, fields.Nested):
            nested = field.schema
            harden_schema(nested, seen)
    return schema


class HarmonyParser(FlaskParser):
    """flask-smorest's argument parser, reading JSON through :func:`parse_json` and bounding
    the integer fields of every schema it loads."""

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        return harden_schema(super()._get_schema(argmap, req))

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        data = req.json_bytes() if isinstance(req, HarmonyRequest) else req.get_data(cache=True)
        if not data.strip():
            if req.method == "PATCH":
                raise InvalidInput(
                    {"_body": ["Send the fields to change as a JSON object."]},
                    detail="The request body is empty: send the fields to change.",
                )
            return webargs_core.missing
        if not is_json_request(req):
            return webargs_core.missing
        if isinstance(req, HarmonyRequest):
            return req.get_json(force=True)
        return parse_json(data)  # pragma: no cover - the app's requests are HarmonyRequests


# --- the last line: what the columns can hold ------------------------------------------------


def check_column_limits(session: Session, _context: Any, _instances: Any) -> None:
    """Before any flush: no text longer than its VARCHAR and no integer beyond its INTEGER.

    PostgreSQL refuses both with an error (a 500) and SQLite stores them silently, so a schema
    that forgot a Length or Range would behave differently on the two; this makes every such
    value a 422 naming the attribute on both, whatever path it came by. Only values already in
    memory are looked at (nothing is loaded for the check).

    :raises InvalidInput: naming the attribute (the API's field of the same name).
    """
    for obj in (*session.new, *session.dirty):
        state = sa_inspect(obj)
        loaded = state.dict
        for attribute in state.mapper.column_attrs:
            value = loaded.get(attribute.key)
            if value is None or isinstance(value, bool):
                continue
            kind = attribute.columns[0].type
            if isinstance(value, str) and isinstance(kind, String) and kind.length:
                if len(value) > kind.length:
                    raise InvalidInput.field(
                        attribute.key, f"At most {kind.length} characters (this has {len(value)})."
                    )
            elif (
                isinstance(value, int)
                and isinstance(kind, Integer)
                and not isinstance(kind, BigInteger)
                and not INT_MIN <= value <= INT_MAX
            ):
                raise InvalidInput.field(
                    attribute.key, f"Integers must lie between {INT_MIN} and {INT_MAX}."
                )


def init_app(app: Flask) -> None:
    """Install the checks; call before any route is registered (the ``int`` converter)."""
    if not event.contains(Session, "before_flush", check_column_limits):
        event.listen(Session, "before_flush", check_column_limits)
    app.request_class = HarmonyRequest
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(check_request)


#: every flask-smorest Blueprint parses its arguments with this parser; it is bound when a view
#: is decorated, so it is installed when this module is first imported (core.api and
#: core.security import it, and every area's API imports one of them before its views).
PARSER = HarmonyParser()
ArgumentsMixin.ARGUMENTS_PARSER = PARSER
