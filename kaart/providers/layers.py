"""The open municipal layers, read: the catalogue, one layer, and pages of its features as
GeoJSON built by PostGIS, in the CRS a client asks for.

    layer = find(session, "bag-panden")
    page(session, layer, Query(bbox=(5.041, 52.306, 5.043, 52.307), limit=100))
    feature(session, layer, "0457100000019147")

Every layer lives in its own table `open_data.<table>` (fid, feature_id, geom in RD New, the typed
columns, and `properties` with the rest of the source's attributes); the loader writes them
(geodata/load.py). The JSON API, /ogc and the vector tiles all find layers here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from psycopg import sql
from sqlalchemy import String, cast, column, func, literal_column, or_, select, table, text, true
from sqlalchemy.orm import Session

from kaart import crs as crs_mod
from kaart.errors import CatalogueError, NotFound
from kaart.models import tables as t
from kaart.providers import contributions, paging
from kaart.providers.paging import BBox, Cursor, Page

STORAGE = crs_mod.SUPPORTED[crs_mod.LAYER_STORAGE]  # RD New
MAX_ZOOM = 22
# A box in WGS84 is clipped to RD New's domain before it is transformed: outside it no Dutch
# layer has data, and transforming a world-sized box to RD New gives nonsense.
RD_DOMAIN = crs_mod.RD_DOMAIN
# Identifiers the loader writes; anything else in the catalogue means it was edited by hand.
_IDENTIFIER = re.compile(r"[a-z0-9_]+")
_CATALOGUE = (
    "SELECT name, title, kind, geometry_family, licence, attribution, source, feature_count, "
    "bbox, min_zoom, max_zoom, loaded_at, columns, table_name, source_sha256 "
    "FROM layer WHERE table_name IS NOT NULL"
)


@dataclass(frozen=True)
class Layer:
    """A loaded layer as its catalogue row describes it."""

    name: str
    title: str
    kind: str | None
    family: str  # point, line or polygon
    table: str
    columns: tuple[str, ...]  # typed columns: tile attributes and property filters
    feature_count: int | None
    bbox: list[float] | None  # WGS84
    min_zoom: int
    max_zoom: int
    loaded_at: datetime
    licence: str | None = None
    attribution: str | None = None
    source: str | None = None
    source_sha256: str | None = None

    @property
    def version(self) -> str:
        """Changes whenever the layer's data does (a reload)."""
        return f"{self.source_sha256}|{self.loaded_at.isoformat()}|{','.join(self.columns)}"

    def shows(self, z: int) -> bool:
        return self.min_zoom <= z <= self.max_zoom

    def describe(self) -> dict[str, Any]:
        """The catalogue entry as /api/v1/layers lists it."""
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "geometry_family": self.family,
            "licence": self.licence,
            "attribution": self.attribution,
            "source": self.source,
            "feature_count": self.feature_count,
            "bbox": self.bbox,
            "min_zoom": self.min_zoom,
            "max_zoom": self.max_zoom,
            "loaded_at": self.loaded_at.isoformat(),
            "columns": list(self.columns),
        }


def _layer(row: Any) -> Layer:
    columns = tuple(row.columns or ())
    if not all(_IDENTIFIER.fullmatch(c) for c in (row.table_name, *columns)):
        raise CatalogueError(f"layer {row.name!r}: table or column names the loader never writes")
    return Layer(
        name=row.name,
        title=row.title,
        kind=row.kind,
        family=row.geometry_family or "polygon",
        table=row.table_name,
        columns=columns,
        feature_count=row.feature_count,
        bbox=list(row.bbox) if row.bbox else None,
        min_zoom=row.min_zoom if row.min_zoom is not None else 0,
        max_zoom=row.max_zoom if row.max_zoom is not None else MAX_ZOOM,
        loaded_at=row.loaded_at,
        licence=row.licence,
        attribution=row.attribution,
        source=row.source,
        source_sha256=row.source_sha256,
    )


