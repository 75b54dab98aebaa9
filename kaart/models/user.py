"""Staff accounts (moderators, planners, the energy co-op, admins); residents need none."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Table, Text, true
from sqlalchemy.dialects.postgresql import ARRAY

from kaart.models.base import metadata, one_of, stamp, uuid_pk

ROLES = ("moderator", "planner", "coop", "admin", "partner")
DISPLAY_NAME_MAX = 120

app_user = Table(
    "app_user",
    metadata,
    uuid_pk(),
    Column("email", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("roles", ARRAY(Text), nullable=False, server_default="{}"),
    Column("active", Boolean, nullable=False, server_default=true()),
    stamp(),
    Column("last_login_at", DateTime(timezone=True)),
    # The daily staff digest by e-mail (kaart/mail/scheduled.py); one click in it turns it off.
    Column("mail_digest", Boolean, nullable=False, server_default=true()),
    CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email"),
    CheckConstraint(f"roles <@ ARRAY[{one_of(ROLES)}]::text[]", name="roles"),
    CheckConstraint(
        f"char_length(display_name) BETWEEN 1 AND {DISPLAY_NAME_MAX}", name="display_name"
    ),
)
