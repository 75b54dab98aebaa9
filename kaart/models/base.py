"""The one MetaData every table is declared on, and the column shapes the tables share."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Column, DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

# Stable constraint names, so migrations can refer to them. Alembic's `op.create_table` also
# names constraints by this convention (env.py hands it this MetaData), so the names the
# migrations made and the names declared here are the same.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

UUID = PG_UUID(as_uuid=True)

# What is in the database but not declared here, so Alembic's comparison leaves it out by name.
LAYER_SCHEMA = "open_data"  # one table per open layer, created by geodata/load.py
EXTENSION_TABLES = frozenset({"spatial_ref_sys"})  # made by CREATE EXTENSION postgis (0001)


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's `include_name` hook: skip the layer schema and PostGIS's own table."""
    if type_ == "schema":
        return name != LAYER_SCHEMA
    if type_ == "table":
        in_public = parent_names.get("schema_name") in (None, "public")
        return not (in_public and name in EXTENSION_TABLES)
    return True


def uuid_pk() -> Column:
    return Column("id", UUID, primary_key=True, server_default=func.gen_random_uuid())


def stamp(name: str = "created_at") -> Column:
    """A moment the database fills in (now()), never NULL."""
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


def one_of(values: tuple[str, ...]) -> str:
    """An SQL list of literals for a CHECK constraint (our own constants, never user input)."""
    return ", ".join(f"'{v}'" for v in values)


def alembic_options() -> dict:
    """How Alembic compares these tables with a database: migrations/env.py (autogenerate) and
    tests/test_models.py use the same options, so they see the same differences."""
    return {
        "include_schemas": True,  # a table in any other schema is a difference too ...
        "include_name": include_name,  # ... except the layer schema and PostGIS's table
        "compare_type": True,
        "compare_server_default": True,
    }
