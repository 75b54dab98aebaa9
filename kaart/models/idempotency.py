"""Idempotency keys: a retried write with the same key gets the first answer, not a duplicate.

Only the SHA-256 of the client's key is stored, and answers never hold a secret (see
kaart/services/idempotency.py); rows are kept 24 hours.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import BYTEA

from kaart.models.base import UUID, metadata, stamp

idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("scope", Text, nullable=False),
    Column("key_hash", BYTEA, nullable=False),
    Column("request_hash", BYTEA, nullable=False),
    Column("status", SmallInteger, nullable=False),  # the first answer's HTTP status
    Column("location", Text),
    Column("body", Text, nullable=False),
    Column("resource_id", UUID),
    stamp(),
    PrimaryKeyConstraint("scope", "key_hash"),
    CheckConstraint("octet_length(key_hash) = 32", name="key_hash_sha256"),
)
Index("ix_idempotency_key_created", idempotency_key.c.created_at)  # the 24-hour clean-up
