"""Open layers made inside a test's transaction, laid out as `geodata.load` writes them.

    make_layer(connection, "weesp-panden", weesp_panden(), columns={"construction_year": "bigint"})

Everything is rolled back with the test, so layers never leak between tests. Real loads
(`geodata.load.load_layer`) commit, which is why tile and API tests build their layers here.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import geopandas as gpd
from psycopg import sql
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geodata.source import OPEN_DATA

WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
# A real pand in Weesp Centrum (BAG, built 1890), from the demo extract.
PAND_WEESP = "0457100000019147"


def make_layer(
    connection: Connection,
    name: str,
    rows: list[dict[str, Any]],
    *,
    columns: dict[str, str] | None = None,
    family: str = "polygon",
    kind: str = "building",
    min_zoom: int = 0,
    max_zoom: int = 22,
    title: str | None = None,
) -> str:
    """Create `open_data.<name with _>` and its catalogue row; rows hold `feature_id`, `geom`
    (shapely or WKT, RD New), optional `properties` and the typed `columns` (name -> SQL type)."""
    columns = columns or {}
    table = name.replace("-", "_")
    ident = sql.Identifier("open_data", table).as_string(None)
    typed = "".join(f"{sql.Identifier(c).as_string(None)} {t}, " for c, t in columns.items())
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS open_data"))
    connection.execute(
        text(
            f"CREATE TABLE {ident} (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            f"feature_id text NOT NULL, {typed}properties jsonb NOT NULL, "
            "geom geometry(Geometry, 28992) NOT NULL)"
        )
    )
    connection.execute(text(f"CREATE INDEX ON {ident} USING gist (geom)"))
    connection.execute(text(f"CREATE INDEX ON {ident} (feature_id)"))
    _insert(connection, ident, rows, list(columns))
    _record(connection, name, table, list(columns), family, kind, min_zoom, max_zoom, title)
    return table


def _insert(connection: Connection, ident: str, rows: list[dict[str, Any]], columns: list[str]):
    if not rows:
        return
    names = "".join(f"{sql.Identifier(c).as_string(None)}, " for c in columns)
    values = "".join(f":c{i}, " for i in range(len(columns)))
    connection.execute(
        text(
            f"INSERT INTO {ident} (feature_id, {names}properties, geom) "
            f"VALUES (:feature_id, {values}CAST(:properties AS jsonb), "
            "ST_GeomFromText(:wkt, 28992))"
        ),
        [
            {
                "feature_id": row["feature_id"],
                "properties": json.dumps(row.get("properties") or {}),
                "wkt": row["geom"].wkt if isinstance(row["geom"], BaseGeometry) else row["geom"],
            }
            | {f"c{i}": row.get(c) for i, c in enumerate(columns)}
            for row in rows
        ],
    )


def _record(connection, name, table, columns, family, kind, min_zoom, max_zoom, title) -> None:
    ident = sql.Identifier("open_data", table).as_string(None)
    connection.execute(
        text(
            f"""
            INSERT INTO layer (name, title, source, licence, attribution, feature_count,
                               source_sha256, loaded_at, kind, geometry_family, table_name,
                               bbox, min_zoom, max_zoom, columns)
            SELECT :name, :title, 'https://example.test/' || :name, 'CC0 1.0', 'Test data',
                   s.n, :sha, now(), :kind, :family, :table,
                   ARRAY[ST_XMin(s.e), ST_YMin(s.e), ST_XMax(s.e), ST_YMax(s.e)],
                   :min_zoom, :max_zoom, :columns
            FROM (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 28992), 4326) AS e,
                         count(*) AS n FROM {ident}) s
            """
        ),
        {
            "name": name,
            "title": title or name,
            "sha": hashlib.sha256(name.encode()).hexdigest(),
            "kind": kind,
            "family": family,
            "table": table,
            "min_zoom": min_zoom,
            "max_zoom": max_zoom,
            "columns": columns,
        },
    )


@lru_cache(maxsize=1)
def _weesp_frame() -> gpd.GeoDataFrame:
    return gpd.read_file(WEESP_BAG, layer="pand")


def weesp_panden() -> list[dict[str, Any]]:
    """The 1,271 BAG panden of the Weesp Centrum extract (RD New), as make_layer rows."""
    return [
        {
            "feature_id": row.identificatie,
            "construction_year": int(row.oorspronkelijkbouwjaar),
            "status": row.status,
            # Source attributes without a typed column end up in `properties`, as in a load.
            "properties": {"gebruiksdoelen": row.gebruiksdoelen}
            if isinstance(row.gebruiksdoelen, str)
            else {},
            "geom": row.geometry,
        }
        for row in _weesp_frame().itertuples()
    ]


PANDEN_COLUMNS = {"construction_year": "bigint", "status": "text"}


@lru_cache(maxsize=1)
def _weesp_addresses_frame() -> gpd.GeoDataFrame:
    return gpd.read_file(WEESP_BAG, layer="verblijfsobject")


ADDRESS_COLUMNS = {
    "street": "text",
    "house_number": "bigint",
    "house_letter": "text",
    "house_number_suffix": "text",
    "postcode": "text",
    "city": "text",
    "usage": "text",
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def weesp_addresses() -> list[dict[str, Any]]:
    """The 1,415 BAG addresses (verblijfsobjecten) of the Weesp Centrum extract (RD New), with
    their use (gebruiksdoel, e.g. "woonfunctie"), as make_layer rows of an address layer."""
    return [
        {
            "feature_id": row.identificatie,
            "street": row.openbareruimtenaam,
            "house_number": int(row.huisnummer),
            "house_letter": _text(row.huisletter),
            "house_number_suffix": _text(row.huisnummertoevoeging),
            "postcode": row.postcode,
            "city": row.woonplaats,
            "usage": row.gebruiksdoel,
            "geom": row.geometry,
        }
        for row in _weesp_addresses_frame().itertuples()
    ]


def make_weesp_addresses(connection: Connection) -> str:
    """The demo's address layer, bag-adressen, made inside the test's transaction."""
    return make_layer(
        connection,
        "bag-adressen",
        weesp_addresses(),
        columns=ADDRESS_COLUMNS,
        family="point",
        kind="address",
    )
