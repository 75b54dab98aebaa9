"""Issue 13's "done when" in Chromium: a resident puts a pin on a front door in the demo (the
process over Weesp Centrum, with the demo's BAG addresses loaded), is told that the public map
shows it approximately, moves it and puts it back; every public output then shows the centre of
its 50 m RD New cell, while the private link and a planner see it exactly."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geodata.load import load_layer
from kaart.db import transaction
from kaart.services import processes, users
from tests.conftest import browser_tab
from tests.dialogue_fixtures import PASSWORD
from tests.layers_fixture import WEESP_BAG
from tests.map_helpers import pixel_of, set_view
from tests.places import FRONT_DOOR, SMAL_WEESP, cell_centre
from tests.test_location_privacy import EPSG_28992, FRONT_DOOR_CELL_RD, drawn_at, tile_path

pytestmark = pytest.mark.browser

NOTICE = "Uw punt ligt bij een woning; op de openbare kaart tonen we het ongeveer, op ± 50 m."
PLANNER = "planner@weesp.example"
MODERATOR = "moderator@weesp.example"


@pytest.fixture(scope="module")
def demo_addresses(engine: Engine) -> Iterator[None]:
    """The demo's BAG addresses, committed for the live server; removed after this module."""
    load_layer(
        engine, "bag-adressen", path=WEESP_BAG, layer="verblijfsobject", progress=lambda _m: None
    )
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE open_data.bag_adressen, open_data.bag_adressen__streets"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-adressen'"))


@pytest.fixture
def demo(engine: Engine, demo_addresses, deployed_db) -> None:
    """The demo process and a planner and a moderator, committed; deployed_db removes them."""
    with Session(engine) as session, transaction(session):
        assert processes.load_demo(session)
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")
        users.create(session, MODERATOR, PASSWORD, ["moderator"], "Mo Moderator")


def marker_at(page: Page) -> tuple[float, float]:
    """Where the page's map has its one marker, as (lon, lat)."""
    return tuple(
        page.evaluate(
            """() => {
                let found = null;
                kaartMap.eachLayer((layer) => {
                    if (layer instanceof L.Marker && layer.getLatLng) found = layer.getLatLng();
                });
                return [found.lng, found.lat];
            }"""
        )
    )


def drag_marker(page: Page, to: tuple[float, float]) -> None:
    start = pixel_of(page, marker_at(page))
    end = pixel_of(page, to)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()


def test_a_pin_on_a_front_door_in_the_demo(page, browser, live_server, demo, engine):
    # -- The resident places a pin on the front door of Het Grote Plein 4 and is told ---------
    page.goto(f"{live_server}/trajecten/{processes.DEMO_SLUG}")
    set_view(page, FRONT_DOOR, 19)
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    notice = page.locator("#location-notice")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_have_attribute("aria-live", "polite")
    expect(notice).to_contain_text(NOTICE)
    # ... can move it onto the water of the Smal Weesp, away from homes: the notice goes ...
    drag_marker(page, SMAL_WEESP)
    expect(notice).to_be_empty()
    # ... and puts it back on the door: told again, and sends it.
    drag_marker(page, FRONT_DOOR)
    expect(notice).to_contain_text(NOTICE)
    page.get_by_role("radio", name="Speelplek").check()
    page.get_by_label("Titel").fill("Schommel voor de deur")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#contribute-done")).to_contain_text("Uw bijdrage staat op de kaart")
    edit_url = page.locator("#contribute-edit-link").get_attribute("href")
    ident = page.locator("#contribute-view-link").get_attribute("href").rsplit("/", 1)[1]
    with engine.connect() as conn:
        exact = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM contribution WHERE id = :id"), {"id": ident}
        ).one()
    assert exact == pytest.approx(FRONT_DOOR, abs=2e-5)  # on the door, to a pixel or two
    centre = pytest.approx(cell_centre(exact), abs=1e-6)
    assert cell_centre(exact) == pytest.approx(cell_centre(FRONT_DOOR), abs=1e-9)

    # -- Every public output shows the centre of its cell ---------------------------------------
    api = page.request
    assert point_of(api.get(f"{live_server}/api/v1/contributions/{ident}").json()) == centre
    listed = api.get(f"{live_server}/api/v1/contributions").json()["features"]
    assert [point_of(f) for f in listed if f["id"] == ident] == [centre]
    near = f"{live_server}/api/v1/contributions?near={exact[0]},{exact[1]}&radius=10"
    assert ident not in {f["id"] for f in api.get(near).json()["features"]}
    items = f"{live_server}/ogc/collections/contributions/items"
    assert point_of(api.get(f"{items}/{ident}?f=json").json()) == centre
    rd = api.get(f"{items}/{ident}?f=json&crs={EPSG_28992}").json()
    assert point_of(rd) == pytest.approx(FRONT_DOOR_CELL_RD, abs=0.001)
    tile = tile_path(cell_centre(exact))
    drawn = api.get(f"{live_server}{tile}")
    assert drawn.status == 200
    assert drawn_at(drawn.body(), tile, ident) == pytest.approx(cell_centre(exact), abs=2e-7)
    (request,) = api.get(f"{live_server}/open311/v2/requests/{ident}.json").json()
    assert (request["long"], request["lat"]) == centre
    page.goto(f"{live_server}/trajecten/{processes.DEMO_SLUG}")
    shown = json.loads(page.locator("#process-contributions").text_content())["features"]
    assert [point_of(f) for f in shown] == [centre]
    page.goto(f"{live_server}/bijdragen/{ident}")
    expect(page.locator("#contribution-location")).to_contain_text("Ongeveer, op ± 50 m")
    assert marker_at(page) == centre

    # -- The author's private link: the exact place, and why the public sees less ------------
    page.goto(f"{live_server}{edit_url}")
    expect(page.locator("#location-notice")).to_contain_text(NOTICE)
    assert marker_at(page) == pytest.approx(exact, abs=1e-7)

    # -- A planner sees it exactly; a moderator's export shows the cell centre ----------------
    with browser_tab(browser) as planner:
        log_in(planner, live_server, PLANNER)
        planner.goto(f"{live_server}/beheer/bijdragen/{ident}")
        expect(planner.locator("#beheer-location")).to_contain_text("U ziet de precieze plek")
        assert marker_at(planner) == pytest.approx(exact, abs=1e-7)
        assert export_point(planner, live_server) == pytest.approx(exact, abs=1e-7)
    with browser_tab(browser) as moderator:
        log_in(moderator, live_server, MODERATOR)
        assert export_point(moderator, live_server) == centre
        moderator.goto(f"{live_server}/beheer/bijdragen/{ident}")
        assert marker_at(moderator) == centre


