"""The energy co-operative's view (/coop) and its API: rooftop potentials as tiles, one building,
a shortlist for an area with CSV/GeoPackage export, a single-plane estimate, the postcoderoos.

/coop is public for now; the co-op role from the accounts work is meant to guard it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import shapely
from flask import Blueprint, Response, current_app, render_template, request
from shapely import to_wkb

from kaart.db import get_session
from kaart.errors import ApiError, FieldError
from kaart.geo import limits_for, parse_geometry
from kaart.services import tiles
from kaart.services.exports import GEOPACKAGE
from kaart.services.postcoderoos import postcoderoos
from kaart.solar import queries, roofs
from kaart.solar.estimate import AREA_MAX_M2, Plane, estimate
from kaart.solar.roofs import economics_for
from kaart.textcheck import load_json
from kaart.views.public import map_config

bp = Blueprint("coop", __name__)

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


class Params:
    """Query parameters read one by one; every problem is collected, then raised together."""

    def __init__(self, args) -> None:
        self.args = args
        self.errors: list[FieldError] = []

    def number(
        self, name: str, low: float, high: float, *, required: bool = False, integer=False
    ) -> float | None:
        raw = self.args.get(name, "").strip()
        if raw == "":
            if required:
                self.errors.append(FieldError(name, f"{name} is required.", f"{name}_missing"))
            return None
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            self.errors.append(FieldError(name, f"{name} must be a number.", f"{name}_invalid"))
            return None
        if not (math.isfinite(value) and low <= value <= high):
            reason = f"{name} must be from {low:g} to {high:g}."
            self.errors.append(FieldError(name, reason, f"{name}_out_of_range"))
            return None
        return value

    def check(self) -> None:
        if self.errors:
            raise ApiError(400, "Bad request", self.errors[0].reason, self.errors)


def _in_netherlands(lon: float, lat: float) -> None:
    limits = limits_for(current_app.config["KAART"])
    west, south, east, north = limits.bbox
    inside = west <= lon <= east and south <= lat <= north
    if inside and limits.area is not None:
        inside = bool(shapely.contains_xy(limits.area, lon, lat))
    if not inside:
        reason = f"[{lon}, {lat}] lies outside the area this map covers (the Netherlands)."
        raise ApiError(422, "Invalid location", reason, [FieldError("lon", reason, "outside_area")])


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


# -- Pages and tiles ---------------------------------------------------------------------------


@bp.get("/coop")
def coop_page() -> str:
    config = map_config()
    config["solar"] = {
        "classes": list(CLASS_NAMES),
        "tiles": "/coop/tiles/{z}/{x}/{y}.pbf",
        "minZoom": queries.TILE_ZOOMS[0],
        "buildingLayer": queries.BUILDING_LAYER,
        "offerCategory": queries.OFFER_CATEGORY,
    }
    return render_template("coop/coop.html", config=config)


@bp.get("/coop/tiles/<z>/<x>/<y>.pbf")
def solar_tile(z: str, x: str, y: str) -> Response:
    address = tiles.tile_address(z, x, y)
    data = queries.tile(get_session(), address)
    # Offers change any minute: the client keeps the tile but revalidates it (ETag -> 304).
    tag = hashlib.sha256(data).hexdigest()[:32]
    headers = {"ETag": f'"{tag}"', "Cache-Control": "public, no-cache"}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    if not data:
        return Response(status=204, headers=headers)
    return Response(data, mimetype=MVT, headers=headers)


# -- API -----------------------------------------------------------------------------------------


@bp.get("/api/v1/solar/estimate")
def solar_estimate() -> Response:
    params = Params(request.args)
    lon = params.number("lon", -180, 180, required=True)
    lat = params.number("lat", -90, 90, required=True)
    tilt = params.number("tilt", 0, 90, required=True)
    azimuth = params.number("azimuth", 0, 360, required=True)
    area = params.number("area_m2", 0.1, AREA_MAX_M2, required=True)
    params.check()
    _in_netherlands(lon, lat)
    plane = Plane(lon, lat, tilt, azimuth % 360, area)
    return _json(estimate(plane, economics_for(current_app.config["KAART"])))


@bp.get("/api/v1/solar/buildings/<bag_id>")
def solar_building(bag_id: str) -> Response:
    if not BAG_ID.fullmatch(bag_id):
        raise ApiError(404, "Not found", "There is no pand with this id.")
    return _json(queries.building(get_session(), bag_id))


@bp.get("/api/v1/solar/shortlist")
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
        raise ApiError(400, "Bad request", reason, [FieldError("area", reason, code)])
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
    params.check()
    area = _area(given[0], args[given[0]].strip())
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
            raise ApiError(
                400, "Bad request", reason, [FieldError("buurt", reason, "buurt_invalid")]
            )
        return queries.Area(buurt=value)
    if kind == "pc4":
        if not (len(value) == 4 and value.isdigit()):
            reason = "pc4 must be four digits."
            raise ApiError(400, "Bad request", reason, [FieldError("pc4", reason, "pc4_invalid")])
        return queries.Area(pc4=value)
    try:
        geometry = load_json(value, "polygon", in_query=True)
    except ApiError as exc:
        if "malformed_json" not in exc.codes:
            raise
        reason = "polygon must be a GeoJSON Polygon or MultiPolygon (WGS84)."
        raise ApiError(
            400, "Bad request", reason, [FieldError("polygon", reason, "polygon_invalid")]
        ) from exc
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        reason = "polygon must be a GeoJSON Polygon or MultiPolygon (WGS84)."
        raise ApiError(400, "Bad request", reason, [FieldError("polygon", reason, "polygon_type")])
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


@bp.get("/api/v1/postcoderoos")
def get_postcoderoos() -> Response:
    args = request.args
    pc4 = args.get("pc4", "").strip()
    if pc4:
        return _json(postcoderoos(get_session(), pc4=pc4), mimetype="application/geo+json")
    params = Params(args)
    lon = params.number("lon", -180, 180, required=True)
    lat = params.number("lat", -90, 90, required=True)
    params.check()
    _in_netherlands(lon, lat)
    body = postcoderoos(get_session(), point=(lon, lat))
    return _json(body, mimetype="application/geo+json")
