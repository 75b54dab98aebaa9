"""The audit log: who did what in the staff area and on the command line (migration 0010).

``actor_id`` has no foreign key on purpose: the log outlives the accounts it names, and ``actor``
keeps the e-mail address (or ``cli``, ``system``, ``anonymous``) as it was. Triggers (migration
0010, not declared here) refuse UPDATE and TRUNCATE, and DELETE except by the retention purge
(kaart/services/audit.purge).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from kaart.models.base import UUID, metadata, stamp

ACTOR_MAX = 254

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    stamp("at"),
    Column("actor_id", UUID),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("address", Text),  # the client address's keyed hash; NULL on the command line
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint("action ~ '^[a-z_]+(\\.[a-z_]+)*$'", name="action"),
    CheckConstraint(f"char_length(actor) BETWEEN 1 AND {ACTOR_MAX}", name="actor_length"),
    CheckConstraint("jsonb_typeof(details) = 'object'", name="details_object"),
)
Index("ix_audit_event_at", audit_event.c.at)
Index("ix_audit_event_action_at", audit_event.c.action, audit_event.c.at)
