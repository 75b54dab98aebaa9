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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from kaart.services.overview import Filters, stream_rows

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
BATCH = 500  # contributions per piece of an export
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


def selection(session: Session, filters: Filters, audience: Audience) -> Iterator[dict[str, Any]]:
    """The selected contributions as plain records with only the audience's columns, plus
    `wkb`, `wkt` and `geojson` geometry (not columns of the export themselves); read a batch at
    a time, so an export of every contribution never holds them all."""
    # Who answered last (the provider's `responded_by*`) and the shape itself.
    extra = ("wkb", "geojson", "responded_by")
    if audience.admin:
        extra += ("responded_by_email",)
    for row in stream_rows(session, replace(filters, exact=audience.exact), extra=extra):
        data = row._mapping
        record = {name: _plain(data.get(name)) for name in audience.columns if name != "url"}
        record["url"] = f"/bijdragen/{data['id']}"
        record = {name: record[name] for name in audience.columns}
        record["wkb"] = bytes(data["wkb"])
        record["geojson"] = data["geojson"]
        record["lon"], record["lat"] = float(data["lon"]), float(data["lat"])
        yield record


def _batches(records: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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


def to_geojson(session: Session, filters: Filters, audience: Audience) -> Iterator[bytes]:
    """The FeatureCollection, a batch of Features at a time (with their comments)."""
    yield ('{"type": "FeatureCollection", "name": "' + LAYER + '", "features": [').encode()
    first = True
    for batch in _batches(selection(session, filters, audience)):
        threads = comments(session, [r["id"] for r in batch], audience)
        features = []
        for record in batch:
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
        yield (("" if first else ",\n") + ",\n".join(features)).encode("utf-8")
        first = False
    yield b"]}"


def to_csv(session: Session, filters: Filters, audience: Audience) -> Iterator[bytes]:
    """One row per contribution: its fields, the geometry as WKT and a point on it as lon/lat;
    a batch of rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # With a byte order mark, spreadsheet programs read the file as UTF-8 (ë, ï, €).
    out.write("\ufeff")
    writer.writerow([*audience.columns, "lon", "lat", "wkt"])
    for batch in _batches(selection(session, filters, audience)):
        for record in batch:
            values = [_cell(record[name]) for name in audience.columns]
            wkt = shapely.from_wkb(record["wkb"]).wkt
            writer.writerow([*values, f"{record['lon']:.7f}", f"{record['lat']:.7f}", wkt])
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text_value = str(value)
    if isinstance(value, str) and text_value.startswith(FORMULA_START):
        return "'" + text_value  # shown as text, never run as a formula
    return text_value


def to_geopackage(session: Session, filters: Filters, audience: Audience) -> Iterator[bytes]:
    """One layer `bijdragen` in EPSG:4326 holding points, lines and areas together."""
    import geopandas as gpd  # heavy (pandas, pyarrow): only in the workers that write one

    records = list(selection(session, filters, audience))
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
        yield path.read_bytes()


WRITERS = {"geojson": to_geojson, "gpkg": to_geopackage, "csv": to_csv}


def export(session: Session, filters: Filters, audience: Audience, fmt: str) -> Iterator[bytes]:
    """The file in pieces, to be sent as they come (a GeoPackage is made whole, then sent)."""
    return WRITERS[fmt](session, filters, audience)
