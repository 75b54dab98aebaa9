"""CBS (or municipal) buurten: the areas contributions are counted and reported in."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Column, Index, String, Table, Text

from kaart.models.base import metadata

buurt = Table(
    "buurt",
    metadata,
    # CBS codes: BU + gemeente (4) + wijk (2) + buurt (2); WK + gemeente + wijk; GM + gemeente.
    Column("code", String(10), primary_key=True),
    Column("name", Text, nullable=False),
    Column("wijk_code", String(8)),
    Column("gemeente_code", String(6)),
    # The open layer the area was loaded from.
    Column("layer", Text, nullable=False),
    Column(
        "geom",
        Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
        nullable=False,
    ),
    CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
)
Index("ix_buurt_geom", buurt.c.geom, postgresql_using="gist")
