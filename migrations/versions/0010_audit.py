"""Audit log: who did what in the staff area and on the command line.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

- ``audit_event(id bigint, at, actor_id uuid NULL, actor text, action text, address text NULL,
  details jsonb)``: one row per audited action (logins, logouts, account changes, unlocks,
  exports and reactienota downloads, layer loads). ``actor_id`` has no foreign key on purpose:
  the log outlives the accounts it names, and ``actor`` keeps the e-mail address (or ``cli``)
  as it was. ``address`` is the client's IP address (NULL on the command line).
- Append-only: a trigger refuses UPDATE and TRUNCATE always, and DELETE unless the transaction
  has set ``kaart.audit_purge_before`` (``set_config(..., true)``, so it ends with the
  transaction) and the row is older than that moment. Only the retention purge
  (kaart/services/audit.purge) does that. This guards against mistakes and application bugs; a
  database owner can still drop the trigger, so it is not tamper-proof against one.
- Moderation and status decisions are not copied here: they already are append-only rows of
  ``contribution_event``, which the audit view reads alongside; an index on its ``at`` keeps
  that view's newest-first pages quick.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor_id", postgresql.UUID(as_uuid=True)),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column(
            "details",
            postgresql.JSONB,
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        sa.CheckConstraint("action ~ '^[a-z_]+(\\.[a-z_]+)*$'", name="action"),
        sa.CheckConstraint("char_length(actor) BETWEEN 1 AND 254", name="actor_length"),
        sa.CheckConstraint("jsonb_typeof(details) = 'object'", name="details_object"),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_action_at", "audit_event", ["action", "at"])
    op.create_index("ix_contribution_event_at", "contribution_event", ["at"])
    op.execute(
        """
        CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          purge_before text := current_setting('kaart.audit_purge_before', true);
        BEGIN
          -- Only the retention purge deletes, and only rows older than the moment it names.
          IF TG_OP = 'DELETE' AND coalesce(purge_before, '') <> '' THEN
            IF OLD.at < purge_before::timestamptz THEN
              RETURN OLD;
            END IF;
          END IF;
          RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER audit_event_append_only
          BEFORE UPDATE OR DELETE ON audit_event
          FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
        CREATE TRIGGER audit_event_no_truncate
          BEFORE TRUNCATE ON audit_event
          FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
        """
    )


def downgrade() -> None:
    op.drop_index("ix_contribution_event_at", "contribution_event")
    op.drop_table("audit_event")
    op.execute("DROP FUNCTION audit_event_append_only()")
