"""Prebuilt tiles (kaart/archives/): a PMTiles archive of Weesp Centrum's BAG panden holds the
very tiles the live tile URL answers, is served with range requests and long-lived caching,
is named by its content and swapped in atomically, and a failed build leaves the previous one."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from geodata.load import load_layer
from kaart import create_app
from kaart.archives import build as builder
from kaart.archives import store
from kaart.cli import main
from kaart.services import tiles
from tests.layers_fixture import PANDEN_COLUMNS, WEESP_BAG, make_layer
from tests.test_tiles import HET_GROTE_PLEIN_Z16, decode

LAYER = "weesp-panden"  # the `panden` fixture (tests/conftest.py): drawn from z14
QUIET = {"progress": lambda _m: None}


def sessions_on(connection: Connection):
    """Sessions inside the test's transaction, for a build with one worker (the layer made in
    it is seen by nothing else)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint")


def build(connection: Connection, directory: Path, **options) -> builder.BuildReport:
    return builder.build(sessions_on(connection), LAYER, directory, workers=1, **QUIET, **options)


@pytest.fixture
def client(settings, connection, tmp_path):
    app = create_app({"settings": settings.replace(tiles_dir=tmp_path), "db_bind": connection})
    return app.test_client()


def fetch(client, url: str, **headers: str):
    """A GET whose body is read and whose file is closed (send_file keeps it open until then)."""
    answer = client.get(url, headers=headers)
    answer.get_data()
    answer.close()
    return answer


def archive_tiles(path: Path) -> dict[tuple[int, int, int], bytes]:
    with open(path, "rb") as handle:
        return {zxy: gzip.decompress(data) for zxy, data in all_tiles(MmapSource(handle))}


def reload(connection: Connection, name: str = LAYER) -> None:
    """What a reload does to the catalogue: a new version of the layer."""
    connection.execute(
        text("UPDATE layer SET loaded_at = loaded_at + interval '1 second' WHERE name = :n"),
        {"n": name},
    )


def move_a_pand(connection: Connection) -> None:
    connection.execute(
        text(
            "UPDATE open_data.weesp_panden SET geom = ST_Translate(geom, 30, 0) "
            "WHERE fid = (SELECT min(fid) FROM open_data.weesp_panden)"
        )
    )
    reload(connection)


# -- The archive holds the live tiles -----------------------------------------------------------


def test_every_archived_tile_decodes_to_the_live_tiles_features(
    panden, connection, client, tmp_path
):
    report = build(connection, tmp_path)
    assert report.zooms == (14, 16)  # the layer's own range, down to full detail
    assert report.total == builder.tile_count(_bbox(connection), (14, 16))
    archived = archive_tiles(tmp_path / report.entry.file)
    assert len(archived) == report.tiles > 10
    assert {z for z, _x, _y in archived} == {14, 15, 16}
    assert HET_GROTE_PLEIN_Z16 in archived
    for (z, x, y), data in archived.items():
        live = client.get(f"/tiles/{panden}/{z}/{x}/{y}.pbf")
        assert live.status_code == 200
        assert decode(data) == decode(live.data), (z, x, y)
    # Tiles the build left out are empty live too.
    left_out = [t for t in _extent_tiles(connection, report.zooms) if t not in archived]
    assert left_out
    for z, x, y in left_out:
        assert client.get(f"/tiles/{panden}/{z}/{x}/{y}.pbf").status_code == 204


def _bbox(connection: Connection) -> list[float]:
    return list(
        connection.execute(
            text("SELECT bbox FROM layer WHERE name = :n"), {"n": LAYER}
        ).scalar_one()
    )


def _extent_tiles(connection: Connection, zooms: tuple[int, int]) -> list[tuple[int, int, int]]:
    return [(t.z, t.x, t.y) for _id, t in builder.tile_ids(_bbox(connection), zooms)]


