"""What the co-op view asks of the stored potentials: one building, a shortlist for an area, and
the potentials as vector tiles. PostGIS selects, joins and builds the geometry output.

Buildings are those of the `bag-panden` layer; offers are published `energie` contributions
linked to a pand (object layer `bag-panden`, object id the pand's BAG id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import ApiError, NotFound, not_found
from kaart.providers import versions
from kaart.providers.contributions import PUBLIC_WHERE
from kaart.services.tiles import BUFFER, EXTENT, MARGIN, MAX_FEATURES, RowReader, Tile

BUILDING_LAYER = "bag-panden"
ADDRESS_LAYER = "bag-adressen"
PC4_LAYER = "cbs-pc4"
OFFER_CATEGORY = "energie"
SHORTLIST_MAX = 5_000

# The published energie contributions about each pand (`s` is solar_potential).
OFFERS_SQL = f"""
  LEFT JOIN LATERAL (
    SELECT count(*) AS n,
           coalesce(json_agg(json_build_object('id', c.id, 'title', c.title,
                    'url', '/bijdragen/' || c.id) ORDER BY c.created_at), '[]'::json) AS items
    FROM contribution c
    WHERE {PUBLIC_WHERE} AND c.category = '{OFFER_CATEGORY}'
      AND c.object_layer = :building_layer AND c.object_id = s.bag_id
  ) offers ON true
"""


def table_of(session: Session, layer: str) -> str | None:
    """`open_data."<table>"` of a loaded layer, quoted, or None."""
    name = session.execute(
        text("SELECT table_name FROM layer WHERE name = :n AND table_name IS NOT NULL"),
        {"n": layer},
    ).scalar_one_or_none()
    return sql.Identifier("open_data", name).as_string(None) if name else None


def columns_of(session: Session, layer: str) -> tuple[str, ...]:
    """The typed columns the catalogue lists for a loaded layer."""
    columns = session.execute(
        text("SELECT columns FROM layer WHERE name = :n"), {"n": layer}
    ).scalar_one_or_none()
    return tuple(columns or ())


def _buildings(session: Session) -> str:
    table = table_of(session, BUILDING_LAYER)
    if table is None:
        raise NotFound(reason="No BAG panden are loaded, so there are no potentials.")
    return table


def _address_sql(session: Session, alias: str = "t") -> str:
    """The first address inside the footprint (`<alias>.geom`), when BAG addresses are loaded."""
    table = table_of(session, ADDRESS_LAYER)
    if table is None:
        return "NULL::text"
    return f"""(SELECT concat_ws(' ', a.street, a.house_number::text,
                                 nullif(concat(a.house_letter, a.house_number_suffix), ''))
                 || coalesce(', ' || a.postcode, '')
               FROM {table} a WHERE ST_Intersects(a.geom, {alias}.geom)
               ORDER BY a.street, a.house_number, a.feature_id LIMIT 1)"""


def building(session: Session, bag_id: str) -> dict[str, Any]:
    """A building's figures, roof parts, address and offers."""
    table = _buildings(session)
    row = session.execute(
        text(
            f"""
            SELECT json_build_object(
              'bag_id', s.bag_id, 'method', s.method, 'skipped_reason', s.skipped_reason,
              'roof_area_m2', round(s.roof_area_m2::numeric, 1),
              'usable_area_m2', round(s.usable_area_m2::numeric, 1),
              'panels', s.panels, 'kwp', round(s.kwp::numeric, 2),
              'kwh_year', round(s.kwh_year::numeric), 'kwh_per_kwp', round(s.kwh_per_kwp::numeric),
              'suitability', s.suitability, 'co2_kg_year', round(s.co2_kg_year::numeric),
              'households', round(s.households::numeric, 1),
              'construction_year', s.construction_year, 'usage', s.usage,
              'roof_parts', s.roof_parts, 'computed_at', s.computed_at,
              'address', {_address_sql(session)},
              'offers', offers.items, 'offer_count', offers.n,
              'centroid', ST_AsGeoJSON(ST_Transform(ST_PointOnSurface(t.geom), 4326), 6)::json
            )::text
            FROM solar_potential s JOIN {table} t ON t.feature_id = s.bag_id
            {OFFERS_SQL}
            WHERE s.bag_id = :bag_id
            """
        ),
        {"bag_id": bag_id, "building_layer": BUILDING_LAYER},
    ).scalar_one_or_none()
    if row is None:
        raise not_found(f"A computed potential for pand {bag_id[:20]!r}")
    return json.loads(row)


