"""Timed work on agreements, run by the job worker without anyone acting:

- :func:`expire_due` — every active agreement whose expiry date has come is expired (through
  the workflow, as the system; each expiry is its own transaction, audited);
- :func:`send_reminders` — 60 and 14 days before an active agreement expires, the reminder
  ``agreement.expiry_reminder`` is announced once per agreement and lead time (a row of
  ``agreement_reminders`` records it); its after-commit subscriber :func:`mail_reminder`
  mails the custodians of the agreement's organisation (once, however often the outbox
  delivers it).

:func:`run_daily` does both; the worker runs it every hour (a missed hour, or a worker down
for a day, catches up on the next run) and ``harmony agreements expire [--today DATE]`` runs it
by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from huey import crontab
from sqlalchemy import select

from core import events, workflow
from core.db import get_session, utcnow, writing
from core.errors import ServiceError
from core.etags import UNCHECKED
from core.mail import send_mail
from core.models import Role, RoleGrant, User
from core.policies import SYSTEM
from core.text import plural
from governance.agreements import services
from governance.agreements.models import Agreement, AgreementReminder, AgreementStatus

log = logging.getLogger("harmony.agreements")

REMINDER_EVENT = "agreement.expiry_reminder"
MAIL_SUBSCRIBER = "governance.agreement_reminder_mail"


@dataclass
class Report:
    expired: list[str] = field(default_factory=list)  # references (version)
    reminded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"expired": self.expired, "reminded": self.reminded, "failed": self.failed}


def _label(agreement: Agreement) -> str:
    return f"{agreement.reference} v{agreement.version}"


def expire_due(today: dt.date | None = None, report: Report | None = None) -> Report:
    """Expire every active agreement whose ``expires_on`` is ``today`` or earlier."""
    on = today or services.today()
    report = report or Report()
    session = get_session()
    due = list(
        session.scalars(
            select(Agreement.id)
            .where(Agreement.status == AgreementStatus.ACTIVE, Agreement.expires_on <= on)
            .order_by(Agreement.expires_on, Agreement.reference)
        )
    )
    session.rollback()
    for agreement_id in due:
        try:
            outcome = workflow.apply(
                "agreement",
                SYSTEM,
                agreement_id,
                "expire",
                if_match=UNCHECKED,
                params={"today": on},
            )
        except ServiceError as exc:  # changed meanwhile (terminated, superseded): skipped
            log.info("agreement %s not expired: %s", agreement_id, exc.detail)
            report.failed.append(agreement_id)
            continue
        report.expired.append(_label(outcome.obj))
    return report


def send_reminders(today: dt.date | None = None, report: Report | None = None) -> Report:
    """Announce the reminders that are due: for each active agreement that expires within
    60 (then 14) days, once per lead time. A reminder not sent in time (the worker was down)
    goes out late rather than never; a 60-day one is not sent when the 14-day one is due."""
    on = today or services.today()
    report = report or Report()
    session = get_session()
    longest = max(services.REMINDER_DAYS)
    candidates = list(
        session.scalars(
            select(Agreement).where(
                Agreement.status == AgreementStatus.ACTIVE,
                Agreement.expires_on > on,
                Agreement.expires_on <= on + dt.timedelta(days=longest),
            )
        )
    )
    for agreement in candidates:
        assert agreement.expires_on is not None  # noqa: S101  (the query says so)
        left = (agreement.expires_on - on).days
        due = [d for d in sorted(services.REMINDER_DAYS) if left <= d]
        if not due:
            continue
        days = due[0]  # the nearest lead time reached
        sent = set(
            session.scalars(
                select(AgreementReminder.days_before).where(
                    AgreementReminder.agreement_id == agreement.id
                )
            )
        )
        if days in sent:
            continue
        session.add(
            AgreementReminder(agreement_id=agreement.id, days_before=days, sent_at=utcnow())
        )
        events.announce(
            REMINDER_EVENT,
            object_type="agreement",
            object_id=agreement.id,
            days_before=days,
            days_left=left,
            reference=agreement.reference,
            version=agreement.version,
            expires_on=agreement.expires_on.isoformat(),
            organisation_id=agreement.organisation_id,
        )
        session.commit()
        report.reminded.append(f"{_label(agreement)} ({plural(days, 'day')})")
    session.commit()
    return report


def run_daily(today: dt.date | None = None) -> Report:
    """Expiry, then reminders."""
    report = expire_due(today)
    return send_reminders(today, report)


# --- the reminder's mail --------------------------------------------------------------------


def custodian_emails(organisation_id: str) -> list[str]:
    rows = get_session().scalars(
        select(User.email)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == Role.CUSTODIAN,
            RoleGrant.organisation_id == organisation_id,
            User.is_active.is_(True),
        )
        .order_by(User.email)
    )
    return list(dict.fromkeys(rows))


def mail_reminder(event: events.Event) -> None:
    """Mail the custodians of the agreement's organisation that it expires soon; once per
    reminder (the reminder's ``mailed_at`` is set in the delivery's transaction, after the
    mail went out)."""
    session = get_session()
    days = int(event.payload.get("days_before") or 0)
    reminder = session.get(AgreementReminder, (event.object_id, days))
    agreement = session.get(Agreement, event.object_id)
    if reminder is None or agreement is None or reminder.mailed_at is not None:
        return
    recipients = custodian_emails(agreement.organisation_id)
    expires = agreement.expires_on.isoformat() if agreement.expires_on else "?"
    subject = f"Agreement {agreement.reference} expires on {expires}"
    base = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    body = (
        f"The data-sharing agreement {agreement.reference} (version {agreement.version}) "
        f"between {agreement.organisation.name} and {agreement.counterparty} expires on "
        f"{expires}, in {plural(int(event.payload.get('days_left', days)), 'day')}.\n\n"
        "From that day its datasets can no longer be requested under it. To continue, amend "
        "it (a new version with a later expiry date, signed anew) and activate the amendment "
        "before then.\n\n"
        f"{base}/agreements/{agreement.id}\n"
    )
    send_mail(recipients, subject, body)
    reminder.mailed_at = utcnow()


# --- registration ---------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """The worker's periodic task (hourly) and the reminder's mail subscriber."""
    events.subscribe_after_commit(REMINDER_EVENT, MAIL_SUBSCRIBER, mail_reminder)
    jobs = app.extensions.get("harmony_jobs")
    if jobs is None:
        return
    huey = jobs["huey"]

    def agreements_task() -> None:
        with app.app_context(), writing():
            report = run_daily()
            if report.expired or report.reminded:
                log.info("agreements: %s", report.as_json())

    app.extensions["harmony_agreements"] = {
        "daily": huey.periodic_task(crontab(minute="7"), name="harmony.agreements_daily")(
            agreements_task
        )
    }
