"""`kaart mail work`: write what is due by the clock, then send what waits in the outbox.

Each message is sent under a row lock (FOR UPDATE SKIP LOCKED), so several workers never send
the same message, and marked sent only after the SMTP server accepted it. A server that is
down or says "later" (4xx) gets the message again after mail_retry_seconds, doubling each time;
after mail_max_attempts, or when the server refuses it for good (5xx), the message is dead:
kept with its error for an admin (/beheer/e-mail, `kaart mail retry`). Sent messages keep
their envelope but lose their bodies (they may hold a private link)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.db import transaction
from kaart.mail import scheduled, smtp

log = logging.getLogger(__name__)
ERROR_MAX = 500


@dataclass(frozen=True)
class Round:
    written: int
    sent: int
    retry: int
    dead: int


def run_once(
    new_session: Callable[[], Session], settings: Settings, now: datetime | None = None
) -> Round:
    """One round: the scheduled messages, then every message that is due."""
    written = write_scheduled(new_session, settings, now or datetime.now().astimezone())
    counts = deliver(new_session, settings)
    return Round(written, counts["sent"], counts["retry"], counts["dead"])


def write_scheduled(new_session: Callable[[], Session], settings: Settings, now: datetime) -> int:
    steps: list[Callable[[Session], int]] = [
        lambda s: scheduled.process_notices(s, now.date()),
        lambda s: scheduled.digests(s, now),
        lambda s: scheduled.satisfaction(s, now, settings.satisfaction_after_days),
        lambda s: scheduled.staff_digests(s, now),
    ]
    written = 0
    for step in steps:
        with new_session() as session, transaction(session):
            written += step(session)
    return written


def deliver(new_session: Callable[[], Session], settings: Settings) -> Counter:
    """Send due messages until none is left; counts of sent, retry and dead."""
    counts: Counter = Counter()
    tried: list[int] = []  # each message at most once a round, whatever its back-off
    while True:
        with new_session() as session, transaction(session):
            row = _next_due(session, tried)
            if row is None:
                return counts
            tried.append(row.id)
            counts[_send(session, settings, row)] += 1


def _next_due(session: Session, tried: list[int]) -> Any:
    # clock_timestamp(), not now(): the moment of asking, whatever transaction we are in.
    return session.execute(
        text(
            "SELECT id, kind, to_address, subject, body_text, body_html, headers, attempts "
            "FROM outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp() "
            "AND id <> ALL(:tried) ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ),
        {"tried": tried},
    ).one_or_none()


def _send(session: Session, settings: Settings, row: Any) -> str:
    try:
        if not settings.smtp_url:
            raise smtp.Later("KAART_SMTP_URL is not set")
        smtp.send(settings.smtp_url, email_message(settings, row))
    except smtp.Later as exc:
        attempts = row.attempts + 1
        if attempts >= settings.mail_max_attempts:
            return _dead(session, row.id, attempts, str(exc))
        wait = timedelta(seconds=settings.mail_retry_seconds * 2 ** (attempts - 1))
        session.execute(
            text(
                "UPDATE outbox SET attempts = :n, last_error = :error, "
                "next_attempt_at = clock_timestamp() + :wait WHERE id = :id"
            ),
            {"n": attempts, "error": str(exc)[:ERROR_MAX], "wait": wait, "id": row.id},
        )
        log.warning("mail %s: will try again in %s: %s", row.id, wait, exc)
        return "retry"
    except smtp.Refused as exc:
        return _dead(session, row.id, row.attempts + 1, str(exc))
    session.execute(
        text(
            "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, "
            "body_text = NULL, body_html = NULL, last_error = NULL WHERE id = :id"
        ),
        {"id": row.id},
    )
    return "sent"


def _dead(session: Session, ident: int, attempts: int, error: str) -> str:
    session.execute(
        text(
            "UPDATE outbox SET status = 'dead', attempts = :n, last_error = :error WHERE id = :id"
        ),
        {"n": attempts, "error": error[:ERROR_MAX], "id": ident},
    )
    log.error("mail %s is dead after %s attempts: %s", ident, attempts, error)
    return "dead"


def email_message(settings: Settings, row: Any) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    for name, value in row.headers.items():  # after the bodies: set_content drops Content-*
        message[name] = value
    return message


def retry(session: Session, ident: int | None = None) -> int:
    """Give dead messages (one, or all) a new chance; how many."""
    where = "status = 'dead'" + (" AND id = :id" if ident is not None else "")
    return session.execute(
        text(
            "UPDATE outbox SET status = 'pending', attempts = 0, "
            "next_attempt_at = clock_timestamp() "
            f"WHERE {where}"
        ),
        {"id": ident},
    ).rowcount


def state(session: Session) -> dict[str, int]:
    rows = session.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()
    return {"pending": 0, "sent": 0, "dead": 0, **dict(rows)}


def dead_letters(session: Session, limit: int = 100) -> list[Any]:
    return session.execute(
        text(
            "SELECT id, kind, to_address, subject, attempts, last_error, created_at "
            "FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT :limit"
        ),
        {"limit": limit},
    ).all()
