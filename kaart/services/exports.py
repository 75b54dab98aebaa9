"""Exports of the planner's selection: GeoJSON, GeoPackage and CSV, in WGS84 (EPSG:4326).

What an export holds depends on who asks, never on the format:
- every staff member: the public fields of each contribution, plus its moderation state
  (visibility, hidden reason, report count) and the display name of whoever last answered it;
- planners and admins get each place as drawn; others as the public map shows it (near a
  home: the centre of its grid cell, with a size class instead of area and length);
- admins also get that person's e-mail address and the names of authors of hidden comments.
Never in any export: edit token hashes, supporter or reporter keys, passwords, other accounts.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from kaart.services.overview import Filters, rows

PUBLIC_COLUMNS = (
    "id",
    "category",
    "title",
    "description",
    "status",
    "process_slug",
    "process_title",
    "buurt_code",
    "buurt_name",
    "wijk_code",
    "gemeente_code",
    "area_m2",
    "length_m",
    "size_class",
    "location",
    "support_count",
    "comment_count",
    "photo_count",
    "response",
    "responded_at",
    "created_at",
    "updated_at",
    "url",
)
STAFF_COLUMNS = (*PUBLIC_COLUMNS, "visibility", "hidden_reason", "report_count", "responded_by")
ADMIN_COLUMNS = (*STAFF_COLUMNS, "responded_by_email")
# Text that a spreadsheet would run as a formula when a cell starts with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LAYER = "bijdragen"
GEOPACKAGE = "application/geopackage+sqlite3"  # the OGC GeoPackage media type
FORMATS = {
    "geojson": ("application/geo+json", "geojson"),
    "gpkg": (GEOPACKAGE, "gpkg"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}


@dataclass(frozen=True)
class Audience:
    """What one requester may see: `admin` adds staff e-mail addresses and hidden authors;
    `exact` the places as drawn."""

    admin: bool = False
    exact: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return ADMIN_COLUMNS if self.admin else STAFF_COLUMNS


def selection(session: Session, filters: Filters, audience: Audience) -> list[dict[str, Any]]:
    """The selected contributions as plain records with only the audience's columns, plus
    `wkb` and `geojson` geometry (not columns of the export themselves)."""
    # Who answered last (the provider's `responded_by*`) and the shape itself.
    extra = ("wkb", "geojson", "responded_by")
    if audience.admin:
        extra += ("responded_by_email",)
    records = []
    for row in rows(session, replace(filters, exact=audience.exact), extra=extra):
        data = row._mapping
        record = {name: _plain(data.get(name)) for name in audience.columns if name != "url"}
        record["url"] = f"/bijdragen/{data['id']}"
        record = {name: record[name] for name in audience.columns}
        record["wkb"] = bytes(data["wkb"])
        record["geojson"] = data["geojson"]
        record["lon"], record["lat"] = float(data["lon"]), float(data["lat"])
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def comments(session: Session, ids: list[str], audience: Audience) -> dict[str, list[dict]]:
    """Comments per contribution: staff see hidden and pending ones too, but only admins see
    the name their author gave on them."""
    if not ids:
        return {}
    stmt = text(
        "SELECT contribution_id, id, parent_id, body, author_name, visibility, created_at "
        "FROM comment WHERE contribution_id = ANY(:ids) ORDER BY created_at, id"
    ).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=False))))
    found: dict[str, list[dict]] = {}
    for row in session.execute(stmt, {"ids": ids}):
        shown = row.visibility == "published" or audience.admin
        found.setdefault(str(row.contribution_id), []).append(
            {
                "id": str(row.id),
                "parent_id": str(row.parent_id) if row.parent_id else None,
                "body": row.body,
                "author_name": row.author_name if shown else None,
                "visibility": row.visibility,
                "created_at": row.created_at.isoformat(),
            }
        )
    return found


def to_geojson(session: Session, filters: Filters, audience: Audience) -> bytes:
    records = selection(session, filters, audience)
    threads = comments(session, [r["id"] for r in records], audience)
    features = []
    for record in records:
        properties = {name: _json_value(record[name]) for name in audience.columns}
        properties["comments"] = threads.get(record["id"], [])
        features.append(
            '{"type": "Feature", "id": '
            + json.dumps(record["id"])
            + ', "geometry": '
            + record["geojson"]  # made by PostGIS
            + ', "properties": '
            + json.dumps(properties, ensure_ascii=False)
            + "}"
        )
    body = (
        '{"type": "FeatureCollection", "name": "'
        + LAYER
        + '", "features": ['
        + ",\n".join(features)
        + "]}"
    )
    return body.encode("utf-8")


def to_csv(session: Session, filters: Filters, audience: Audience) -> bytes:
    """One row per contribution: its fields, the geometry as WKT and a point on it as lon/lat."""
    records = selection(session, filters, audience)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*audience.columns, "lon", "lat", "wkt"])
    for record in records:
        values = [_cell(record[name]) for name in audience.columns]
        wkt = shapely.from_wkb(record["wkb"]).wkt
        writer.writerow([*values, f"{record['lon']:.7f}", f"{record['lat']:.7f}", wkt])
    # With a byte order mark, spreadsheet programs read the file as UTF-8 (ë, ï, €).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text_value = str(value)
    if isinstance(value, str) and text_value.startswith(FORMULA_START):
        return "'" + text_value  # shown as text, never run as a formula
    return text_value


def to_geopackage(session: Session, filters: Filters, audience: Audience) -> bytes:
    """One layer `bijdragen` in EPSG:4326 holding points, lines and areas together."""
    import geopandas as gpd  # heavy (pandas, pyarrow): only in the workers that write one

    records = selection(session, filters, audience)
    columns = list(audience.columns)
    frame = gpd.GeoDataFrame(
        {name: [record[name] for record in records] for name in columns},
        geometry=[shapely.from_wkb(record["wkb"]) for record in records],
        crs="EPSG:4326",
    )
    for name in ("created_at", "updated_at", "responded_at"):
        frame[name] = frame[name].astype("datetime64[ms, UTC]")
    for name in ("area_m2", "length_m"):
        frame[name] = frame[name].astype("float64")
    with tempfile.TemporaryDirectory(prefix="kaart-export-") as folder:
        path = Path(folder) / f"{LAYER}.gpkg"
        frame.to_file(path, layer=LAYER, driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        return path.read_bytes()


WRITERS = {"geojson": to_geojson, "gpkg": to_geopackage, "csv": to_csv}


def export(session: Session, filters: Filters, audience: Audience, fmt: str) -> bytes:
    return WRITERS[fmt](session, filters, audience)
