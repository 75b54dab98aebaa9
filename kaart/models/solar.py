"""Rooftop solar potential per BAG pand, with the version of the inputs it was computed from.

Migration 0006 made this table in plain SQL, so its constraints carry PostgreSQL's own names
(`solar_potential_pkey`, `solar_potential_<column>_check`); `conv()` keeps them as they are
instead of applying the naming convention.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import conv

from kaart.models.base import metadata, one_of

METHODS = ("roof_parts", "footprint", "none")
SKIPPED_REASONS = ("invalid_footprint", "too_small", "no_usable_roof")
SUITABILITIES = ("excellent", "good", "fair", "poor", "none")
_ZERO = text("0")


def _check(sql: str, column: str | None = None) -> CheckConstraint:
    name = f"solar_potential_{column}_check" if column else "solar_potential_check"
    return CheckConstraint(sql, name=conv(name))


def _amount(name: str, column_type=Double) -> Column:
    return Column(name, column_type, nullable=False, server_default=_ZERO)


solar_potential = Table(
    "solar_potential",
    metadata,
    Column("bag_id", Text),
    # The open layer the pand came from.
    Column("building_layer", Text, nullable=False),
    Column("inputs_hash", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("skipped_reason", Text),
    _amount("roof_area_m2"),
    _amount("usable_area_m2"),
    _amount("panels", Integer),
    _amount("kwp"),
    _amount("kwh_year"),
    Column("kwh_per_kwp", Double),
    Column("suitability", Text, nullable=False),
    _amount("co2_kg_year"),
    _amount("households"),
    Column("construction_year", Integer),
    Column("usage", Text),
    Column("roof_parts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("bag_id", name="solar_potential_pkey"),
    _check(f"method IN ({one_of(METHODS)})", "method"),
    _check(f"skipped_reason IN ({one_of(SKIPPED_REASONS)})", "skipped_reason"),
    _check("roof_area_m2 >= 0", "roof_area_m2"),
    _check("usable_area_m2 >= 0", "usable_area_m2"),
    _check("panels >= 0", "panels"),
    _check("kwp >= 0", "kwp"),
    _check("kwh_year >= 0", "kwh_year"),
    _check(f"suitability IN ({one_of(SUITABILITIES)})", "suitability"),
    _check("(skipped_reason IS NULL) = (panels > 0)"),
)
Index("ix_solar_potential_layer", solar_potential.c.building_layer)
