"""Retention: when personal text was removed, and when a comment was hidden.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08

- ``contribution.redacted_at``: when the retention purge or an erasure replaced the title and
  description by a fixed marker and removed the photos (kaart/services/retention.py). The record
  and its history stay.
- ``comment.hidden_at``: when a moderator hid the comment (contributions have their history for
  that; comments have none). The retention of hidden content counts from it. Comments hidden
  before this migration get the moment of their audit entry, or else the migration's own
  moment, so nothing is removed sooner than the policy says.
- ``comment.redacted_at``: when its text and author name were removed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("contribution", sa.Column("redacted_at", STAMP))
    op.add_column("comment", sa.Column("hidden_at", STAMP))
    op.add_column("comment", sa.Column("redacted_at", STAMP))
    op.execute(
        """
        UPDATE comment m SET hidden_at = coalesce(
          (SELECT max(a.at) FROM audit_event a
           WHERE a.action = 'comment.hidden' AND a.details ->> 'comment_id' = m.id::text),
          now())
        WHERE m.visibility = 'hidden'
        """
    )
    op.create_check_constraint("hidden_at", "comment", "hidden_at IS NULL OR visibility = 'hidden'")


def downgrade() -> None:
    op.drop_constraint("ck_comment_hidden_at", "comment", type_="check")
    op.drop_column("comment", "redacted_at")
    op.drop_column("comment", "hidden_at")
    op.drop_column("contribution", "redacted_at")
