"""Location privacy: what the public sees of a contribution's place.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

- ``contribution.public_geom geometry(Geometry, 4326) NOT NULL``: the geometry every public
  output shows. Near a home (kaart/services/privacy.py) a point, or a line shorter than 50 m or
  an area under 1,000 m², is published as the centre of its cell in a fixed grid in RD New;
  otherwise it is the exact geometry. The writes compute it in the same statement as ``geom``.
- ``contribution.location_generalised boolean NOT NULL DEFAULT false``: whether it is.
- A GiST index on ``public_geom``: public bbox, near and tile queries filter on it.

Existing contributions are backfilled the cautious way (privacy by default): every point and
every small line or area becomes the centre of its 50 m cell, whatever lies near it, because a
migration cannot know the installation's settings. ``kaart privacy refresh`` then applies the
real rule (only near homes, with KAART_PRIVACY_DISTANCE_M and KAART_PRIVACY_CELL_M).
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The cautious backfill: the rule of kaart/services/privacy.py without an address layer, with
# the default 50 m cell; written out here so that later code changes do not change a migration.
BACKFILL = """
UPDATE contribution SET
  location_generalised = small,
  public_geom = CASE WHEN small THEN ST_Transform(ST_SetSRID(ST_MakePoint(
      floor(ST_X(rd) / 50) * 50 + 25, floor(ST_Y(rd) / 50) * 50 + 25), 28992), 4326)
    ELSE geom END
FROM (
  SELECT id AS ident, ST_PointOnSurface(ST_Transform(geom, 28992)) AS rd,
         (ST_Dimension(geom) = 0 OR coalesce(length_m < 50, false)
          OR coalesce(area_m2 < 1000, false)) AS small
  FROM contribution
) s
WHERE s.ident = contribution.id
"""


def upgrade() -> None:
    op.add_column(
        "contribution",
        sa.Column("public_geom", Geometry("GEOMETRY", srid=4326, spatial_index=False)),
    )
    op.add_column(
        "contribution",
        sa.Column("location_generalised", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.execute(BACKFILL)
    op.alter_column("contribution", "public_geom", nullable=False)
    op.create_index(
        "ix_contribution_public_geom", "contribution", ["public_geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_contribution_public_geom", "contribution")
    op.drop_column("contribution", "location_generalised")
    op.drop_column("contribution", "public_geom")
