"""The layer catalogue and small GeoJSON selections of a layer (Weesp Centrum's BAG panden)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import shape

from tests.layers_fixture import PAND_WEESP
from tests.places import OUDE_CONVENT, SMAL_WEESP, feature, point

LAYERS = "/api/v1/layers"
FEATURES = f"{LAYERS}/weesp-panden/features"
# Around PAND_WEESP (Weesp Centrum, built 1890): about 40 m by 30 m.
AROUND_PAND = "5.0430,52.3045,5.0436,52.3048"
# All of the Weesp Centrum extract.
WEESP_CENTRUM = "5.030,52.300,5.050,52.312"
VAALSERBERG_BBOX = "6.01,50.75,6.03,50.76"


def by_name(client) -> dict[str, dict]:
    r = client.get(LAYERS)
    assert r.status_code == 200 and r.mimetype == "application/json"
    return {layer["name"]: layer for layer in r.get_json()["layers"]}


# -- Catalogue --------------------------------------------------------------------------------


def test_catalogue_lists_loaded_layers_with_attribution_extent_and_urls(client, panden):
    layers = by_name(client)
    pand = layers["weesp-panden"]
    assert pand["title"] == "Panden (BAG)"
    assert pand["kind"] == "building" and pand["geometry_family"] == "polygon"
    assert pand["licence"] == "CC0 1.0" and pand["attribution"] == "Test data"
    assert pand["source"] == "https://example.test/weesp-panden"
    assert pand["feature_count"] == 1271
    west, south, east, north = pand["bbox"]
    assert 5.035 < west < east < 5.048 and 52.304 < south < north < 52.310
    assert (pand["min_zoom"], pand["max_zoom"]) == (14, 22)
    assert pand["loaded_at"].endswith("+00:00")
    assert pand["tiles"] == "/tiles/weesp-panden/{z}/{x}/{y}.pbf"
    assert pand["features"] == FEATURES
    # The session's demo buurten are a loaded layer too.
    assert layers["amsterdam-buurten"]["kind"] == "area"
    assert list(layers)[-1] == "contributions"


def test_catalogue_counts_published_contributions(client, weesp_homes):
    assert by_name(client)["contributions"]["feature_count"] == 0
    assert by_name(client)["contributions"]["bbox"] is None
    kept = client.post("/api/v1/contributions", json=feature(point(SMAL_WEESP))).get_json()
    gone = client.post("/api/v1/contributions", json=feature(point(OUDE_CONVENT))).get_json()
    client.delete(
        f"/api/v1/contributions/{gone['id']}",
        headers={"Authorization": f"Bearer {gone['edit_token']}"},
    )
    contributions = by_name(client)["contributions"]
    assert contributions["feature_count"] == 1
    assert contributions["bbox"] == pytest.approx([*SMAL_WEESP, *SMAL_WEESP])
    assert contributions["tiles"] == "/tiles/contributions/{z}/{x}/{y}.pbf"
    assert contributions["features"] == "/api/v1/contributions"
    assert kept["id"]


# -- Features ---------------------------------------------------------------------------------


def test_features_in_a_bbox_are_geojson_with_all_attributes(client, panden):
    r = client.get(FEATURES, query_string={"bbox": AROUND_PAND})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    body = r.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) > 0
    assert [link["rel"] for link in body["links"]] == ["self"] and "Link" not in r.headers
    pand = next(f for f in body["features"] if f["id"] == PAND_WEESP)
    assert pand["properties"] == {
        "feature_id": PAND_WEESP,
        "construction_year": 1890,
        "status": "Pand in gebruik",
        "gebruiksdoelen": "woonfunctie",  # from the source attributes (jsonb)
    }
    # WGS84, a few decimals: Weesp Centrum.
    centre = shape(pand["geometry"]).centroid
    assert pand["geometry"]["type"] == "Polygon"
    assert centre.x == pytest.approx(5.04334, abs=1e-4)
    assert centre.y == pytest.approx(52.30464, abs=1e-4)


def test_features_page_with_next_links_until_the_end(client, panden):
    seen: list[str] = []
    href = f"{FEATURES}?bbox={WEESP_CENTRUM}&limit=500"
    pages = 0
    while href:
        r = client.get(href)
        assert r.status_code == 200
        body = r.get_json()
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        href = links.get("next")
        if href:
            assert r.headers["Link"] == f'<{href}>; rel="next"'
            assert parse_qs(urlsplit(href).query)["limit"] == ["500"]
            assert body["numberReturned"] == 500
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 1271


def test_default_limit_is_100(client, panden):
    body = client.get(FEATURES, query_string={"bbox": WEESP_CENTRUM}).get_json()
    assert body["numberReturned"] == 100


def test_bbox_elsewhere_is_an_empty_collection(client, panden):
    for bbox in (VAALSERBERG_BBOX, "-10,-10,-9,-9"):
        body = client.get(FEATURES, query_string={"bbox": bbox}).get_json()
        assert body["features"] == [] and body["numberReturned"] == 0


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({}, "bbox", "bbox_missing"),
        ({"bbox": "5.04,52.30,5.05"}, "bbox", "bbox_invalid"),
        ({"bbox": "5.05,52.30,5.04,52.31"}, "bbox", "bbox_invalid"),
        ({"bbox": "5.04,52.30,5.05,nan"}, "bbox", "bbox_invalid"),
        ({"bbox": WEESP_CENTRUM, "limit": "0"}, "limit", "limit_invalid"),
        ({"bbox": WEESP_CENTRUM, "limit": "1001"}, "limit", "limit_invalid"),
        ({"bbox": WEESP_CENTRUM, "limit": "tien"}, "limit", "limit_invalid"),
        ({"bbox": WEESP_CENTRUM, "cursor": "abc"}, "cursor", "cursor_invalid"),
        ({"bbox": WEESP_CENTRUM, "cursor": "99999999999999999999"}, "cursor", "cursor_invalid"),
    ],
)
def test_bad_requests_name_the_field(client, panden, query, field, code):
    r = client.get(FEATURES, query_string=query)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.get_json()["errors"] == [
        {"field": field, "reason": r.get_json()["errors"][0]["reason"], "code": code}
    ]


@pytest.mark.parametrize("layer", ["gebouwen", "contributions"])
def test_unknown_layer_is_404_problem(client, layer):
    r = client.get(f"{LAYERS}/{layer}/features", query_string={"bbox": WEESP_CENTRUM})
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
