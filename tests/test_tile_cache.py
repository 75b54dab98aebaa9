"""Dynamic answers that a cache can keep: contribution and co-op tiles, OGC items and /api/v1
lists carry an ETag from change counters (migration 0016, kaart/providers/versions.py) or an
open layer's load. A current copy is a 304 without the answer's query; every change that could
alter the answer makes the next revalidation a 200 with a new ETag. Real PostGIS; the last test
runs through gunicorn (2 workers) behind nginx."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, event, text

from kaart.services import dialogue, moderation, privacy, workflow
from kaart.solar import roofs
from kaart.solar.compute import compute
from tests.dialogue_fixtures import PASSWORD, csrf_of, make_user, session_on
from tests.layers_fixture import (
    PAND_WEESP,
    PANDEN_COLUMNS,
    make_layer,
    make_weesp_addresses,
    weesp_panden,
)
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, SMAL_WEESP, feature, point
from tests.stack_client import Resident
from tests.stack_client import feature as stack_feature
from tests.test_tiles import WEESP_Z14, decode

API = "/api/v1/contributions"
TILE = "/tiles/contributions/{}/{}/{}.pbf".format(*WEESP_Z14)
COOP_TILE = "/coop/tiles/16/33686/21557.pbf"  # the z16 tile holding PAND_WEESP
WEESP_BBOX = "5.030,52.300,5.050,52.312"
LIST = f"{API}?bbox={WEESP_BBOX}"
OGC_ITEMS = f"/ogc/collections/contributions/items?bbox={WEESP_BBOX}"
JSON = {"Accept": "application/json"}
DYNAMIC_CACHE = "public, max-age=0, s-maxage=30, must-revalidate"
WEESP_CENTRUM = "BU0363SD03"


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL the app runs on the test's connection (savepoints left out), as it runs it."""
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if "SAVEPOINT" not in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def add(client, lonlat=HET_GROTE_PLEIN, **props) -> dict:
    r = client.post(API, json=feature(point(lonlat), **props))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def bearer(created: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {created['edit_token']}"}


def revalidate(client, url: str, etag: str, headers: dict | None = None):
    return client.get(url, headers={"If-None-Match": etag, **(headers or {})})


def only_the_version_was_read(statements: list[str], source: str = "change_counter") -> None:
    """One statement ran, and it read `source` (no tile, page, count or extent query)."""
    assert len(statements) == 1, statements
    assert source in statements[0] and "ST_AsMVT" not in statements[0]


# -- Contribution tiles -------------------------------------------------------------------------


def test_a_revalidated_contribution_tile_is_a_304_without_a_tile_query(client, statements):
    add(client)
    statements.clear()
    first = client.get(TILE)
    assert first.status_code == 200 and len(decode(first.data)["contributions"]) == 1
    assert any("ST_AsMVT" in sql for sql in statements)  # the listener sees the tile query
    assert first.headers["Cache-Control"] == DYNAMIC_CACHE
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    statements.clear()
    again = revalidate(client, TILE, etag)
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == DYNAMIC_CACHE
    only_the_version_was_read(statements)
    # A weak form of the same tag matches too (If-None-Match compares weakly).
    assert revalidate(client, TILE, f"W/{etag}").status_code == 304


def _create(client, _connection, _created) -> None:
    add(client, OUDE_CONVENT, title="Nog een bankje")


def _patch(client, _connection, created) -> None:
    body = {"type": "Feature", "properties": {"title": "Schaduw op het plein"}}
    r = client.patch(f"{API}/{created['id']}", json=body, headers=bearer(created))
    assert r.status_code == 200


def _withdraw(client, _connection, created) -> None:
    r = client.delete(f"{API}/{created['id']}", headers=bearer(created))
    assert r.status_code == 204


def _hide(_client, connection, created) -> None:
    with session_on(connection) as session:
        moderation.hide(session, "contribution", uuid.UUID(created["id"]), "Dubbel", None)


def _status(_client, connection, created) -> None:
    with session_on(connection) as session:
        ident = uuid.UUID(created["id"])
        workflow.change_status(session, ident, "in_behandeling", "We kijken ernaar.", None)


def _erase(_client, connection, created) -> None:
    # Any write counts, not only the services' (here: by hand, as an erasure would).
    connection.execute(text("DELETE FROM contribution WHERE id = :id"), {"id": created["id"]})


CHANGES = {
    "created": _create,
    "patched": _patch,
    "withdrawn": _withdraw,
    "hidden": _hide,
    "status": _status,
    "erased": _erase,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_makes_the_next_revalidation_a_200_with_a_new_etag(
    client, connection, change: Callable
):
    created = add(client, title="Bankjes")
    first = client.get(TILE)
    change(client, connection, created)
    again = revalidate(client, TILE, first.headers["ETag"])
    assert again.status_code in (200, 204) and again.headers["ETag"] != first.headers["ETag"]
    assert revalidate(client, TILE, again.headers["ETag"]).status_code == 304
    assert _shown(again.data) != _shown(first.data)


def _shown(data: bytes) -> list[dict]:
    return [f["properties"] for f in decode(data).get("contributions", [])] if data else []


def test_publishing_a_hidden_contribution_shows_it_again(client, connection):
    created = add(client)
    _hide(client, connection, created)
    hidden = client.get(TILE)
    assert hidden.status_code == 204
    with session_on(connection) as session:
        moderation.publish(session, "contribution", uuid.UUID(created["id"]), None)
    shown = revalidate(client, TILE, hidden.headers["ETag"])
    assert shown.status_code == 200 and shown.headers["ETag"] != hidden.headers["ETag"]


def test_a_new_public_place_changes_the_etag_a_new_address_layer_alone_does_not(client, connection):
    """The privacy rule's public place is stored with the contribution: loading addresses does
    not move it (nor the tile's ETag); the refresh that moves it does."""
    add(client, SMAL_WEESP)  # on the water: approximate without addresses, exact with them
    first = client.get(TILE)
    make_weesp_addresses(connection)
    assert revalidate(client, TILE, first.headers["ETag"]).status_code == 304
    assert privacy.refresh(connection, privacy.Rule()) == 1
    moved = revalidate(client, TILE, first.headers["ETag"])
    assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
    assert decode(moved.data) != decode(first.data)


def test_tiles_carry_no_translated_text(client):
    """The tile's ETag does not name a language: its attributes are codes and the resident's
    own title, the same in every language."""
    add(client, category="speelplek", title="Schommel")
    nl = client.get(f"{TILE}?lang=nl")
    en = client.get(f"{TILE}?lang=en")
    assert nl.data == en.data and nl.headers["ETag"] == en.headers["ETag"]
    (properties,) = _shown(nl.data)
    assert properties["category"] == "speelplek" and properties["status"] == "ontvangen"


# -- Co-op tiles --------------------------------------------------------------------------------


@pytest.fixture
def potentials(connection: Connection) -> Connection:
    make_layer(connection, "bag-panden", weesp_panden(), columns=PANDEN_COLUMNS)
    compute(connection, roofs.Economics())
    return connection


def _offer(client, _connection) -> None:
    body = feature(
        point(HET_GROTE_PLEIN),
        category="energie",
        title="Dak beschikbaar",
        object={"layer": "bag-panden", "id": PAND_WEESP},
    )
    assert client.post(API, json=body).status_code == 201


def _recompute(_client, connection) -> None:
    compute(connection, roofs.Economics(), force=True)


def _reload_panden(_client, connection) -> None:
    connection.execute(
        text("UPDATE layer SET loaded_at = loaded_at + interval '1 minute' WHERE name = :n"),
        {"n": "bag-panden"},
    )


COOP_CHANGES = {"offer": _offer, "solar compute": _recompute, "panden reloaded": _reload_panden}


def test_a_revalidated_coop_tile_is_a_304_without_a_tile_query(client, potentials, statements):
    first = client.get(COOP_TILE)
    assert first.status_code == 200 and first.headers["Cache-Control"] == DYNAMIC_CACHE
    statements.clear()
    again = revalidate(client, COOP_TILE, first.headers["ETag"])
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    only_the_version_was_read(statements)


@pytest.mark.parametrize("change", COOP_CHANGES.values(), ids=COOP_CHANGES.keys())
def test_every_change_to_a_coop_tile_gives_a_new_etag(client, potentials, change: Callable):
    first = client.get(COOP_TILE)
    change(client, potentials)
    again = revalidate(client, COOP_TILE, first.headers["ETag"])
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]


def test_an_offer_shows_in_the_revalidated_coop_tile(client, potentials):
    first = client.get(COOP_TILE)
    _offer(client, potentials)
    again = revalidate(client, COOP_TILE, first.headers["ETag"])
    offered = {f["properties"]["bag_id"] for f in decode(again.data)["solar"] if _offered(f)}
    assert offered == {PAND_WEESP}


def _offered(tile_feature: dict) -> bool:
    return tile_feature["properties"].get("offered") is True


# -- The /api/v1 lists --------------------------------------------------------------------------


def test_a_revalidated_list_is_a_304_without_the_page_query(client, statements):
    add(client)
    first = client.get(LIST)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    statements.clear()
    again = revalidate(client, LIST, first.headers["ETag"])
    assert again.status_code == 304
    only_the_version_was_read(statements)
    # Another query (another page, filter or limit) is another answer.
    other = revalidate(client, f"{LIST}&limit=5", first.headers["ETag"])
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]


