"""Contributions, buurten and the layer catalogue.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CATEGORIES = "'groen', 'speelplek', 'energie', 'knelpunt', 'idee'"
STATUSES = (
    "'ontvangen', 'in_behandeling', 'beantwoord', 'overgenomen', 'niet_overgenomen', "
    "'gerealiseerd', 'ingetrokken'"
)
GEOMETRY_TYPES = "'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'"


def upgrade() -> None:
    op.create_table(
        "layer",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("feature_count", sa.Integer, nullable=False),
        sa.Column("source_sha256", sa.Text, nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "buurt",
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("wijk_code", sa.String(8)),
        sa.Column("gemeente_code", sa.String(6)),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column(
            "geom",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    )
    op.create_index("ix_buurt_geom", "buurt", ["geom"], postgresql_using="gist")

    op.create_table(
        "contribution",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            primary_key=True,
            server_default=sa.func.gen_random_uuid(),
        ),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "geom",
            Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "area_m2",
            sa.Float,
            sa.Computed(
                "CASE WHEN ST_Dimension(geom) = 2 THEN ST_Area(ST_Transform(geom, 28992)) END",
                persisted=True,
            ),
        ),
        sa.Column(
            "length_m",
            sa.Float,
            sa.Computed(
                "CASE WHEN ST_Dimension(geom) = 1 THEN ST_Length(ST_Transform(geom, 28992)) END",
                persisted=True,
            ),
        ),
        sa.Column("buurt_code", sa.String(10)),
        sa.Column("wijk_code", sa.String(8)),
        sa.Column("gemeente_code", sa.String(6)),
        sa.Column("status", sa.String(20), nullable=False, server_default="ontvangen"),
        sa.Column("edit_token_hash", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name="category"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(description) <= 5000", name="description_length"),
        sa.CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        sa.CheckConstraint(f"GeometryType(geom) IN ({GEOMETRY_TYPES})", name="geom_type"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        sa.CheckConstraint("octet_length(edit_token_hash) = 32", name="edit_token_hash"),
        sa.CheckConstraint(
            "(status = 'ingetrokken') = (withdrawn_at IS NOT NULL)",
            name="withdrawn_status",
        ),
    )
    op.create_index("ix_contribution_geom", "contribution", ["geom"], postgresql_using="gist")
    # Keyset paging: newest first, among what is public.
    op.create_index(
        "ix_contribution_page",
        "contribution",
        [sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("contribution")
    op.drop_table("buurt")
    op.drop_table("layer")