def point_of(feature: dict) -> tuple[float, float]:
    assert feature["geometry"]["type"] == "Point"
    return tuple(feature["geometry"]["coordinates"])


def export_point(page: Page, server: str) -> tuple[float, float]:
    exported = page.request.get(f"{server}/beheer/export.csv")
    assert exported.status == 200
    (row,) = csv.DictReader(io.StringIO(exported.body().decode("utf-8-sig")))
    return float(row["lon"]), float(row["lat"])


def test_the_map_tells_while_placing_and_the_point_can_be_moved(page, live_server, demo_addresses):
    page.goto(f"{live_server}/")
    set_view(page, FRONT_DOOR, 19)
    page.get_by_role("button", name="Bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(r"^Punt\b")).click()
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()
    notice = page.locator("#step-form #location-notice")
    expect(notice).to_contain_text(NOTICE)
    drag_marker(page, SMAL_WEESP)  # onto the water, away from homes
    expect(notice).to_be_empty()
    drag_marker(page, FRONT_DOOR)
    expect(notice).to_contain_text(NOTICE)
    page.get_by_role("button", name="Annuleren").click()  # cancelling clears it
    expect(notice).to_be_empty()
    # In English too.
    page.goto(f"{live_server}/?lang=en")
    set_view(page, FRONT_DOOR, 19)
    page.get_by_role("button", name="Add a contribution").click()
    page.get_by_role("button", name=re.compile(r"^Point\b")).click()
    page.get_by_role("button", name="Use the centre of the map").click()
    expect(page.locator("#location-notice")).to_contain_text(
        "Your point is near a home; on the public map we show it approximately, within ± 50 m."
    )


SHAPE_NOTICE = (
    "Uw bijdrage ligt bij een woning; op de openbare kaart tonen we die ongeveer, als een punt "
    "op ± 50 m."
)


def test_a_short_line_by_a_front_door_is_told_too(page, live_server, demo_addresses):
    page.goto(f"{live_server}/")
    set_view(page, FRONT_DOOR, 19)
    page.get_by_role("button", name="Bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(r"^Lijn\b")).click()
    x, y = pixel_of(page, FRONT_DOOR)
    page.mouse.click(x, y)
    page.mouse.click(x + 60, y)  # about 11 m along the street at zoom 19
    page.mouse.click(x + 60, y)  # the last point again finishes the line
    expect(page.locator("#drawn-text")).to_contain_text("U heeft een lijn getekend")
    notice = page.locator("#step-form #location-notice")
    expect(notice).to_contain_text(SHAPE_NOTICE)
    page.get_by_role("button", name="Annuleren").click()
    expect(notice).to_be_empty()
