"""CBS (or municipal) buurten: the areas contributions are counted and reported in."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kaart.models.base import Base


class Buurt(Base):
    __tablename__ = "buurt"

    # CBS codes: BU + gemeente (4) + wijk (2) + buurt (2); WK + gemeente + wijk; GM + gemeente.
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    wijk_code: Mapped[str | None] = mapped_column(String(8))
    gemeente_code: Mapped[str | None] = mapped_column(String(6))
    layer: Mapped[str] = mapped_column(Text)
    geom = mapped_column(
        Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
