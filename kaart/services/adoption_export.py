"""Accepted adoptions for the municipality's asset management: GeoPackage and CSV in WGS84,
with the layer and feature (BGT / asset) id of each object. No contact addresses."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.services.exports import GEOPACKAGE, _cell

COLUMNS = (
    "id",
    "layer",
    "feature_id",
    "group_name",
    "activities",
    "frequency",
    "start_date",
    "end_date",
    "decided_at",
    "response",
)
LAYER = "adopties"
FORMATS = {"gpkg": (GEOPACKAGE, "gpkg"), "csv": ("text/csv; charset=utf-8", "csv")}


def accepted(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            f"SELECT {', '.join('a.' + c for c in COLUMNS)}, ST_AsBinary(a.geom) AS wkb, "
            "ST_X(ST_PointOnSurface(a.geom)) AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat "
            "FROM adoption a WHERE a.status = 'accepted' ORDER BY a.start_date, a.id"
        )
    ).mappings()
    return [dict(row) for row in rows]


def to_csv(session: Session) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs then read UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "lon", "lat", "wkt"])
    for record in accepted(session):
        values = [_cell(record[name]) for name in COLUMNS]
        wkt = shapely.from_wkb(bytes(record["wkb"])).wkt
        writer.writerow([*values, f"{record['lon']:.7f}", f"{record['lat']:.7f}", wkt])
    return out.getvalue().encode("utf-8")


def to_geopackage(session: Session) -> bytes:
    import geopandas as gpd  # heavy: only when a GeoPackage is asked for

    records = accepted(session)
    frame = gpd.GeoDataFrame(
        {name: [_plain(r[name]) for r in records] for name in COLUMNS},
        geometry=[shapely.from_wkb(bytes(r["wkb"])) for r in records],
        crs="EPSG:4326",
    )
    frame["decided_at"] = frame["decided_at"].astype("datetime64[ms, UTC]")
    with tempfile.TemporaryDirectory(prefix="kaart-adopties-") as folder:
        path = Path(folder) / f"{LAYER}.gpkg"
        frame.to_file(path, layer=LAYER, driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        return path.read_bytes()


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if hasattr(value, "isoformat") and not hasattr(value, "hour"):
        return value.isoformat()  # a date: as text, GeoPackage has no date-only column here
    return value if hasattr(value, "hour") else str(value)


def export(session: Session, fmt: str) -> bytes:
    return to_geopackage(session) if fmt == "gpkg" else to_csv(session)
