"""Mapbox Vector Tiles of open layers and contributions, built by PostGIS (ST_AsMVT).

    layer = find_layer(session, "bag-panden")
    data = render(session, layer, tile_address("16", "33685", "21556"))

A request reads its tile through `render_with(kaart.db.prepared_row, ...)` instead: on a
connection without a Session around it when it can (see prepared_row).

A tile reads its rows through the table's GiST index in the table's own SRID (RD New for open
layers, WGS84 for contributions), so the index is used; only the selected rows are transformed
to Web Mercator for ST_AsMVTGeom.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from psycopg import sql
from sqlalchemy.orm import Session

from kaart.db import prepared_row_on
from kaart.errors import ApiError, NotFound
from kaart.providers import contributions, layers, versions
from kaart.providers.contributions import PUBLIC_GEOM, PUBLIC_WHERE

CONTRIBUTIONS = contributions.TILE_LAYER
CONTRIBUTION_COLUMNS = contributions.TILE_COLUMNS
CONTRIBUTION_ZOOMS = contributions.TILE_ZOOMS

MAX_ZOOM = layers.MAX_ZOOM
EXTENT = 4096  # tile coordinate units per tile side (the MVT default)
BUFFER = 64  # units drawn beyond the tile edge, so strokes do not end at tile borders
# Fetch rows from the tile plus the clip buffer. The densified envelope follows the curved
# Web Mercator edge in RD New closely, and `&&` compares with its (larger) bounding box, so no
# extra slack is needed; a second buffer's worth of rows measured 5 % slower for nothing (bench/).
MARGIN = BUFFER / EXTENT
EDGE_SEGMENTS = 16
MAX_FEATURES = 20_000  # per tile; beyond it the largest features win (see _ORDER)
# Below this zoom lines and polygons are simplified, and ones too small to see are left out.
# From it on a tile is drawn in one pass that counts its features as it goes (_full_detail_sql):
# a z16 tile is ~600 m wide, and a layer that still has more than MAX_FEATURES in one is drawn
# again from its largest features (a second statement) rather than every tile paying for
# setting its rows aside and counting them first (~0.5 ms of a ~5.5 ms dense z16 tile of
# buildings, statements replayed side by side).
FULL_DETAIL_ZOOM = 16
# Simplification tolerance as a share of the tile's width on the ground: 1/1024 is half a pixel
# of a 512-pixel tile, well below what anyone sees, yet it removes most vertices at low zooms.
TOLERANCE_PER_TILE = 1 / 1024
WEB_MERCATOR_WIDTH = 2 * 20037508.342789244  # metres, EPSG:3857
RD_DOMAIN = layers.RD_DOMAIN  # tiles are clipped to it before their envelope is transformed
# Bump when the tile SQL changes what a tile holds, so clients do not keep stale tiles.
TILE_FORMAT = "2"

_DIGITS = re.compile(r"[0-9]{1,8}")
# How a statement is run: its text (with :name placeholders) and values in, its one row out;
# kaart.db.prepared_row in the app.
RowReader = Callable[[str, Mapping[str, object]], tuple[Any, ...]]
# Which features a full tile keeps: the largest ones, so that a capped low-zoom tile still
# shows the shapes that matter and neighbouring tiles agree; fid breaks ties.
_ORDER = {
    "polygon": "ST_Area(t.geom) DESC, t.fid",
    "line": "ST_Length(t.geom) DESC, t.fid",
    "point": "t.fid",
}


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int


@dataclass(frozen=True)
class TileLayer:
    """A layer as the tile service sees it; ``table`` is None for contributions."""

    name: str
    table: str | None
    family: str
    columns: tuple[str, ...]
    min_zoom: int
    max_zoom: int
    version: str  # changes whenever what the layer's tiles show could: a reload, a change count

    def shows(self, tile: Tile) -> bool:
        return self.min_zoom <= tile.z <= self.max_zoom


def tile_address(z: str, x: str, y: str) -> Tile:
    """z/x/y from a URL as integers in the Web Mercator grid; anything else is a 404."""
    for name, value in (("z", z), ("x", x), ("y", y)):
        if not _DIGITS.fullmatch(value):
            raise _no_tile(name, f"{name} must be a whole number.")
    tile = Tile(int(z), int(x), int(y))
    if tile.z > MAX_ZOOM:
        raise _no_tile("z", f"z must be from 0 to {MAX_ZOOM}.")
    for name, value in (("x", tile.x), ("y", tile.y)):
        if value >= 2**tile.z:
            raise _no_tile(name, f"At zoom {tile.z}, {name} must be from 0 to {2**tile.z - 1}.")
    return tile


def _no_tile(name: str, reason: str) -> ApiError:
    return NotFound(reason=f"No such tile: {reason}", field_name=name, code="tile")


def find_layer(session: Session, name: str) -> TileLayer:
    """The loaded layer `name` (or the contributions) as tiles draw it; 404 when there is none."""
    if name == CONTRIBUTIONS:
        low, high = CONTRIBUTION_ZOOMS
        # Read before the tile, so that its ETag is never ahead of it (providers/versions.py).
        version = versions.current(session, contributions.TILE_READS)
        return TileLayer(CONTRIBUTIONS, None, "mixed", CONTRIBUTION_COLUMNS, low, high, version)
    layer = layers.find(session, name)
    return TileLayer(
        name=layer.name,
        table=layer.table,
        family=layer.family,
        columns=layer.columns,
        min_zoom=layer.min_zoom,
        max_zoom=layer.max_zoom,
        version=layer.version,
    )


def etag(layer: TileLayer, tile: Tile) -> str:
    """A strong validator from the layer's version: known without building the tile."""
    key = f"{TILE_FORMAT}|{layer.name}|{layer.version}|{tile.z}/{tile.x}/{tile.y}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def render(session: Session, layer: TileLayer, tile: Tile) -> bytes:
    """The tile as MVT bytes, read on `session`'s connection; empty when nothing lies in it (or
    the layer is not drawn at z)."""
    return render_with(partial(prepared_row_on, session), layer, tile)


