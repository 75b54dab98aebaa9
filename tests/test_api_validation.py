"""Every input rule: the bad request gets a 4xx problem naming the field, and nothing is written."""

from __future__ import annotations

import json
import math

import pytest

from tests.places import BRUSSEL, HET_GROTE_PLEIN, NORTH_SEA, feature, point, polygon

API = "/api/v1/contributions"
GROTE_PLEIN_LATLON = [HET_GROTE_PLEIN[1], HET_GROTE_PLEIN[0]]


def square(lon: float, lat: float, size: float) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [5.0420, 52.3060],
            [5.0430, 52.3066],
            [5.0430, 52.3060],
            [5.0420, 52.3066],
            [5.0420, 52.3060],
        ]
    ],
}


def many_vertices(n: int) -> dict:
    # A valid ring around Het Grote Plein with n positions.
    cx, cy = HET_GROTE_PLEIN
    ring = [
        [
            cx + 0.001 * math.cos(2 * math.pi * i / (n - 1)),
            cy + 0.0006 * math.sin(2 * math.pi * i / (n - 1)),
        ]
        for i in range(n - 1)
    ]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


CASES = {
    # name: (body, status, field, code)
    "not a feature": ({"type": "Point", "coordinates": [5.04, 52.3]}, 422, "type", "not_a_feature"),
    "feature collection": (
        {"type": "FeatureCollection", "features": []},
        422,
        "type",
        "not_a_feature",
    ),
    "array body": ([1, 2], 422, "type", "not_a_feature"),
    "properties not object": (
        {"type": "Feature", "geometry": point(), "properties": "x"},
        422,
        "properties",
        "properties_not_object",
    ),
    "unknown property": (feature(colour="rood"), 422, "properties.colour", "unknown_property"),
    "missing category": (
        {"type": "Feature", "geometry": point(), "properties": {"title": "x"}},
        422,
        "properties.category",
        "category_missing",
    ),
    "unknown category": (feature(category="bomen"), 422, "properties.category", "category_unknown"),
    "missing title": (
        {"type": "Feature", "geometry": point(), "properties": {"category": "idee"}},
        422,
        "properties.title",
        "title_missing",
    ),
    "blank title": (feature(title="   "), 422, "properties.title", "title_missing"),
    "title not text": (feature(title=42), 422, "properties.title", "title_not_text"),
    "title too long": (feature(title="x" * 121), 422, "properties.title", "title_too_long"),
    "title with newline": (feature(title="a\nb"), 422, "properties.title", "text_control_chars"),
    "description too long": (
        feature(description="x" * 5001),
        422,
        "properties.description",
        "description_too_long",
    ),
    "description with NUL": (
        feature(description="a\u0000b"),
        422,
        "properties.description",
        "text_control_chars",
    ),
    "lone surrogate": (None, 422, "properties.title", "text_not_unicode"),  # raw body below
    "geometry missing": (
        {"type": "Feature", "properties": {"category": "idee", "title": "x"}},
        422,
        "geometry",
        "geometry_missing",
    ),
    "geometry collection": (
        feature({"type": "GeometryCollection", "geometries": [point()]}),
        422,
        "geometry.type",
        "geometry_type_not_allowed",
    ),
    "coordinates not array": (
        feature({"type": "Point", "coordinates": "5.04,52.30"}),
        422,
        "geometry.coordinates",
        "coordinates_not_array",
    ),
    "coordinates as strings": (
        feature({"type": "Point", "coordinates": ["5.04", "52.30"]}),
        422,
        "geometry.coordinates",
        "coordinate_not_number",
    ),
    "coordinate boolean": (
        feature({"type": "Point", "coordinates": [True, 52.3]}),
        422,
        "geometry.coordinates",
        "coordinate_not_number",
    ),
    "coordinate null": (
        feature({"type": "Point", "coordinates": [None, 52.3]}),
        422,
        "geometry.coordinates",
        "coordinate_not_number",
    ),
    "one number": (
        feature({"type": "Point", "coordinates": [5.04]}),
        422,
        "geometry.coordinates",
        "position_length",
    ),
    "swapped lat/lon": (
        feature({"type": "Point", "coordinates": GROTE_PLEIN_LATLON}),
        422,
        "geometry.coordinates",
        "coordinates_swapped",
    ),
    "not WGS84 (RD New numbers)": (
        feature({"type": "Point", "coordinates": [130000.0, 480000.0]}),
        422,
        "geometry.coordinates",
        "coordinate_out_of_range",
    ),
    "outside the Netherlands": (
        feature(point(BRUSSEL)),
        422,
        "geometry.coordinates",
        "outside_area",
    ),
    "partly in the North Sea": (
        feature({"type": "LineString", "coordinates": [list(HET_GROTE_PLEIN), list(NORTH_SEA)]}),
        422,
        "geometry.coordinates[1]",
        "outside_area",
    ),
    "line with one point": (
        feature({"type": "LineString", "coordinates": [list(HET_GROTE_PLEIN)]}),
        422,
        "geometry.coordinates",
        "too_few_points",
    ),
    "line with twice the same point": (
        feature({"type": "LineString", "coordinates": [list(HET_GROTE_PLEIN)] * 2}),
        422,
        "geometry",
        "geometry_invalid",
    ),
    "empty multipoint": (
        feature({"type": "MultiPoint", "coordinates": []}),
        422,
        "geometry.coordinates",
        "too_few_points",
    ),
    "polygon with three positions": (
        feature(
            {"type": "Polygon", "coordinates": [[[5.04, 52.30], [5.041, 52.30], [5.04, 52.30]]]}
        ),
        422,
        "geometry.coordinates[0]",
        "too_few_points",
    ),
    "unclosed ring": (
        feature(
            {
                "type": "Polygon",
                "coordinates": [[[5.04, 52.30], [5.041, 52.30], [5.041, 52.301], [5.04, 52.301]]],
            }
        ),
        422,
        "geometry.coordinates[0]",
        "ring_not_closed",
    ),
    "self-intersecting polygon": (feature(BOWTIE), 422, "geometry", "geometry_invalid"),
    "area over 5 km2": (feature(square(5.0, 52.28, 0.05)), 422, "geometry", "area_too_large"),
    "over 10,000 vertices": (feature(many_vertices(10_002)), 422, "geometry", "too_many_vertices"),
    "crs RD New on the feature": (
        {
            **feature(),
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        },
        422,
        "crs",
        "crs_not_wgs84",
    ),
    "crs on the geometry": (
        feature({**point(), "crs": {"type": "link", "properties": {"href": "x"}}}),
        422,
        "geometry.crs",
        "crs_not_wgs84",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_and_nothing_written(client, count_rows, name):
    body, status, field, code = CASES[name]
    before = count_rows()
    if (
        body is None
    ):  # JSON with an unpaired surrogate cannot be built by json.dumps with Python str
        raw = (
            '{"type":"Feature","geometry":{"type":"Point","coordinates":[5.04,52.3]},'
            '"properties":{"category":"idee","title":"\\ud800"}}'
        )
        r = client.post(API, data=raw, content_type="application/json")
    else:
        r = client.post(API, data=json.dumps(body), content_type="application/geo+json")
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem["errors"][0]["field"] == field
    assert problem["errors"][0]["code"] == code
    assert count_rows() == before


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"{bad json", "Malformed JSON"),
        (b"", "empty"),
        (b'{"type": "Feature",}', "Malformed JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ],
)
def test_malformed_json_is_400(client, count_rows, raw, why):
    r = client.post(API, data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["field"] == "body"
    assert why in r.get_json()["detail"]
    assert count_rows() == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_coordinates_are_refused(client, count_rows, literal):
    raw = (
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[' + literal + ",52.3]},"
        '"properties":{"category":"idee","title":"x"}}'
    )
    r = client.post(API, data=raw, content_type="application/json")
    assert r.status_code == 422
    assert r.get_json()["errors"][0] == {
        "field": "geometry.coordinates",
        "reason": "Coordinates must be finite numbers (no NaN or Infinity).",
        "code": "coordinate_not_finite",
    }
    assert count_rows() == 0


def test_oversized_body_is_413(client, count_rows):
    big = feature(description="x" * 1_100_000)
    r = client.post(API, data=json.dumps(big), content_type="application/json")
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["field"] == "body"
    assert count_rows() == 0


def test_wrong_content_type_is_415(client, count_rows):
    r = client.post(API, data=json.dumps(feature()), content_type="text/plain")
    assert r.status_code == 415
    assert r.get_json()["errors"][0]["field"] == "Content-Type"
    r = client.post(API, data={"title": "form post"})
    assert r.status_code == 415
    assert count_rows() == 0


def test_accepted_crs_names_mean_wgs84(client):
    body = {
        **feature(),
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    }
    assert client.post(API, json=body).status_code == 201


def test_limits_follow_configuration(client, app, count_rows):
    app.config["KAART"] = app.config["KAART"].replace(
        max_area_m2=1000.0, area_bbox=(5.0, 52.2, 5.1, 52.4)
    )
    r = client.post(API, json=feature(polygon()))  # about 1,600 m²
    assert r.get_json()["errors"][0]["code"] == "area_too_large"
    r = client.post(
        API, json=feature(point((4.9, 52.37)))
    )  # Amsterdam: outside the configured area
    assert r.get_json()["errors"][0]["code"] == "outside_area"
    assert count_rows() == 0


def test_patch_validates_like_post(client, count_rows):
    created = client.post(API, json=feature()).get_json()
    auth = {"Authorization": f"Bearer {created['edit_token']}"}
    url = f"{API}/{created['id']}"
    before = client.get(url).get_json()  # as published (location privacy: its cell centre)
    for body, code in [
        ({"type": "Feature", "properties": {"title": ""}}, "title_missing"),
        ({"type": "Feature", "properties": {"category": "bomen"}}, "category_unknown"),
        ({"type": "Feature", "geometry": BOWTIE}, "geometry_invalid"),
        ({"type": "Feature", "properties": {}}, "nothing_to_change"),
        ({"type": "Feature", "properties": {"id": "x"}}, "unknown_property"),
    ]:
        r = client.patch(url, json=body, headers=auth)
        assert r.status_code == 422, body
        assert r.get_json()["errors"][0]["code"] == code
    after = client.get(url).get_json()
    assert after["properties"]["title"] == created["properties"]["title"]
    assert after["geometry"] == before["geometry"]


def test_method_not_allowed_is_a_problem(client):
    r = client.put(API)
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert "POST" in r.headers["Allow"]


def test_the_cheap_area_bound_never_lets_a_shape_over_the_limit_pass():
    """parse_geometry measures a shape exactly (with PROJ) only when a cheap bound says it might
    be over the limit: the bound must never be below the exact area anywhere in RD's domain."""
    import random

    import shapely
    from shapely.geometry import box

    from kaart import geo

    rng = random.Random(11)
    for _ in range(500):
        lon, lat = rng.uniform(2.0, 7.8), rng.uniform(50.0, 55.8)
        shape = shapely.affinity.rotate(
            box(lon, lat, lon + rng.uniform(1e-5, 0.2), lat + rng.uniform(1e-5, 0.2)),
            rng.uniform(0, 90),
        )
        if shapely.within(shape, box(*geo.RD_DOMAIN)):
            assert geo.area_m2(shape) < geo._area_bound_m2(shape) < 1.1 * geo.area_m2(shape)
    assert geo._area_bound_m2(box(-1.0, 50.0, 0.0, 51.0)) == math.inf  # outside: always exact
