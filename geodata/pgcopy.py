"""Typed columns for a layer's attributes, and writing frames into PostgreSQL with COPY.

Sources rarely say their column types, and readers hand over Python objects. A column's type
is taken from the first values seen and widened (bigint -> double precision -> text) when a
later batch holds something that does not fit, so a valid file never fails on a guess.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import shapely
from psycopg import Cursor, sql

RD_NEW = 28992
RANK = {"boolean": 0, "bigint": 1, "double precision": 2, "timestamptz": 3, "text": 4}
FIXED_COLUMNS = ("feature_id", "properties", "geometry")


def kind_of(value: Any) -> str | None:
    """The column type one value needs; None for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -(2**63) <= value < 2**63 else "text"
    if isinstance(value, float):
        return "double precision" if math.isfinite(value) else "text"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return "timestamptz"
    return "text"


def wider(current: str | None, new: str | None) -> str | None:
    if current is None:
        return new
    if new is None or current == new:
        return current
    if {current, new} <= {"bigint", "double precision"}:
        return "double precision"
    return "text" if RANK[new] != RANK[current] else current


def attribute_columns(frame: gpd.GeoDataFrame) -> list[str]:
    return [c for c in frame.columns if c not in FIXED_COLUMNS]


def column_types(frame: gpd.GeoDataFrame, known: dict[str, str | None]) -> dict[str, str | None]:
    """The types `frame` needs, widening what is `known` from earlier batches."""
    types = dict(known)
    for column in attribute_columns(frame):
        current = types.get(column)
        for value in frame[column]:
            current = wider(current, kind_of(value))
            if current == "text":
                break
        types[column] = current
    return types


def pg_value(value: Any, column_type: str | None) -> Any:
    kind = kind_of(value)
    if kind is None:
        return None
    if column_type == "text" and not isinstance(value, str):
        if isinstance(value, date | datetime):
            return value.isoformat()
        return json.dumps(value) if isinstance(value, dict | list) else str(value)
    return value


def copy_frame(
    cursor: Cursor, table: sql.Composable, frame: gpd.GeoDataFrame, types: dict[str, str | None]
) -> int:
    """COPY one frame (EPSG:28992) into `table`; returns the number of rows written."""
    columns = attribute_columns(frame)
    geoms = shapely.set_srid(frame.geometry.values.to_numpy(), RD_NEW)
    ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True, output_dimension=2)
    names = sql.SQL(", ").join(
        sql.Identifier(c) for c in ("feature_id", *columns, "properties", "geom")
    )
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(table, names)
    values = [frame[c].tolist() for c in columns]
    ids = frame["feature_id"].astype(str).tolist()
    props = frame["properties"].tolist()
    with cursor.copy(statement) as copy:
        for i, feature_id in enumerate(ids):
            row = [feature_id]
            row += [pg_value(col[i], types.get(c)) for c, col in zip(columns, values, strict=True)]
            row += [json.dumps(props[i] or {}, allow_nan=False), ewkb[i]]
            copy.write_row(row)
    return len(ids)


def column_definitions(types: dict[str, str | None]) -> Iterable[sql.Composable]:
    for name, column_type in types.items():
        yield sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(column_type or "text"))
