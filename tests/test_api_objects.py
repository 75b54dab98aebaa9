"""A contribution about an open-data object: a Weesp BAG pand, stored by layer and id."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geodata.load import load_layer
from geodata.source import OPEN_DATA
from tests.places import feature

API = "/api/v1/contributions"
# A real pand in Weesp Centrum (BAG, built 1890), from the demo extract.
PAND_WEESP = "0457100000019147"


@pytest.fixture(scope="module")
def bag_panden(engine):
    load_layer(
        engine,
        "bag-panden",
        path=OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg",
        layer="pand",
        progress=lambda _m: None,
    )
    yield "bag-panden"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE open_data.bag_panden"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))


def test_attach_to_a_pand(client, bag_panden, connection):
    body = feature(category="energie", object={"layer": bag_panden, "id": PAND_WEESP})
    r = client.post(API, json=body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["properties"]["object"] == {
        "layer": "bag-panden",
        "id": PAND_WEESP,
        "layer_title": "Panden (BAG)",
    }
    stored = connection.execute(
        text("SELECT object_layer, object_id FROM contribution WHERE id = :id"),
        {"id": r.get_json()["id"]},
    ).one()
    assert tuple(stored) == ("bag-panden", PAND_WEESP)


def test_without_object_it_is_null(client):
    assert client.post(API, json=feature()).get_json()["properties"]["object"] is None


@pytest.mark.parametrize(
    ("obj", "field", "code"),
    [
        (
            {"layer": "gebouwen", "id": PAND_WEESP},
            "properties.object.layer",
            "object_layer_unknown",
        ),
        (
            {"layer": "bag-panden", "id": "0457100000000000"},
            "properties.object.id",
            "object_not_found",
        ),
        ({"layer": "bag-panden"}, "properties.object.id", "object_invalid"),
        ({"layer": "bag-panden", "id": 457100000019147}, "properties.object.id", "object_invalid"),
        ("bag-panden/0457100000019147", "properties.object", "object_invalid"),
        ({"layer": "x" * 101, "id": "1"}, "properties.object.layer", "object_invalid"),
    ],
)
def test_bad_object_references_are_refused(client, bag_panden, count_rows, obj, field, code):
    r = client.post(API, json=feature(object=obj))
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == field
    assert r.get_json()["errors"][0]["code"] == code
    assert count_rows() == 0


def test_patch_attaches_and_detaches(client, bag_panden):
    created = client.post(API, json=feature()).get_json()
    auth = {"Authorization": f"Bearer {created['edit_token']}"}
    url = f"{API}/{created['id']}"
    attach = {"type": "Feature", "properties": {"object": {"layer": bag_panden, "id": PAND_WEESP}}}
    r = client.patch(url, json=attach, headers=auth)
    assert r.get_json()["properties"]["object"]["id"] == PAND_WEESP
    r = client.patch(url, json={"type": "Feature", "properties": {"object": None}}, headers=auth)
    assert r.status_code == 200 and r.get_json()["properties"]["object"] is None
    wrong = {"type": "Feature", "properties": {"object": {"layer": bag_panden, "id": "nee"}}}
    assert client.patch(url, json=wrong, headers=auth).status_code == 422


def test_one_object_of_a_layer_by_its_id(client, bag_panden):
    r = client.get(f"/api/v1/layers/{bag_panden}/features/{PAND_WEESP}")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    found = r.get_json()
    assert found["id"] == PAND_WEESP and found["geometry"]["type"] == "MultiPolygon"
    assert found["properties"]["construction_year"] == 1890
    lon, lat = found["geometry"]["coordinates"][0][0][0]
    assert 5.03 < lon < 5.06 and 52.30 < lat < 52.32  # WGS84, in Weesp


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/layers/bag-panden/features/0457100000000000", "id"),
        ("/api/v1/layers/bag-panden/features/%27%20OR%201%3D1%20--", "id"),
        ("/api/v1/layers/gebouwen/features/0457100000019147", None),
        ("/api/v1/layers/contributions/features/1", None),
    ],
)
def test_an_unknown_object_or_layer_is_a_404_problem(client, bag_panden, path, field):
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    if field:
        assert [e["field"] for e in r.get_json()["errors"]] == [field]