def _support(_client, connection, created) -> None:
    with session_on(connection) as session:
        dialogue.support(session, uuid.UUID(created["id"]), "buurvrouw")


def _rename_buurt(_client, connection, _created) -> None:
    connection.execute(
        text("UPDATE buurt SET name = 'Weesp-Centrum' WHERE code = :code"), {"code": WEESP_CENTRUM}
    )


LIST_CHANGES = CHANGES | {"supported": _support, "buurt renamed": _rename_buurt}


@pytest.mark.parametrize("change", LIST_CHANGES.values(), ids=LIST_CHANGES.keys())
def test_every_change_makes_the_list_a_200_with_a_new_etag(client, connection, change: Callable):
    created = add(client, title="Bankjes")
    first = client.get(LIST)
    change(client, connection, created)
    again = revalidate(client, LIST, first.headers["ETag"])
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert again.get_json()["features"] != first.get_json()["features"]


def test_buurten_revalidate_until_one_is_renamed(client, connection, statements):
    first = client.get("/api/v1/buurten")
    statements.clear()
    assert revalidate(client, "/api/v1/buurten", first.headers["ETag"]).status_code == 304
    only_the_version_was_read(statements)
    _rename_buurt(client, connection, None)
    again = revalidate(client, "/api/v1/buurten", first.headers["ETag"])
    assert again.status_code == 200 and "Weesp-Centrum" in again.get_data(as_text=True)


