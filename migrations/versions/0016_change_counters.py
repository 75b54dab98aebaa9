"""Change counters: cheap versions for the ETags of tiles, OGC items and /api/v1 lists.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10

- ``change_counter(name text, version bigint, changed_at)``: one row per counted table (see
  kaart/models/change.py), created by its first change.
- ``count_change()``: a statement-level trigger after every INSERT, UPDATE, DELETE and TRUNCATE
  of ``contribution``, ``solar_potential``, ``buurt`` and ``layer`` moves that table's counter
  in the same transaction. Triggers, not the services, so every write path counts: the API,
  moderation, the status workflow, retention, the privacy refresh, the loaders, `kaart solar
  compute`, and a hand-made UPDATE. Once per statement, so a bulk write costs one row update.
- The counter row stays locked from a transaction's first counted write until it ends, so
  writers of one table commit one after another from that point. Writes of contributions are
  short transactions; the other tables are written by commands.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COUNTED = ("contribution", "solar_potential", "buurt", "layer")


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default=sa.text("1")),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("version > 0", name="version"),
    )
    op.execute(
        """
        CREATE FUNCTION count_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO change_counter AS c (name) VALUES (TG_TABLE_NAME)
          ON CONFLICT (name) DO UPDATE SET version = c.version + 1, changed_at = now();
          RETURN NULL;
        END $$;
        """
    )
    for table in COUNTED:
        op.execute(
            f"CREATE TRIGGER {table}_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION count_change()"
        )


def downgrade() -> None:
    for table in COUNTED:
        op.execute(f"DROP TRIGGER {table}_counted ON {table}")
    op.execute("DROP FUNCTION count_change()")
    op.drop_table("change_counter")
