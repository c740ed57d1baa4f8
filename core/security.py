"""Request hygiene: request ids, structured access logs, CSRF, JSON body rules and headers."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from core import inputs
from core.auth import SESSION_KEY, bearer_token
from core.errors import problem, render_error

csrf = CSRFProtect()
access_log = logging.getLogger("harmony.access")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UPLOAD_ENDPOINTS: set[str] = set()


def accept_uploads(endpoint: str) -> None:
    """Let an API endpoint take multipart/form-data (file uploads) besides JSON."""
    UPLOAD_ENDPOINTS.add(endpoint)


REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, so that log shippers need no parsing rules."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(app: Flask) -> None:
    logger = logging.getLogger("harmony")
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = app.config["TESTING"]  # let pytest's caplog see records in tests


def _needs_csrf() -> bool:
    """Cookie-authenticated unsafe requests always need the token; bearer requests never do.

    HTML forms need it even before login (login CSRF). The JSON API answers an anonymous call
    with 401, so it checks only requests that carry a logged-in session.
    """
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return False
    if request.path.startswith("/api/"):
        return isinstance(session.get(SESSION_KEY), str)
    return True


def _has_body() -> bool:
    """A body announced by its length or sent in chunks (``Transfer-Encoding: chunked`` has no
    Content-Length: the limits must hold for it all the same)."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def _refuse_body(app: Flask) -> Response | None:
    """415 for a body of the wrong type and 413 for a JSON body over MAX_JSON_KB, whether its
    length is announced or not (then reading stops at the limit and answers 413)."""
    if not (request.path.startswith("/api/") and request.method in UNSAFE_METHODS and _has_body()):
        return None
    if request.mimetype not in ("application/json", "application/merge-patch+json") and (
        not request.mimetype.startswith("multipart/form-data")
        or request.endpoint not in UPLOAD_ENDPOINTS
    ):
        return problem(415, "Send the request body as application/json.")
    if request.mimetype.endswith("json"):
        limit = app.config["MAX_JSON_BYTES"]
        if request.content_length is not None and request.content_length > limit:
            return problem(413, f"JSON bodies are limited to {limit} bytes.")
        request.max_content_length = limit + 1  # one byte past the limit tells "too large"
    return None


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    configure_logging(app)

    @app.before_request
    def _start() -> Response | None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        if request.routing_exception is not None:
            return None  # 404 or 405 comes first: the body of a request nobody serves is moot
        refused = _refuse_body(app)
        if refused is not None:
            return refused
        if _needs_csrf():
            csrf.protect()
        return None

    inputs.init_app(app)  # after _start: a refused input's problem carries the request id

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> Response:
        return render_error(
            403,
            "The form's security token is missing or expired. Reload the page and try again.",
            title="CSRF check failed",
            slug="csrf",
        )

    @app.after_request
    def _finish(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if current_app.config["HARMONY_ENV"] == "production":
            headers["Strict-Transport-Security"] = (
                f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if "request_id" in g:
            headers["X-Request-ID"] = g.request_id
        if (current_user and current_user.is_authenticated) or request.path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")
        headers.add("Vary", "Cookie")
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration, 2),
                "user_id": current_user.get_id()
                if current_user and current_user.is_authenticated
                else None,
                "remote_addr": request.remote_addr,
            },
        )
        return response
