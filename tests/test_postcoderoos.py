"""GET /api/v1/postcoderoos: constructed PC4 areas for the tolerance cases (a 0.5 m gap is
adjacent, a 3 m gap is not), empty and invalid geometries, counts of addresses and interested
residents; and the real CBS PC4 areas of Amsterdam and Weesp."""

from __future__ import annotations

import pytest
from pyproj import Transformer
from shapely.geometry import Point, box
from sqlalchemy import text

from geodata.read import read
from geodata.sources.cbs_pc4 import SOURCE as PC4_SOURCE
from tests.layers_fixture import make_layer
from tests.places import BRUSSEL, HET_GROTE_PLEIN, feature, point

ROOS = "/api/v1/postcoderoos"
TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)
X0, Y0 = (round(v) - 100 for v in TO_RD.transform(*HET_GROTE_PLEIN))
SIDE = 200.0
# Made-up postcodes around a 200 m square "1001" holding Het Grote Plein.
AREAS = {
    "1001": box(X0, Y0, X0 + SIDE, Y0 + SIDE),
    "1002": box(X0 + SIDE + 0.5, Y0, X0 + 2 * SIDE, Y0 + SIDE),  # 0.5 m gap: adjacent
    "1003": box(X0 - SIDE - 3, Y0, X0 - 3, Y0 + SIDE),  # 3 m gap: not adjacent
    "1004": box(X0 + SIDE, Y0 + SIDE, X0 + 2 * SIDE, Y0 + 2 * SIDE),  # meets at a corner
    "1005": box(X0, Y0 + SIDE + 0.9, X0 + SIDE, Y0 + 2 * SIDE),  # 0.9 m: adjacent
    "1006": box(X0, Y0 - SIDE, X0 + SIDE, Y0 - 1.1),  # 1.1 m: not adjacent
}
# A bow-tie (self-intersecting) area 0.3 m left of 1003, and an empty one like CBS's 5028.
BOWTIE = (
    f"POLYGON(({X0 - 2 * SIDE - 3.3} {Y0}, {X0 - SIDE - 3.3} {Y0 + SIDE}, "
    f"{X0 - SIDE - 3.3} {Y0}, {X0 - 2 * SIDE - 3.3} {Y0 + SIDE}, {X0 - 2 * SIDE - 3.3} {Y0}))"
)


