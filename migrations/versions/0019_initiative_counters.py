"""Change counters for initiatives and adoptions: the ETags of their lists and OGC items.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

Their versions were ``count(*)`` and ``max(updated_at)``, which can miss a change: ``now()`` is
a transaction's start, so an initiative changed by a transaction that commits after a later one
does not move the maximum, and its list kept the old ETag until the next change. The counters of
migration 0016 move in the transaction of every write, whatever order transactions commit in.
``initiative_need`` and ``initiative_participant`` are counted too: the public items show what
is still needed and how many joined, and the retention purge removes participants without
touching the initiative.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COUNTED = ("initiative", "initiative_need", "initiative_participant", "adoption")


def upgrade() -> None:
    for table in COUNTED:
        op.execute(
            f"CREATE TRIGGER {table}_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION count_change()"
        )


def downgrade() -> None:
    for table in COUNTED:
        op.execute(f"DROP TRIGGER {table}_counted ON {table}")
