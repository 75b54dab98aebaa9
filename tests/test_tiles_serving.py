"""Vector tiles as a serving worker reads them (kaart/db.py `prepared_row`): an open layer's tile
on a pooled connection of its own, without a Session, prepared on the server, the tile in binary;
the same answers as through a Session; a lost connection answered 503; a read replica still
used when there is one. And the feature cap on both sides of FULL_DETAIL_ZOOM."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from kaart import create_app, db
from kaart.config import Settings
from kaart.db import EXTENSION_KEY
from kaart.services import tiles
from kaart.views import tiles as tile_views
from tests.layers_fixture import make_layer
from tests.test_tiles import HET_GROTE_PLEIN_Z16, VAALSERBERG_Z14, WEESP_Z14, decode, squares, url

LAYER = "vierkanten-geserveerd"
SIDES = [9, 14, 5, 16, 7, 12, 6, 15, 8, 11, 10, 13]  # metres, in no particular order
Z15 = (15, HET_GROTE_PLEIN_Z16[1] // 2, HET_GROTE_PLEIN_Z16[2] // 2)


@pytest.fixture
def squares_layer(engine: Engine) -> Iterator[str]:
    """Twelve squares near Het Grote Plein, committed: a served app reads them on its own
    connections."""
    with engine.begin() as conn:
        make_layer(conn, LAYER, squares(SIDES))
    yield LAYER
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS open_data.{LAYER.replace('-', '_')}"))
        conn.execute(text("DELETE FROM layer WHERE name = :n"), {"n": LAYER})


@pytest.fixture
def served(settings: Settings) -> Iterator[Flask]:
    """The app as a worker runs it: its own engine, no test connection to roll back."""
    app = create_app({"settings": settings})
    yield app
    ext = app.extensions[EXTENSION_KEY]
    ext["engine"].dispose()
    if ext["replica"] is not None:
        ext["replica"].engine.dispose()


class CountedSession(Session):
    made = 0

    def __init__(self, *args, **kwargs) -> None:
        CountedSession.made += 1
        super().__init__(*args, **kwargs)


def test_a_served_tile_needs_no_session_and_leaves_its_connection_as_it_found_it(
    served, squares_layer, engine, monkeypatch
):
    client = served.test_client()
    first = client.get(url(squares_layer, *HET_GROTE_PLEIN_Z16))  # reads the catalogue row
    assert first.status_code == 200
    monkeypatch.setattr(CountedSession, "made", 0)
    monkeypatch.setattr(db, "Session", CountedSession)
    again = client.get(url(squares_layer, *HET_GROTE_PLEIN_Z16))
    assert again.status_code == 200 and again.data == first.data
    assert CountedSession.made == 0  # the worker's copy of the catalogue row, and no Session
    with Session(engine) as session:
        layer = tiles.find_layer(session, squares_layer)
        assert tiles.render(session, layer, tiles.Tile(*HET_GROTE_PLEIN_Z16)) == again.data
    # Back in the pool as the pool's other users expect it, its statement kept prepared.
    pool = served.extensions[EXTENSION_KEY]["engine"].pool
    assert pool.checkedout() == 0
    pooled = pool.connect()
    try:
        driver = pooled.driver_connection
        assert not driver.autocommit and driver.prepare_threshold is None
        prepared = driver.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%ST_AsMVT%'"
        ).fetchone()[0]
        driver.rollback()
        assert prepared >= 1
    finally:
        pooled.close()


def test_a_served_tile_answers_304_204_and_404_as_ever(served, squares_layer):
    client = served.test_client()
    tile = url(squares_layer, *HET_GROTE_PLEIN_Z16)
    etag = client.get(tile).headers["ETag"]
    again = client.get(tile, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=3600"
    empty = client.get(url(squares_layer, *VAALSERBERG_Z14))
    assert empty.status_code == 204 and empty.data == b"" and empty.headers["ETag"]
    for path in (url("gebouwen", *WEESP_Z14), url(squares_layer, 14, 2**14, 0)):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_a_lost_connection_is_a_503_and_the_next_tile_is_served(
    served, squares_layer, engine, flask_views
):
    client = served.test_client()
    tile = url(squares_layer, *HET_GROTE_PLEIN_Z16)
    assert client.get(tile).status_code == 200
    pool = served.extensions[EXTENSION_KEY]["engine"].pool
    pooled = pool.connect()
    pid = pooled.driver_connection.info.backend_pid
    pooled.close()  # just used: not pinged when the next tile checks it out
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    lost = client.get(tile)
    assert lost.status_code == 503 and lost.mimetype == "application/problem+json"
    assert int(lost.headers["Retry-After"]) > 0
    assert client.get(tile).status_code == 200  # on a new connection
    assert flask_views == [squares_layer]  # the others came the short way, the 503 too


@pytest.fixture
def flask_views(served, monkeypatch) -> list[str]:
    """The tile requests that reached the tiles blueprint's view (the others were answered by
    kaart/views/tiles_direct.py in front of Flask)."""
    reached: list[str] = []
    view = served.view_functions["tiles.tile"]

    def counted(**kwargs):
        reached.append(kwargs["layer"])
        return view(**kwargs)

    monkeypatch.setitem(served.view_functions, "tiles.tile", counted)
    return reached


def _answer(response) -> tuple:
    return response.status, sorted(response.headers.items()), response.data


def test_the_short_way_gives_the_answers_flask_gives(served, squares_layer, flask_views):
    client = served.test_client()
    full = url(squares_layer, *HET_GROTE_PLEIN_Z16)
    etag = client.get(full).headers["ETag"]
    copies = served.extensions[tile_views.LAYER_COPIES]
    cases = {
        "200": (full, {}),
        "204": (url(squares_layer, *VAALSERBERG_Z14), {}),
        "304": (full, {"If-None-Match": f'W/{etag}, "other"'}),
    }
    for status, (path, headers) in cases.items():
        copies.clear()  # no copy of the catalogue row: Flask reads it, answers, keeps a copy
        before = len(flask_views)
        through_flask = client.get(path, headers=headers)
        assert len(flask_views) == before + 1
        short = client.get(path, headers=headers)
        assert len(flask_views) == before + 1  # not through Flask's view this time
        assert short.status_code == int(status)
        assert _answer(short) == _answer(through_flask)
        if status != "200":
            assert "Content-Type" not in short.headers  # no content, no type


def test_the_short_way_leaves_everything_else_to_flask(served, squares_layer, flask_views):
    client = served.test_client()
    full = url(squares_layer, *HET_GROTE_PLEIN_Z16)
    assert client.get(full).status_code == 200  # Flask's, and the worker keeps a copy
    assert client.get(full).status_code == 200  # the short way's
    assert flask_views == [squares_layer]
    head = client.head(full)
    assert head.status_code == 200 and head.headers["ETag"] and head.data == b""
    asked = client.get(full + "?lang=en")
    assert asked.status_code == 200 and asked.data == client.get(full).data
    outside = client.get(url(squares_layer, 14, 2**14, 0))
    assert outside.status_code == 404 and outside.mimetype == "application/problem+json"
    contributions = client.get(url(tiles.CONTRIBUTIONS, *WEESP_Z14))
    assert contributions.status_code in (200, 204)  # whatever the database holds
    assert flask_views == [squares_layer] * 4 + [tiles.CONTRIBUTIONS]


def test_a_tile_below_the_layers_zooms_takes_no_connection_the_short_way(
    served, squares_layer, engine, flask_views
):
    with engine.begin() as conn:
        conn.execute(text("UPDATE layer SET min_zoom = 15 WHERE name = :n"), {"n": squares_layer})
    client = served.test_client()
    z14 = url(squares_layer, 14, HET_GROTE_PLEIN_Z16[1] // 4, HET_GROTE_PLEIN_Z16[2] // 4)
    assert client.get(z14).status_code == 204  # Flask's, which keeps the catalogue row
    checkouts: list[int] = []
    event.listen(
        served.extensions[EXTENSION_KEY]["engine"], "checkout", lambda *_: checkouts.append(1)
    )
    assert client.get(z14).status_code == 204
    assert checkouts == [] and flask_views == [squares_layer]


def test_with_a_read_replica_tiles_are_read_from_it(settings, squares_layer):
    # The primary named as the replica too: reads go to the replica's engine, none to the
    # primary's, which answers only what must see a write at once.
    app = create_app({"settings": settings.replace(database_read_url=settings.database_url)})
    ext = app.extensions[EXTENSION_KEY]
    try:
        client = app.test_client()
        for _ in range(2):
            assert client.get(url(squares_layer, *HET_GROTE_PLEIN_Z16)).status_code == 200
        assert ext["replica"].engine.pool.checkedin() >= 1
        assert ext["engine"].pool.checkedin() == 0 and ext["engine"].pool.checkedout() == 0
    finally:
        ext["engine"].dispose()
        ext["replica"].engine.dispose()


# -- The cap, below and from FULL_DETAIL_ZOOM ---------------------------------------------------


def kept(client, layer: str, z: int, x: int, y: int) -> set[int]:
    features = decode(client.get(url(layer, z, x, y)).data)[layer]
    return {SIDES[int(f["properties"]["feature_id"].split("-")[1])] for f in features}


@pytest.mark.parametrize("tile", [Z15, HET_GROTE_PLEIN_Z16], ids=["z15", "z16"])
def test_a_tile_at_the_cap_keeps_all_and_one_over_keeps_the_largest(
    client, connection, monkeypatch, tile
):
    make_layer(connection, "vierkanten", squares(SIDES))
    monkeypatch.setattr(tiles, "MAX_FEATURES", len(SIDES))
    assert kept(client, "vierkanten", *tile) == set(SIDES)
    monkeypatch.setattr(tiles, "MAX_FEATURES", len(SIDES) - 1)
    assert kept(client, "vierkanten", *tile) == set(SIDES) - {5}
    monkeypatch.setattr(tiles, "MAX_FEATURES", 3)
    assert kept(client, "vierkanten", *tile) == {16, 15, 14}