def reload(connection: Connection, layer: str) -> None:
    """What a reload does to the layer's catalogue row: a new load time (and a new table)."""
    connection.execute(
        text("UPDATE layer SET loaded_at = loaded_at + interval '1 minute' WHERE name = :n"),
        {"n": layer},
    )


def test_layer_features_revalidate_until_the_layer_is_reloaded(
    client, connection, panden, statements
):
    features = f"/api/v1/layers/{panden}/features?bbox={WEESP_BBOX}&limit=10"
    first = client.get(features)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    statements.clear()
    assert revalidate(client, features, first.headers["ETag"]).status_code == 304
    only_the_version_was_read(statements, source="FROM layer")  # the catalogue row
    reload(connection, panden)
    again = revalidate(client, features, first.headers["ETag"])
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]


def test_the_layer_catalogue_revalidates_until_a_load_or_a_contribution(
    client, connection, panden, statements
):
    first = client.get("/api/v1/layers")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    statements.clear()
    assert revalidate(client, "/api/v1/layers", first.headers["ETag"]).status_code == 304
    only_the_version_was_read(statements)  # no catalogue, count or extent query
    reload(connection, panden)
    loaded = revalidate(client, "/api/v1/layers", first.headers["ETag"])
    assert loaded.status_code == 200 and loaded.headers["ETag"] != first.headers["ETag"]
    add(client)  # the contributions' count and extent are in the catalogue
    added = revalidate(client, "/api/v1/layers", loaded.headers["ETag"])
    assert added.status_code == 200 and added.headers["ETag"] != loaded.headers["ETag"]
    counts = [
        {e["name"]: e["feature_count"] for e in answer.get_json()["layers"]}["contributions"]
        for answer in (loaded, added)
    ]
    assert counts[1] == counts[0] + 1


# -- OGC API items ------------------------------------------------------------------------------


def test_revalidated_ogc_items_are_a_304_without_the_page_or_extent_query(client, statements):
    add(client)
    first = client.get(OGC_ITEMS, headers=JSON)
    assert first.status_code == 200 and first.mimetype == "application/geo+json"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # the same items under another timeStamp
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["Vary"] == "Accept"
    statements.clear()
    again = revalidate(client, OGC_ITEMS, etag, JSON)
    assert again.status_code == 304 and again.headers["ETag"] == etag
    only_the_version_was_read(statements)