def wgs84(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS84.transform(x, y)
    return round(lon, 7), round(lat, 7)


@pytest.fixture
def constructed(connection):
    rows = [
        {"feature_id": code, "postcode": code, "inhabitants": 100.0, "geom": geom}
        for code, geom in AREAS.items()
    ]
    rows.append({"feature_id": "1007", "postcode": "1007", "geom": BOWTIE})
    rows.append({"feature_id": "5028", "postcode": "5028", "geom": "POLYGON EMPTY"})
    columns = {"postcode": "text", "inhabitants": "double precision"}
    make_layer(connection, "cbs-pc4", rows, columns=columns, kind="postcode")
    return connection


def codes(body) -> list[str]:
    return [f["properties"]["postcode"] for f in body["features"]]


def test_tolerance_cases(client, constructed):
    r = client.get(f"{ROOS}?pc4=1001")
    assert r.status_code == 200
    assert r.mimetype == "application/geo+json"
    body = r.get_json()
    assert codes(body) == ["1001", "1002", "1004", "1005"]
    assert body["features"][0]["properties"]["role"] == "centre"
    assert {f["properties"]["role"] for f in body["features"][1:]} == {"neighbour"}
    assert body["tolerance_m"] == 1.0
    assert body["totals"]["neighbours"] == 3
    assert body["totals"]["inhabitants"] == 400
    assert body["totals"]["addresses"] is None  # no BAG addresses loaded


def test_invalid_geometries_still_count_and_empty_ones_never(client, constructed):
    body = client.get(f"{ROOS}?pc4=1003").get_json()
    assert codes(body) == ["1003", "1007"]  # the bow-tie lies 0.3 m away
    assert "5028" not in codes(client.get(f"{ROOS}?pc4=1007").get_json())
    r = client.get(f"{ROOS}?pc4=5028")
    assert r.status_code == 404
    assert r.get_json()["errors"][0]["code"] == "pc4_unknown"


def test_a_point_finds_its_pc4_first(client, constructed):
    lon, lat = HET_GROTE_PLEIN
    body = client.get(f"{ROOS}?lon={lon}&lat={lat}").get_json()
    assert body["postcode"] == "1001"
    assert codes(body)[0] == "1001"
    # Inside the Netherlands but in none of the constructed areas.
    lon, lat = wgs84(X0 + 5 * SIDE, Y0 + 5 * SIDE)
    r = client.get(f"{ROOS}?lon={lon}&lat={lat}")
    assert r.status_code == 404
    assert r.get_json()["errors"][0] == {
        "field": "lon",
        "reason": "No PC4 area holds this point.",
        "code": "pc4_not_found",
    }


def test_addresses_and_interested_residents_per_area(client, constructed):
    make_layer(
        constructed,
        "bag-adressen",
        [
            {"feature_id": "a1", "geom": Point(X0 + 10, Y0 + 10)},
            {"feature_id": "a2", "geom": Point(X0 + 150, Y0 + 150)},
            {"feature_id": "a3", "geom": Point(X0 + SIDE + 50, Y0 + 50)},
            {"feature_id": "a4", "geom": Point(X0 - 100, Y0 + 50)},  # in 1003, outside the rose
        ],
        family="point",
        kind="address",
    )
    posted = [
        ("energie", wgs84(X0 + 20, Y0 + 20)),
        ("energie", wgs84(X0 + 120, Y0 + 60)),
        ("idee", wgs84(X0 + 50, Y0 + 50)),  # not an energy interest
        ("energie", wgs84(X0 + SIDE + 100, Y0 + 100)),
    ]
    for category, where in posted:
        body = feature(geometry=point(where), category=category)
        assert client.post("/api/v1/contributions", json=body).status_code == 201
    body = client.get(f"{ROOS}?pc4=1001").get_json()
    by_code = {f["properties"]["postcode"]: f["properties"] for f in body["features"]}
    assert (by_code["1001"]["addresses"], by_code["1001"]["interested"]) == (2, 2)
    assert (by_code["1002"]["addresses"], by_code["1002"]["interested"]) == (1, 1)
    assert by_code["1004"]["addresses"] == 0
    assert body["totals"]["addresses"] == 3
    assert body["totals"]["interested"] == 3


@pytest.mark.parametrize(
    ("query", "status", "field", "code"),
    [
        ("", 400, "lon", "lon_missing"),
        ("pc4=13a8", 400, "pc4", "pc4_invalid"),
        ("pc4=0999", 400, "pc4", "pc4_invalid"),
        ("pc4=9999", 404, "pc4", "pc4_unknown"),
        ("lon=5.04", 400, "lat", "lat_missing"),
        ("lon=x&lat=52.3", 400, "lon", "lon_invalid"),
        (f"lon={BRUSSEL[0]}&lat={BRUSSEL[1]}", 422, "lon", "outside_area"),
    ],
)
def test_bad_requests(client, constructed, query, status, field, code):
    r = client.get(f"{ROOS}?{query}")
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    assert {e["field"]: e["code"] for e in r.get_json()["errors"]}[field] == code


def test_without_pc4_areas_the_answer_says_so(client):
    r = client.get(f"{ROOS}?pc4=1381")
    assert r.status_code == 404
    assert "cbs-pc4" in r.get_json()["detail"]


# -- The real CBS PC4 areas ----------------------------------------------------------------------


@pytest.fixture
def real_pc4(connection):
    """CBS PC4 2024 of Amsterdam and Weesp (RD New bbox), as loaded from the sample file."""
    rows = [
        {"feature_id": r.feature_id, "postcode": r.postcode, "geom": r.geometry}
        for batch in read(PC4_SOURCE, path=PC4_SOURCE.sample, bbox=(115000, 475000, 135000, 492000))
        for r in batch.to_geodataframe().itertuples()
    ]
    make_layer(connection, "cbs-pc4", rows, columns={"postcode": "text"}, kind="postcode")
    return connection


def test_real_neighbours_that_do_not_touch_need_the_tolerance(client, real_pc4):
    touching = real_pc4.execute(
        text(
            "SELECT ST_Touches(a.geom, b.geom), ST_Distance(a.geom, b.geom) "
            "FROM open_data.cbs_pc4 a, open_data.cbs_pc4 b "
            "WHERE a.postcode = '1013' AND b.postcode = '1014'"
        )
    ).one()
    assert touching[0] is False and touching[1] < 1.0
    assert "1014" in codes(client.get(f"{ROOS}?pc4=1013").get_json())


def test_weesp_centrum_rose(client, real_pc4):
    lon, lat = HET_GROTE_PLEIN
    body = client.get(f"{ROOS}?lon={lon}&lat={lat}").get_json()
    assert body["postcode"] == "1381"
    assert {"1382", "1383"} <= set(codes(body)[1:])
    assert body["totals"]["neighbours"] == len(body["features"]) - 1
