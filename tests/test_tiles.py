"""Vector tiles from PostGIS: Weesp Centrum's BAG panden and the contributions on the map."""

from __future__ import annotations

import struct
import time
import types
import urllib.request

import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import text

from kaart.services import tiles
from tests.conftest import serving
from tests.layers_fixture import PAND_WEESP, make_layer
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, VAALSERBERG, feature, point

MVT = "application/vnd.mapbox-vector-tile"
# Tiles over Weesp Centrum (checked with ST_Transform(ST_TileEnvelope(z, x, y), 4326)).
WEESP_Z14 = (14, 8421, 5389)  # lon 5.0317-5.0537, lat 52.2950-52.3085
HET_GROTE_PLEIN_Z16 = (16, 33685, 21556)  # lon 5.0372-5.0427, lat 52.3051-52.3085
VAALSERBERG_Z14 = (14, 8466, 5502)
# Het Grote Plein in RD New (EPSG:28992), metres; and a spot in the middle of its z16 tile.
PLEIN_RD = (131480.0, 479902.0)
Z16_MIDDLE_RD = (131250.0, 479900.0)


def url(layer: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{layer}/{z}/{x}/{y}.pbf"


# -- A minimal Mapbox Vector Tile reader ------------------------------------------------------
# mapbox-vector-tile is not a dependency; these few lines read what the tests need from the
# protobuf (layers, features with id, properties and geometry commands).


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            assert wire == 2, f"unexpected wire type {wire}"
            length, i = _varint(buf, i)
            value, i = buf[i : i + length], i + length
        yield number, value


def _packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        value, i = _varint(buf, i)
        out.append(value)
    return out


def _value(buf: bytes):
    for number, value in _fields(buf):
        if number == 1:
            return value.decode()
        if number == 2:
            return struct.unpack("<f", value)[0]
        if number == 3:
            return struct.unpack("<d", value)[0]
        if number in (4, 5):
            return value
        if number == 6:
            return (value >> 1) ^ -(value & 1)
        if number == 7:
            return bool(value)
    return None


def _vertices(commands: list[int]) -> int:
    count, i = 0, 0
    while i < len(commands):
        command, repeat = commands[i] & 7, commands[i] >> 3
        i += 1
        if command in (1, 2):  # MoveTo, LineTo: two parameters per vertex
            count += repeat
            i += 2 * repeat
    return count


def _points(commands: list[int]) -> list[tuple[int, int]]:
    """The vertices in tile coordinates (MoveTo and LineTo move by zigzag-encoded steps)."""
    points, x, y, i = [], 0, 0, 0
    while i < len(commands):
        command, repeat = commands[i] & 7, commands[i] >> 3
        i += 1
        if command not in (1, 2):  # ClosePath has no parameters
            continue
        for _ in range(repeat):
            dx, dy = commands[i], commands[i + 1]
            x += (dx >> 1) ^ -(dx & 1)
            y += (dy >> 1) ^ -(dy & 1)
            points.append((x, y))
            i += 2
    return points


def decode(data: bytes) -> dict[str, list[dict]]:
    """{layer name: [{"id", "properties", "type", "vertices", "points"}]}"""
    layers = {}
    for number, raw_layer in _fields(data):
        assert number == 3
        name, keys, values, raw_features = None, [], [], []
        for field, value in _fields(raw_layer):
            if field == 1:
                name = value.decode()
            elif field == 2:
                raw_features.append(value)
            elif field == 3:
                keys.append(value.decode())
            elif field == 4:
                values.append(_value(value))
        layers[name] = [_feature(raw, keys, values) for raw in raw_features]
    return layers


def _feature(raw: bytes, keys: list[str], values: list) -> dict:
    feat = {"id": None, "properties": {}, "type": None, "vertices": 0, "points": []}
    for field, value in _fields(raw):
        if field == 1:
            feat["id"] = value
        elif field == 2:
            tags = _packed(value)
            feat["properties"] = {
                keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)
            }
        elif field == 3:
            feat["type"] = value
        elif field == 4:
            feat["vertices"] = _vertices(_packed(value))
            feat["points"] = _points(_packed(value))
    return feat


# -- Fixtures ---------------------------------------------------------------------------------


def squares(sizes: list[float], origin=Z16_MIDDLE_RD) -> list[dict]:
    """Squares of the given sides (m) in a row eastwards, 2 m apart (RD New)."""
    x, y = origin
    rows = []
    for i, side in enumerate(sizes):
        rows.append({"feature_id": f"vierkant-{i}", "geom": box(x, y, x + side, y + side)})
        x += side + 2
    return rows


