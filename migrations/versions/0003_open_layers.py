"""Open layers: a schema for their tables and a fuller catalogue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS open_data")
    op.add_column("layer", sa.Column("kind", sa.Text))
    op.add_column("layer", sa.Column("geometry_family", sa.Text))
    op.add_column("layer", sa.Column("table_name", sa.Text))
    op.add_column("layer", sa.Column("bbox", postgresql.ARRAY(sa.Float)))
    op.add_column("layer", sa.Column("min_zoom", sa.Integer))
    op.add_column("layer", sa.Column("max_zoom", sa.Integer))
    op.add_column("layer", sa.Column("columns", postgresql.ARRAY(sa.Text)))
    op.add_column("layer", sa.Column("report", postgresql.JSONB))
    op.create_check_constraint(
        "geometry_family", "layer", "geometry_family IN ('point', 'line', 'polygon')"
    )


def downgrade() -> None:
    for column in (
        "report",
        "columns",
        "max_zoom",
        "min_zoom",
        "bbox",
        "table_name",
        "geometry_family",
        "kind",
    ):
        op.drop_column("layer", column)
    op.execute("DROP SCHEMA IF EXISTS open_data CASCADE")