def catalogue(session: Session) -> list[Layer]:
    """Every loaded layer, by name."""
    return [_layer(row) for row in session.execute(text(_CATALOGUE + " ORDER BY name"))]


def find(session: Session, name: str) -> Layer:
    """The loaded layer `name`; 404 when there is none."""
    row = session.execute(text(_CATALOGUE + " AND name = :name"), {"name": name}).one_or_none()
    if row is None:
        raise NotFound(f"Layer {name[:40]!r}")
    return _layer(row)


@dataclass(frozen=True)
class Query:
    bbox: BBox | None = None  # in `bbox_crs`, x/y order
    bbox_crs: crs_mod.Crs = crs_mod.DEFAULT
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # typed column -> any of
    limit: int = 100
    cursor: Cursor | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.bbox or self.filters)


def _ident(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def feature_sql(layer: Layer, crs: crs_mod.Crs = crs_mod.DEFAULT) -> str:
    """A row `t` of the layer as GeoJSON Feature text in `crs`. Source attributes first, the
    typed columns over them: those are the checked values."""
    geometry = crs_mod.geometry_sql("t.geom", STORAGE.srid, crs)
    typed = ", ".join(f"'{c}', t.{_ident(c)}" for c in ("feature_id", *layer.columns))
    return (
        f"json_build_object('type', 'Feature', 'id', t.feature_id, 'geometry', {geometry}, "
        f"'properties', t.properties || jsonb_build_object({typed}))::text"
    )


def _table(layer: Layer) -> Any:
    columns = ("fid", "feature_id", "geom", *layer.columns)
    return table(layer.table, *(column(c) for c in columns), schema="open_data").alias("t")


def _box(query: Query) -> Any | None:
    """The query box in RD New; None when it lies nowhere near the Netherlands."""
    bbox = query.bbox
    if query.bbox_crs.srid == 4326:
        bbox = paging.clip(bbox, RD_DOMAIN)
        if bbox is None:
            return None
    envelope = func.ST_MakeEnvelope(*bbox, query.bbox_crs.srid)
    if query.bbox_crs.srid == STORAGE.srid:
        return envelope
    # Densify the edges so the box keeps its shape (and coverage) in RD New.
    segment = max(max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 16, 1e-9)
    return func.ST_Transform(func.ST_Segmentize(envelope, segment), STORAGE.srid)


def page(session: Session, layer: Layer, query: Query, crs: crs_mod.Crs = crs_mod.DEFAULT) -> Page:
    """A page of the layer's features (in fid order) in `crs`."""
    t = _table(layer)
    where = []
    if query.bbox:
        box = _box(query)
        if box is None:
            return Page([], None, None, 0)
        where += [t.c.geom.op("&&")(box), func.ST_Intersects(t.c.geom, box)]
    for name, values in query.filters.items():
        if name not in layer.columns:
            raise ValueError(name)
        where.append(cast(t.c[name], String).in_(values))
    order = t.c.fid
    if query.cursor is not None:
        after = _fid(query.cursor)
        where.append(t.c.fid > after if query.cursor.forward else t.c.fid < after)
        order = t.c.fid if query.cursor.forward else t.c.fid.desc()
    stmt = (
        select(t.c.fid, literal_column(feature_sql(layer, crs)))
        .select_from(t)
        .where(*where)
        .order_by(order)
        .limit(query.limit + 1)
    )
    rows = session.execute(stmt).all()
    matched = None if query.filtered else layer.feature_count
    return paging.page_of(rows, query.limit, query.cursor, _key, _feature, matched)


def _key(row: Any) -> tuple[int]:
    return (row[0],)


def _feature(row: Any) -> str:
    return row[1]


def _fid(cursor: Cursor) -> int:
    key = cursor.key
    if len(key) != 1 or not isinstance(key[0], int) or isinstance(key[0], bool):
        raise paging.invalid_cursor()
    return key[0]


def feature(
    session: Session, layer: Layer, feature_id: str, crs: crs_mod.Crs = crs_mod.DEFAULT
) -> str:
    """One feature by its id (e.g. a BAG pand id) as GeoJSON text; 404 when it is not there.
    When a source repeats an id, the first one loaded."""
    t = _table(layer)
    stmt = (
        select(literal_column(feature_sql(layer, crs)))
        .select_from(t)
        .where(t.c.feature_id == feature_id[:200])
        .order_by(t.c.fid)
        .limit(1)
    )
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"Feature {feature_id[:40]!r} of layer {layer.name!r}",
            field_name="id",
            code="feature_unknown",
        )
    return found