def render_with(read_row: RowReader, layer: TileLayer, tile: Tile) -> bytes:
    """render(), its statements run by `read_row`."""
    if not layer.shows(tile):
        return b""
    params: dict[str, object] = {"z": tile.z, "x": tile.x, "y": tile.y, "margin": MARGIN}
    params |= {"cap": MAX_FEATURES, "name": layer.name, "extent": EXTENT, "buffer": BUFFER}
    if layer.table is None:
        (data,) = read_row(_contributions_sql(), params)
        return bytes(data or b"")
    params |= _detail_params(layer, tile)
    if tile.z < FULL_DETAIL_ZOOM:
        (data,) = read_row(_simplified_sql(layer.table, layer.columns, layer.family), params)
        return bytes(data or b"")
    count, data = read_row(_full_detail_sql(layer.table, layer.columns), params)
    if count > MAX_FEATURES:
        (data,) = read_row(_largest_sql(layer.table, layer.columns, layer.family), params)
    return bytes(data or b"")


def _detail_params(layer: TileLayer, tile: Tile) -> dict[str, object]:
    tolerance = simplify_tolerance(tile) if layer.family != "point" else 0.0
    west, south, east, north = RD_DOMAIN
    return {
        "tolerance": tolerance,
        "segment": WEB_MERCATOR_WIDTH / 2**tile.z / EDGE_SEGMENTS,
        "west": west,
        "south": south,
        "east": east,
        "north": north,
    }


def simplify_tolerance(tile: Tile) -> float:
    """RD metres below which detail is invisible in this tile; 0 at full-detail zooms."""
    if tile.z >= FULL_DETAIL_ZOOM:
        return 0.0
    n = 2**tile.z
    latitude = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (tile.y + 0.5) / n))))
    # Web Mercator stretches distances by 1/cos(latitude); RD New measures true metres.
    latitude = min(max(latitude, RD_DOMAIN[1]), RD_DOMAIN[3])
    ground_width = WEB_MERCATOR_WIDTH / n * math.cos(math.radians(latitude))
    return ground_width * TOLERANCE_PER_TILE


# The parts of an open layer's tile query; every value in them is a bound parameter.
# `area` is the tile plus margin, clipped to RD_DOMAIN and densified before the transform so that
# its bounding box in RD New covers the whole tile.
_BOUNDS = """
    WITH bounds AS (
      SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
             ST_Transform(ST_Segmentize(ST_Intersection(
               ST_TileEnvelope(:z, :x, :y, margin => :margin),
               ST_Transform(ST_MakeEnvelope(:west, :south, :east, :north, 4326), 3857)
             ), :segment), 28992) AS area
    )"""
# Below FULL_DETAIL_ZOOM, features smaller than the tolerance are left out.
_VISIBLE = """t.geom && bounds.area
        AND (:tolerance = 0 OR greatest(ST_XMax(t.geom) - ST_XMin(t.geom),
                                          ST_YMax(t.geom) - ST_YMin(t.geom)) >= :tolerance)"""
