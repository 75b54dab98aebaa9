"""An open-data layer as loaded: where it came from, under which licence, and when.

The features themselves live in one table per layer in schema `open_data` (`LAYER_SCHEMA`),
created by geodata/load.py when a layer is loaded; they are not declared here.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Float, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from kaart.models.base import metadata, one_of

GEOMETRY_FAMILIES = ("point", "line", "polygon")

layer = Table(
    "layer",
    metadata,
    Column("name", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("licence", Text, nullable=False),
    Column("attribution", Text, nullable=False),
    Column("feature_count", Integer, nullable=False),
    Column("source_sha256", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("kind", Text),
    Column("geometry_family", Text),
    # The table in schema open_data holding the features (RD New); None for the buurt lookup.
    Column("table_name", Text),
    Column("bbox", ARRAY(Float)),  # WGS84
    Column("min_zoom", Integer),
    Column("max_zoom", Integer),
    Column("columns", ARRAY(Text)),
    Column("report", JSONB),
    CheckConstraint(f"geometry_family IN ({one_of(GEOMETRY_FAMILIES)})", name="geometry_family"),
)