def test_the_header_says_gzipped_mvt_with_bounds_zooms_and_centre(panden, connection, tmp_path):
    entry = build(connection, tmp_path).entry
    with open(tmp_path / entry.file, "rb") as handle:
        reader = Reader(MmapSource(handle))
        header, metadata = reader.header(), reader.metadata()
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert header["clustered"] is True  # written in tile-id order
    assert (header["min_zoom"], header["max_zoom"]) == (14, 16)
    west, south, east, north = (
        v / 1e7
        for v in (
            header["min_lon_e7"],
            header["min_lat_e7"],
            header["max_lon_e7"],
            header["max_lat_e7"],
        )
    )
    assert 5.03 < west < east < 5.05 and 52.30 < south < north < 52.31
    assert west < header["center_lon_e7"] / 1e7 < east
    assert south < header["center_lat_e7"] / 1e7 < north
    (vector_layer,) = metadata["vector_layers"]
    assert vector_layer["id"] == LAYER and set(vector_layer["fields"]) >= set(PANDEN_COLUMNS)
    assert metadata["attribution"] == "Test data" and metadata["description"] == "Panden (BAG)"


def test_asked_zooms_and_an_empty_layer(panden, connection, tmp_path):
    report = build(connection, tmp_path, zooms=(15, 15))
    assert {z for z, _x, _y in archive_tiles(tmp_path / report.entry.file)} == {15}
    with pytest.raises(builder.BuildError, match="minzoom"):
        build(connection, tmp_path, zooms=(16, 15))
    connection.execute(text("DELETE FROM open_data.weesp_panden"))
    reload(connection)
    empty = build(connection, tmp_path)
    assert empty.entry is None and "no archive" in empty.summary()
    assert LAYER not in store.read(tmp_path)
    assert not list(tmp_path.glob("*.pmtiles"))


# -- Served with range requests -----------------------------------------------------------------