def count_in_tile(connection, table: str, z: int, x: int, y: int) -> int:
    return connection.execute(
        text(
            f"SELECT count(*) FROM open_data.{table} "
            "WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y))"
        ),
        {"z": z, "x": x, "y": y},
    ).scalar_one()


# -- Open layers ------------------------------------------------------------------------------


def test_weesp_tile_holds_the_panden_in_it(client, panden, connection):
    r = client.get(url(panden, *HET_GROTE_PLEIN_Z16))
    assert r.status_code == 200 and r.mimetype == MVT
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    assert r.headers["ETag"].startswith('"') and len(r.headers["ETag"]) == 34
    layer = decode(r.data)[panden]
    inside = count_in_tile(connection, "weesp_panden", *HET_GROTE_PLEIN_Z16)
    # Every pand in the tile, plus those that only reach into its 64-unit clip buffer.
    assert inside > 100 and inside <= len(layer) <= inside * 1.2
    assert len({f["id"] for f in layer}) == len(layer)
    assert {f["type"] for f in layer} == {3}  # polygons


def test_a_pand_carries_its_fid_bag_id_and_typed_columns_only(client, panden, connection):
    layer = decode(client.get(url(panden, *WEESP_Z14)).data)[panden]
    inside = count_in_tile(connection, "weesp_panden", *WEESP_Z14)
    assert 1000 < inside < 1271  # the extract reaches just north of this tile
    assert inside <= len(layer) <= 1271
    pand = next(f for f in layer if f["properties"]["feature_id"] == PAND_WEESP)
    # No `properties` jsonb: tiles stay small; the features API has everything.
    assert pand["properties"] == {
        "feature_id": PAND_WEESP,
        "construction_year": 1890,
        "status": "Pand in gebruik",
    }
    fid = connection.execute(
        text("SELECT fid FROM open_data.weesp_panden WHERE feature_id = :id"), {"id": PAND_WEESP}
    ).scalar_one()
    assert pand["id"] == fid and pand["vertices"] >= 4


def test_a_pand_across_a_tile_border_is_in_both_tiles(client, connection):
    # Straddles the western edge of the Het Grote Plein z16 tile (x = 131131 m in RD there).
    make_layer(
        connection,
        "rand",
        [{"feature_id": "over-de-rand", "geom": box(131125, 479900, 131137, 479910)}],
    )
    z, x, y = HET_GROTE_PLEIN_Z16
    for column in (x - 1, x):
        assert [
            f["properties"]["feature_id"]
            for f in decode(client.get(url("rand", z, column, y)).data)["rand"]
        ] == ["over-de-rand"]


def test_empty_tile_is_204_with_cache_headers(client, panden):
    r = client.get(url(panden, *VAALSERBERG_Z14))
    assert r.status_code == 204 and r.data == b""
    assert r.headers["Cache-Control"] == "public, max-age=3600" and r.headers["ETag"]


