"""The postcoderoos: a PC4 area plus every PC4 area adjacent to it (the catchment of a
co-operative solar project under the SCE scheme), with addresses and interested residents.

    rose = postcoderoos(session, pc4="1381")          # or point=(lon, lat)

PC4 borders in open data do not meet exactly (CBS simplifies them: 1013 and 1014 share 4.6 km
of border without touching), so "adjacent" means within TOLERANCE_M metres in RD New. Empty
PC4 geometries (5028 in the 2024 file) are never part of a rose.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import ApiError, BadRequest, NotFound
from kaart.providers.contributions import PUBLIC_GEOM, PUBLIC_WHERE
from kaart.solar.queries import ADDRESS_LAYER, OFFER_CATEGORY, PC4_LAYER, columns_of, table_of

TOLERANCE_M = 1.0
PC4_PATTERN = re.compile(r"[1-9][0-9]{3}")


def _missing(name: str, reason: str, code: str, status: int = 404) -> ApiError:
    if status == 404:
        return NotFound(reason=reason, field_name=name, code=code)
    return BadRequest(reason, name, code)


def centre_at(session: Session, table: str, lon: float, lat: float) -> str:
    """The PC4 holding a WGS84 point; 404 when it lies in none (water, or not loaded there)."""
    code = session.execute(
        text(
            f"""
            SELECT postcode FROM {table}
            WHERE NOT ST_IsEmpty(geom) AND ST_Intersects(geom,
                  ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 28992))
            ORDER BY postcode LIMIT 1
            """
        ),
        {"lon": lon, "lat": lat},
    ).scalar_one_or_none()
    if code is None:
        raise _missing("lon", "No PC4 area holds this point.", "pc4_not_found")
    return code


def postcoderoos(
    session: Session,
    *,
    pc4: str | None = None,
    point: tuple[float, float] | None = None,
    tolerance_m: float = TOLERANCE_M,
) -> dict[str, Any]:
    """The rose as a FeatureCollection (WGS84): the centre first, then its neighbours."""
    table = table_of(session, PC4_LAYER)
    if table is None:
        raise NotFound(reason="No PC4 areas are loaded (layer cbs-pc4).")
    if pc4 is not None:
        if not PC4_PATTERN.fullmatch(pc4):
            raise _missing("pc4", "pc4 must be four digits, 1000-9999.", "pc4_invalid", 400)
        exists = session.execute(
            text(f"SELECT 1 FROM {table} WHERE postcode = :code AND NOT ST_IsEmpty(geom)"),
            {"code": pc4},
        ).first()
        if not exists:
            raise _missing("pc4", f"There is no PC4 area {pc4} with a geometry.", "pc4_unknown")
        code = pc4
    elif point is not None:
        code = centre_at(session, table, *point)
    else:
        raise _missing("pc4", "Give pc4, or lon and lat.", "location_missing", 400)
    # A PC4 file without inhabitants (older CBS sets) still gives a rose.
    inhabitants = "p.inhabitants" if "inhabitants" in columns_of(session, PC4_LAYER) else "NULL"
    addresses = table_of(session, ADDRESS_LAYER)
    address_sql = (
        f"(SELECT count(*) FROM {addresses} a WHERE a.geom && r.geom "
        "AND ST_Intersects(r.geom, a.geom))"
        if addresses
        else "NULL::bigint"
    )
    body = session.execute(
        text(
            f"""
            WITH centre AS (
              SELECT ST_Union(geom) AS geom FROM {table}
              WHERE postcode = :code AND NOT ST_IsEmpty(geom)
            ),
            rose AS (
              SELECT p.postcode, max({inhabitants})::double precision AS inhabitants,
                     ST_Union(p.geom) AS geom
              FROM {table} p, centre
              WHERE NOT ST_IsEmpty(p.geom) AND ST_DWithin(p.geom, centre.geom, :tolerance)
              GROUP BY p.postcode
            ),
            counted AS (
              SELECT r.postcode, r.inhabitants, r.postcode = :code AS is_centre,
                     ST_Transform(r.geom, 4326) AS geom4326,
                     {address_sql} AS addresses,
                     (SELECT count(*) FROM contribution c
                      WHERE {PUBLIC_WHERE} AND c.category = :category
                        AND {PUBLIC_GEOM} && ST_Transform(r.geom, 4326)
                        AND ST_Intersects(ST_Transform(r.geom, 4326),
                                          ST_PointOnSurface({PUBLIC_GEOM}))
                     ) AS interested
              FROM rose r
            )
            SELECT json_build_object(
              'type', 'FeatureCollection',
              'postcode', :code,
              'tolerance_m', :tolerance,
              'totals', json_build_object(
                'areas', count(*), 'neighbours', count(*) - 1,
                'addresses', CASE WHEN bool_and(addresses IS NOT NULL) THEN sum(addresses) END,
                'interested', sum(interested), 'inhabitants', sum(inhabitants)),
              'features', json_agg(json_build_object(
                'type', 'Feature', 'id', postcode,
                'geometry', ST_AsGeoJSON(geom4326, 6)::json,
                'properties', json_build_object(
                  'postcode', postcode,
                  'role', CASE WHEN is_centre THEN 'centre' ELSE 'neighbour' END,
                  'inhabitants', inhabitants, 'addresses', addresses, 'interested', interested))
                ORDER BY is_centre DESC, postcode)
            )::text
            FROM counted
            """
        ),
        {"code": code, "tolerance": tolerance_m, "category": OFFER_CATEGORY},
    ).scalar_one()
    return json.loads(body)
