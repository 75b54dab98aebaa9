"""Mail about initiatives, through the outbox (kaart/mail/outbox.py) in the caller's
transaction: the initiator's receipt with the private link, and news (updates, a new status)
for joiners who gave an address. A joiner's address gets news only once confirmed (double
opt-in: /initiatieven/bevestigen/<token>, or confirmed already by following something). Each
message to a joiner carries a signed link that stops it (/initiatieven/afmelden/<token>, one
POST as RFC 8058 asks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.mail.notify import secret
from kaart.mail.outbox import Message, public_base, write

PURPOSE = "initiative-stop"
CONFIRM = "initiative-confirm"


def stop_token(participant_id: uuid.UUID, key: str | None = None, purpose: str = PURPOSE) -> str:
    return f"{participant_id}.{_signature(participant_id, key, purpose)}"


def verify_stop(value: str, purpose: str = PURPOSE) -> uuid.UUID | None:
    ident, _, signature = value.partition(".")
    try:
        parsed = uuid.UUID(ident)
    except ValueError:
        return None
    good = hmac.compare_digest(signature, _signature(parsed, None, purpose))
    return parsed if good else None


def _signature(ident: uuid.UUID, key: str | None = None, purpose: str = PURPOSE) -> str:
    """An HMAC with the app's secret (`key` for tests and scripts outside a request)."""
    digest = hmac.new(
        (key or secret()).encode(), f"{purpose}:{ident}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def stop_url(participant_id: uuid.UUID) -> str:
    return f"{public_base()}/initiatieven/afmelden/{stop_token(participant_id)}"


def ask_confirmation(session: Session, participant_id: uuid.UUID) -> None:
    """A joiner gave an address nobody confirmed yet: ask before sending any news."""
    row = session.execute(
        text(
            "SELECT p.initiative_id, p.language, a.address, i.title FROM initiative_participant p "
            "JOIN mail_address a ON a.id = p.address_id JOIN initiative i ON i.id = "
            "p.initiative_id WHERE p.id = :id AND a.confirmed_at IS NULL"
        ),
        {"id": participant_id},
    ).one_or_none()
    if row is None:
        return
    token = stop_token(participant_id, purpose=CONFIRM)
    message = Message(
        row.address,
        "initiative_confirm",
        row.language,
        unsubscribe=stop_url(participant_id),
        subject_values={"title": row.title},
    )
    confirm = f"{public_base()}/initiatieven/bevestigen/{token}"
    write(session, message, title=row.title, confirm=confirm, page=page_url(row.initiative_id))


def confirm(session: Session, participant_id: uuid.UUID) -> uuid.UUID | None:
    """The joiner clicked the link: their address is confirmed; the initiative's id."""
    row = session.execute(
        text(
            "UPDATE mail_address a SET confirmed_at = coalesce(a.confirmed_at, now()), "
            "last_used_at = now() FROM initiative_participant p WHERE p.id = :id "
            "AND a.id = p.address_id RETURNING p.initiative_id"
        ),
        {"id": participant_id},
    ).one_or_none()
    return row.initiative_id if row else None


def page_url(initiative_id: uuid.UUID) -> str:
    return f"{public_base()}/initiatieven/{initiative_id}"


def private_url(initiative_id: uuid.UUID, token: str) -> str:
    return f"{public_base()}/initiatieven/{initiative_id}/beheer/{token}"


def receipt(session: Session, initiative_id: uuid.UUID, token: str) -> None:
    """The initiator gave an address: send the private link."""
    row = session.execute(
        text(
            "SELECT i.title, i.language, a.address FROM initiative i "
            "JOIN mail_address a ON a.id = i.contact_address_id WHERE i.id = :id"
        ),
        {"id": initiative_id},
    ).one_or_none()
    if row is None:
        return
    message = Message(row.address, "initiative_created", row.language, subject_values={})
    write(
        session,
        message,
        title=row.title,
        page=page_url(initiative_id),
        private=private_url(initiative_id, token),
    )


def tell_participants(session: Session, initiative_id: uuid.UUID, kind: str, news: str) -> int:
    """`initiative_update` (news is the text) or `initiative_status` (news is the status) to
    every joiner with an address who has not stopped; how many messages."""
    rows = session.execute(
        text(
            "SELECT p.id, p.language, a.address, i.title FROM initiative_participant p "
            "JOIN mail_address a ON a.id = p.address_id JOIN initiative i ON i.id = "
            "p.initiative_id WHERE p.initiative_id = :id AND p.withdrawn_at IS NULL "
            "AND a.confirmed_at IS NOT NULL AND i.visibility = 'published'"
        ),
        {"id": initiative_id},
    ).all()
    for row in rows:
        message = Message(
            row.address,
            kind,
            row.language,
            unsubscribe=stop_url(row.id),
            subject_values={"title": row.title},
        )
        write(session, message, title=row.title, news=news, page=page_url(initiative_id))
    return len(rows)


def stop(session: Session, participant_id: uuid.UUID) -> bool:
    """No more mail for this joiner: their address is let go (retention removes it)."""
    return (
        session.execute(
            text(
                "UPDATE initiative_participant SET address_id = NULL WHERE id = :id "
                "AND address_id IS NOT NULL RETURNING id"
            ),
            {"id": participant_id},
        ).first()
        is not None
    )
