"""Domain errors and their rendering as RFC 9457 problem details (or an HTML error page).

Services raise the domain errors below; they know nothing of HTTP beyond the status each one maps
to. Every error response of the JSON API is ``application/problem+json``; no response ever carries
a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from flask import Flask, Response, g, json, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from core.text import plural

log = logging.getLogger("harmony.errors")

PROBLEM_TYPE_BASE = "https://harmony-alliance.eu/problems/"


class ServiceError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str | None = None, *, errors: dict[str, list[str]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors


class Unauthenticated(ServiceError):
    status, title, slug = 401, "Not logged in", "unauthenticated"


class Forbidden(ServiceError):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(ServiceError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ServiceError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(ServiceError):
    status, title, slug = 412, "Precondition failed", "stale-version"


class PreconditionRequired(ServiceError):
    """428: a change that must quote the version it was based on (``If-Match``) came without."""

    status, title, slug = 428, "Precondition required", "precondition-required"


class InvalidInput(ServiceError):
    status, title, slug = 422, "Invalid input", "validation"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or "The request has invalid fields.", errors=errors)

    @classmethod
    def field(cls, name: str, message: str) -> InvalidInput:
        return cls({name: [message]}, detail=f"{name}: {message}")


class FileProblems(Protocol):
    """What :class:`FileRejected` needs of an import's report: its problems (each printable
    as "row 3, column “unit”: …") and the report as JSON."""

    @property
    def problems(self) -> Sequence[Any]: ...

    def as_json(self) -> dict[str, Any]: ...


class FileRejected(InvalidInput):
    """An uploaded file (a data dictionary, an SSSOM table …) has problems, so nothing of it
    was written. ``report`` lists them by row (or line) and column; ``errors["file"]`` has the
    same as sentences (at most ``listed``), and the problem answer carries the whole report as
    its ``report`` member (:func:`register_error_handlers`; a job's problem report does too).
    ``what`` names the content in the detail: "The dictionary was not imported: …"."""

    def __init__(self, report: FileProblems, what: str = "The file", listed: int = 1000):
        self.report = report
        problems = list(report.problems)
        messages = [str(p) for p in problems[:listed]]
        if len(problems) > listed:
            messages.append(f"… and {plural(len(problems) - listed, 'more problem')}")
        count = len(problems)
        first = f" (first: {problems[0]})" if problems else ""
        super().__init__(
            {"file": messages},
            detail=(
                f"{what} was not imported: {plural(count, 'problem')}{first}. Nothing was changed."
            ),
        )


class UnsupportedMediaType(ServiceError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class TooManyRequests(ServiceError):
    status, title, slug = 429, "Too many requests", "rate-limited"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after  # seconds, sent as Retry-After


class ServiceUnavailable(ServiceError):
    status, title, slug = 503, "Service unavailable", "unavailable"


HTTP_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    428: "Precondition required",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or str(status)),
        "title": title or HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    if "request_id" in g:
        body["request_id"] = g.request_id
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def render_error(
    status: int,
    detail: str,
    title: str | None = None,
    slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_json():
        return problem(status, detail, title=title, slug=slug, errors=errors, headers=headers)
    heading = title or HTTP_TITLES.get(status, "Error")
    try:
        html = render_template("error.html", status=status, title=heading, detail=detail)
    except Exception:
        return Response(f"{status} {heading}\n", status=status, mimetype="text/plain")
    response = Response(html, status=status, mimetype="text/html")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flatten_webargs_messages(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"field": [...]}}); clients want fields."""
    if not isinstance(messages, dict):
        return {"_body": [str(messages)]}
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_body", []).extend(value)
        else:
            flat.setdefault(prefix or "_body", []).append(str(value))

    for location, inner in messages.items():
        if location in {"json", "query", "form", "files", "headers", "view_args", "querystring"}:
            if (isinstance(inner, dict) and "_schema" not in inner) or isinstance(inner, dict):
                walk("", inner)
            else:
                walk("_body", inner)
        else:
            walk(str(location), inner)
    return flat


def http_exception_response(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers: dict[str, str] = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if status == 429:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is None and exc.response is not None:
            retry_after = exc.response.headers.get("Retry-After")
        headers["Retry-After"] = str(retry_after or 60)
    errors = None
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and "messages" in data:
        errors = flatten_webargs_messages(data["messages"])
    detail = exc.description or HTTP_TITLES.get(status, "Error")
    if status == 422 and errors:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
    if status == 400 and errors and "_body" in errors:
        detail = " ".join(errors["_body"])
    if status == 413:
        limit = exc.description if exc.description and "limit" in exc.description else None
        detail = limit or "The request body is larger than this endpoint accepts."
    return render_error(status, detail, errors=errors, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response | WerkzeugResponse:
        if exc.status == 401 and not wants_json():
            # A page that needs a login sends the browser to the login form and back.
            return redirect(url_for("core.login", next=request.full_path.rstrip("?")))
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        )
        return render_error(
            exc.status,
            exc.detail,
            title=exc.title,
            slug=exc.slug,
            errors=exc.errors,
            headers=headers,
        )

    @app.errorhandler(FileRejected)
    def _file_rejected(exc: FileRejected) -> Response | WerkzeugResponse:
        """422 problem+json with the import's report as an extension member (a page shows
        the problems as a plain 422)."""
        response = _service_error(exc)
        if wants_json():
            body = response.get_json()
            body["report"] = exc.report.as_json()
            response.set_data(json.dumps(body))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return http_exception_response(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        return render_error(500, "Something went wrong on our side. The error has been logged.")