# A layer without prebuilt tiles (kaart/archives/): the map draws its live tiles.
NO_ARCHIVE: dict[str, Any] = {"archive": None, "archive_zooms": None}


def tile_url(name: str) -> str:
    return f"/tiles/{quote(name, safe='')}/{{z}}/{{x}}/{{y}}.pbf"


def catalogue_entries(
    session: Session,
    *,
    with_contributions: bool,
    archives: Callable[[str, str], dict[str, Any]] = lambda _name, _version: NO_ARCHIVE,
) -> list[dict[str, Any]]:
    """Every layer the map can draw, as /api/v1/layers and the map's set-up list them: with
    attribution, extent, size, zoom range, typed columns and where its tiles and features are;
    `archives` adds where its prebuilt tiles are, by (name, version): kaart/archives/store.py;
    `with_contributions` adds the residents' contributions (counted live)."""
    entries = [
        layer.describe()
        | {
            "tiles": tile_url(layer.name),
            "features": f"/api/v1/layers/{quote(layer.name, safe='')}/features",
        }
        | archives(layer.name, layer.version)
        for layer in catalogue(session)
    ]
    if not with_contributions:
        return entries
    count, bbox, _interval = contributions.extent(session)
    low, high = contributions.TILE_ZOOMS
    return [
        *entries,
        {
            "name": contributions.TILE_LAYER,
            "title": contributions.TITLE,
            "kind": "contribution",
            "geometry_family": None,  # points, lines and areas
            "licence": None,
            "attribution": None,
            "source": None,
            "feature_count": count,
            "bbox": bbox,
            "min_zoom": low,
            "max_zoom": high,
            "loaded_at": None,
            "columns": list(contributions.TILE_COLUMNS),
            "tiles": tile_url(contributions.TILE_LAYER),
            "features": "/api/v1/contributions",  # the contribution API; same bbox and limit
            **NO_ARCHIVE,  # contributions change any minute: always live tiles
        },
    ]


# What `buurten` reads: its change counter versions the outlines (kaart/providers/versions.py).
BUURTEN_READS = ("buurt",)
# What catalogue_entries(with_contributions=True) reads: the catalogue, the contributions' extent.
CATALOGUE_READS = ("layer", *contributions.TILE_READS)


def buurten(
    session: Session,
    bbox: BBox | None,
    *,
    codes: Sequence[str] = (),
    tolerance: float = 0.0,
) -> str:
    """Buurt boundaries with code and name as FeatureCollection text: those in a WGS84 bbox (or
    all when there is neither a bbox nor codes), plus the buurten named in `codes`; simplified
    by `tolerance` degrees when given."""
    b = t.buurt.alias("b")
    where = []
    if bbox:
        where.append(b.c.geom.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    if codes:
        where.append(b.c.code.in_(codes))
    # A float from the caller's code, never from a request.
    geometry = (
        f"ST_SimplifyPreserveTopology(b.geom, {float(tolerance)!r})" if tolerance else "b.geom"
    )
    features = literal_column(
        f"""coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', b.code,
            'geometry', ST_AsGeoJSON({geometry}, 6)::json,
            'properties', json_build_object(
              'code', b.code, 'name', b.name, 'wijk_code', b.wijk_code,
              'gemeente_code', b.gemeente_code, 'layer', b.layer)
          ) ORDER BY b.code), '[]'::json)"""
    )
    stmt = select(features).select_from(b).where(or_(*where) if where else true())
    body = session.execute(stmt).scalar_one()
    return json.dumps({"type": "FeatureCollection", "features": body}, ensure_ascii=False)
