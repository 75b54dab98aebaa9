"""A contribution may be about an open-data object (a BAG pand, a BGT green area, a tree).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contribution", sa.Column("object_layer", sa.Text))
    op.add_column("contribution", sa.Column("object_id", sa.Text))
    op.create_check_constraint(
        "object_ref", "contribution", "(object_layer IS NULL) = (object_id IS NULL)"
    )
    op.create_index(
        "ix_contribution_object",
        "contribution",
        ["object_layer", "object_id"],
        postgresql_where=sa.text("object_layer IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_contribution_object", "contribution")
    op.drop_constraint("ck_contribution_object_ref", "contribution")
    op.drop_column("contribution", "object_id")
    op.drop_column("contribution", "object_layer")
