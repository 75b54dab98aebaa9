"""Photos on contributions: re-encoded images on disk, one row each here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            primary_key=True,
            server_default=sa.func.gen_random_uuid(),
        ),
        sa.Column(
            "contribution_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("contribution.id", ondelete="CASCADE"),
            nullable=False,
        ),
        # What we wrote (after re-encoding), never what the uploader claimed.
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("thumb_width", sa.Integer, nullable=False),
        sa.Column("thumb_height", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'image/webp')", name="media_type"
        ),
        sa.CheckConstraint(
            "width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0 AND bytes > 0",
            name="sizes",
        ),
    )
    op.create_index("ix_photo_contribution", "photo", ["contribution_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_photo_contribution", "photo")
    op.drop_table("photo")
