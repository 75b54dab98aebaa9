"""Moderation: publish, hide (with a reason the author sees) and restore contributions and
comments; residents' reports, which hide an item pending review at KAART_REPORT_THRESHOLD.

Every decision on a contribution is a new row in the append-only history (contribution_event).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kaart.errors import Conflict, invalid, not_found
from kaart.mail import notify
from kaart.services.workflow import actor_id

REASON_MAX = 500
TARGETS = {"contribution": "contribution", "comment": "comment"}


def _reason(reason: str | None, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise invalid("reason", "Give the reason the author will see.", "reason_missing")
    if len(reason) > REASON_MAX:
        raise invalid("reason", "The reason is too long.", "reason_too_long")
    return reason


def _lock(session: Session, table: str, item_id: uuid.UUID) -> Any:
    row = session.execute(
        text(f"SELECT visibility FROM {TARGETS[table]} WHERE id = :id FOR UPDATE"),
        {"id": item_id},
    ).one_or_none()
    if row is None:
        raise not_found(f"This {table}")
    return row


def hide(session: Session, table: str, item_id: uuid.UUID, reason: str, actor: Any) -> None:
    """Take a contribution or comment off the public site, with a reason for its author."""
    _set(session, table, item_id, "hidden", _reason(reason, required=True), actor)


def publish(session: Session, table: str, item_id: uuid.UUID, actor: Any) -> None:
    """Publish what waits for moderation, or restore what was hidden. Published for the first
    time, a contribution is news for who follows its process, buurt or area (kaart/mail/)."""
    first_time = table == "contribution" and _lock(session, table, item_id).visibility == "pending"
    _set(session, table, item_id, "published", None, actor)
    if first_time:
        notify.became_public(session, item_id)


def _set(
    session: Session, table: str, item_id: uuid.UUID, to: str, reason: str | None, actor: Any
) -> None:
    row = _lock(session, table, item_id)
    if row.visibility == to:
        raise Conflict(
            f"This {table} is already {to}.",
            "visibility",
            "visibility_unchanged",
            title="Nothing to change",
        )
    # A comment has no history: when it was hidden is kept on it, for the retention policy
    # (kaart/services/retention.py); a contribution's history says it.
    since = ", hidden_at = CASE WHEN :to = 'hidden' THEN now() END" if table == "comment" else ""
    session.execute(
        text(
            f"UPDATE {TARGETS[table]} SET visibility = :to, hidden_reason = :reason{since} "
            "WHERE id = :id"
        ),
        {"to": to, "reason": reason, "id": item_id},
    )
    if table == "contribution":
        action = (
            "hidden"
            if to == "hidden"
            else ("restored" if row.visibility == "hidden" else "published")
        )
        _event(session, item_id, action, row.visibility, to, reason, actor)


def _event(
    session: Session,
    contribution_id: uuid.UUID,
    action: str,
    from_visibility: str | None,
    to_visibility: str | None,
    note: str | None,
    actor: Any,
) -> None:
    session.execute(
        text(
            "INSERT INTO contribution_event "
            "(contribution_id, actor_id, action, from_visibility, to_visibility, text) "
            "VALUES (:id, :actor, :action, :from_v, :to_v, :text)"
        ),
        {
            "id": contribution_id,
            "actor": actor_id(actor),
            "action": action,
            "from_v": from_visibility,
            "to_v": to_visibility,
            "text": note,
        },
    )


@dataclass(frozen=True)
class Reported:
    report_count: int
    hidden: bool  # this report took it off the site pending review


def report(
    session: Session, table: str, item_id: uuid.UUID, reporter: str, reason: str, threshold: int
) -> Reported:
    """One resident's report. At `threshold` reports a published item waits for review.
    The caller commits."""
    reason = _reason(reason, required=False)
    column = f"{table}_id"
    row = _lock(session, table, item_id)
    if row.visibility != "published":
        raise not_found(f"This {table}")
    try:
        with session.begin_nested():
            session.execute(
                text(
                    f"INSERT INTO report ({column}, reporter, reason) "
                    "VALUES (:id, :reporter, :reason)"
                ),
                {"id": item_id, "reporter": reporter, "reason": reason},
            )
    except IntegrityError as exc:
        raise Conflict(
            "You have reported this already; a moderator will look at it.",
            "report",
            "report_duplicate",
            title="Already reported",
        ) from exc
    count = session.execute(
        text(
            f"UPDATE {TARGETS[table]} SET report_count = report_count + 1 "
            "WHERE id = :id RETURNING report_count"
        ),
        {"id": item_id},
    ).scalar_one()
    hidden = count >= threshold
    if hidden:
        session.execute(
            text(f"UPDATE {TARGETS[table]} SET visibility = 'pending' WHERE id = :id"),
            {"id": item_id},
        )
        if table == "contribution":
            note = f"{count} reports"
            _event(session, item_id, "reported", "published", "pending", note, None)
    return Reported(count, hidden)


@dataclass(frozen=True)
class QueueItem:
    kind: str  # contribution | comment
    id: uuid.UUID
    contribution_id: uuid.UUID
    title: str
    body: str
    category: str
    visibility: str
    hidden_reason: str | None
    report_count: int
    created_at: datetime


def queue(session: Session) -> list[QueueItem]:
    """What waits for a moderator (pending), then what is hidden (to restore), oldest first."""
    rows = session.execute(
        text(
            """
            SELECT 'contribution' AS kind, c.id, c.id AS contribution_id, c.title,
                   c.description AS body, c.category, c.visibility, c.hidden_reason,
                   c.report_count, c.created_at
            FROM contribution c
            WHERE c.visibility <> 'published' AND c.withdrawn_at IS NULL
            UNION ALL
            SELECT 'comment', m.id, m.contribution_id, c.title, m.body, c.category,
                   m.visibility, m.hidden_reason, m.report_count, m.created_at
            FROM comment m JOIN contribution c ON c.id = m.contribution_id
            WHERE m.visibility <> 'published' AND c.withdrawn_at IS NULL
            ORDER BY 7 DESC, 10
            """
        )
    ).all()
    return [QueueItem(*row) for row in rows]