# Simplified in RD metres before the transform, so fewer vertices get transformed.
# ST_Simplify, not ST_SimplifyPreserveTopology: ST_AsMVTGeom makes polygons valid again anyway,
# and a national PC4 tile at z8 took 90 ms this way against 355 ms (and 280 ms unsimplified).
# `true` keeps features that passed the size filter from collapsing.
_SIMPLIFIED = "CASE WHEN :tolerance > 0 THEN ST_Simplify(p.geom, :tolerance, true) ELSE p.geom END"


def _tile_of(rows: str, attributes: str, geom: str = "p.geom", also: str = "") -> str:
    """The MVT of `rows` (a subquery, as `p`), after `also` in the select list. ST_AsMVT skips
    the rows whose geometry ST_AsMVTGeom clipped away (NULL); filtering them in SQL would compute
    it twice."""
    return f"""
    SELECT {also}ST_AsMVT(mvt, :name, :extent, 'geom', 'fid')
    FROM (
      SELECT p.fid, p.feature_id{attributes},
             ST_AsMVTGeom(ST_Transform({geom}, 3857), bounds.tile, :extent, :buffer, true)
               AS geom
      FROM ({rows}) AS p, bounds
    ) AS mvt"""


def _rows(table: str, columns: tuple[str, ...]) -> tuple[str, str]:
    """`SELECT` of the table's rows meeting the tile's bounds (a WHERE clause follows), and the
    attribute columns as the tile's select list names them (`, p.a, p.b`)."""
    quoted = [sql.Identifier(c).as_string(None) for c in columns]
    table_sql = sql.Identifier("open_data", table).as_string(None)
    selected = "".join(f", t.{c}" for c in quoted)
    rows = f"SELECT t.fid, t.feature_id{selected}, t.geom FROM {table_sql} AS t, bounds"
    return rows, "".join(f", p.{c}" for c in quoted)


@lru_cache(maxsize=256)
def _simplified_sql(table: str, columns: tuple[str, ...], family: str) -> str:
    """A tile below FULL_DETAIL_ZOOM: simplified, and at most MAX_FEATURES of them."""
    rows, attributes = _rows(table, columns)
    geom = _SIMPLIFIED if family != "point" else "p.geom"
    # Which features a tile keeps matters only when there are more than the cap: then the
    # largest (sorted); otherwise all of them, and sorting them would be wasted work.
    picked = f"""
        SELECT * FROM candidates WHERE (SELECT count(*) FROM candidates) <= :cap
        UNION ALL
        SELECT * FROM (
          {rows} WHERE {_VISIBLE} ORDER BY {_ORDER.get(family, "t.fid")} LIMIT :cap
        ) AS largest
        WHERE (SELECT count(*) FROM candidates) > :cap"""
    return f"""{_BOUNDS},
    candidates AS MATERIALIZED (
      {rows} WHERE {_VISIBLE} LIMIT :cap + 1
    )""" + _tile_of(picked, attributes, geom)


@lru_cache(maxsize=256)
def _full_detail_sql(table: str, columns: tuple[str, ...]) -> str:
    """A tile from FULL_DETAIL_ZOOM on, in one pass: (rows read, the tile). Up to the cap that
    is the tile; with more (cap + 1 read) render_with() draws _largest_sql's instead."""
    rows, attributes = _rows(table, columns)
    read = f"{rows} WHERE t.geom && bounds.area LIMIT :cap + 1"
    return _BOUNDS + _tile_of(read, attributes, also="count(*), ")


@lru_cache(maxsize=256)
def _largest_sql(table: str, columns: tuple[str, ...], family: str) -> str:
    """A full-detail tile with more features than the cap: its largest MAX_FEATURES."""
    rows, attributes = _rows(table, columns)
    largest = f"""{rows} WHERE t.geom && bounds.area
        ORDER BY {_ORDER.get(family, "t.fid")} LIMIT :cap"""
    return _BOUNDS + _tile_of(largest, attributes)


@lru_cache(maxsize=1)
def _contributions_sql() -> str:
    # Published contributions only, where the public sees them; a full tile keeps the newest.
    return f"""
        WITH bounds AS (
          SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
                 ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS area
        ),
        picked AS (
          SELECT c.id, c.category, c.title, c.status, {PUBLIC_GEOM} AS geom
          FROM contribution AS c, bounds
          WHERE {PUBLIC_WHERE} AND {PUBLIC_GEOM} && bounds.area
          ORDER BY c.created_at DESC, c.id
          LIMIT :cap
        )
        SELECT ST_AsMVT(mvt, :name, :extent, 'geom')
        FROM (
          SELECT p.id::text AS id, p.category, p.title, p.status,
                 ST_AsMVTGeom(ST_Transform(p.geom, 3857), bounds.tile, :extent, :buffer, true)
                   AS geom
          FROM picked AS p, bounds
        ) AS mvt
    """
