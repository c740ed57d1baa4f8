"""Administrators browse the audit trail: ``GET /api/v1/audit`` (filtered, paginated, newest
first), ``GET /api/v1/audit/export`` (the same filters, streamed as CSV or JSON) and the page
``/admin/audit``. The trail itself is :mod:`core.audit`."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Flask, Response, render_template, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from core import audit
from core.api import API_PREFIX, actor, page_body, permission_required
from core.errors import InvalidInput
from core.files import csv_writer
from core.forms import load_form
from core.models import Role
from core.nav import NavEntry, has_role, register
from core.pagination import Page
from core.permissions import Permission
from core.policies import require
from core.schemas import PageQuerySchema, page_schema

blp = Blueprint(
    "audit_api", __name__, url_prefix=API_PREFIX, description="The audit trail (administrators)"
)
pages = PageBlueprint("audit", __name__, template_folder="templates")

register(NavEntry("Audit trail", "audit.admin_audit", has_role(Role.ADMIN), "admin", 40))


# --- shapes ---------------------------------------------------------------------------------


def parse_moment(value: str, *, end: bool = False) -> dt.datetime:
    """An ISO 8601 date (a whole day: from its start, or up to its end when ``end``) or date
    and time (UTC when it names no offset).

    :raises ValidationError: for anything else.
    """
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if end else start
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError) as exc:
        raise ValidationError("Use an ISO 8601 date (2026-12-07) or date and time.") from exc
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _check_moment(value: str) -> None:
    parse_moment(value)


class AuditQuerySchema(PageQuerySchema):
    object = fields.String(
        validate=validate.Length(min=1, max=241),
        metadata={"description": "`type:id` (e.g. `user:4f…`) or a type alone (`dataset`)"},
    )
    actor = fields.String(
        validate=validate.Length(min=1, max=320),
        metadata={"description": "A user's id or email address, or `system`"},
    )
    action = fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Exact (`dataset.published`) or a prefix ending in `.`"},
    )
    since = fields.String(
        validate=_check_moment,
        metadata={"description": "ISO 8601 date or date-time: events at or after it"},
    )
    until = fields.String(
        validate=_check_moment,
        metadata={"description": "ISO 8601 date (up to its end) or date-time (before it)"},
    )
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(["seq", "-seq"]),
        metadata={"description": "`-seq` (newest first, the default) or `seq`"},
    )


class AuditExportQuerySchema(AuditQuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "json"]))


class AuditEventSchema(Schema):
    seq = fields.Integer(metadata={"description": "Position in the chain: 1, 2, 3 … no gaps"})
    at = fields.DateTime()
    actor_id = fields.String(allow_none=True)
    actor_label = fields.String(metadata={"description": "Who, as they were then"})
    action = fields.String(metadata={"description": "Dotted: dataset.published, user.created …"})
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Dict(allow_none=True, metadata={"description": "The changed fields, before"})
    after = fields.Dict(allow_none=True, metadata={"description": "The changed fields, after"})
    summary = fields.String()
    context = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String(metadata={"description": "SHA-256 of the event and prev_hash"})


AuditPageSchema = page_schema(AuditEventSchema, "AuditEventPage")


def filters_from(query: dict[str, Any]) -> audit.AuditFilters:
    """:raises InvalidInput: when ``until`` is not after ``since``."""
    object_type, object_id = None, None
    if query.get("object"):
        object_type, _, object_id = query["object"].partition(":")
    since = parse_moment(query["since"]) if query.get("since") else None
    until = parse_moment(query["until"], end=True) if query.get("until") else None
    if since is not None and until is not None and until <= since:
        raise InvalidInput.field("until", "Give a time after 'since'.")
    return audit.AuditFilters(
        object_type=object_type.strip() or None if object_type else None,
        object_id=object_id.strip() or None if object_id else None,
        actor=query.get("actor") or None,
        action=query.get("action") or None,
        since=since,
        until=until,
    )


def _paging(query: dict[str, Any]) -> dict[str, Any]:
    return {k: query[k] for k in ("page", "per_page", "sort") if k in query}


# --- API ------------------------------------------------------------------------------------


@blp.route("/audit")
class AuditResource(MethodView):
    @permission_required(Permission.AUDIT_READ)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The audit trail, newest first (administrators): every change of accounts, roles,
        organisations, committees, tokens, ontologies, standard sets and datasets, with who,
        when, the changed fields before and after, and the hash chain's links."""
        filters = filters_from(query)
        return page_body(audit.list_events(actor(), filters, **_paging(query)))