@dataclass(frozen=True)
class Area:
    """Where a shortlist looks: a buurt code, a PC4, or a drawn polygon (WKB, WGS84)."""

    buurt: str | None = None
    pc4: str | None = None
    polygon_wkb: bytes | None = None


@dataclass(frozen=True)
class Filters:
    min_kwp: float = 0.0
    min_roof_m2: float = 0.0
    suitability: tuple[str, ...] = ()
    usage: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    offered_only: bool = False
    limit: int = 500


def _area_sql(session: Session, area: Area) -> tuple[str, dict[str, Any]]:
    """SQL for the area in RD New, and its parameters; 404 when the buurt or PC4 is unknown."""
    if area.buurt is not None:
        found = session.execute(
            text("SELECT 1 FROM buurt WHERE code = :code"), {"code": area.buurt}
        ).first()
        if not found:
            raise _unknown("buurt", f"There is no buurt {area.buurt[:12]!r}.")
        return (
            "(SELECT ST_Transform(geom, 28992) FROM buurt WHERE code = :area_code)",
            {"area_code": area.buurt},
        )
    if area.pc4 is not None:
        table = table_of(session, PC4_LAYER)
        if table is None:
            raise _unknown("pc4", "No PC4 areas are loaded.")
        found = session.execute(
            text(f"SELECT 1 FROM {table} WHERE postcode = :code AND NOT ST_IsEmpty(geom)"),
            {"code": area.pc4},
        ).first()
        if not found:
            raise _unknown("pc4", f"There is no PC4 area {area.pc4!r}.")
        return (
            f"(SELECT ST_Union(geom) FROM {table} WHERE postcode = :area_code)",
            {"area_code": area.pc4},
        )
    return (
        "ST_Transform(ST_SetSRID(ST_GeomFromWKB(:area_wkb), 4326), 28992)",
        {"area_wkb": area.polygon_wkb},
    )


def _unknown(name: str, reason: str) -> ApiError:
    return NotFound(reason=reason, field_name=name, code=f"{name}_unknown")


def _filter_sql(filters: Filters) -> tuple[str, dict[str, Any]]:
    where = ["s.panels > 0", "s.kwp >= :min_kwp", "s.roof_area_m2 >= :min_roof"]
    params: dict[str, Any] = {"min_kwp": filters.min_kwp, "min_roof": filters.min_roof_m2}
    if filters.suitability:
        where.append("s.suitability = ANY(:classes)")
        params["classes"] = list(filters.suitability)
    if filters.usage:
        where.append("s.usage ILIKE '%' || :usage || '%'")
        params["usage"] = filters.usage
    if filters.year_from is not None:
        where.append("s.construction_year >= :year_from")
        params["year_from"] = filters.year_from
    if filters.year_to is not None:
        where.append("s.construction_year <= :year_to")
        params["year_to"] = filters.year_to
    if filters.offered_only:
        where.append("offers.n > 0")
    return " AND ".join(where), params


