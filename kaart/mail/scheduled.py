"""What the mail worker writes by the clock, each step in its own transaction and safe to run
again (each remembers what it did: digest_at, process_notice, satisfaction, the outbox).

    digests(session, now)            daily/weekly followers: what happened since the last digest
    process_notices(session, today)  a process opened, closed, or published its reactienota
    satisfaction(session, now, days) four weeks after beantwoord/gerealiseerd, ask the author
    staff_digests(session, now)      planners: new input in their processes; moderators: the queue
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.mail import links
from kaart.mail.notify import SUBSCRIBER_COLUMNS, queue_update, secret, unsubscribe_url
from kaart.mail.outbox import Message, public_base, write

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# A process notice is news only shortly after the fact (not for old processes on a first run).
NOTICE_FRESH = timedelta(days=7)
OUTCOMES = ("beantwoord", "gerealiseerd")


def digests(session: Session, now: datetime) -> int:
    """One digest per due daily/weekly subscription with something new; the number written."""
    written = 0
    for frequency, period in PERIODS.items():
        due = session.execute(
            text(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscription s "
                "JOIN mail_address a ON a.id = s.address_id "
                "WHERE s.frequency = :f AND s.confirmed_at IS NOT NULL "
                "AND coalesce(s.digest_at, s.confirmed_at) <= :since "
                "AND EXISTS (SELECT 1 FROM mail_update u WHERE u.subscription_id = s.id) "
                "FOR UPDATE OF s SKIP LOCKED"
            ),
            {"f": frequency, "since": now - period},
        ).all()
        for follower in due:
            written += _digest(session, follower, now)
    return written


def _digest(session: Session, follower: Any, now: datetime) -> int:
    items = session.execute(
        text(
            "DELETE FROM mail_update u WHERE u.subscription_id = :s "
            "RETURNING u.event, u.contribution_id, u.process_id, u.status, u.at"
        ),
        {"s": follower.id},
    ).all()
    session.execute(
        text("UPDATE subscription SET digest_at = :now WHERE id = :s"),
        {"now": now, "s": follower.id},
    )
    entries = _entries(session, items)
    if not entries:
        return 0
    message = Message(
        follower.address,
        "digest",
        follower.language,
        unsubscribe_url(follower.id),
        {"count": len(entries)},
    )
    write(session, message, entries=entries, frequency=follower.frequency)
    return 1


def _entries(session: Session, items: list[Any]) -> list[dict[str, Any]]:
    """What a digest lists: still-public contributions and processes, oldest first."""
    entries = []
    for item in sorted(items, key=lambda i: i.at):
        if item.contribution_id is not None:
            row = session.execute(
                text(
                    "SELECT id, title, category, status FROM contribution WHERE id = :id "
                    "AND visibility = 'published' AND withdrawn_at IS NULL"
                ),
                {"id": item.contribution_id},
            ).one_or_none()
        else:
            row = session.execute(
                text("SELECT id, title, slug FROM process WHERE id = :id"),
                {"id": item.process_id},
            ).one_or_none()
        if row is not None:
            entries.append(
                {"event": item.event, "status": item.status, "at": item.at, **row._mapping}
            )
    return entries


def process_notices(session: Session, today: date) -> int:
    """Announce processes that opened or closed (recently) or published their reactienota, to
    who follows the process or a buurt or area it covers; each once."""
    due = session.execute(
        text(
            "SELECT p.id, p.slug, p.title, e.event FROM process p CROSS JOIN LATERAL (VALUES "
            "  ('opened', p.starts_on <= :today AND p.ends_on >= :today),"
            "  ('closed', p.ends_on < :today),"
            "  ('reactienota', p.reactienota_published_at IS NOT NULL)) AS e(event, happened) "
            "WHERE e.happened AND NOT EXISTS (SELECT 1 FROM process_notice n "
            "  WHERE n.process_id = p.id AND n.event = e.event) "
            "FOR UPDATE OF p SKIP LOCKED"
        ),
        {"today": today},
    ).all()
    written = 0
    for process in due:
        session.execute(
            text("INSERT INTO process_notice (process_id, event) VALUES (:p, :e)"),
            {"p": process.id, "e": process.event},
        )
        if _fresh(session, process, today):
            written += _announce(session, process)
    return written


def _fresh(session: Session, process: Any, today: date) -> bool:
    if process.event == "reactienota":
        return True
    day = session.execute(
        text(
            "SELECT CASE WHEN :e = 'opened' THEN starts_on ELSE ends_on + 1 END "
            "FROM process WHERE id = :p"
        ),
        {"e": process.event, "p": process.id},
    ).scalar_one()
    return today - day <= NOTICE_FRESH


def _announce(session: Session, process: Any) -> int:
    followers = session.execute(
        text(
            f"SELECT DISTINCT ON (s.id) {SUBSCRIBER_COLUMNS} FROM process p "
            "JOIN subscription s ON s.confirmed_at IS NOT NULL AND ("
            "  (s.kind = 'process' AND s.process_id = p.id)"
            "  OR (s.kind = 'area' AND ST_Intersects(s.area, p.geom))"
            "  OR (s.kind = 'buurt' AND EXISTS (SELECT 1 FROM buurt b "
            "      WHERE b.code = s.buurt_code AND ST_Intersects(b.geom, p.geom)))) "
            "JOIN mail_address a ON a.id = s.address_id WHERE p.id = :p"
        ),
        {"p": process.id},
    ).all()
    written = 0
    for follower in followers:
        if follower.frequency != "immediate":
            queue_update(session, follower.id, process.event, process_id=process.id)
            continue
        message = Message(
            follower.address,
            f"process_{process.event}",
            follower.language,
            unsubscribe_url(follower.id),
            {"title": process.title},
        )
        write(session, message, process=process)
        written += 1
    return written


def satisfaction(session: Session, now: datetime, after_days: int) -> int:
    """Ask each author (confirmed address, still following) once, `after_days` after the outcome
    beantwoord/gerealiseerd, whether they are satisfied."""
    due = session.execute(
        text(
            "SELECT c.id, c.title, c.status, c.response, s.id AS subscription_id, s.language, "
            "a.address FROM contribution c "
            "JOIN subscription s ON s.contribution_id = c.id AND s.kind = 'author' "
            "  AND s.confirmed_at IS NOT NULL "
            "JOIN mail_address a ON a.id = s.address_id "
            "WHERE c.status IN ('beantwoord', 'gerealiseerd') AND c.withdrawn_at IS NULL "
            "AND c.responded_at <= :before "
            "AND NOT EXISTS (SELECT 1 FROM satisfaction q WHERE q.contribution_id = c.id) "
            "FOR UPDATE OF c SKIP LOCKED"
        ),
        {"before": now - timedelta(days=after_days)},
    ).all()
    for row in due:
        session.execute(
            text("INSERT INTO satisfaction (contribution_id) VALUES (:id)"), {"id": row.id}
        )
        message = Message(
            row.address,
            "satisfaction",
            row.language,
            unsubscribe_url(row.subscription_id),
            {"title": row.title},
        )
        write(
            session, message, contribution=row, answer=links.token(secret(), "satisfaction", row.id)
        )
    return len(due)


STAFF_DIGEST_EVERY = timedelta(days=1)


def staff_digests(session: Session, now: datetime) -> int:
    """Once a day at most: planners hear of new input in the processes they made, moderators
    (and admins) of what waits in moderation; only when there is something."""
    staff = session.execute(
        text(
            "SELECT u.id, u.email, u.roles FROM app_user u WHERE u.active AND u.mail_digest "
            "AND u.roles && ARRAY['planner', 'moderator', 'admin']::text[] "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'staff_digest' "
            "  AND o.to_address = u.email AND o.created_at > :since)"
        ),
        {"since": now - STAFF_DIGEST_EVERY},
    ).all()
    written = 0
    for user in staff:
        new_input = _new_input(session, user.id, now - STAFF_DIGEST_EVERY)
        waiting = _waiting(session, user) if {"moderator", "admin"} & set(user.roles) else []
        if not new_input and not waiting:
            continue
        values = {"count": len(new_input) + len(waiting)}
        language = current_app.config["KAART"].default_language
        stop = f"{public_base()}/e-mail/medewerker/{links.token(secret(), 'staff', user.id)}"
        message = Message(user.email, "staff_digest", language, stop, values)
        write(session, message, new_input=new_input, waiting=waiting)
        written += 1
    return written


def _new_input(session: Session, user_id: Any, since: datetime) -> list[Any]:
    return session.execute(
        text(
            "SELECT c.id, c.title, c.category, c.visibility, p.title AS process_title "
            "FROM contribution c JOIN process p ON p.id = c.process_id "
            "WHERE p.created_by = :u AND c.created_at > :since AND c.withdrawn_at IS NULL "
            "ORDER BY c.created_at"
        ),
        {"u": user_id, "since": since},
    ).all()


def _waiting(session: Session, _user: Any) -> list[Any]:
    return session.execute(
        text(
            "SELECT c.id, c.title, c.category, c.visibility, p.title AS process_title "
            "FROM contribution c LEFT JOIN process p ON p.id = c.process_id "
            "WHERE c.visibility = 'pending' AND c.withdrawn_at IS NULL ORDER BY c.created_at"
        )
    ).all()
