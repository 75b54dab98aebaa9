"""Who hears about a change, written in the change's own transaction.

    contribution_created(session, id, address, language, edit_token)  # the author's receipt
    became_public(session, id)          # followers of its process, buurt or area
    status_changed(session, id, status, response)   # the author and the contribution's followers

Followers with `immediate` get a message now (the outbox); digest followers get a mail_update
row that the next digest (kaart/mail/scheduled.py) gathers. Only confirmed subscriptions hear
anything; the author's own subscription is confirmed by the link in the receipt."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.mail import addresses, links
from kaart.mail.outbox import Message, public_base, write

SUBSCRIBER_COLUMNS = "s.id, s.language, s.frequency, a.address, a.id AS address_id"


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def unsubscribe_url(subscription_id: uuid.UUID) -> str:
    return (
        f"{public_base()}/e-mail/afmelden/{links.token(secret(), 'unsubscribe', subscription_id)}"
    )


def after_create(
    session: Session,
    contribution_id: uuid.UUID,
    visibility: str,
    address: str | None,
    language: str,
    edit_token: str,
) -> None:
    """A new contribution: the author's receipt (when they gave an address), and news for the
    followers of where it lies (when the public sees it at once, else on publication)."""
    if address:
        contribution_created(session, contribution_id, address, language, edit_token)
    if visibility == "published":
        became_public(session, contribution_id)


def contribution_created(
    session: Session,
    contribution_id: uuid.UUID,
    address: str,
    language: str,
    edit_token: str,
) -> None:
    """The author gave an address: keep it (never public), follow the contribution for them,
    and send the receipt with the private link (and a confirmation link for a new address)."""
    address_id, confirmed = addresses.remember(session, address)
    session.execute(
        text("UPDATE contribution SET author_address_id = :a WHERE id = :id"),
        {"a": address_id, "id": contribution_id},
    )
    subscription_id = session.execute(
        text(
            "INSERT INTO subscription (address_id, kind, contribution_id, language, confirmed_at) "
            "VALUES (:a, 'author', :c, :lang, CASE WHEN :confirmed THEN now() END) RETURNING id"
        ),
        {"a": address_id, "c": contribution_id, "lang": language, "confirmed": confirmed},
    ).scalar_one()
    row = _contribution(session, contribution_id)
    values = {"title": row.title}
    message = Message(address, "received", language, unsubscribe_url(subscription_id), values)
    confirm = None if confirmed else links.token(secret(), "confirm", subscription_id)
    write(session, message, contribution=row, edit_token=edit_token, confirm=confirm)


def _contribution(session: Session, contribution_id: uuid.UUID) -> Any:
    return session.execute(
        text(
            "SELECT c.id, c.title, c.category, c.status, c.response, c.visibility, "
            "c.buurt_code, b.name AS buurt_name, p.title AS process_title, p.slug AS process_slug "
            "FROM contribution c LEFT JOIN buurt b ON b.code = c.buurt_code "
            "LEFT JOIN process p ON p.id = c.process_id WHERE c.id = :id"
        ),
        {"id": contribution_id},
    ).one()


def became_public(session: Session, contribution_id: uuid.UUID) -> None:
    """New public input: tell who follows its process, its buurt or an area it lies in (where
    the public sees it: the generalised place near homes), but not its own author."""
    followers = session.execute(
        text(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM contribution c "
            "JOIN subscription s ON s.confirmed_at IS NOT NULL AND ("
            "  (s.kind = 'process' AND s.process_id = c.process_id)"
            "  OR (s.kind = 'buurt' AND s.buurt_code = c.buurt_code)"
            "  OR (s.kind = 'area' AND ST_Intersects(s.area, c.public_geom))) "
            "JOIN mail_address a ON a.id = s.address_id "
            "WHERE c.id = :id AND c.visibility = 'published' AND c.withdrawn_at IS NULL "
            "AND a.id IS DISTINCT FROM c.author_address_id"
        ),
        {"id": contribution_id},
    ).all()
    _tell(session, followers, "new", contribution_id)


def status_changed(session: Session, contribution_id: uuid.UUID) -> None:
    """A new status with its response: tell the author and the contribution's followers (those
    who are not its author only while the public can see it)."""
    followers = session.execute(
        text(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscription s "
            "JOIN mail_address a ON a.id = s.address_id "
            "JOIN contribution c ON c.id = s.contribution_id "
            "WHERE s.contribution_id = :id AND s.confirmed_at IS NOT NULL "
            "AND (s.kind = 'author' OR (c.visibility = 'published' AND c.withdrawn_at IS NULL))"
        ),
        {"id": contribution_id},
    ).all()
    _tell(session, followers, "status", contribution_id)


def _tell(session: Session, followers: list[Any], event: str, contribution_id: uuid.UUID) -> None:
    if not followers:
        return
    row = _contribution(session, contribution_id)
    for follower in followers:
        if follower.frequency != "immediate":
            queue_update(
                session, follower.id, event, contribution_id=contribution_id, status=row.status
            )
            continue
        kind = "new_input" if event == "new" else "status"
        unsubscribe = unsubscribe_url(follower.id)
        message = Message(
            follower.address, kind, follower.language, unsubscribe, {"title": row.title}
        )
        write(session, message, contribution=row)


def queue_update(
    session: Session,
    subscription_id: uuid.UUID,
    event: str,
    *,
    contribution_id: uuid.UUID | None = None,
    process_id: uuid.UUID | None = None,
    status: str | None = None,
) -> None:
    session.execute(
        text(
            "INSERT INTO mail_update (subscription_id, event, contribution_id, process_id, status) "
            "VALUES (:s, :event, :c, :p, :status)"
        ),
        {
            "s": subscription_id,
            "event": event,
            "c": contribution_id,
            "p": process_id,
            "status": status,
        },
    )
