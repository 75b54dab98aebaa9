"""E-mail: residents' addresses (never public), what they follow, the outbox, the satisfaction
question, and which process notices went out. kaart/mail/ owns every row here.

- ``mail_address``: one row per address (lower-case), confirmed by a click (double opt-in).
  A contribution points at its author's address; nothing public ever joins this table.
- ``contribution_edit_token``: extra private links made by "Stuur mijn links" (the first link's
  hash stays on the contribution; the tokens themselves are never stored).
- ``subscription``: an address follows its own contribution (`author`), another contribution,
  a process, a buurt or an area, immediately or in a daily/weekly digest, in NL or EN.
- ``mail_update``: what happened for a digest subscription since its last digest.
- ``outbox``: messages written in the transaction of the change that causes them, sent by the
  worker (`kaart mail work`) with retries; bodies are emptied once sent.
- ``satisfaction``: the author was asked, four weeks after the outcome, whether they are
  satisfied; the answer (and so a reopen request) is for the planner.
- ``process_notice``: a process's opening, closing and reactienota were announced once.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk

ADDRESS_MAX = 254  # RFC 5321's longest usable address
LANGUAGES = ("nl", "en")
KINDS = ("author", "contribution", "process", "buurt", "area")
FREQUENCIES = ("immediate", "daily", "weekly")
UPDATE_EVENTS = ("new", "status", "opened", "closed", "reactienota")
OUTBOX_STATES = ("pending", "sent", "dead")
NOTICES = ("opened", "closed", "reactienota")


def _moment(name: str) -> Column:
    return Column(name, DateTime(timezone=True))


mail_address = Table(
    "mail_address",
    metadata,
    uuid_pk(),
    Column("address", Text, nullable=False, unique=True),
    _moment("confirmed_at"),
    stamp(),
    stamp("last_used_at"),
    CheckConstraint(
        f"address = lower(address) AND char_length(address) BETWEEN 3 AND {ADDRESS_MAX}",
        name="address",
    ),
)

contribution_edit_token = Table(
    "contribution_edit_token",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        nullable=False,
    ),
    stamp(),
    CheckConstraint("octet_length(token_hash) = 32", name="token_hash"),
)
Index("ix_contribution_edit_token_contribution_id", contribution_edit_token.c.contribution_id)

subscription = Table(
    "subscription",
    metadata,
    uuid_pk(),
    Column("address_id", UUID, ForeignKey("mail_address.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("contribution_id", UUID, ForeignKey("contribution.id", ondelete="CASCADE")),
    Column("process_id", UUID, ForeignKey("process.id", ondelete="CASCADE")),
    Column("buurt_code", String(10)),
    Column("area", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False)),
    Column("language", String(2), nullable=False),
    Column("frequency", Text, nullable=False, server_default="immediate"),
    _moment("confirmed_at"),
    stamp(),
    _moment("digest_at"),
    CheckConstraint(f"kind IN ({one_of(KINDS)})", name="kind"),
    CheckConstraint(f"language IN ({one_of(LANGUAGES)})", name="language"),
    CheckConstraint(f"frequency IN ({one_of(FREQUENCIES)})", name="frequency"),
    CheckConstraint("num_nonnulls(contribution_id, process_id, buurt_code, area) = 1", name="one"),
    CheckConstraint(
        "(kind IN ('author', 'contribution')) = (contribution_id IS NOT NULL)", name="target"
    ),
    CheckConstraint("area IS NULL OR (ST_IsValid(area) AND NOT ST_IsEmpty(area))", name="area"),
)
Index("ix_subscription_address_id", subscription.c.address_id)
Index("ix_subscription_contribution_id", subscription.c.contribution_id)
Index("ix_subscription_process_id", subscription.c.process_id)
Index("ix_subscription_buurt_code", subscription.c.buurt_code)
Index("ix_subscription_area", subscription.c.area, postgresql_using="gist")

mail_update = Table(
    "mail_update",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "subscription_id",
        UUID,
        ForeignKey("subscription.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event", Text, nullable=False),
    Column("contribution_id", UUID, ForeignKey("contribution.id", ondelete="CASCADE")),
    Column("process_id", UUID, ForeignKey("process.id", ondelete="CASCADE")),
    Column("status", String(20)),
    stamp("at"),
    CheckConstraint(f"event IN ({one_of(UPDATE_EVENTS)})", name="event"),
)
Index("ix_mail_update_subscription_id", mail_update.c.subscription_id)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("to_address", Text, nullable=False),
    Column("language", String(2), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text),
    Column("body_html", Text),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    stamp(),
    _moment("sent_at"),
    CheckConstraint(f"status IN ({one_of(OUTBOX_STATES)})", name="status"),
    CheckConstraint(f"language IN ({one_of(LANGUAGES)})", name="language"),
)
Index(
    "ix_outbox_due",
    outbox.c.next_attempt_at,
    postgresql_where=outbox.c.status == "pending",
)

satisfaction = Table(
    "satisfaction",
    metadata,
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    stamp("asked_at"),
    _moment("answered_at"),
    Column("satisfied", Boolean),
)

process_notice = Table(
    "process_notice",
    metadata,
    Column("process_id", UUID, ForeignKey("process.id", ondelete="CASCADE"), nullable=False),
    Column("event", Text, nullable=False),
    stamp("at"),
    PrimaryKeyConstraint("process_id", "event"),
    CheckConstraint(f"event IN ({one_of(NOTICES)})", name="event"),
)
