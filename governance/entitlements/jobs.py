"""Timed work on entitlements, run by the job worker every hour without anyone acting:

- :func:`end_due` — each live entitlement (awaiting acceptance or active) whose last day has
  passed is ended, audited as the system, and its person told (one transaction per request);
- :func:`send_reminders` — 30 days before an active entitlement ends its person is notified,
  once (``reminded_at``; a reminder not sent in time goes out late rather than never);
- :func:`close_finished` — an approved request whose entitlements have all been revoked or
  ended is closed through the ``access_request`` workflow (``close``, as the system).

:func:`run_hourly` does the three in that order; ``harmony entitlements expire [--today
DATE]`` runs it by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from huey import crontab

from core import workflow
from core.db import get_session, utcnow, writing
from core.errors import ServiceError
from core.etags import UNCHECKED
from core.notifications import long_date, notify
from core.policies import SYSTEM
from governance.entitlements import services

log = logging.getLogger("harmony.entitlements")

REMINDER_DAYS = 30


@dataclass
class Report:
    ended: list[str] = field(default_factory=list)  # entitlement ids
    reminded: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # request references
    failed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # past their end, an extension under review

    def as_json(self) -> dict[str, Any]:
        return {
            "ended": self.ended,
            "reminded": self.reminded,
            "closed": self.closed,
            "failed": self.failed,
            "held": self.held,
        }


def end_due(today: dt.date | None = None, report: Report | None = None) -> Report:
    """End every live entitlement whose ``ends_on`` is before ``today``."""
    on = today or services.today()
    report = report or Report()
    session = get_session()
    due = services.due_to_end(on)
    from governance.oversight.services import held_open  # oversight imports this sub-area

    held = held_open(due)  # an extension under review keeps its project's access running
    due = [e for e in due if e.id not in held]
    report.held += sorted(held)
    by_request: dict[str, list[Any]] = {}
    for entitlement in due:
        by_request.setdefault(entitlement.request_id, []).append(entitlement)
    for entitlements in by_request.values():
        ended = services.end_expired(entitlements, utcnow())
        session.commit()
        report.ended += [e.id for e in ended]
    return report


def send_reminders(today: dt.date | None = None, report: Report | None = None) -> Report:
    """Tell each person whose active access ends within 30 days, once per entitlement (one
    notification per person and run)."""
    on = today or services.today()
    report = report or Report()
    session = get_session()
    due = services.due_for_reminder(on, REMINDER_DAYS)
    by_user: dict[str, list[Any]] = {}
    for entitlement in due:
        by_user.setdefault(entitlement.user_id, []).append(entitlement)
    now = utcnow()
    for user_id, theirs in by_user.items():
        for entitlement in theirs:
            entitlement.reminded_at = now
        first = min(e.ends_on for e in theirs)
        lines = [
            f"- {e.dataset.identifier} ({e.request.reference}): until {long_date(e.ends_on)}"
            for e in theirs
        ]
        notify(
            [user_id],
            kind="entitlement.expiry_reminder",
            subject=f"Your access ends on {long_date(first)}",
            body=(
                "Your access to these datasets ends soon:\n"
                + "\n".join(lines)
                + "\n\nTo continue, ask for an extension (an amendment of the request) before "
                "then; otherwise delete the data on the last day."
            ),
            link="/me/access",
            object_type="access_request",
            object_id=theirs[0].request_id,
        )
        session.commit()
        report.reminded += [e.id for e in theirs]
    return report


def close_finished(report: Report | None = None) -> Report:
    """Close each approved request whose entitlements have all ended (through the workflow;
    skipped while the ``access_request`` workflow is not registered)."""
    report = report or Report()
    try:
        workflow.get("access_request")
    except LookupError:
        return report
    session = get_session()
    ids = services.requests_to_close()
    session.rollback()
    for request_id in ids:
        try:
            outcome = workflow.apply(
                "access_request", SYSTEM, request_id, "close", if_match=UNCHECKED
            )
        except ServiceError as exc:  # changed meanwhile (an amendment, a new grant)
            log.info("access request %s not closed: %s", request_id, exc.detail)
            report.failed.append(request_id)
            continue
        report.closed.append(getattr(outcome.obj, "reference", request_id))
    return report


def run_hourly(today: dt.date | None = None) -> Report:
    """End what is due, remind, then close the requests whose access is over."""
    report = end_due(today)
    send_reminders(today, report)
    return close_finished(report)


def init_app(app: Flask) -> None:
    """The worker's periodic task (hourly)."""
    jobs = app.extensions.get("harmony_jobs")
    if jobs is None:
        return
    huey = jobs["huey"]

    def entitlements_task() -> None:
        with app.app_context(), writing():
            report = run_hourly()
            if report.ended or report.reminded or report.closed:
                log.info("entitlements: %s", report.as_json())

    app.extensions["harmony_entitlements"] = {
        "hourly": huey.periodic_task(crontab(minute="17"), name="harmony.entitlements_hourly")(
            entitlements_task
        )
    }
