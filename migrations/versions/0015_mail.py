"""E-mail: addresses, following, the outbox, the satisfaction question (kaart/mail/).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

See kaart/models/mail.py for what each table is for. ``contribution.author_address_id`` points
at the author's address (never public); ``process.reactienota_published_at`` says when the
reactienota was made public on the process page; ``app_user.mail_digest`` whether a staff member
gets the daily digest.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = UUID(as_uuid=True)


def _uuid_pk() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _stamp(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _moment(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True))


def _ref(name: str, table: str, **kwargs) -> sa.Column:
    return sa.Column(name, ID, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), **kwargs)


def upgrade() -> None:
    op.create_table(
        "mail_address",
        _uuid_pk(),
        sa.Column("address", sa.Text, nullable=False, unique=True),
        _moment("confirmed_at"),
        _stamp(),
        _stamp("last_used_at"),
        sa.CheckConstraint(
            "address = lower(address) AND char_length(address) BETWEEN 3 AND 254", name="address"
        ),
    )
    op.add_column("contribution", sa.Column("author_address_id", ID))
    op.create_foreign_key(
        "fk_contribution_author_address_id_mail_address",
        "contribution",
        "mail_address",
        ["author_address_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_contribution_author_address_id", "contribution", ["author_address_id"])
    op.add_column("process", _moment("reactienota_published_at"))
    op.add_column(
        "app_user",
        sa.Column("mail_digest", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "contribution_edit_token",
        sa.Column("token_hash", sa.LargeBinary, primary_key=True),
        _ref("contribution_id", "contribution", nullable=False),
        _stamp(),
        sa.CheckConstraint("octet_length(token_hash) = 32", name="token_hash"),
    )
    op.create_index(
        "ix_contribution_edit_token_contribution_id", "contribution_edit_token", ["contribution_id"]
    )
    _subscriptions()
    _outbox()
    op.create_table(
        "satisfaction",
        _ref("contribution_id", "contribution", primary_key=True),
        _stamp("asked_at"),
        _moment("answered_at"),
        sa.Column("satisfied", sa.Boolean),
    )
    op.create_table(
        "process_notice",
        _ref("process_id", "process", nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        _stamp("at"),
        sa.PrimaryKeyConstraint("process_id", "event"),
        sa.CheckConstraint("event IN ('opened', 'closed', 'reactienota')", name="event"),
    )


def _subscriptions() -> None:
    op.create_table(
        "subscription",
        _uuid_pk(),
        _ref("address_id", "mail_address", nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        _ref("contribution_id", "contribution"),
        _ref("process_id", "process"),
        sa.Column("buurt_code", sa.String(10)),
        sa.Column("area", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("frequency", sa.Text, nullable=False, server_default="immediate"),
        _moment("confirmed_at"),
        _stamp(),
        _moment("digest_at"),
        sa.CheckConstraint(
            "kind IN ('author', 'contribution', 'process', 'buurt', 'area')", name="kind"
        ),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language"),
        sa.CheckConstraint("frequency IN ('immediate', 'daily', 'weekly')", name="frequency"),
        sa.CheckConstraint(
            "num_nonnulls(contribution_id, process_id, buurt_code, area) = 1", name="one"
        ),
        sa.CheckConstraint(
            "(kind IN ('author', 'contribution')) = (contribution_id IS NOT NULL)", name="target"
        ),
        sa.CheckConstraint(
            "area IS NULL OR (ST_IsValid(area) AND NOT ST_IsEmpty(area))", name="area"
        ),
    )
    for column in ("address_id", "contribution_id", "process_id", "buurt_code"):
        op.create_index(f"ix_subscription_{column}", "subscription", [column])
    op.create_index("ix_subscription_area", "subscription", ["area"], postgresql_using="gist")
    op.create_table(
        "mail_update",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _ref("subscription_id", "subscription", nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        _ref("contribution_id", "contribution"),
        _ref("process_id", "process"),
        sa.Column("status", sa.String(20)),
        _stamp("at"),
        sa.CheckConstraint(
            "event IN ('new', 'status', 'opened', 'closed', 'reactienota')", name="event"
        ),
    )
    op.create_index("ix_mail_update_subscription_id", "mail_update", ["subscription_id"])


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("to_address", sa.Text, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text),
        sa.Column("body_html", sa.Text),
        sa.Column("headers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("last_error", sa.Text),
        _stamp(),
        _moment("sent_at"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language"),
    )
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    for table in ("process_notice", "satisfaction", "outbox", "mail_update", "subscription"):
        op.drop_table(table)
    op.drop_table("contribution_edit_token")
    op.drop_column("process", "reactienota_published_at")
    op.drop_column("app_user", "mail_digest")
    op.drop_index("ix_contribution_author_address_id", "contribution")
    op.drop_constraint(
        "fk_contribution_author_address_id_mail_address", "contribution", type_="foreignkey"
    )
    op.drop_column("contribution", "author_address_id")
    op.drop_table("mail_address")
