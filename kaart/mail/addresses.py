"""A resident's e-mail address: checked, stored once (lower-case), confirmed by a click.

Never public: nothing that the public, the API or a non-privileged export reads joins
mail_address. Retention (kaart/services/retention.py) deletes addresses nothing refers to."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import invalid
from kaart.models.mail import ADDRESS_MAX, LANGUAGES

# Deliberately plain: one @, a dot in the domain, no spaces or control characters.
_ADDRESS = re.compile(
    r"[^@\s\x00-\x1f\x7f<>(),;:\"\[\]\\]+@[^@\s\x00-\x1f\x7f<>(),;:\"\[\]\\]+\.[a-z]{2,}"
)


def parse(value: Any, field: str = "email") -> str | None:
    """The address, lower-cased, or None when not given; 422 when it is not an address."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise invalid(field, "The e-mail address must be text.", "email_not_text")
    address = value.strip().lower()
    if len(address) > ADDRESS_MAX or not _ADDRESS.fullmatch(address):
        raise invalid(field, "This is not an e-mail address (name@example.nl).", "email_invalid")
    return address


def language(value: Any, field: str = "language") -> str | None:
    if value is None:
        return None
    if value not in LANGUAGES:
        raise invalid(field, "The language is nl or en.", "language_invalid")
    return value


def remember(session: Session, address: str) -> tuple[uuid.UUID, bool]:
    """The address's id (stored now if new) and whether it was confirmed already."""
    row = session.execute(
        text(
            "INSERT INTO mail_address (address) VALUES (:address) "
            "ON CONFLICT (address) DO UPDATE SET last_used_at = now() "
            "RETURNING id, confirmed_at IS NOT NULL AS confirmed"
        ),
        {"address": address},
    ).one()
    return row.id, row.confirmed


def confirm(session: Session, address_id: uuid.UUID) -> None:
    session.execute(
        text(
            "UPDATE mail_address SET confirmed_at = coalesce(confirmed_at, now()), "
            "last_used_at = now() WHERE id = :id"
        ),
        {"id": address_id},
    )


def find(session: Session, address: str) -> uuid.UUID | None:
    return session.execute(
        text("SELECT id FROM mail_address WHERE address = :address"), {"address": address}
    ).scalar_one_or_none()


def address_of(session: Session, address_id: uuid.UUID) -> str | None:
    return session.execute(
        text("SELECT address FROM mail_address WHERE id = :id"), {"id": address_id}
    ).scalar_one_or_none()