@pytest.mark.parametrize("change", LIST_CHANGES.values(), ids=LIST_CHANGES.keys())
def test_every_change_makes_ogc_items_a_200_with_a_new_etag(client, connection, change: Callable):
    created = add(client, title="Bankjes")
    first = client.get(OGC_ITEMS, headers=JSON)
    change(client, connection, created)
    again = revalidate(client, OGC_ITEMS, first.headers["ETag"], JSON)
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert again.get_json()["features"] != first.get_json()["features"]


def test_ogc_items_of_an_open_layer_follow_its_loads(client, connection, panden, statements):
    items = f"/ogc/collections/{panden}/items?limit=5"
    first = client.get(items, headers=JSON)
    statements.clear()
    assert revalidate(client, items, first.headers["ETag"], JSON).status_code == 304
    only_the_version_was_read(statements, source="FROM layer")
    reload(connection, panden)
    again = revalidate(client, items, first.headers["ETag"], JSON)
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]


def test_the_html_items_page_is_built_every_time(client):
    """A page for people (their language, their login): no validator, never a 304."""
    page = client.get(OGC_ITEMS, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "ETag" not in page.headers
    assert revalidate(client, f"{OGC_ITEMS}&f=html", "*").status_code == 200


# -- Deployed: the version is shared through the database, not kept per worker ------------------


def test_a_write_through_one_worker_is_seen_by_the_other(deployed, deployed_db):
    with Resident(deployed.url) as resident:
        before = resident.request("GET", TILE).headers["etag"]
        probe = uuid.uuid4().hex
        created = resident.post_json(f"{API}?probe={probe}", stack_feature("Boom erbij"))
        assert created.status == 201
        writer = _worker(deployed, probe)
        # The other worker, asked with the old ETag, builds the tile anew ...
        answers = _until_the_other_worker(deployed, resident, writer, before)
        assert {a.status for a in answers} == {200}
        (after,) = {a.headers["etag"] for a in answers}
        assert after != before
        # ... and with the new one answers 304, as the writer does.
        answers = _until_the_other_worker(deployed, resident, writer, after)
        assert {a.status for a in answers} == {304}


def _until_the_other_worker(deployed, resident: Resident, writer: int, etag: str) -> list:
    """Revalidate the tile until a worker other than `writer` has answered; every answer."""
    answers = []
    for _ in range(200):
        probe = uuid.uuid4().hex
        answers.append(
            resident.request("GET", f"{TILE}?probe={probe}", headers={"If-None-Match": etag})
        )
        if _worker(deployed, probe) != writer:
            return answers
    pytest.fail("the other worker never answered")


def _worker(deployed, probe: str, wait: float = 5.0) -> int:
    """The worker whose access-log line names `probe` (gunicorn writes it after answering)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        log = (deployed.dir / "gunicorn.log").read_text(errors="replace")
        found = re.search(rf"^worker=<?(\d+)>? [^\n]*probe={probe}", log, re.MULTILINE)
        if found:
            return int(found.group(1))
        time.sleep(0.02)
    pytest.fail(f"no access-log line for probe {probe}")


def test_a_logged_in_staff_members_cookie_never_rides_on_a_shared_answer(
    client, connection, potentials
):
    # Flask renews a permanent session's cookie on every answer; tiles are `public` (a shared
    # cache may keep them), so theirs must carry no cookie, and so no Vary: Cookie either.
    make_user(connection, "planner", email="planner-tegel@weesp.example")
    token = csrf_of(client)
    login = client.post(
        "/inloggen",
        data={"email": "planner-tegel@weesp.example", "password": PASSWORD, "csrf_token": token},
    )
    assert login.status_code == 302 and "kaart_session=" in login.headers["Set-Cookie"]
    for path in (TILE, COOP_TILE):
        shared = client.get(path)
        assert shared.status_code in (200, 204)
        assert shared.headers["Cache-Control"].startswith("public")
        assert "Set-Cookie" not in shared.headers and "Vary" not in shared.headers
    page = client.get("/beheer")  # a page renews the session as before
    assert page.status_code == 200 and "kaart_session=" in page.headers["Set-Cookie"]
