"""Open311: what a GeoReport v2 request carries beyond a contribution.

``open311_request`` keeps the request's public ``media_url`` and the resolved
``address_string``, and its contact fields, which are personal data: never shown by any public
endpoint. A row belongs to one contribution and goes with it. The foreign key is checked at
commit, so the request row and its contribution are written in one transaction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_request",
        sa.Column("contribution_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("media_url", sa.Text),
        sa.Column("address_string", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("first_name", sa.Text),
        sa.Column("last_name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("device_id", sa.Text),
        sa.Column("account_id", sa.Text),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name="fk_open311_request_contribution",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.CheckConstraint("char_length(media_url) <= 2000", name="media_url_length"),
    )


def downgrade() -> None:
    op.drop_table("open311_request")
