"""core.mail: a message handed to a real SMTP server on the loopback (aiosmtpd, in a thread)
arrives with its sender, recipients, subject and body; without MAIL_SERVER nothing is sent
and the message is logged instead; a server that cannot be reached raises (the outbox then
retries the delivery)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core.mail import send_mail


class Collector:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def loopback_smtp(app: Any) -> Iterator[Collector]:
    """An SMTP server on 127.0.0.1 for the block, with ``app`` configured to use it."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    try:
        yield collector
    finally:
        app.config.update(saved)
        controller.stop()


def test_a_message_arrives_at_the_smtp_server(app):
    with loopback_smtp(app) as server, app.app_context():
        sent = send_mail(
            ["custodian@example.org", "second@example.org"], "Agreement DSA-1 expires", "Body ✓"
        )
    assert sent is True
    assert len(server.messages) == 1
    recipients, message = server.messages[0]
    assert recipients == ["custodian@example.org", "second@example.org"]
    assert message["Subject"] == "Agreement DSA-1 expires"
    assert message["From"] == app.config["MAIL_FROM"]
    assert message.get_payload(decode=True).decode().strip() == "Body ✓"


def test_without_a_server_the_message_is_logged_not_sent(app, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    with caplog.at_level(logging.INFO, logger="harmony.mail"), app.app_context():
        assert send_mail("someone@example.org", "Hello", "Body") is False
    assert "someone@example.org" in caplog.text and "Hello" in caplog.text


def test_no_recipients_sends_nothing(app):
    with loopback_smtp(app) as server, app.app_context():
        assert send_mail([], "Nobody", "Body") is False
    assert server.messages == []


def test_an_unreachable_server_raises(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    with app.app_context(), pytest.raises(OSError):
        send_mail("someone@example.org", "Hello", "Body")
