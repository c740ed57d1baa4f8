"""Notifications: what the service tells a user (a request waits for their vote, their
application was decided …), in the list of ``/me/notifications`` with an unread count in the
header, and by mail.

Areas call :func:`notify` inside the transaction of their change; the rows commit or roll back
with it. Each notification announces ``notification.created``; its after-commit subscriber
(:func:`mail_notification`, delivered through the outbox by the job worker) mails it to its
user once: ``mailed_at`` is set in the delivery's transaction after the mail went out (or was
written to the log when no SMTP server is configured), so an outbox message delivered twice
mails once.

A notification is its user's alone: every use case reads only the caller's own rows, so that
another user's notification is missing (404), never forbidden. Reading one is not a decision:
it is not audited.

Also here: the API (``/api/v1/me/notifications``) and the page (``/me/notifications``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Flask, current_app, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.wrappers import Response as WerkzeugResponse

from core import events
from core.api import API_PREFIX, actor, login_required
from core.db import Base, get_session, transactional, utcnow, write_in_passing
from core.errors import NotFound
from core.forms import form_action
from core.mail import send_mail
from core.models import User, new_public_id
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require, require_login
from core.schemas import StrictSchema

log = logging.getLogger("harmony.notifications")

KIND_MAX = 64
SUBJECT_MAX = 200
LINK_MAX = 500
OBJECT_TYPE_MAX = 64
OBJECT_ID_MAX = 200
#: the event each notification announces, and the outbox subscriber that mails it
CREATED_EVENT = "notification.created"
MAIL_SUBSCRIBER = "core.notification_mail"


class Notification(Base):
    """One message to one user. ``link`` is a path on this site (``/access-requests/…``);
    ``object_type``/``object_id`` name what it is about (for filtering, not shown);
    ``read_at`` is set when the user opens it or marks it read, ``mailed_at`` once it was
    mailed (or logged)."""

    __tablename__ = "notifications"
    # the unread count of the header is one lookup in this index on every page; its leading
    # column serves the user's list too
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(LINK_MAX))
    object_type: Mapped[str | None] = mapped_column(String(OBJECT_TYPE_MAX))
    object_id: Mapped[str | None] = mapped_column(String(OBJECT_ID_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    mailed_at: Mapped[dt.datetime | None]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# --- notifying ------------------------------------------------------------------------------


def long_date(day: dt.date | dt.datetime | None) -> str:
    """A date as people read it in messages and on pages ("7 December 2026"), the same in every
    notification (ISO dates stay in the API and the audit trail)."""
    if day is None:
        return "—"
    return f"{day.day} {day.strftime('%B %Y')}"


def is_site_path(link: str) -> bool:
    """A path on this site (``/x``), not an address elsewhere (``//host``, ``https:``)."""
    return (
        link.startswith("/")
        and not link.startswith("//")
        and "\\" not in link
        and not any(c.isspace() or ord(c) < 32 for c in link)
    )


def _shortened(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def notify(
    user_ids: Iterable[str],
    *,
    kind: str,
    subject: str,
    body: str,
    link: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[Notification]:
    """Notify each distinct active user of ``user_ids`` (unknown and deactivated ones are
    skipped): one row each, added to the caller's transaction — the caller commits, and a
    rollback leaves no notification and no mail. After the commit each is mailed once.

    ``kind`` names what happened (``access_request.submitted``); ``subject`` (one line,
    shortened to 200 characters) and ``body`` (plain text) are what the user reads, in the
    list and in the mail; ``link`` is a path on this site (the mail makes it absolute with
    ``BASE_URL``). Returns the rows, in the order of ``user_ids``.

    :raises ValueError: for an empty or over-long ``kind``, an empty subject, or a ``link``
        that is not a path on this site (a defect of the caller, not a user's input).
    """
    kind = (kind or "").strip()
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"kind must be 1 to {KIND_MAX} characters: {kind!r}")
    subject = _shortened(subject or "", SUBJECT_MAX)
    if not subject:
        raise ValueError("a notification needs a subject")
    if link is not None and (len(link) > LINK_MAX or not is_site_path(link)):
        raise ValueError(f"link must be a path on this site: {link!r}")
    if object_type is not None and len(object_type) > OBJECT_TYPE_MAX:
        raise ValueError(f"object_type is longer than {OBJECT_TYPE_MAX} characters")
    if object_id is not None and len(str(object_id)) > OBJECT_ID_MAX:
        raise ValueError(f"object_id is longer than {OBJECT_ID_MAX} characters")
    wanted = list(dict.fromkeys(str(u) for u in user_ids if u))
    if not wanted:
        return []
    session = get_session()
    active = set(
        session.scalars(select(User.id).where(User.id.in_(wanted), User.is_active.is_(True)))
    )
    now = utcnow()
    made = [
        Notification(
            id=new_public_id(),
            user_id=user_id,
            kind=kind,
            subject=subject,
            body=body or "",
            link=link,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            created_at=now,
        )
        for user_id in wanted
        if user_id in active
    ]
    session.add_all(made)
    for notification in made:
        events.announce(
            CREATED_EVENT,
            object_type="notification",
            object_id=notification.id,
            kind=kind,
            user_id=notification.user_id,
        )
    return made


# --- reading and marking (the caller's own) -------------------------------------------------


def unread_count(user_id: str) -> int:
    """How many notifications of ``user_id`` are unread (one lookup in the user's index)."""
    count = get_session().scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


def _user_id(actor: Actor) -> str:
    """The actor's user id ("" for anonymous callers and the system, who have none)."""
    user_id = getattr(actor, "id", None)
    return user_id if isinstance(user_id, str) else ""


def _own(actor: Actor) -> Any:
    require(actor, Permission.NOTIFICATION_MANAGE)
    return select(Notification).where(Notification.user_id == _user_id(actor))


def list_for(
    actor: Actor, unread_only: bool = False, page: int = 1, per_page: int = 25
) -> Page[Notification]:
    """The caller's notifications, newest first (only the unread ones with ``unread_only``).

    :raises Unauthenticated: for anonymous callers.
    :raises InvalidInput: (page, per_page) for a page out of range.
    """
    statement = _own(actor)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return paginate(
        statement,
        page=page,
        per_page=per_page,
        order=[Notification.created_at.desc()],
        tiebreak=Notification.id.desc(),
    )


def get_for(actor: Actor, notification_id: str) -> Notification:
    """One of the caller's notifications.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or is someone else's.
    """
    found = get_session().scalar(_own(actor).where(Notification.id == notification_id))
    if found is None:
        raise NotFound("You have no notification with this id.")
    return found


@transactional
def mark_read(actor: Actor, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read (again: no change).

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or is someone else's.
    """
    notification = get_for(actor, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
    get_session().commit()
    return notification


@transactional
def mark_all_read(actor: Actor) -> int:
    """Mark every unread notification of the caller read; returns how many were unread.

    :raises Unauthenticated: for anonymous callers.
    """
    require(actor, Permission.NOTIFICATION_MANAGE)
    session = get_session()
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == _user_id(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()
    return int(getattr(result, "rowcount", 0) or 0)


def open_notification(actor: Actor, notification_id: str) -> str:
    """Mark one of the caller's notifications read (a write in passing: a reading request's
    bookkeeping, skipped when the database stays busy) and return where it points: its link,
    or the notification list.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or is someone else's.
    """
    notification = get_for(actor, notification_id)
    target = notification.link if notification.link and is_site_path(notification.link) else None
    if notification.read_at is None:
        notification_key = notification.id

        def _write(session: Session) -> None:
            session.execute(
                update(Notification)
                .where(Notification.id == notification_key, Notification.read_at.is_(None))
                .values(read_at=utcnow())
                .execution_options(synchronize_session=False)
            )

        write_in_passing(_write, "marking a notification read")
    return target or url_for("notifications.notification_list")


# --- the mail -------------------------------------------------------------------------------


def absolute_link(link: str | None) -> str | None:
    """``link`` (a path on this site) as an address from outside: ``BASE_URL`` + path."""
    if not link:
        return None
    return str(current_app.config.get("BASE_URL") or "").rstrip("/") + link


def mail_text(notification: Notification) -> str:
    """The mail's body: the notification's text, its link, and where all of them are."""
    parts = [notification.body.rstrip()]
    address = absolute_link(notification.link)
    if address:
        parts.append(address)
    parts.append(
        "You receive this mail because the HARMONY Catalogue has a notification for you. "
        f"All of them: {absolute_link('/me/notifications')}"
    )
    return "\n\n".join(p for p in parts if p) + "\n"


def mail_notification(event: events.Event) -> None:
    """Mail a notification to its user, once: the row is held while the mail goes out and
    ``mailed_at`` is set in the same transaction (a second delivery of the outbox message, or
    one by another worker, finds it set). A deactivated user is not mailed.

    :raises smtplib.SMTPException, OSError: when the SMTP server refuses or cannot be reached
        (the outbox retries later; ``mailed_at`` stays empty).
    """
    session = get_session()
    notification = session.scalar(
        select(Notification)
        .where(Notification.id == event.object_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if notification is None or notification.mailed_at is not None:
        return
    user = session.get(User, notification.user_id)
    if user is None or not user.is_active:
        return
    send_mail(user.email, notification.subject, mail_text(notification))
    notification.mailed_at = utcnow()


# --- API ------------------------------------------------------------------------------------


class NotificationSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"example": "access_request.submitted"})
    subject = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True, metadata={"description": "a path on this site"})
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    is_read = fields.Boolean()


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "all your unread ones"})


class NotificationQuerySchema(StrictSchema):
    unread = fields.Boolean(
        load_default=False, metadata={"description": "only the unread ones (`true`)"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class MarkedSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})
    unread = fields.Integer(required=True)


blp = Blueprint(
    "notifications_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Your notifications (logged-in users, their own only)",
)


@blp.route("/me/notifications")
class NotificationsResource(MethodView):
    @login_required
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Your notifications, newest first; ``unread=true`` for the unread ones only."""
        who = actor()
        page = list_for(who, query["unread"], query["page"], query["per_page"])
        return {
            "items": page.items,
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "unread": unread_count(_user_id(who)),
        }


@blp.route("/me/notifications/read")
class ReadAllResource(MethodView):
    @login_required
    @blp.response(200, MarkedSchema)
    def post(self) -> dict[str, int]:
        """Mark all your notifications read."""
        return {"marked": mark_all_read(actor()), "unread": 0}


@blp.route("/me/notifications/<notification_id>/read")
class ReadResource(MethodView):
    @login_required
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: str) -> Notification:
        """Mark one of your notifications read (another user's is 404)."""
        return mark_read(actor(), notification_id)


# --- pages ----------------------------------------------------------------------------------

pages = PageBlueprint("notifications", __name__, template_folder="templates")
PAGE_SIZE = 25


@pages.get("/me/notifications")
def notification_list() -> str:
    who = actor()
    require_login(who)
    number = request.args.get("page", default=1, type=int) or 1
    page = list_for(who, False, max(1, min(number, 100_000)), PAGE_SIZE)
    return render_template(
        "core/notifications.html",
        page=page,
        unread=unread_count(_user_id(who)),
    )


@pages.post("/me/notifications/read")
def notification_read_all() -> WerkzeugResponse:
    back = url_for("notifications.notification_list")
    return form_action(
        mark_all_read,
        success=lambda n: (
            "Every notification is marked as read." if n else "You had no unread notifications."
        ),
        done=back,
        back=back,
    )


@pages.get("/me/notifications/<notification_id>/open")
def notification_open(notification_id: str) -> WerkzeugResponse:
    who = actor()
    require_login(who)
    return redirect(open_notification(who, notification_id))


def header_unread_count() -> int | None:
    """The logged-in user's unread count for the page header (None when nobody is logged in,
    or when the database cannot answer: the header then shows no number rather than the page
    failing)."""
    user_id = _user_id(actor())
    if not user_id:
        return None
    try:
        return unread_count(user_id)
    except DBAPIError as exc:
        log.warning("unread notification count not shown: %s", exc.orig)
        return None


def init_app(app: Flask) -> None:
    """The API, the page, the header's count and the mail subscriber (again for every
    application the tests create: each registration is idempotent)."""
    from core.api import api

    api.register_blueprint(blp)
    app.register_blueprint(pages)
    events.subscribe_after_commit(CREATED_EVENT, MAIL_SUBSCRIBER, mail_notification)

    @app.context_processor
    def _notifications() -> dict[str, Any]:
        return {"notifications_unread": header_unread_count}
