"""/api/v1 for energy co-operatives: a building's rooftop potential, a shortlist for an area
with CSV/GeoPackage export, a single-plane estimate, and the postcoderoos. (The /coop page:
kaart/views/public/coop.py; its tiles: kaart/views/tiles.py.)"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import shapely
from flask import Response, current_app, request
from shapely import to_wkb

from kaart.db import get_session
from kaart.errors import ApiError, BadRequest, FieldError, Invalid, NotFound
from kaart.geo import limits_for, parse_geometry
from kaart.params import Params
from kaart.services.exports import GEOPACKAGE
from kaart.services.postcoderoos import postcoderoos
from kaart.solar import queries, roofs
from kaart.solar.estimate import AREA_MAX_M2, Plane, estimate
from kaart.solar.roofs import economics_for
from kaart.textcheck import load_json
from kaart.views.api import bp

MVT = "application/vnd.mapbox-vector-tile"
CLASS_NAMES = tuple(name for name, _ in roofs.CLASSES)
BAG_ID = re.compile(r"[0-9A-Za-z_.-]{1,40}")
BUURT_CODE = re.compile(r"[A-Za-z0-9]{1,12}")
USAGE = re.compile(r"[a-z, ]{1,40}")
CSV_COLUMNS = (
    "rank",
    "bag_id",
    "address",
    "suitability",
    "method",
    "roof_area_m2",
    "usable_area_m2",
    "panels",
    "kwp",
    "kwh_year",
    "kwh_per_kwp",
    "co2_kg_year",
    "households",
    "construction_year",
    "usage",
    "offer_count",
)


def _in_netherlands(lon: float, lat: float) -> None:
    limits = limits_for(current_app.config["KAART"])
    west, south, east, north = limits.bbox
    inside = west <= lon <= east and south <= lat <= north
    if inside and limits.area is not None:
        inside = bool(shapely.contains_xy(limits.area, lon, lat))
    if not inside:
        reason = f"[{lon}, {lat}] lies outside the area this map covers (the Netherlands)."
        raise Invalid(reason, "lon", "outside_area", title="Invalid location")


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


# -- API -----------------------------------------------------------------------------------------


@bp.get("/solar/estimate")
def solar_estimate() -> Response:
    params = Params(request.args)
    lon = params.number("lon", -180, 180, required=True)
    lat = params.number("lat", -90, 90, required=True)
    tilt = params.number("tilt", 0, 90, required=True)
    azimuth = params.number("azimuth", 0, 360, required=True)
    area = params.number("area_m2", 0.1, AREA_MAX_M2, required=True)
    params.done()
    _in_netherlands(lon, lat)
    plane = Plane(lon, lat, tilt, azimuth % 360, area)
    return _json(estimate(plane, economics_for(current_app.config["KAART"])))


@bp.get("/solar/buildings/<bag_id>")
def solar_building(bag_id: str) -> Response:
    if not BAG_ID.fullmatch(bag_id):
        raise NotFound(reason="There is no pand with this id.")
    return _json(queries.building(get_session(), bag_id))


@bp.get("/solar/shortlist")
def solar_shortlist() -> Response:
    area, filters, fmt = _shortlist_request()
    result = queries.shortlist(get_session(), area, filters)
    if fmt == "csv":
        return _csv(result)
    if fmt == "gpkg":
        return _gpkg(result)
    return _json(result, mimetype="application/geo+json")


def _shortlist_request() -> tuple[queries.Area, queries.Filters, str]:
    args = request.args
    given = [name for name in ("buurt", "pc4", "polygon") if args.get(name, "").strip()]
    if len(given) != 1:
        reason = "Choose one area: buurt=<code>, pc4=<four digits> or polygon=<GeoJSON Polygon>."
        code = "area_missing" if not given else "area_ambiguous"
        raise BadRequest(reason, "area", code)
    params = Params(args)
    min_kwp = params.number("min_kwp", 0, 100_000) or 0.0
    min_roof = params.number("min_roof_m2", 0, 1_000_000) or 0.0
    year_from = params.number("year_from", 1000, 2100, integer=True)
    year_to = params.number("year_to", 1000, 2100, integer=True)
    limit = params.number("limit", 1, queries.SHORTLIST_MAX, integer=True) or 500
    classes = tuple(c for c in args.get("suitability", "").split(",") if c)
    for name in classes:
        if name not in CLASS_NAMES:
            reason = f"Unknown suitability {name[:20]!r}; use {', '.join(CLASS_NAMES)}."
            params.errors.append(FieldError("suitability", reason, "suitability_unknown"))
    fmt = args.get("format", "json")
    if fmt not in ("json", "csv", "gpkg"):
        params.errors.append(FieldError("format", "format must be json, csv or gpkg.", "format"))
    usage = args.get("usage", "").strip() or None
    if usage is not None and not USAGE.fullmatch(usage):
        reason = "usage must be a BAG gebruiksdoel such as woonfunctie."
        params.errors.append(FieldError("usage", reason, "usage_invalid"))
    # The area's own problem is reported together with the filters', so that a form can show
    # every field in error at once.
    area = None
    try:
        area = _area(given[0], args[given[0]].strip())
    except ApiError as exc:
        if exc.status != 400 or not exc.errors:
            raise
        params.errors[:0] = exc.errors
    params.done()
    filters = queries.Filters(
        min_kwp=float(min_kwp),
        min_roof_m2=float(min_roof),
        suitability=classes,
        usage=usage,
        year_from=int(year_from) if year_from is not None else None,
        year_to=int(year_to) if year_to is not None else None,
        offered_only=args.get("offered") in ("1", "true"),
        limit=int(limit),
    )
    return area, filters, fmt


def _area(kind: str, value: str) -> queries.Area:
    if kind == "buurt":
        if not BUURT_CODE.fullmatch(value):
            reason = "buurt must be a buurt code such as BU0363SD03."
            raise BadRequest(reason, "buurt", "buurt_invalid")
        return queries.Area(buurt=value)
    if kind == "pc4":
        if not (len(value) == 4 and value.isdigit()):
            reason = "pc4 must be four digits."
            raise BadRequest(reason, "pc4", "pc4_invalid")
        return queries.Area(pc4=value)
    try:
        geometry = load_json(value, "polygon", in_query=True)
    except ApiError as exc:
        if "malformed_json" not in exc.codes:
            raise
        reason = "polygon must be a GeoJSON Polygon or MultiPolygon (WGS84)."
        raise BadRequest(reason, "polygon", "polygon_invalid") from exc
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        reason = "polygon must be a GeoJSON Polygon or MultiPolygon (WGS84)."
        raise BadRequest(reason, "polygon", "polygon_type")
    geom = parse_geometry(geometry, limits_for(current_app.config["KAART"]), path="polygon")
    return queries.Area(polygon_wkb=to_wkb(geom, output_dimension=2))


def _csv(result: dict[str, Any]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for feature in result["features"]:
        props = feature["properties"]
        writer.writerow(["" if props.get(c) is None else props[c] for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="zon-shortlist.csv"'},
    )


def _gpkg(result: dict[str, Any]) -> Response:
    import geopandas as gpd

    rows = [
        {
            **{c: f["properties"].get(c) for c in CSV_COLUMNS},
            "geometry": shapely.geometry.shape(f["geometry"]),
        }
        for f in result["features"]
    ]
    frame = gpd.GeoDataFrame(
        rows, columns=[*CSV_COLUMNS, "geometry"], geometry="geometry", crs=4326
    )
    frame = frame.to_crs(28992)  # Dutch GIS works in RD New
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shortlist.gpkg"
        frame.to_file(path, driver="GPKG", layer="zon_shortlist", engine="pyogrio")
        data = path.read_bytes()
    return Response(
        data,
        mimetype=GEOPACKAGE,
        headers={"Content-Disposition": 'attachment; filename="zon-shortlist.gpkg"'},
    )


@bp.get("/postcoderoos")
def get_postcoderoos() -> Response:
    args = request.args
    pc4 = args.get("pc4", "").strip()
    if pc4:
        return _json(postcoderoos(get_session(), pc4=pc4), mimetype="application/geo+json")
    params = Params(args)
    lon = params.number("lon", -180, 180, required=True)
    lat = params.number("lat", -90, 90, required=True)
    params.done()
    _in_netherlands(lon, lat)
    body = postcoderoos(get_session(), point=(lon, lat))
    return _json(body, mimetype="application/geo+json")
