"""An open-data layer as loaded: where it came from, under which licence, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kaart.models.base import Base


class Layer(Base):
    __tablename__ = "layer"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(Text)
    attribution: Mapped[str] = mapped_column(Text)
    feature_count: Mapped[int] = mapped_column(Integer)
    source_sha256: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str | None] = mapped_column(Text)
    geometry_family: Mapped[str | None] = mapped_column(Text)
    # The table in schema open_data holding the features (RD New); None for the buurt lookup.
    table_name: Mapped[str | None] = mapped_column(Text)
    bbox: Mapped[list[float] | None] = mapped_column(ARRAY(Float))  # WGS84
    min_zoom: Mapped[int | None] = mapped_column(Integer)
    max_zoom: Mapped[int | None] = mapped_column(Integer)
    columns: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