CSV_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "summary",
    "before",
    "after",
    "context",
    "reason",
    "request_id",
    "prev_hash",
    "hash",
)
EXPORT_DOC = {
    "responses": {
        "200": {
            "description": "The matching events, newest first, streamed",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/AuditEvent"},
                    }
                },
            },
        }
    }
}


@blp.route("/audit/export")
class AuditExportResource(MethodView):
    @permission_required(Permission.AUDIT_READ)
    @blp.arguments(AuditExportQuerySchema, location="query")
    @blp.doc(**EXPORT_DOC)
    def get(self, query: dict[str, Any]) -> Response:
        """Every matching event as a file (administrators): ``format=csv`` (before, after and
        context as JSON text; cells a spreadsheet would run as formulas are neutralised) or
        ``format=json`` (an array of events). Streamed: any length."""
        rows = audit.export_rows(actor(), filters_from(query))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        if query["format"] == "json":
            body, mimetype, name = _json_lines(rows), "application/json", f"audit-{stamp}.json"
        else:
            body, mimetype, name = _csv_lines(rows), "text/csv", f"audit-{stamp}.csv"
        return Response(
            stream_with_context(body),
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="harmony-{name}"'},
        )


def _json_lines(rows: Iterator[Any]) -> Iterator[str]:
    schema = AuditEventSchema()
    first = True
    yield "["
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(schema.dump(row), ensure_ascii=False)
        first = False
    yield "\n]\n"


def _csv_lines(rows: Iterator[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(_csv_cell(row, column) for column in CSV_COLUMNS)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_cell(row: Any, column: str) -> Any:
    value = getattr(row, column)
    if column == "at":
        return audit.iso_time(value)
    if column in ("before", "after", "context"):
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


# --- the page -------------------------------------------------------------------------------


@pages.get("/admin/audit")
def admin_audit() -> Any:
    """Filters, a page of events, downloads with the same filters."""
    who = actor()
    require(who, Permission.AUDIT_READ)  # before the filters: nothing shown to others
    form = {k: v for k, v in request.args.items() if k in FILTERS}
    errors: dict[str, list[str]] = {}
    status = 200
    try:
        query = load_form(AuditQuerySchema(), request.args)
        filters = filters_from(query)
        page = audit.list_events(who, filters, **_paging(query))
    except InvalidInput as exc:
        errors, status = exc.errors or {"page": [exc.detail]}, 422
        page = Page(items=[], total=0, page=1, per_page=25)
    return render_template(
        "core/admin_audit.html",
        page=page,
        form=form,
        filters={k: v for k, v in form.items() if v.strip()},
        errors=errors,
        actions=_ACTION_PREFIXES,
    ), status


FILTERS = ("object", "actor", "action", "since", "until")
#: the prefixes the action filter offers (any other is typed)
_ACTION_PREFIXES = (
    "user.",
    "role.",
    "token.",
    "password.",
    "organisation.",
    "committee.",
    "ontology.",
    "standard_set.",
    "dataset.",
)


def init_app(app: Flask) -> None:
    from core.api import api
    from core.audit_cli import audit_group

    api.register_blueprint(blp)
    app.register_blueprint(pages)
    app.cli.add_command(audit_group)
