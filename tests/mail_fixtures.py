"""A real SMTP server for the mail tests (aiosmtpd on a local port), and the worker run as
`kaart mail work --once` runs it, on the test's connection."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kaart.mail import worker
from tests.stack import free_port


@dataclass
class Inbox:
    """What the server received; `reply` makes it answer DATA with that line instead (4xx/5xx)."""

    port: int
    reply: str | None = None
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server, _session, envelope) -> str:
        if self.reply:
            return self.reply
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server(port: int | None = None, reply: str | None = None) -> Iterator[Inbox]:
    inbox = Inbox(port or free_port(), reply)
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def run_worker(app, connection: Connection, now=None) -> worker.Round:
    """One round of the mail worker, in the app's context, on the test's connection."""
    with app.app_context():
        return worker.run_once(
            lambda: Session(bind=connection, join_transaction_mode="create_savepoint"),
            app.config["KAART"],
            now,
        )


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text_of(message))
