"""A message, rendered in the reader's language from templates/mail/, written to the outbox in
the caller's transaction: it is sent (by `kaart mail work`) if and only if the change that
caused it is committed.

    outbox.write(session, Message(to, "status", "nl", unsubscribe=url), contribution=...)

Each kind has templates/mail/<kind>.txt and <kind>.html and a subject `mail.<kind>.subject`
in the catalogues. Links are absolute, on KAART_PUBLIC_URL (outside production without it: the
address the request came in on)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.i18n import translate

ONE_CLICK = "List-Unsubscribe=One-Click"
FALLBACK_BASE = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Message:
    to: str
    kind: str
    language: str
    # The URL that stops these messages (RFC 8058: a POST to it unsubscribes at once).
    unsubscribe: str | None = None
    subject_values: dict[str, Any] = field(default_factory=dict)


def public_base() -> str:
    """Where links in messages point: KAART_PUBLIC_URL, else this request's own address."""
    settings = current_app.config["KAART"]
    if settings.public_url:
        return settings.public_url
    if has_request_context():
        return request.url_root.rstrip("/")
    return FALLBACK_BASE


def render(message: Message, **context: Any) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the message in its language."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = public_base()
    with app.app_context(), app.test_request_context("/", base_url=base + "/"):
        g.lang = message.language
        subject = translate(f"mail.{message.kind}.subject", **message.subject_values)
        values = {"subject": subject, "unsubscribe": message.unsubscribe, **context}
        plain = render_template(f"mail/{message.kind}.txt", **values)
        html = render_template(f"mail/{message.kind}.html", **values)
    return subject, plain, html


def write(session: Session, message: Message, **context: Any) -> int:
    """Render the message and put it in the outbox; its id. The caller commits."""
    subject, plain, html = render(message, **context)
    return session.execute(
        text(
            "INSERT INTO outbox (kind, to_address, language, subject, body_text, body_html, "
            "headers) VALUES (:kind, :to, :lang, :subject, :plain, :html, "
            "CAST(:headers AS jsonb)) RETURNING id"
        ),
        {
            "kind": message.kind,
            "to": message.to,
            "lang": message.language,
            "subject": subject,
            "plain": plain,
            "html": html,
            "headers": json.dumps(_headers(message)),
        },
    ).scalar_one()


def _headers(message: Message) -> dict[str, str]:
    domain = urlsplit(public_base()).hostname or "wijkkaart.invalid"
    headers = {
        "Message-ID": make_msgid("wijkkaart", domain=domain),
        "Content-Language": message.language,
        "Auto-Submitted": "auto-generated",
    }
    if message.unsubscribe:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe}>"
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    return headers


def absolute(path: str) -> str:
    """A path of this site as a link for a message."""
    return public_base() + path
