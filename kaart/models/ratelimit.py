"""Rate-limit bookkeeping in PostgreSQL: one row per counted event (keys are HMACs)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Identity, Index, Table, Text

from kaart.models.base import metadata, stamp

rate_event = Table(
    "rate_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("bucket", Text, nullable=False),
    Column("key", Text, nullable=False),
    stamp("at"),
)
Index("ix_rate_event_lookup", rate_event.c.bucket, rate_event.c.key, rate_event.c.at)
