"""The open-layer catalogue and small selections of a layer's features as GeoJSON (from PostGIS).

    layers = catalogue(session)
    page = features(session, "bag-panden", (5.041, 52.306, 5.043, 52.307), limit=100)

The features of a page are Feature texts built by PostGIS; a page continues after the last fid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import ApiError, FieldError
from kaart.services import tiles
from kaart.services.contributions import PUBLIC_WHERE

CONTRIBUTIONS_TITLE = "Bijdragen"  # Dutch, like the titles of the open layers


@dataclass(frozen=True)
class Page:
    features: list[str]  # GeoJSON Feature text, made by PostGIS
    next_cursor: str | None


def tile_url(name: str) -> str:
    return f"/tiles/{quote(name, safe='')}/{{z}}/{{x}}/{{y}}.pbf"


def catalogue(session: Session, *, contributions: bool = True) -> list[dict[str, Any]]:
    """Every layer the map can draw, with attribution, extent, size, zoom range and the typed
    columns its tiles carry; `contributions` adds their entry (counted live)."""
    rows = session.execute(
        text(
            "SELECT name, title, kind, geometry_family, licence, attribution, source, "
            "feature_count, bbox, min_zoom, max_zoom, loaded_at, columns "
            "FROM layer WHERE table_name IS NOT NULL ORDER BY name"
        )
    ).mappings()
    layers = [
        dict(r)
        | {
            "columns": list(r["columns"] or []),
            "loaded_at": r["loaded_at"].isoformat(),
            "tiles": tile_url(r["name"]),
            "features": f"/api/v1/layers/{quote(r['name'], safe='')}/features",
        }
        for r in rows
    ]
    return [*layers, _contributions(session)] if contributions else layers


def _contributions(session: Session) -> dict[str, Any]:
    count, west, south, east, north = session.execute(
        text(
            "SELECT count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), "
            "ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) "
            f"FROM contribution AS c WHERE {PUBLIC_WHERE}"
        )
    ).one()
    low, high = tiles.CONTRIBUTION_ZOOMS
    return {
        "name": tiles.CONTRIBUTIONS,
        "title": CONTRIBUTIONS_TITLE,
        "kind": "contribution",
        "geometry_family": None,  # points, lines and areas
        "licence": None,
        "attribution": None,
        "source": None,
        "feature_count": count,
        "bbox": None if west is None else [west, south, east, north],
        "min_zoom": low,
        "max_zoom": high,
        "loaded_at": None,
        "columns": list(tiles.CONTRIBUTION_COLUMNS),
        "tiles": tile_url(tiles.CONTRIBUTIONS),
        "features": "/api/v1/contributions",  # the contribution API; same bbox and limit
    }


def decode_cursor(value: str) -> int:
    """The fid a `next` link continues after; anything else is a 400 naming `cursor`."""
    if value.isascii() and value.isdigit() and len(value) <= 19 and int(value) < 2**63:
        return int(value)
    raise ApiError(
        status=400,
        title="Bad request",
        detail="cursor is not one this server gave out; follow the `next` link.",
        errors=[FieldError("cursor", "Unknown cursor.", "cursor_invalid")],
    )


def features(
    session: Session,
    name: str,
    bbox: tuple[float, float, float, float],
    limit: int,
    after: int | None = None,
) -> Page:
    """A page of the layer's features in `bbox` (WGS84), in fid order."""
    layer = tiles.find_layer(session, name)
    if layer.table is None:  # contributions have their own API
        raise ApiError(404, "Not found", "Contributions are served by /api/v1/contributions?bbox=…")
    clipped = _clip(bbox, tiles.RD_DOMAIN)
    if clipped is None:  # nowhere near the Netherlands: no Dutch layer has data there
        return Page([], None)
    west, south, east, north = clipped
    params = {
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        # Densify the edges so the box keeps its shape (and coverage) in RD New.
        "segment": max(east - west, north - south) / 16,
        "after": after if after is not None else -1,
        "limit": limit + 1,
    }
    rows = session.execute(text(_features_sql(layer.table, layer.columns)), params).all()
    next_cursor = str(rows[limit - 1][0]) if len(rows) > limit else None
    return Page([r[1] for r in rows[:limit]], next_cursor)


def feature(session: Session, name: str, feature_id: str) -> str:
    """One feature of a loaded layer by its id (e.g. a BAG pand id) as GeoJSON text; 404 when
    the layer or the feature is not there. When a source repeats an id, the first one loaded."""
    layer = tiles.find_layer(session, name)
    if layer.table is None:
        raise ApiError(404, "Not found", "Contributions are served by /api/v1/contributions/{id}")
    row = session.execute(
        text(_feature_sql(layer.table, layer.columns)), {"feature_id": feature_id[:200]}
    ).one_or_none()
    if row is None:
        raise ApiError(
            404,
            "Not found",
            f"Layer {name!r} has no feature {feature_id[:40]!r}.",
            [FieldError("id", "No feature with this id in the loaded layer.", "feature_unknown")],
        )
    return row[0]


def _feature_json(columns: tuple[str, ...]) -> tuple[str, str]:
    """A row of `t` as GeoJSON Feature text in WGS84, and the lateral join it needs. Source
    attributes first, the typed columns over them: those are the checked values."""
    typed = ", ".join(f"t.{sql.Identifier(c).as_string(None)}" for c in ("feature_id", *columns))
    feature = """json_build_object(
          'type', 'Feature',
          'id', t.feature_id,
          'geometry', ST_AsGeoJSON(ST_Transform(t.geom, 4326), 6)::json,
          'properties', t.properties || to_jsonb(a)
        )::text"""
    return feature, f"CROSS JOIN LATERAL (SELECT {typed}) AS a"


def _feature_sql(table: str, columns: tuple[str, ...]) -> str:
    feature, typed = _feature_json(columns)
    return f"""
        SELECT {feature}
        FROM {sql.Identifier("open_data", table).as_string(None)} AS t
          {typed}
        WHERE t.feature_id = :feature_id
        ORDER BY t.fid
        LIMIT 1
    """


def _clip(
    bbox: tuple[float, float, float, float], domain: tuple[float, float, float, float]
) -> tuple[float, float, float, float] | None:
    west, south = max(bbox[0], domain[0]), max(bbox[1], domain[1])
    east, north = min(bbox[2], domain[2]), min(bbox[3], domain[3])
    return (west, south, east, north) if west < east and south < north else None


def _features_sql(table: str, columns: tuple[str, ...]) -> str:
    feature, typed = _feature_json(columns)
    return f"""
        WITH box AS (
          SELECT ST_Transform(ST_Segmentize(
                   ST_MakeEnvelope(:west, :south, :east, :north, 4326), :segment), 28992) AS area
        )
        SELECT t.fid, {feature}
        FROM {sql.Identifier("open_data", table).as_string(None)} AS t
          CROSS JOIN box
          {typed}
        WHERE t.geom && box.area AND ST_Intersects(t.geom, box.area) AND t.fid > :after
        ORDER BY t.fid
        LIMIT :limit
    """
