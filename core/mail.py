"""Outgoing mail: :func:`send_mail` hands a message to the SMTP server of ``MAIL_SERVER``
(``MAIL_PORT``, STARTTLS when ``MAIL_USE_TLS``, login when ``MAIL_USERNAME`` is set), or, when
no server is configured (development, tests), writes it to the log instead.

Mail leaves the database, so it is sent from an after-commit subscriber
(:func:`core.events.subscribe_after_commit`), never inside a transaction that may roll back;
a failure raises, and the outbox retries the delivery later.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

log = logging.getLogger("harmony.mail")

TIMEOUT = 30  # seconds for the SMTP conversation


def build_message(to: Iterable[str], subject: str, body: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="harmony.invalid")
    message.set_content(body)
    return message


def send_mail(to: str | Iterable[str], subject: str, body: str) -> bool:
    """Send a plain-text mail to ``to`` (one address or several). Returns True when it went
    to an SMTP server, False when it was only logged (no ``MAIL_SERVER``) or had nobody to go
    to.

    :raises smtplib.SMTPException, OSError: when the server refuses it or cannot be reached
        (the caller's outbox delivery retries later).
    """
    recipients = [to] if isinstance(to, str) else [r for r in to if r]
    recipients = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    if not recipients:
        log.info("mail %r: no recipients; not sent", subject)
        return False
    config = current_app.config
    message = build_message(recipients, subject, body, str(config.get("MAIL_FROM") or ""))
    server = str(config.get("MAIL_SERVER") or "")
    if not server:
        log.info("mail (no MAIL_SERVER; logged, not sent) to %s: %s\n%s", recipients, subject, body)
        return False
    port = int(config.get("MAIL_PORT") or 587)
    with smtplib.SMTP(server, port, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
            smtp.ehlo()
        if config.get("MAIL_USERNAME"):
            smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
        smtp.send_message(message, to_addrs=recipients)
    log.info("mail to %s: %s", recipients, subject)
    return True
