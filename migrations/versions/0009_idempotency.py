"""Idempotency keys: a retried write with the same key gets the first answer, not a duplicate.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

- ``idempotency_key(scope, key_hash, request_hash, status, location, body, resource_id,
  created_at)``: the answer to the first request with a key, kept 24 hours. Only the SHA-256 of
  the client's key is stored; answers never hold a secret (an edit token is derived again from
  the key when the answer is replayed, see kaart/services/idempotency.py).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key_hash", postgresql.BYTEA, nullable=False),
        sa.Column("request_hash", postgresql.BYTEA, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("resource_id", postgresql.UUID(as_uuid=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("scope", "key_hash"),
        sa.CheckConstraint("octet_length(key_hash) = 32", name="key_hash_sha256"),
    )
    op.create_index("ix_idempotency_key_created", "idempotency_key", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_key")
