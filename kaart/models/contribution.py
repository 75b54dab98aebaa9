"""A resident's contribution (bijdrage): one pin, line or polygon with its text."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Computed, DateTime, Float, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kaart.models.base import Base

CATEGORIES = ("groen", "speelplek", "energie", "knelpunt", "idee")
# `ingetrokken` (withdrawn by the author) is set only through the private edit link.
STATUSES = (
    "ontvangen",
    "in_behandeling",
    "beantwoord",
    "overgenomen",
    "niet_overgenomen",
    "gerealiseerd",
    "ingetrokken",
)
GEOMETRY_TYPES = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
)
TITLE_MAX = 120
DESCRIPTION_MAX = 5000

# Measured in RD New, computed by PostgreSQL so no writer can get them wrong.
AREA_SQL = "CASE WHEN ST_Dimension(geom) = 2 THEN ST_Area(ST_Transform(geom, 28992)) END"
LENGTH_SQL = "CASE WHEN ST_Dimension(geom) = 1 THEN ST_Length(ST_Transform(geom, 28992)) END"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Contribution(Base):
    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint(f"category IN ({_in(CATEGORIES)})", name="category"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint(
            f"char_length(description) <= {DESCRIPTION_MAX}", name="description_length"
        ),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        CheckConstraint(f"GeometryType(geom) IN ({_in(GEOMETRY_TYPES)})", name="geom_type"),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        CheckConstraint("octet_length(edit_token_hash) = 32", name="edit_token_hash"),
        CheckConstraint(
            "(status = 'ingetrokken') = (withdrawn_at IS NOT NULL)", name="withdrawn_status"
        ),
        CheckConstraint("(object_layer IS NULL) = (object_id IS NULL)", name="object_ref"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    geom = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )
    area_m2: Mapped[float | None] = mapped_column(Float, Computed(AREA_SQL, persisted=True))
    length_m: Mapped[float | None] = mapped_column(Float, Computed(LENGTH_SQL, persisted=True))
    buurt_code: Mapped[str | None] = mapped_column(String(10))
    wijk_code: Mapped[str | None] = mapped_column(String(8))
    gemeente_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(20), server_default="ontvangen")
    edit_token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The open-data object this is about: a layer name and the feature's id in that layer.
    object_layer: Mapped[str | None] = mapped_column(Text)
    object_id: Mapped[str | None] = mapped_column(Text)