def test_range_requests_get_206_with_the_bytes_and_416_past_the_end(
    panden, connection, client, tmp_path
):
    entry = build(connection, tmp_path).entry
    body = (tmp_path / entry.file).read_bytes()
    url = entry.url
    assert url == f"/tiles/archives/{entry.file}"

    header = fetch(client, url, Range="bytes=0-126")
    assert header.status_code == 206
    assert header.data == body[:127]
    assert header.headers["Content-Range"] == f"bytes 0-126/{len(body)}"
    assert header.headers["Accept-Ranges"] == "bytes"
    assert header.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert header.mimetype == "application/vnd.pmtiles"
    middle = fetch(client, url, Range=f"bytes=1000-{len(body) - 1}")
    assert middle.status_code == 206 and middle.data == body[1000:]
    end = fetch(client, url, Range="bytes=-500")  # the last 500 bytes, read at their offset
    assert end.status_code == 206 and end.data == body[-500:]
    assert end.headers["Content-Range"] == f"bytes {len(body) - 500}-{len(body) - 1}/{len(body)}"
    # With If-Range: the general answer (send_file), which checks the ETag.
    checked = fetch(client, url, Range="bytes=0-9", **{"If-Range": whole_etag(client, url)})
    assert checked.status_code == 206 and checked.data == body[:10]
    whole = fetch(client, url)
    assert whole.status_code == 200 and whole.data == body
    again = fetch(client, url, **{"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304

    past = fetch(client, url, Range=f"bytes={len(body)}-{len(body) + 100}")
    assert past.status_code == 416
    assert past.headers["Content-Range"] == f"bytes */{len(body)}"
    assert past.mimetype == "application/problem+json"


def whole_etag(client, url: str) -> str:
    response = fetch(client, url)
    response.close()
    return response.headers["ETag"]


@pytest.mark.parametrize(
    "name",
    ["weesp-panden-0123456789abcdef.pmtiles", "manifest.json", "..%2Fmanifest.json", "x.pmtiles"],
)
def test_only_archives_that_exist_are_served(panden, connection, client, tmp_path, name):
    build(connection, tmp_path)
    answer = client.get(f"/tiles/archives/{name}")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_the_catalogue_names_the_current_archive_of_the_layers_version(
    panden, connection, client, tmp_path
):
    make_layer(
        connection,
        "zonder-archief",
        [{"feature_id": "a", "geom": "POINT(131480 479902)"}],
        family="point",
        kind="tree",
    )
    before = client.get("/api/v1/layers")
    entry = build(connection, tmp_path).entry
    # A finished build changes what the catalogue names: a revalidation gets the new one.
    after = client.get("/api/v1/layers", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    listed = {layer["name"]: layer for layer in after.get_json()["layers"]}
    assert listed[LAYER]["archive"] == entry.url
    assert listed[LAYER]["archive_zooms"] == [14, 16]
    assert listed[LAYER]["tiles"] == f"/tiles/{LAYER}/{{z}}/{{x}}/{{y}}.pbf"  # the fallback
    assert listed["zonder-archief"]["archive"] is None
    assert listed["contributions"]["archive"] is None
    # Loaded again without a build (`--no-tiles`): the archive shows older data, so it is not
    # handed out and the map draws live tiles until the next build.
    reload(connection)
    listed = {layer["name"]: layer for layer in client.get("/api/v1/layers").get_json()["layers"]}
    assert listed[LAYER]["archive"] is None and listed[LAYER]["archive_zooms"] is None


def test_a_damaged_manifest_means_live_tiles_until_the_next_build(
    panden, connection, client, tmp_path, caplog
):
    (tmp_path / "manifest.json").write_text('{"layers": {"weesp": ', encoding="utf-8")
    assert store.read(tmp_path) == {}
    assert "manifest" in caplog.text
    assert client.get("/api/v1/layers").status_code == 200
    entry = build(connection, tmp_path).entry
    assert store.read(tmp_path)[LAYER] == entry


# -- Content-addressed names and the atomic swap -------------------------------------------------


def test_a_rebuild_from_changed_data_swaps_in_a_new_name_and_keeps_one_previous(
    panden, connection, tmp_path
):
    first = build(connection, tmp_path).entry
    assert first.file.startswith(f"{LAYER}-") and first.previous is None
    assert build(connection, tmp_path).current  # same version: nothing to do
    assert build(connection, tmp_path, force=True).entry.file == first.file  # same bytes, same name

    move_a_pand(connection)
    second = build(connection, tmp_path).entry
    assert second.file != first.file
    assert store.read(tmp_path)[LAYER] == second
    # A page opened before the swap still reads the previous file.
    assert second.previous == first.file and (tmp_path / first.file).exists()

    move_a_pand(connection)
    third = build(connection, tmp_path).entry
    assert third.previous == second.file
    assert sorted(p.name for p in tmp_path.glob("*.pmtiles")) == sorted([second.file, third.file])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["layers"][LAYER]["file"] == third.file


def test_a_failed_build_leaves_the_previous_archive_served(
    panden, connection, client, tmp_path, monkeypatch
):
    first = build(connection, tmp_path).entry
    manifest = (tmp_path / "manifest.json").read_bytes()
    move_a_pand(connection)
    calls = []
    render = tiles.render

    def failing(session, layer, tile):
        calls.append(tile)
        if len(calls) == 5:
            raise KeyboardInterrupt  # Ctrl-C halfway
        return render(session, layer, tile)

    monkeypatch.setattr(tiles, "render", failing)
    with pytest.raises(KeyboardInterrupt):
        build(connection, tmp_path)
    assert (tmp_path / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in tmp_path.glob("*.pmtiles")) == [first.file]
    assert not list(tmp_path.glob(".*.tmp"))  # its partial file is gone
    assert fetch(client, first.url, Range="bytes=0-6").data == b"PMTiles"


def test_a_reload_during_the_build_fails_it(panden, connection, tmp_path, monkeypatch):
    first = build(connection, tmp_path).entry
    move_a_pand(connection)
    render = tiles.render

    def reloaded_meanwhile(session, layer, tile):
        reload(connection)
        return render(session, layer, tile)

    monkeypatch.setattr(tiles, "render", reloaded_meanwhile)
    with pytest.raises(builder.BuildError, match="reloaded during the build"):
        build(connection, tmp_path)
    assert store.read(tmp_path)[LAYER].file == first.file


def test_one_build_per_layer_at_a_time_and_leftovers_of_a_killed_one_go(
    panden, connection, tmp_path
):
    with store.building(tmp_path, LAYER), pytest.raises(store.BuildBusy):
        build(connection, tmp_path)
    leftover = tmp_path / f".{LAYER}.killed.tmp"
    leftover.write_bytes(b"partial")
    build(connection, tmp_path)
    assert not leftover.exists()


# -- The command, in parallel on committed layers ------------------------------------------------


@pytest.fixture
def committed_panden(engine: Engine) -> Iterator[None]:
    load_layer(engine, "bag-panden", path=WEESP_BAG, layer="pand", force=True, **QUIET)
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS open_data.bag_panden"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))


def test_kaart_tiles_build_renders_in_parallel_with_progress(
    committed_panden, database_url, engine, monkeypatch, tmp_path
):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setenv("KAART_TILES_DIR", str(tmp_path))
    done = CliRunner().invoke(main, ["tiles", "build", "bag-panden", "--workers", "3"])
    assert done.exit_code == 0, done.output
    assert "bag-panden: tiles 15 / 15 (100 %)" in done.output
    entry = store.read(tmp_path)["bag-panden"]
    assert f"bag-panden: {entry.file}, {entry.tiles} tiles of 15 (z14-16)" in done.output
    with Session(engine) as session:
        layer = tiles.find_layer(session, "bag-panden")
        for (z, x, y), data in archive_tiles(tmp_path / entry.file).items():
            assert decode(data) == decode(tiles.render(session, layer, tiles.Tile(z, x, y)))
    again = CliRunner().invoke(main, ["tiles", "build", "bag-panden"])
    assert "is current; nothing to do" in again.output
    unknown = CliRunner().invoke(main, ["tiles", "build", "bestaat-niet"])
    assert unknown.exit_code == 1 and "tiles: " in unknown.output


def test_kaart_layers_load_builds_the_archive_unless_told_not_to(
    committed_panden, database_url, monkeypatch, tmp_path
):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setenv("KAART_TILES_DIR", str(tmp_path))
    args = ["layers", "load", "bag-panden", "--file", str(WEESP_BAG), "--layer", "pand", "--force"]
    skipped = CliRunner().invoke(main, [*args, "--no-tiles"])
    assert skipped.exit_code == 0, skipped.output
    assert store.read(tmp_path) == {}
    loaded = CliRunner().invoke(main, args)
    assert loaded.exit_code == 0, loaded.output
    assert "bag-panden: tiles 15 / 15" in loaded.output
    assert store.read(tmp_path)["bag-panden"].tiles > 10


# -- Behind nginx ---------------------------------------------------------------------------------


def _get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


@pytest.mark.deployed
def test_nginx_serves_the_archives_from_the_directory_itself(deployed, committed_panden, engine):
    readers = engine.execution_options(isolation_level="AUTOCOMMIT")
    entry = builder.build(lambda: Session(readers), "bag-panden", deployed.tiles_dir, **QUIET).entry
    body = (deployed.tiles_dir / entry.file).read_bytes()

    status, headers, data = _get(deployed.port, entry.url, Range="bytes=0-16383")
    assert status == 206 and data == body[:16384]
    assert headers["content-range"] == f"bytes 0-16383/{len(body)}"
    assert headers["content-type"] == "application/vnd.pmtiles"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" not in headers  # nginx answered, not the app
    status, headers, _data = _get(deployed.port, entry.url, Range=f"bytes={len(body)}-")
    assert status == 416 and headers["content-range"] == f"bytes */{len(body)}"
    status, headers, data = _get(
        deployed.port, "/tiles/archives/bag-panden-0123456789abcdef.pmtiles"
    )
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert json.loads(data)["status"] == 404

    status, _headers, data = _get(deployed.port, "/api/v1/layers")
    listed = {layer["name"]: layer for layer in json.loads(data)["layers"]}
    assert status == 200 and listed["bag-panden"]["archive"] == entry.url
