"""Exports of the filtered selection (GeoJSON, GeoPackage, CSV), read back as a GIS would, with
no personal data beyond what the role may see."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from kaart.services.exports import ADMIN_COLUMNS, STAFF_COLUMNS
from tests.fixtures.outputs.seed import (
    ADMIN_EMAIL,
    HIDDEN_COMMENT_AUTHOR,
    PLANNER_EMAIL,
    PUBLIC_COMMENT_AUTHOR,
    REPORTER_KEY,
    SUPPORTER_KEY,
    log_in,
    seed_weesp,
)

EXPORT = "/beheer/export"
ALL_TITLES = {
    "Pluktuin op het Singel",
    "Schommel op Het Grote Plein",
    "Te hard rijden in de Nieuwstraat",
    "Verborgen bijdrage",
    "Zonnepanelen op het Oude Convent",
    "Bankjes op de Dam",
}


@pytest.fixture
def weesp(connection):
    return seed_weesp(connection)


def download(client, fmt: str, query: str = "") -> bytes:
    r = client.get(f"{EXPORT}.{fmt}{'?' + query if query else ''}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    assert r.headers["Content-Disposition"].endswith(f'.{fmt}"')
    assert r.headers["Cache-Control"] == "no-store"
    return r.data


def assert_no_personal_data(raw: bytes, weesp, admin: bool) -> None:
    for secret in (SUPPORTER_KEY, REPORTER_KEY, "not-a-real-hash", "password", "edit_token"):
        assert secret.encode() not in raw, secret
    for token_hash in weesp.token_hashes:
        assert token_hash.hex().encode() not in raw and token_hash not in raw
    assert (PLANNER_EMAIL.encode() in raw) is admin  # the last responder's e-mail: admins only
    assert ADMIN_EMAIL.encode() not in raw  # other accounts never


# -- Who may export -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_only_staff_may_export(client, weesp, fmt):
    assert client.get(f"{EXPORT}.{fmt}").status_code == 302
    log_in(client, weesp.coop)
    assert client.get(f"{EXPORT}.{fmt}").status_code == 403
    log_in(client, weesp.moderator)
    assert client.get(f"{EXPORT}.{fmt}").status_code == 200


def test_unknown_format_is_a_404(client, weesp):
    log_in(client, weesp.planner)
    assert client.get(f"{EXPORT}.shp").status_code == 404


# -- GeoJSON ------------------------------------------------------------------------------------


def test_geojson_reads_back_with_every_contribution_its_columns_and_wgs84(client, weesp, tmp_path):
    log_in(client, weesp.planner)
    raw = download(client, "geojson")
    assert_no_personal_data(raw, weesp, admin=False)
    data = json.loads(raw)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 6
    assert {f["properties"]["title"] for f in data["features"]} == ALL_TITLES
    first = data["features"][0]["properties"]
    assert list(first) == [*STAFF_COLUMNS, "comments"]

    path = tmp_path / "export.geojson"
    path.write_bytes(raw)
    frame = gpd.read_file(path, engine="pyogrio")
    assert len(frame) == 6 and frame.crs.to_epsg() == 4326
    assert set(frame.geom_type) == {"Point", "LineString", "Polygon"}
    pluktuin = frame[frame["title"] == "Pluktuin op het Singel"].iloc[0]
    assert pluktuin["buurt_code"] == "BU0363SD03" and pluktuin["buurt_name"] == "Weesp Centrum"
    assert pluktuin["status"] == "overgenomen" and pluktuin["support_count"] == 7
    assert pluktuin["process_slug"] == "groen-weesp-centrum"
    assert pluktuin["responded_by"] == "Petra Planner"
    assert 1500 < pluktuin["area_m2"] < 1700  # ~41 m x 39 m on the Singel, measured in RD New


def test_geojson_comments_hide_the_authors_of_hidden_comments_except_for_admins(client, weesp):
    log_in(client, weesp.planner)
    planner = json.loads(download(client, "geojson", "category=groen"))
    (feature,) = planner["features"]
    comments = {c["body"]: c for c in feature["properties"]["comments"]}
    assert comments["Goed plan, ik help mee!"]["author_name"] == PUBLIC_COMMENT_AUTHOR
    assert comments["Iets onaardigs"]["author_name"] is None
    assert comments["Iets onaardigs"]["visibility"] == "hidden"
    assert HIDDEN_COMMENT_AUTHOR.encode() not in json.dumps(planner).encode()

    log_in(client, weesp.admin)
    raw = download(client, "geojson", "category=groen")
    assert_no_personal_data(raw, weesp, admin=True)
    (feature,) = json.loads(raw)["features"]
    assert list(feature["properties"]) == [*ADMIN_COLUMNS, "comments"]
    assert feature["properties"]["responded_by_email"] == PLANNER_EMAIL
    comments = {c["body"]: c for c in feature["properties"]["comments"]}
    assert comments["Iets onaardigs"]["author_name"] == HIDDEN_COMMENT_AUTHOR


# -- GeoPackage ---------------------------------------------------------------------------------


def read_gpkg(raw: bytes, tmp_path: Path) -> gpd.GeoDataFrame:
    assert raw.startswith(b"SQLite format 3\x00")
    path = tmp_path / "export.gpkg"
    path.write_bytes(raw)
    layers = pyogrio.list_layers(path)
    assert [name for name, _type in layers] == ["bijdragen"]
    return pyogrio.read_dataframe(path, layer="bijdragen")


def test_geopackage_reads_back_with_pyogrio(client, weesp, tmp_path):
    log_in(client, weesp.moderator)
    raw = download(client, "gpkg")
    assert_no_personal_data(raw, weesp, admin=False)
    frame = read_gpkg(raw, tmp_path)
    assert len(frame) == 6
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*STAFF_COLUMNS, "geometry"]
    assert set(frame["title"]) == ALL_TITLES
    assert set(frame.geom_type) == {"Point", "LineString", "Polygon"}
    hidden = frame[frame["visibility"] == "hidden"].iloc[0]
    assert hidden["hidden_reason"] == "Bevat een persoonlijke aanval"
    dam = frame[frame["title"] == "Bankjes op de Dam"].iloc[0]
    assert pd.isna(dam["process_slug"]) and dam["buurt_code"].startswith("BU0363")
    assert str(frame["created_at"].dtype).startswith("datetime64")


def test_geopackage_of_an_empty_selection_has_the_layer_and_no_rows(client, weesp, tmp_path):
    log_in(client, weesp.planner)
    frame = read_gpkg(download(client, "gpkg", "q=bestaat-niet"), tmp_path)
    assert len(frame) == 0 and list(frame.columns) == [*STAFF_COLUMNS, "geometry"]


def test_admin_geopackage_has_the_responders_email(client, weesp, tmp_path):
    log_in(client, weesp.admin)
    raw = download(client, "gpkg", "status=overgenomen")
    assert_no_personal_data(raw, weesp, admin=True)
    frame = read_gpkg(raw, tmp_path)
    assert list(frame["responded_by_email"]) == [PLANNER_EMAIL]


# -- CSV ----------------------------------------------------------------------------------------


def read_csv(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith("\ufeff".encode())  # spreadsheets then read UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_has_wkt_and_lon_lat_and_the_filtered_rows(client, weesp):
    log_in(client, weesp.planner)
    raw = download(client, "csv", f"process={weesp.process}&visibility=published")
    assert_no_personal_data(raw, weesp, admin=False)
    rows = read_csv(raw)
    assert list(rows[0]) == [*STAFF_COLUMNS, "lon", "lat", "wkt"]
    assert {r["title"] for r in rows} == {
        "Pluktuin op het Singel",
        "Schommel op Het Grote Plein",
        "Te hard rijden in de Nieuwstraat",
    }
    for row in rows:
        shape = shapely.from_wkt(row["wkt"])
        point = shapely.Point(float(row["lon"]), float(row["lat"]))
        assert shape.buffer(1e-7).contains(point)  # lon/lat is a point on the shape
        assert 5.03 < point.x < 5.05 and 52.30 < point.y < 52.31  # WGS84, lon first
    kinds = {r["title"]: shapely.from_wkt(r["wkt"]).geom_type for r in rows}
    assert kinds["Te hard rijden in de Nieuwstraat"] == "LineString"


def test_csv_cells_that_look_like_formulas_stay_text(client, weesp):
    log_in(client, weesp.planner)
    rows = read_csv(download(client, "csv", "category=knelpunt"))
    assert rows[0]["description"] == '\'=HYPERLINK("http://example.com")'


def test_csv_keeps_line_breaks_and_accents_inside_one_cell(client, weesp):
    log_in(client, weesp.planner)
    rows = read_csv(download(client, "csv", "category=groen"))
    assert rows[0]["description"] == "Fruitbomen en bessenstruiken op het grasveld.\nVoor iedereen."


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_filters_apply_to_every_format(client, weesp, fmt, tmp_path):
    log_in(client, weesp.planner)
    raw = download(client, fmt, "category=idee")
    if fmt == "geojson":
        titles = {f["properties"]["title"] for f in json.loads(raw)["features"]}
    elif fmt == "gpkg":
        titles = set(read_gpkg(raw, tmp_path)["title"])
    else:
        titles = {r["title"] for r in read_csv(raw)}
    assert titles == {"Verborgen bijdrage", "Bankjes op de Dam"}
