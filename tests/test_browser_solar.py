"""The co-op view in headless Chromium against the live app on the demo data: buildings coloured
by potential, a drawn area's shortlist and its CSV export, offering a roof that then appears on
the shortlist, and the postcoderoos of a point drawn on the map and listed."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from geodata.load import load_layer
from geodata.source import OPEN_DATA
from kaart.solar import roofs
from kaart.solar.compute import compute
from tests.map_helpers import pixel_of, set_view
from tests.places import HET_GROTE_PLEIN

pytestmark = pytest.mark.browser

ROWS_PER_PAGE = 25  # static/js/coop/shortlist.js
WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
PC4 = OPEN_DATA / "pc4" / "cbs_pc4_2024_nl.gpkg"
# Weesp and its surroundings in RD New, so the PC4 load stays small.
WEESP_RD_BBOX = (122000.0, 474000.0, 138000.0, 488000.0)
LAYERS = {
    "bag-panden": ("bag_panden", WEESP_BAG, "pand", None),
    "bag-adressen": ("bag_adressen", WEESP_BAG, "verblijfsobject", None),
    "cbs-pc4": ("cbs_pc4", PC4, None, WEESP_RD_BBOX),
}


@pytest.fixture(scope="module", autouse=True)
def demo_layers(engine: Engine) -> Iterator[None]:
    """The demo's BAG panden and addresses, PC4 areas around Weesp, and their potentials;
    committed for the live server, removed after this module."""
    for name, (_table, path, layer, bbox) in LAYERS.items():
        load_layer(engine, name, path=path, layer=layer, bbox=bbox, progress=lambda _m: None)
    with engine.begin() as conn:
        compute(conn, roofs.Economics())
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM solar_potential"))
        for name, (table, *_rest) in LAYERS.items():
            conn.execute(text(f"DROP TABLE open_data.{table}"))
            conn.execute(text("DELETE FROM layer WHERE name = :name"), {"name": name})


@pytest.fixture(scope="module")
def pand(engine: Engine) -> dict:
    """A large pand near Het Grote Plein with a point inside it."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                """
                SELECT t.feature_id, ST_X(p) AS lon, ST_Y(p) AS lat
                FROM (SELECT feature_id, geom, ST_Transform(ST_PointOnSurface(geom), 4326) AS p
                      FROM open_data.bag_panden
                      WHERE ST_DWithin(geom, ST_Transform(
                              ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 28992), 120)) AS t
                JOIN solar_potential s ON s.bag_id = t.feature_id AND s.panels > 0
                ORDER BY ST_Area(t.geom) DESC LIMIT 1
                """
            ),
            {"lon": HET_GROTE_PLEIN[0], "lat": HET_GROTE_PLEIN[1]},
        ).one()
    return dict(row._mapping)


def open_coop(page: Page, url: str) -> None:
    page.goto(f"{url}/coop")
    expect(page.locator("#area-buurt option")).not_to_have_count(0)


def painted_colours(page: Page) -> dict[str, int]:
    """Pixels per opaque colour drawn on the solar tile canvases."""
    return page.evaluate(
        """() => {
            const counts = {};
            for (const canvas of document.querySelectorAll(".layer-tiles--solar canvas")) {
                const { width, height } = canvas;
                if (!width) continue;
                const d = canvas.getContext("2d").getImageData(0, 0, width, height).data;
                for (let i = 0; i < d.length; i += 4) {
                    if (d[i + 3] < 200) continue;
                    const key = `${d[i] >> 4},${d[i + 1] >> 4},${d[i + 2] >> 4}`;
                    counts[key] = (counts[key] || 0) + 1;
                }
            }
            return counts;
        }"""
    )


def wait_for_colours(page: Page, timeout: float = 10.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while not (colours := painted_colours(page)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return colours


def test_buildings_are_coloured_by_their_potential(page: Page, live_server: str):
    with page.expect_response(re.compile(r"/coop/tiles/\d+/\d+/\d+\.pbf")) as answer:
        open_coop(page, live_server)
    assert answer.value.status in (200, 204)
    colours = wait_for_colours(page)
    painted = sum(colours.values())
    assert painted > 2000
    # Several classes of yield show, not one flat colour.
    assert len([c for c, n in colours.items() if n > 200]) >= 3
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).to_contain_text("Zonnepotentie")
    expect(attribution).to_contain_text("Kadaster / BAG")  # the footprints are BAG's
    legend = page.locator("#coop-legend li")
    expect(legend).to_have_count(7)
    expect(legend.first).to_contain_text("kWh")


def test_a_drawn_area_gives_a_shortlist_that_exports(page: Page, live_server: str):
    open_coop(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 17)
    page.get_by_role("radio", name="Zelf getekend gebied").check()
    page.get_by_role("button", name="Teken een gebied op de kaart").click()
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [
        (cx - 150, cy - 120),
        (cx + 150, cy - 120),
        (cx + 150, cy + 120),
        (cx - 150, cy + 120),
    ]
    for x, y in corners:
        page.mouse.click(x, y)
    page.mouse.click(*corners[0])  # closing the ring finishes the polygon
    expect(page.locator("#area-drawn")).to_have_text("Gebied getekend.")
    with page.expect_response(re.compile(r"/api/v1/solar/shortlist\?polygon=")) as answer:
        page.get_by_role("button", name="Toon shortlist").click()
    assert answer.value.status == 200
    shown = answer.value.json()
    rows = page.locator("#shortlist-table tbody tr")
    expect(rows).to_have_count(min(len(shown["features"]), ROWS_PER_PAGE))
    assert len(shown["features"]) > 5
    expect(page.locator("#shortlist-totals")).to_contain_text("Daken")
    expect(rows.first.locator("td").nth(1)).to_have_text(
        shown["features"][0]["properties"]["address"] or shown["features"][0]["id"]
    )

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [r["bag_id"] for r in exported] == [f["id"] for f in shown["features"]]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download GeoPackage").click()
    assert download.value.path().read_bytes()[:16] == b"SQLite format 3\x00"


def test_an_offered_roof_appears_on_the_shortlist(page: Page, live_server: str, pand: dict):
    open_coop(page, live_server)
    set_view(page, (pand["lon"], pand["lat"]), 18)
    with page.expect_response(re.compile(r"/api/v1/solar/buildings/")) as answer:
        page.mouse.click(*pixel_of(page, (pand["lon"], pand["lat"])))
    assert answer.value.status == 200
    popup = page.locator(".coop-popup")
    expect(popup.locator(".popup__title")).to_have_text(f"Pand {pand['feature_id']}")
    expect(popup).to_contain_text("kWh")
    expect(popup.locator(".coop-table--parts tbody tr")).to_have_count(1)
    popup.get_by_role("button", name="Bied dit dak aan").click()

    expect(page.locator("#offer-building")).to_contain_text(pand["feature_id"])
    page.get_by_label("Mijn dak voor een gezamenlijk zonproject").check()
    page.get_by_label("Toelichting (optioneel)").fill("Plat dak, net vernieuwd.")
    with page.expect_response(re.compile(r"/api/v1/contributions$")) as created:
        page.get_by_role("button", name="Aanbod versturen").click()
    assert created.value.status == 201
    expect(page.locator("#offer-done")).to_be_visible()

    page.get_by_role("radio", name="Buurt", exact=True).check()
    page.get_by_label("Alleen aangeboden daken").check()
    page.get_by_role("button", name="Toon shortlist").click()
    row = page.locator(f'#shortlist-table tr[data-bag-id="{pand["feature_id"]}"]')
    expect(row).to_be_visible()
    expect(page.locator("#shortlist-table tbody tr")).to_have_count(1)
    expect(row.get_by_role("link")).to_have_text("Dak beschikbaar voor zonproject")
    # Opened on the map, the building is marked in the shortlist: one selection in both.
    page.mouse.click(*pixel_of(page, (pand["lon"], pand["lat"])))
    expect(page.locator(".coop-popup")).to_be_visible()
    expect(row).to_have_attribute("aria-current", "true")


def test_the_postcoderoos_of_a_point_is_drawn_and_listed(page: Page, live_server: str):
    open_coop(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 16)
    page.get_by_role("button", name="Kies een punt op de kaart").click()
    with page.expect_response(re.compile(r"/api/v1/postcoderoos\?lon=")) as answer:
        page.mouse.click(*pixel_of(page, HET_GROTE_PLEIN))
    assert answer.value.status == 200
    rose = answer.value.json()
    assert rose["postcode"] == "1381"
    rows = page.locator("#rose-table tbody tr")
    expect(rows).to_have_count(len(rose["features"]))
    expect(rows.first).to_contain_text("1381 (midden)")
    expect(page.locator('#rose-table tr[data-postcode="1382"]')).to_be_visible()
    centre = page.locator('#rose-table tr[data-postcode="1381"] td')
    expect(centre.nth(1)).to_have_text("1.415")  # every demo address lies in 1381
    expect(page.locator("path.coop-rose-area")).to_have_count(len(rose["features"]))
    expect(page.locator("#rose-summary")).to_contain_text("Postcode 1381")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("CBS")


def test_the_postcoderoos_can_be_chosen_by_keyboard(page: Page, live_server: str):
    open_coop(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 16)  # as the address search or the arrow keys would
    button = page.get_by_role("button", name="Postcoderoos van het midden van de kaart")
    with page.expect_response(re.compile(r"/api/v1/postcoderoos\?lon=")) as answer:
        button.press("Enter")
    assert answer.value.status == 200 and answer.value.json()["postcode"] == "1381"
    expect(page.locator("#rose-summary")).to_contain_text("Postcode 1381")


def test_refused_filters_are_explained_beside_their_fields(page: Page, live_server: str):
    open_coop(page, live_server)
    page.get_by_role("radio", name="Postcodegebied (PC4)").check()
    page.locator("#area-pc4").fill("12")
    page.get_by_label("Minimaal vermogen (kWp)").fill("-5")
    page.get_by_role("button", name="Toon shortlist").click()
    # Each reason is the field's own, in plain Dutch, tied to it for a screen reader; focus
    # goes to the first field in error.
    pc4 = page.locator("#area-pc4")
    expect(pc4).to_have_attribute("aria-invalid", "true")
    expect(pc4).to_be_focused()
    expect(page.locator("#area-pc4-error")).to_have_text(
        "Vul een postcode van vier cijfers in, bijvoorbeeld 1381."
    )
    assert "area-pc4-error" in pc4.get_attribute("aria-describedby").split()
    kwp = page.locator("#filter-min-kwp")
    expect(kwp).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#filter-min-kwp-error")).to_have_text(
        "Vul een vermogen in van 0 tot 100.000 kWp."
    )
    expect(page.locator("#shortlist-error")).to_be_hidden()
    # Corrected, the errors go and the shortlist comes.
    pc4.fill("1381")
    kwp.fill("0")
    page.get_by_role("button", name="Toon shortlist").click()
    expect(page.locator("#shortlist")).to_be_visible()
    expect(page.locator("[aria-invalid]")).to_have_count(0)
    expect(page.locator("#area-pc4-error")).to_be_hidden()
    assert pc4.get_attribute("aria-describedby") is None


def test_on_a_phone_the_shortlist_pages_and_a_building_opens_by_keyboard(browser, live_server):
    context = browser.new_context(locale="nl-NL", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        open_coop(page, live_server)
        page.get_by_role("radio", name="Postcodegebied (PC4)").check()
        page.locator("#area-pc4").fill("1381")
        with page.expect_response(re.compile(r"/api/v1/solar/shortlist\?pc4=")) as answer:
            page.get_by_role("button", name="Toon shortlist").press("Enter")
        total = len(answer.value.json()["features"])
        assert total > 2 * ROWS_PER_PAGE
        rows = page.locator("#shortlist-table tbody tr")
        # A page of rows at a time: not hundreds of tab stops at once.
        expect(rows).to_have_count(ROWS_PER_PAGE)
        expect(page.locator("#shortlist-shown")).to_have_text(f"25 van {total} daken in de tabel.")
        page.get_by_role("button", name="Toon 25 daken meer").press("Enter")
        expect(rows).to_have_count(2 * ROWS_PER_PAGE)
        expect(rows.nth(ROWS_PER_PAGE).locator("button")).to_be_focused()
        # The table scrolls inside a named region that takes keyboard focus: no column is cut off.
        region = page.get_by_role("region", name="Tabel van de shortlist (schuift)")
        assert region.get_attribute("tabindex") == "0"

        opener = rows.first.locator("button")
        opener.focus()
        opener.press("Enter")
        popup = page.locator(".leaflet-popup")
        expect(popup).to_be_visible()
        heading = popup.locator(".popup__title")
        expect(heading).to_be_focused()
        # The whole popup stays on the phone's screen, inside the map.
        page.wait_for_timeout(400)  # Leaflet's autopan
        box, map_box = popup.bounding_box(), page.locator("#map").bounding_box()
        assert box["y"] >= map_box["y"] - 1 and box["x"] >= map_box["x"] - 1, (box, map_box)
        assert box["y"] + box["height"] <= map_box["y"] + map_box["height"] + 1, (box, map_box)
        assert box["x"] + box["width"] <= map_box["x"] + map_box["width"] + 1, (box, map_box)
        page.keyboard.press("Escape")
        expect(popup).to_have_count(0)
        expect(opener).to_be_focused()
    finally:
        context.close()