def test_outside_the_layers_zoom_range_is_204(client, panden):
    z, x, y = WEESP_Z14
    r = client.get(url(panden, z - 2, x // 4, y // 4))  # buildings are drawn from zoom 14
    assert r.status_code == 204 and r.data == b""


def test_world_tiles_of_a_national_layer_answer(client, connection):
    # A rectangle the size of the Netherlands (RD New's extent): seen from zoom 0 on.
    make_layer(
        connection,
        "nederland",
        [{"feature_id": "nl", "geom": box(13000, 306000, 278000, 620000)}],
        kind="area",
    )
    for z, x, y in [(0, 0, 0), (3, 4, 2), (6, 32, 21)]:
        r = client.get(url("nederland", z, x, y))
        assert r.status_code == 200, (z, x, y)
        assert [f["properties"]["feature_id"] for f in decode(r.data)["nederland"]] == ["nl"]
    assert client.get(url("nederland", 1, 0, 1)).status_code == 204  # the southern hemisphere


def test_etag_and_if_none_match_give_304_until_the_layer_is_reloaded(client, panden, connection):
    first = client.get(url(panden, *HET_GROTE_PLEIN_Z16))
    etag = first.headers["ETag"]
    again = client.get(url(panden, *HET_GROTE_PLEIN_Z16), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert (
        again.headers["ETag"] == etag and again.headers["Cache-Control"] == "public, max-age=3600"
    )
    weak = client.get(url(panden, *HET_GROTE_PLEIN_Z16), headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other_tile = client.get(url(panden, *WEESP_Z14), headers={"If-None-Match": etag})
    assert other_tile.status_code == 200 and other_tile.headers["ETag"] != etag
    connection.execute(
        text("UPDATE layer SET source_sha256 = 'reloaded' WHERE name = :n"), {"n": panden}
    )
    reloaded = client.get(url(panden, *HET_GROTE_PLEIN_Z16), headers={"If-None-Match": etag})
    assert reloaded.status_code == 200 and reloaded.headers["ETag"] != etag
    assert reloaded.data == first.data


def test_the_cap_keeps_the_largest_features(client, connection, monkeypatch):
    # Sides of 5 m .. 16 m, in no particular order (fid order is not size order).
    sides = [9, 14, 5, 16, 7, 12, 6, 15, 8, 11, 10, 13]
    make_layer(connection, "vierkanten", squares(sides))
    monkeypatch.setattr(tiles, "MAX_FEATURES", 4)
    layer = decode(client.get(url("vierkanten", *HET_GROTE_PLEIN_Z16)).data)["vierkanten"]
    kept = {sides[int(f["properties"]["feature_id"].split("-")[1])] for f in layer}
    assert kept == {16, 15, 14, 13}
    monkeypatch.setattr(tiles, "MAX_FEATURES", 1000)
    assert len(decode(client.get(url("vierkanten", *HET_GROTE_PLEIN_Z16)).data)["vierkanten"]) == 12


def test_low_zooms_simplify_and_leave_out_what_is_too_small_to_see(client, connection, monkeypatch):
    # A round pond of 300 m radius with 1,024 vertices, and a 2 m shed beside it.
    pond = shapely.Point(PLEIN_RD).buffer(300, quad_segs=256)
    shed = box(PLEIN_RD[0] + 400, PLEIN_RD[1], PLEIN_RD[0] + 402, PLEIN_RD[1] + 2)
    make_layer(
        connection,
        "vijver",
        [{"feature_id": "vijver", "geom": pond}, {"feature_id": "schuur", "geom": shed}],
        kind="green",
    )
    z12 = (12, 2105, 1347)

    def features(z, x, y):
        return {
            f["properties"]["feature_id"]: f
            for f in decode(client.get(url("vijver", z, x, y)).data)["vijver"]
        }

    simplified = features(*z12)
    assert set(simplified) == {"vijver"}  # the shed is under 2 m: invisible at zoom 12
    monkeypatch.setattr(tiles, "FULL_DETAIL_ZOOM", 12)
    unsimplified = features(*z12)
    assert set(unsimplified) == {"vijver", "schuur"}
    assert simplified["vijver"]["vertices"] < unsimplified["vijver"]["vertices"] / 4


def test_simplify_tolerance_follows_the_ground_size_of_a_pixel():
    z12 = tiles.simplify_tolerance(tiles.Tile(12, 2105, 1347))
    z14 = tiles.simplify_tolerance(tiles.Tile(*WEESP_Z14))
    assert z12 == pytest.approx(4 * z14, rel=0.01)
    assert 1.3 < z14 < 1.6  # a z14 tile is about 1.5 km wide at Weesp; 1/1024 of that
    assert tiles.simplify_tolerance(tiles.Tile(*HET_GROTE_PLEIN_Z16)) == 0


# -- Errors -----------------------------------------------------------------------------------


def test_unknown_layer_is_404_problem(client):
    r = client.get(url("gebouwen", *WEESP_Z14))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert "gebouwen" in r.get_json()["detail"]


@pytest.mark.parametrize(
    ("z", "x", "y", "field"),
    [
        ("23", "0", "0", "z"),
        ("14", "16384", "0", "x"),
        ("14", "0", "16384", "y"),
        ("0", "1", "0", "x"),
        ("a", "0", "0", "z"),
        ("-1", "0", "0", "z"),
        ("14", "84.5", "5389", "x"),
        ("14", "8421", "+5389", "y"),
        ("14", "8421", "٥٣٨٩", "y"),  # Arabic-Indic digits: int() would take them
    ],
)
def test_tile_outside_the_grid_is_404_problem(client, panden, z, x, y, field):
    r = client.get(f"/tiles/{panden}/{z}/{x}/{y}.pbf")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert [e["field"] for e in r.get_json()["errors"]] == [field]


@pytest.mark.parametrize(
    "path", ["/tiles/weesp-panden/14/8421/5389.png", "/tiles/weesp-panden", "/tiles/"]
)
def test_other_paths_under_tiles_are_404_problem(client, panden, path):
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


# -- Contributions ----------------------------------------------------------------------------


def test_contributions_tile_shows_only_published_ones(client):
    kept = client.post(
        "/api/v1/contributions",
        json=feature(point(HET_GROTE_PLEIN), category="speelplek", title="Schommel"),
    ).get_json()
    gone = client.post(
        "/api/v1/contributions", json=feature(point(OUDE_CONVENT), title="Bankje")
    ).get_json()
    before = decode(client.get(url("contributions", *WEESP_Z14)).data)["contributions"]
    assert {f["properties"]["id"] for f in before} == {kept["id"], gone["id"]}
    withdrawn = client.delete(
        f"/api/v1/contributions/{gone['id']}",
        headers={"Authorization": f"Bearer {gone['edit_token']}"},
    )
    assert withdrawn.status_code == 204
    r = client.get(url("contributions", *WEESP_Z14))
    assert r.status_code == 200 and r.mimetype == MVT
    assert r.headers["Cache-Control"] == "public, max-age=0, s-maxage=30, must-revalidate"
    (only,) = decode(r.data)["contributions"]
    assert only["properties"] == {
        "id": kept["id"],
        "category": "speelplek",
        "title": "Schommel",
        "status": "ontvangen",
    }
    assert only["type"] == 1  # a point
    again = client.get(
        url("contributions", *WEESP_Z14), headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304


def test_contributions_tile_without_any_is_204(client):
    assert client.get(url("contributions", *VAALSERBERG_Z14)).status_code == 204
    assert client.get(url("contributions", 0, 0, 0)).status_code == 204  # drawn from zoom 8


def test_contributions_tile_at_its_lowest_zoom(client):
    client.post("/api/v1/contributions", json=feature(point(HET_GROTE_PLEIN)))
    r = client.get(url("contributions", 8, 131, 84))
    assert r.status_code == 200 and len(decode(r.data)["contributions"]) == 1


def test_contribution_near_vaalserberg_is_not_in_weesp(client):
    client.post("/api/v1/contributions", json=feature(point(VAALSERBERG)))
    assert client.get(url("contributions", *WEESP_Z14)).status_code == 204
    r = client.get(url("contributions", *VAALSERBERG_Z14))
    assert r.status_code == 200 and len(decode(r.data)["contributions"]) == 1


def test_a_hand_edited_catalogue_column_is_refused_not_put_in_sql(client, panden, connection):
    connection.execute(
        text("UPDATE layer SET columns = ARRAY['status\"; DROP TABLE x; --'] WHERE name = :n"),
        {"n": panden},
    )
    r = client.get(url(panden, *WEESP_Z14))
    assert r.status_code == 500 and r.mimetype == "application/problem+json"


def test_a_worker_sees_a_reloaded_layer_within_the_catalogue_ttl(
    engine, settings, monkeypatch, tmp_path
):
    """Served tiles use a short-lived copy of the catalogue row: after a reload, the ETag
    changes once the copy expires, and tiles keep coming meanwhile (the table keeps its name
    and columns)."""
    from geodata.load import load_layer
    from geodata.source import OPEN_DATA
    from kaart.views import tiles as tile_views

    # The worker's clock, moved forward by the test instead of waiting (a reload can take
    # longer than any short TTL on a busy machine).
    clock = types.SimpleNamespace(offset=0.0)
    fake_time = types.SimpleNamespace(monotonic=lambda: time.monotonic() + clock.offset)
    monkeypatch.setattr(tile_views, "time", fake_time)
    gpkg = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
    load_layer(engine, "bag-panden", path=gpkg, layer="pand", force=True, progress=lambda _m: None)
    try:
        with serving(settings) as url:
            z, x, y = HET_GROTE_PLEIN_Z16
            tile_url = f"{url}/tiles/bag-panden/{z}/{x}/{y}.pbf"

            def fetch() -> tuple[int, str]:
                with urllib.request.urlopen(tile_url) as r:
                    return r.status, r.headers["ETag"]

            status, first = fetch()
            assert status == 200
            load_layer(
                engine, "bag-panden", path=gpkg, layer="pand", force=True, progress=lambda _m: None
            )
            assert fetch() == (200, first)  # the worker's copy is still fresh
            clock.offset = tile_views.CATALOGUE_TTL_SECONDS + 0.1
            status, after = fetch()
            assert status == 200 and after != first
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS open_data.bag_panden"))
            conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))
