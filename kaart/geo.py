"""GeoJSON in, shapely out: the guard rails for every geometry a client sends.

Nothing here repairs a shape. A geometry that is not exactly what the client meant to send is
refused with the reason, naming the part of the request that is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from kaart.crs import RD_DOMAIN
from kaart.errors import invalid

if TYPE_CHECKING:
    from pyproj import Transformer

    from kaart.config import Settings

WGS84 = 4326
RD_NEW = 28992

# How deep the coordinate arrays of each allowed type nest (0 = a single position).
GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}

# Names that mean "longitude, latitude on WGS84" in the (obsolete) GeoJSON 2008 `crs` member.
WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
}


@dataclass(frozen=True)
class Limits:
    """What a geometry may be: where it lies, how many vertices it has, how large it is."""

    bbox: tuple[float, ...]
    max_vertices: int
    max_area_m2: float
    area: BaseGeometry | None = None  # an outline inside the bbox, e.g. the Netherlands


def limits_for(settings: Settings) -> Limits:
    """The geometry limits a deployment's settings ask for."""
    area = load_area(settings.area_file) if settings.area_file else None
    return Limits(settings.area_bbox, settings.max_vertices, settings.max_area_m2, area)


@lru_cache(maxsize=4)
def load_area(path: Path) -> BaseGeometry:
    """The union of the (multi)polygons in a GeoJSON file, prepared for fast point tests."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    features = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
    geoms = [shape(f["geometry"] if f.get("type") == "Feature" else f) for f in features]
    area = shapely.union_all(geoms)
    shapely.prepare(area)
    return area


@lru_cache(maxsize=1)
def _to_rd() -> Transformer:
    # pyproj (PROJ and its database, ~10 MiB per process) only in the workers that measure a
    # drawn shape; one that serves maps, tiles and pages never loads it.
    from pyproj import Transformer

    return Transformer.from_crs(WGS84, RD_NEW, always_xy=True)


def to_rd_new(geom: BaseGeometry) -> BaseGeometry:
    """The geometry in RD New (EPSG:28992), where the Netherlands measures metres."""
    return shapely.transform(geom, lambda xy: _stack(_to_rd().transform(xy[:, 0], xy[:, 1])))


def _stack(xy: tuple[Any, Any]) -> Any:
    return np.column_stack(xy)


# No radius of curvature of the GRS80 or Bessel ellipsoid exceeds this (m), and within RD New's
# domain its scale factor squared stays below 1.003.
_EARTH_RADIUS_BOUND = 6_400_000.0
_RD_AREA_SCALE_BOUND = 1.01


def _area_bound_m2(geom: BaseGeometry) -> float:
    """An upper bound of area_m2(geom), cheaply and without PROJ: the area in square degrees,
    with a degree of longitude taken as long as at the shape's southern edge and both degrees
    on a sphere larger than the earth. Most drawn shapes are far below the limit, so only the
    rest are measured exactly; a worker that never meets one never loads PROJ (~10-15 MiB)."""
    west, south, east, north = geom.bounds
    inside = RD_DOMAIN[0] <= west and east <= RD_DOMAIN[2]
    if not (inside and RD_DOMAIN[1] <= south and north <= RD_DOMAIN[3]):
        return math.inf
    metres_per_degree = math.radians(1) * _EARTH_RADIUS_BOUND
    shrink = math.cos(math.radians(south))  # the longest degree of longitude of the shape
    return geom.area * metres_per_degree**2 * shrink * _RD_AREA_SCALE_BOUND


def area_m2(geom: BaseGeometry) -> float:
    return float(to_rd_new(geom).area)


def length_m(geom: BaseGeometry) -> float:
    return float(to_rd_new(geom).length)


def check_crs(obj: dict[str, Any], path: str) -> None:
    """Refuse a `crs` member (GeoJSON 2008) that names anything but WGS84 longitude/latitude."""
    if "crs" not in obj or obj["crs"] is None:
        return
    crs = obj["crs"]
    name = None
    if (
        isinstance(crs, dict)
        and crs.get("type") == "name"
        and isinstance(crs.get("properties"), dict)
    ):
        name = crs["properties"].get("name")
    if not isinstance(name, str) or name not in WGS84_CRS_NAMES:
        shown = name if isinstance(name, str) else "an unsupported crs object"
        raise invalid(
            f"{path}crs",
            f"Coordinates must be WGS84 longitude/latitude (CRS84, RFC 7946); got {shown[:80]}. "
            "Reproject to EPSG:4326 before sending.",
            "crs_not_wgs84",
        )


def parse_geometry(obj: Any, limits: Limits, path: str = "geometry") -> BaseGeometry:
    """Check a GeoJSON geometry object completely and return it as a 2D shapely geometry."""
    if not isinstance(obj, dict):
        raise invalid(path, "A geometry object is required.", "geometry_missing")
    check_crs(obj, f"{path}.")
    gtype = obj.get("type")
    if gtype not in GEOMETRY_DEPTH:
        allowed = ", ".join(GEOMETRY_DEPTH)
        raise invalid(
            f"{path}.type",
            f"Geometry type {str(gtype)[:40]!r} is not allowed; use one of {allowed}.",
            "geometry_type_not_allowed",
        )
    coords = obj.get("coordinates")
    depth = GEOMETRY_DEPTH[gtype]
    _check_nesting(coords, depth, f"{path}.coordinates")
    positions = list(_positions(coords, depth, f"{path}.coordinates", limits.max_vertices))
    for position, where in positions:
        _check_position(position, where, limits.bbox)
    if limits.area is not None:
        _check_in_area(positions, limits)
    _check_structure(gtype, coords, f"{path}.coordinates")
    geom = shape({"type": gtype, "coordinates": _strip_z(coords, depth)})
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        raise invalid(
            path,
            f"The {gtype} is not a valid shape: {reason}. Redraw it so that its edges do "
            "not cross or touch themselves.",
            "geometry_invalid",
        )
    if geom.area > 0 and _area_bound_m2(geom) > limits.max_area_m2:
        area = area_m2(geom)  # near or over the limit: measured exactly, in RD New
        if area > limits.max_area_m2:
            raise invalid(
                path,
                f"The area is {area / 1e6:.2f} km², more than the maximum of "
                f"{limits.max_area_m2 / 1e6:.2f} km².",
                "area_too_large",
            )
    return geom


def _check_nesting(coords: Any, depth: int, path: str) -> None:
    if not isinstance(coords, list):
        raise invalid(path, "Coordinates must be an array.", "coordinates_not_array")
    if depth > 0:
        if not coords:
            raise invalid(path, "Coordinates must not be empty.", "too_few_points")
        for i, member in enumerate(coords):
            _check_nesting(member, depth - 1, f"{path}[{i}]")


def _positions(
    coords: list[Any], depth: int, path: str, max_vertices: int
) -> Iterator[tuple[list[Any], str]]:
    stack: list[tuple[list[Any], int, str]] = [(coords, depth, path)]
    count = 0
    while stack:
        node, level, where = stack.pop()
        if level == 0:
            count += 1
            if count > max_vertices:
                raise invalid(
                    path.rsplit(".", 1)[0],
                    f"The geometry has more than {max_vertices:,} vertices; simplify it.",
                    "too_many_vertices",
                )
            yield node, where
        else:
            stack.extend((child, level - 1, f"{where}[{i}]") for i, child in enumerate(node))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_position(position: list[Any], where: str, bbox: tuple[float, ...]) -> None:
    if len(position) not in (2, 3):
        raise invalid(
            where,
            "A position must be [longitude, latitude] (an optional altitude is ignored).",
            "position_length",
        )
    if not all(_is_number(v) for v in position):
        raise invalid(where, "Coordinates must be numbers.", "coordinate_not_number")
    if not all(math.isfinite(v) for v in position):
        raise invalid(
            where,
            "Coordinates must be finite numbers (no NaN or Infinity).",
            "coordinate_not_finite",
        )
    lon, lat = position[0], position[1]
    min_lon, min_lat, max_lon, max_lat = bbox
    if min_lon <= lon <= max_lon and min_lat <= lat <= max_lat:
        return
    if min_lon <= lat <= max_lon and min_lat <= lon <= max_lat:
        raise invalid(
            where,
            f"[{lon}, {lat}] looks like [latitude, longitude]; GeoJSON positions are "
            "[longitude, latitude].",
            "coordinates_swapped",
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise invalid(
            where, f"[{lon}, {lat}] is not a WGS84 longitude/latitude.", "coordinate_out_of_range"
        )
    raise invalid(
        where,
        f"[{lon}, {lat}] lies outside the area this map covers "
        f"({min_lon}, {min_lat} to {max_lon}, {max_lat}).",
        "outside_area",
    )


def _check_in_area(positions: list[tuple[list[Any], str]], limits: Limits) -> None:
    xs = np.array([p[0] for p, _ in positions], dtype=float)
    ys = np.array([p[1] for p, _ in positions], dtype=float)
    inside = shapely.contains_xy(limits.area, xs, ys)
    if inside.all():
        return
    i = int(np.argmin(inside))
    lon, lat = xs[i], ys[i]
    if shapely.contains_xy(limits.area, lat, lon):
        raise invalid(
            positions[i][1],
            f"[{lon}, {lat}] looks like [latitude, longitude]; GeoJSON positions are "
            "[longitude, latitude].",
            "coordinates_swapped",
        )
    raise invalid(
        positions[i][1],
        f"[{lon}, {lat}] lies outside the area this map covers (the Netherlands).",
        "outside_area",
    )


def _check_structure(gtype: str, coords: list[Any], path: str) -> None:
    if gtype == "LineString":
        _check_line(coords, path)
    elif gtype == "MultiLineString":
        for i, line in enumerate(coords):
            _check_line(line, f"{path}[{i}]")
    elif gtype == "Polygon":
        _check_polygon(coords, path)
    elif gtype == "MultiPolygon":
        for i, polygon in enumerate(coords):
            _check_polygon(polygon, f"{path}[{i}]")


def _check_line(line: list[Any], path: str) -> None:
    if len(line) < 2:
        raise invalid(path, "A line needs at least 2 points.", "too_few_points")


def _check_polygon(rings: list[Any], path: str) -> None:
    for i, ring in enumerate(rings):
        where = f"{path}[{i}]"
        if len(ring) < 4:
            raise invalid(
                where,
                "A polygon ring needs at least 4 positions (3 corners and the first one again).",
                "too_few_points",
            )
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise invalid(
                where,
                "A polygon ring must be closed: its last position must equal its first.",
                "ring_not_closed",
            )


def _strip_z(coords: Any, depth: int) -> Any:
    if depth == 0:
        return coords[:2]
    return [_strip_z(c, depth - 1) for c in coords]