def shortlist(session: Session, area: Area, filters: Filters) -> dict[str, Any]:
    """The buildings whose point on surface lies in the area, best first, with totals over all
    that match (the list itself stops at ``filters.limit``). Geometry is WGS84 GeoJSON."""
    table = _buildings(session)
    area_sql, params = _area_sql(session, area)
    where, filter_params = _filter_sql(filters)
    params |= filter_params | {"building_layer": BUILDING_LAYER, "limit": filters.limit}
    rows = session.execute(
        text(
            f"""
            WITH area AS (SELECT {area_sql} AS geom),
            hits AS (
              SELECT s.*, t.geom, offers.n AS offer_count, offers.items AS offers
              FROM area, {table} t
              JOIN solar_potential s ON s.bag_id = t.feature_id
              {OFFERS_SQL}
              WHERE t.geom && area.geom AND ST_Intersects(area.geom, ST_PointOnSurface(t.geom))
                AND {where}
            )
            SELECT json_build_object(
              'totals', (SELECT json_build_object(
                  'roofs', count(*), 'panels', coalesce(sum(panels), 0),
                  'kwp', round(coalesce(sum(kwp), 0)::numeric, 1),
                  'kwh_year', round(coalesce(sum(kwh_year), 0)::numeric),
                  'co2_kg_year', round(coalesce(sum(co2_kg_year), 0)::numeric),
                  'households', round(coalesce(sum(households), 0)::numeric, 1),
                  'offers', coalesce(sum(offer_count), 0),
                  'offered_roofs', count(*) FILTER (WHERE offer_count > 0)) FROM hits),
              'features', coalesce((SELECT json_agg(f ORDER BY rank) FROM (
                  SELECT row_number() OVER (ORDER BY h.kwh_year DESC, h.bag_id) AS rank,
                         json_build_object(
                    'type', 'Feature', 'id', h.bag_id,
                    'geometry', ST_AsGeoJSON(ST_Transform(h.geom, 4326), 6)::json,
                    'properties', json_build_object(
                      'rank', row_number() OVER (ORDER BY h.kwh_year DESC, h.bag_id),
                      'bag_id', h.bag_id, 'address', {_address_sql(session, "h")},
                      'suitability', h.suitability, 'method', h.method,
                      'roof_area_m2', round(h.roof_area_m2::numeric, 1),
                      'usable_area_m2', round(h.usable_area_m2::numeric, 1),
                      'panels', h.panels, 'kwp', round(h.kwp::numeric, 2),
                      'kwh_year', round(h.kwh_year::numeric),
                      'kwh_per_kwp', round(h.kwh_per_kwp::numeric),
                      'co2_kg_year', round(h.co2_kg_year::numeric),
                      'households', round(h.households::numeric, 1),
                      'construction_year', h.construction_year, 'usage', h.usage,
                      'offer_count', h.offer_count, 'offers', h.offers)) AS f
                  FROM hits h ORDER BY h.kwh_year DESC, h.bag_id LIMIT :limit) ranked),
                '[]'::json)
            )::text
            """
        ),
        params,
    ).scalar_one()
    result = json.loads(rows)
    result["type"] = "FeatureCollection"
    result["numberReturned"] = len(result["features"])
    return result


# -- Vector tiles of the potentials ---------------------------------------------------------------

TILE_COLUMNS = ("bag_id", "suitability", "kwp", "kwh_year", "offered")
TILE_ZOOMS = (13, 22)
# What a tile is read from: the offers, the potentials, and the catalogue, whose row of
# `bag-panden` moves with every reload of the footprints (kaart/providers/versions.py).
TILE_READS = ("contribution", "solar_potential", "layer")
# Bump when the tile SQL changes what a tile holds, so clients do not keep stale tiles.
TILE_FORMAT = "1"


def tile_etag(session: Session, address: Tile) -> str:
    """The tile's validator, from the change counters of what it is read from: read before the
    tile (so never ahead of it), and without building it."""
    version = versions.current(session, TILE_READS)
    return versions.etag("solar", TILE_FORMAT, version, f"{address.z}/{address.x}/{address.y}")


def tile(session: Session, read_row: RowReader, address: Tile) -> bytes:
    """The buildings with their class and figures as one MVT layer named `solar`; the statement
    runs through `read_row` (kaart.db.prepared_row: prepared, like the other tiles')."""
    if not TILE_ZOOMS[0] <= address.z <= TILE_ZOOMS[1]:
        return b""
    table = table_of(session, BUILDING_LAYER)
    if table is None:
        return b""
    (data,) = read_row(
        f"""
            WITH bounds AS (
              SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
                     ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 28992) AS area
            ),
            picked AS (
              SELECT t.fid, s.bag_id, s.suitability, round(s.kwp::numeric, 1) AS kwp,
                     round(s.kwh_year::numeric) AS kwh_year, offers.n > 0 AS offered, t.geom
              FROM bounds, {table} t
              JOIN solar_potential s ON s.bag_id = t.feature_id
              {OFFERS_SQL}
              WHERE t.geom && bounds.area
              ORDER BY ST_Area(t.geom) DESC, t.fid
              LIMIT :cap
            )
            SELECT ST_AsMVT(mvt, 'solar', :extent, 'geom', 'fid')
            FROM (
              SELECT p.fid, p.bag_id, p.suitability, p.kwp, p.kwh_year, p.offered,
                     ST_AsMVTGeom(ST_Transform(p.geom, 3857), bounds.tile, :extent, :buffer, true)
                       AS geom
              FROM picked p, bounds
            ) AS mvt
            """,
        {
            "z": address.z,
            "x": address.x,
            "y": address.y,
            "margin": MARGIN,
            "cap": MAX_FEATURES,
            "extent": EXTENT,
            "buffer": BUFFER,
            "building_layer": BUILDING_LAYER,
        },
    )
    return bytes(data or b"")
