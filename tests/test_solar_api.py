"""The solar API: single-plane estimate, one building, the shortlist (JSON, CSV, GeoPackage) with
offers, and the potentials as vector tiles — on the Weesp Centrum panden in a real PostGIS."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest
from sqlalchemy import text

from kaart.services.exports import GEOPACKAGE
from kaart.solar import roofs
from kaart.solar.compute import compute
from tests.layers_fixture import PAND_WEESP, PANDEN_COLUMNS, make_layer, weesp_panden
from tests.places import BRUSSEL, HET_GROTE_PLEIN, NORTH_SEA, feature, point

ESTIMATE = "/api/v1/solar/estimate"
SHORTLIST = "/api/v1/solar/shortlist"
WEESP_CENTRUM = "BU0363SD03"
# A block of Weesp Centrum around Het Grote Plein (WGS84).
PLEIN_BLOCK = {
    "type": "Polygon",
    "coordinates": [
        [
            [5.0410, 52.3058],
            [5.0440, 52.3058],
            [5.0440, 52.3075],
            [5.0410, 52.3075],
            [5.0410, 52.3058],
        ]
    ],
}


@pytest.fixture
def potentials(connection):
    make_layer(connection, "bag-panden", weesp_panden(), columns=PANDEN_COLUMNS)
    compute(connection, roofs.Economics())
    return connection


def errors_of(response) -> dict[str, str]:
    assert response.mimetype == "application/problem+json"
    return {e["field"]: e["code"] for e in response.get_json()["errors"]}


# -- Estimate ----------------------------------------------------------------------------------


def test_estimate_of_a_south_roof_in_weesp(client):
    lon, lat = HET_GROTE_PLEIN
    r = client.get(f"{ESTIMATE}?lon={lon}&lat={lat}&tilt=35&azimuth=180&area_m2=30")
    assert r.status_code == 200
    body = r.get_json()
    assert 850 <= body["kwh_per_kwp"] <= 950
    assert 1100 <= body["plane_kwh_m2"] <= 1250
    assert body["panels"] == 10 and body["kwp"] == pytest.approx(4.3)
    assert body["kwh_year"] == pytest.approx(body["kwp"] * body["kwh_per_kwp"], abs=1)
    assert body["suitability"] == "excellent" and body["skipped_reason"] is None


def test_estimate_of_a_tiny_roof_says_so(client):
    lon, lat = HET_GROTE_PLEIN
    body = client.get(f"{ESTIMATE}?lon={lon}&lat={lat}&tilt=40&azimuth=200&area_m2=5").get_json()
    assert (body["panels"], body["kwh_year"], body["skipped_reason"]) == (0, 0, "too_small")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"lon": "lon_missing", "lat": "lat_missing", "tilt": "tilt_missing"}),
        ("lon=5.04&lat=52.3&tilt=91&azimuth=180&area_m2=30", {"tilt": "tilt_out_of_range"}),
        ("lon=5.04&lat=52.3&tilt=-1&azimuth=180&area_m2=30", {"tilt": "tilt_out_of_range"}),
        ("lon=5.04&lat=52.3&tilt=30&azimuth=361&area_m2=30", {"azimuth": "azimuth_out_of_range"}),
        ("lon=5.04&lat=52.3&tilt=30&azimuth=zuid&area_m2=30", {"azimuth": "azimuth_invalid"}),
        ("lon=5.04&lat=52.3&tilt=30&azimuth=180&area_m2=0", {"area_m2": "area_m2_out_of_range"}),
        ("lon=nan&lat=52.3&tilt=30&azimuth=180&area_m2=30", {"lon": "lon_out_of_range"}),
        ("lon=5.04&lat=inf&tilt=30&azimuth=180&area_m2=30", {"lat": "lat_out_of_range"}),
    ],
)
def test_estimate_refuses_bad_parameters_field_by_field(client, query, expected):
    r = client.get(f"{ESTIMATE}?{query}")
    assert r.status_code == 400
    found = errors_of(r)
    for name, code in expected.items():
        assert found[name] == code


@pytest.mark.parametrize("where", [BRUSSEL, NORTH_SEA, (52.3067, 5.0425)])
def test_estimate_refuses_points_outside_the_netherlands(client, where):
    lon, lat = where
    r = client.get(f"{ESTIMATE}?lon={lon}&lat={lat}&tilt=30&azimuth=180&area_m2=30")
    assert r.status_code == 422
    assert errors_of(r) == {"lon": "outside_area"}


# -- One building ------------------------------------------------------------------------------


def test_a_building_with_its_figures_roof_parts_and_address(client, potentials):
    body = client.get(f"/api/v1/solar/buildings/{PAND_WEESP}").get_json()
    assert body["bag_id"] == PAND_WEESP
    assert body["method"] == "footprint" and body["panels"] > 0
    assert body["roof_parts"][0]["layout"] == "east_west"
    assert body["offers"] == [] and body["offer_count"] == 0
    assert body["centroid"]["type"] == "Point"


@pytest.mark.parametrize("bag_id", ["0457100000000000", "%27%3B", "x" * 41, "a%0Ab"])
def test_unknown_building_is_a_404_problem(client, potentials, bag_id):
    r = client.get(f"/api/v1/solar/buildings/{bag_id}")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"


# -- Shortlist ---------------------------------------------------------------------------------


def test_shortlist_of_the_buurt_is_ranked_with_totals(client, potentials):
    r = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=20")
    assert r.status_code == 200
    body = r.get_json()
    features = body["features"]
    assert len(features) == 20
    kwh = [f["properties"]["kwh_year"] for f in features]
    assert kwh == sorted(kwh, reverse=True)
    assert [f["properties"]["rank"] for f in features] == list(range(1, 21))
    computed = potentials.execute(
        text("SELECT count(*), sum(kwh_year) FROM solar_potential WHERE panels > 0")
    ).one()
    totals = body["totals"]
    # Nearly every demo pand lies in the buurt (the extract was cut by representative point).
    assert computed[0] - 5 <= totals["roofs"] <= computed[0]
    assert totals["kwh_year"] == pytest.approx(float(computed[1]), rel=0.01)
    assert totals["offers"] == 0


def test_shortlist_filters(client, potentials):
    base = f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=5000"
    everything = client.get(base).get_json()["totals"]["roofs"]
    big = client.get(f"{base}&min_kwp=20").get_json()
    assert 0 < big["totals"]["roofs"] < everything
    assert all(f["properties"]["kwp"] >= 20 for f in big["features"])
    old = client.get(f"{base}&year_to=1900").get_json()
    assert all(f["properties"]["construction_year"] <= 1900 for f in old["features"])
    assert 0 < old["totals"]["roofs"] < everything
    housing = client.get(f"{base}&usage=woonfunctie").get_json()
    assert all("woonfunctie" in f["properties"]["usage"] for f in housing["features"])
    excellent = client.get(f"{base}&suitability=excellent").get_json()
    assert excellent["totals"]["roofs"] == 0  # footprints only: east-west layouts are "good"


def test_shortlist_of_a_drawn_polygon_and_of_a_pc4(client, potentials):
    drawn = client.get(f"{SHORTLIST}?polygon={json.dumps(PLEIN_BLOCK)}&limit=5000").get_json()
    everything = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=5000").get_json()
    assert 0 < drawn["totals"]["roofs"] < everything["totals"]["roofs"]
    # The whole demo area as one PC4 polygon.
    make_layer(
        potentials,
        "cbs-pc4",
        [{"feature_id": "1381", "postcode": "1381", "geom": _extent(potentials)}],
        columns={"postcode": "text"},
        kind="postcode",
    )
    pc4 = client.get(f"{SHORTLIST}?pc4=1381&limit=5000").get_json()
    assert pc4["totals"]["roofs"] >= everything["totals"]["roofs"]


def _extent(connection) -> str:
    return connection.execute(
        text("SELECT ST_AsText(ST_Expand(ST_Extent(geom)::geometry, 10)) FROM open_data.bag_panden")
    ).scalar_one()


@pytest.mark.parametrize(
    ("query", "status", "field", "code"),
    [
        ("", 400, "area", "area_missing"),
        ("buurt=BU0363SD03&pc4=1381", 400, "area", "area_ambiguous"),
        ("pc4=13", 400, "pc4", "pc4_invalid"),
        ("buurt=BU0000XX99", 404, "buurt", "buurt_unknown"),
        ("pc4=1381", 404, "pc4", "pc4_unknown"),
        ("polygon={not json", 400, "polygon", "polygon_invalid"),
        ('polygon={"type":"Point","coordinates":[5.04,52.3]}', 400, "polygon", "polygon_type"),
        ("buurt=BU0363SD03&suitability=great", 400, "suitability", "suitability_unknown"),
        ("buurt=BU0363SD03&format=xlsx", 400, "format", "format"),
        ("buurt=BU0363SD03&min_kwp=-1", 400, "min_kwp", "min_kwp_out_of_range"),
        ("buurt=BU0363SD03&limit=0", 400, "limit", "limit_out_of_range"),
        ("buurt=BU'0363", 400, "buurt", "buurt_invalid"),
        ("buurt=BU0363SD03&usage=woon%3Bx", 400, "usage", "usage_invalid"),
        # NUL never reaches SQL: the app's guard refuses it first.
        ("buurt=BU%00X", 400, "buurt", "text_control_chars"),
        ("buurt=BU0363SD03&usage=woon%00", 400, "usage", "text_control_chars"),
    ],
)
def test_shortlist_refuses_bad_requests(client, potentials, query, status, field, code):
    r = client.get(f"{SHORTLIST}?{query}")
    assert r.status_code == status
    assert errors_of(r)[field] == code


def test_shortlist_polygon_outside_the_netherlands_is_refused(client, potentials):
    lon, lat = BRUSSEL
    square = [
        [lon, lat],
        [lon + 0.01, lat],
        [lon + 0.01, lat + 0.01],
        [lon, lat + 0.01],
        [lon, lat],
    ]
    polygon = json.dumps({"type": "Polygon", "coordinates": [square]})
    r = client.get(f"{SHORTLIST}?polygon={polygon}")
    assert r.status_code == 422
    assert list(errors_of(r).values()) == ["outside_area"]


def test_an_offered_roof_shows_on_the_shortlist_and_in_the_tiles(client, potentials):
    body = feature(
        geometry=point(HET_GROTE_PLEIN),
        category="energie",
        title="Dak beschikbaar voor zonproject",
        object={"layer": "bag-panden", "id": PAND_WEESP},
    )
    created = client.post("/api/v1/contributions", json=body)
    assert created.status_code == 201
    offered = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&offered=true").get_json()
    assert offered["totals"]["offered_roofs"] == offered["totals"]["roofs"] == 1
    (row,) = offered["features"]
    assert row["properties"]["bag_id"] == PAND_WEESP
    assert row["properties"]["offers"][0]["title"] == "Dak beschikbaar voor zonproject"
    detail = client.get(f"/api/v1/solar/buildings/{PAND_WEESP}").get_json()
    assert detail["offer_count"] == 1
    # An idee about the same pand is not an offer.
    other = feature(category="idee", object={"layer": "bag-panden", "id": PAND_WEESP})
    assert client.post("/api/v1/contributions", json=other).status_code == 201
    assert client.get(f"/api/v1/solar/buildings/{PAND_WEESP}").get_json()["offer_count"] == 1


def test_csv_export_has_a_header_and_the_same_rows(client, potentials):
    json_rows = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=50").get_json()["features"]
    r = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=50&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["bag_id"] for row in rows] == [f["id"] for f in json_rows]
    assert float(rows[0]["kwp"]) == pytest.approx(json_rows[0]["properties"]["kwp"])


def test_geopackage_export_opens_in_rd_new(client, potentials, tmp_path):
    r = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&limit=25&format=gpkg")
    assert r.status_code == 200 and r.mimetype == GEOPACKAGE
    path = tmp_path / "shortlist.gpkg"
    path.write_bytes(r.data)
    frame = pyogrio.read_dataframe(path, layer="zon_shortlist")
    assert len(frame) == 25
    assert frame.crs.to_epsg() == 28992
    assert {"bag_id", "kwp", "kwh_year", "suitability", "offer_count"} <= set(frame.columns)
    assert frame.geometry.is_valid.all()


def test_empty_shortlist_exports_an_empty_geopackage(client, potentials, tmp_path):
    r = client.get(f"{SHORTLIST}?buurt={WEESP_CENTRUM}&min_kwp=99999&format=gpkg")
    assert r.status_code == 200
    path = tmp_path / "empty.gpkg"
    path.write_bytes(r.data)
    assert len(pyogrio.read_dataframe(path)) == 0


# -- Tiles -------------------------------------------------------------------------------------


def test_potentials_as_vector_tiles(client, potentials):
    r = client.get("/coop/tiles/16/33685/21556.pbf")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    assert b"solar" in r.data and b"suitability" in r.data and b"kwh_year" in r.data
    again = client.get(
        "/coop/tiles/16/33685/21556.pbf", headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/coop/tiles/16/0/0.pbf").status_code == 204  # no buildings there
    assert client.get("/coop/tiles/10/525/336.pbf").status_code == 204  # below the zoom range
    assert client.get("/coop/tiles/16/x/0.pbf").status_code == 404


def test_coop_page_is_dutch_and_hands_over_the_tile_url(client, potentials):
    r = client.get("/coop")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Zonnedaken voor energiecoöperaties" in page
    assert "/coop/tiles/{z}/{x}/{y}.pbf" in page
    assert "<script>" not in page
    english = client.get("/coop?lang=en").get_data(as_text=True)
    assert "Solar roofs for energy co-operatives" in english


def test_shortlist_reports_the_area_and_the_filters_together(client, potentials):
    # A form shows every field in error at once, not one per try.
    r = client.get(f"{SHORTLIST}?pc4=13&min_kwp=-1&year_from=99")
    assert r.status_code == 400
    assert errors_of(r) == {
        "pc4": "pc4_invalid",
        "min_kwp": "min_kwp_out_of_range",
        "year_from": "year_from_out_of_range",
    }
