"""Open-data layers as the map shows them (built as GeoJSON inside PostGIS)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def buurten_geojson(session: Session, bbox: tuple[float, float, float, float] | None) -> str:
    """Buurt boundaries with code and name, in a bbox (or all), as FeatureCollection text."""
    where = "true"
    params: dict[str, Any] = {}
    if bbox:
        where = "geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)"
        params = dict(zip(("x1", "y1", "x2", "y2"), bbox, strict=True))
    sql = f"""
        SELECT json_build_object(
          'type', 'FeatureCollection',
          'features', coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', code,
            'geometry', ST_AsGeoJSON(geom, 6)::json,
            'properties', json_build_object(
              'code', code, 'name', name, 'wijk_code', wijk_code, 'gemeente_code', gemeente_code,
              'layer', layer)
          ) ORDER BY code), '[]'::json)
        )::text
        FROM buurt WHERE {where}
    """
    return session.execute(text(sql), params).scalar_one()
