"""The open layers on the resident's map, in headless Chromium against the live app: the layer
switcher and legend, vector tiles that really draw, attribution per visible layer, inspecting a
BAG pand with a click, linking a contribution to it, and a basemap that cannot be reached."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from geodata.load import load_layer
from geodata.source import OPEN_DATA
from kaart.config import Settings
from tests.conftest import serving
from tests.map_helpers import pixel_of, set_view
from tests.places import HET_GROTE_PLEIN

pytestmark = pytest.mark.browser

WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
LAYERS = {"bag-panden": ("bag_panden", "pand"), "bag-adressen": ("bag_adressen", "verblijfsobject")}
BAG_ATTRIBUTION = "Kadaster / BAG"
BUURTEN_ATTRIBUTION = "Buurten: Gemeente Amsterdam"
# Nothing listens here: every basemap tile fails, as when the browser is offline.
UNREACHABLE_BASEMAP = "http://127.0.0.1:9/brt/{z}/{x}/{y}.png"


@pytest.fixture(scope="module", autouse=True)
def bag_layers(engine: Engine) -> Iterator[None]:
    """BAG panden and addresses of Weesp Centrum, loaded for this module and dropped after it."""
    for name, (_table, layer) in LAYERS.items():
        load_layer(engine, name, path=WEESP_BAG, layer=layer, progress=lambda _m: None)
    yield
    with engine.begin() as conn:
        for name, (table, _layer) in LAYERS.items():
            conn.execute(text(f"DROP TABLE open_data.{table}"))
            conn.execute(text("DELETE FROM layer WHERE name = :name"), {"name": name})


@pytest.fixture(scope="module")
def pand(engine: Engine) -> dict:
    """A large pand with a known construction year near Het Grote Plein, and a point inside it."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                """
                SELECT feature_id, construction_year,
                       ST_X(p) AS lon, ST_Y(p) AS lat
                FROM (SELECT feature_id, construction_year, geom,
                             ST_Transform(ST_PointOnSurface(geom), 4326) AS p
                      FROM open_data.bag_panden
                      WHERE construction_year IS NOT NULL
                        AND ST_DWithin(geom, ST_Transform(
                              ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 28992), 150)) AS near
                ORDER BY ST_Area(geom) DESC LIMIT 1
                """
            ),
            {"lon": HET_GROTE_PLEIN[0], "lat": HET_GROTE_PLEIN[1]},
        ).one()
    return dict(row._mapping)


# -- Helpers ------------------------------------------------------------------------------------


def open_map(page: Page, url: str) -> None:
    page.goto(f"{url}/")
    expect(page.locator("body")).to_have_attribute("data-contributions-state", "idle")


def layer_checkbox(page: Page, title: str):
    return page.locator("#layers").get_by_role("checkbox", name=title, exact=True)


def painted_pixels(page: Page, layer: str) -> int:
    """How many pixels the layer's tile canvases have drawn on (alpha > 0)."""
    return page.evaluate(
        """(name) => {
            let count = 0;
            for (const canvas of document.querySelectorAll(`.layer-tiles--${name} canvas`)) {
                if (!canvas.width) continue;
                const { width, height } = canvas;
                const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
                for (let i = 3; i < data.length; i += 4) if (data[i]) count += 1;
            }
            return count;
        }""",
        layer,
    )


def wait_for_paint(page: Page, layer: str, timeout: float = 10.0) -> int:
    """Poll until the layer has drawn something (tiles render a few frames after they arrive)."""
    deadline = time.monotonic() + timeout
    while (count := painted_pixels(page, layer)) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    return count


def attribution(page: Page):
    return page.locator(".leaflet-control-attribution")


# -- The switcher and its legend -----------------------------------------------------------------


def test_switcher_lists_the_loaded_layers_with_legend_defaults_and_zoom_notes(
    page: Page, live_server: str
):
    open_map(page, live_server)
    items = page.locator("#layers .layers__item")
    expect(items).to_have_count(3)
    expect(items.locator(".layers__name")).to_have_text(
        ["Buurten (Gemeente Amsterdam)", "Adressen (BAG)", "Panden (BAG)"]
    )
    expect(items.locator(".layer-swatch")).to_have_count(3)
    expect(page.locator("#layers .layers__empty")).to_be_hidden()
    # Buurten and panden on, addresses off.
    expect(layer_checkbox(page, "Buurten (Gemeente Amsterdam)")).to_be_checked()
    expect(layer_checkbox(page, "Panden (BAG)")).to_be_checked()
    expect(layer_checkbox(page, "Adressen (BAG)")).not_to_be_checked()

    # Panden start at zoom 14: further out the switcher says to zoom in.
    set_view(page, HET_GROTE_PLEIN, 13)
    expect(page.locator('[data-layer="bag-panden"] .layers__note')).to_have_text(
        "Zoom in om Panden (BAG) te zien."
    )
    expect(page.locator('[data-layer="amsterdam-buurten"] .layers__note')).to_be_hidden()
    expect(attribution(page)).not_to_contain_text(BAG_ATTRIBUTION)  # nothing of BAG drawn
    set_view(page, HET_GROTE_PLEIN, 16)
    expect(page.locator('[data-layer="bag-panden"] .layers__note')).to_be_hidden()

    # Keyboard: tab to a checkbox and toggle it with the space bar; the choice is remembered.
    addresses = layer_checkbox(page, "Adressen (BAG)")
    addresses.focus()
    page.keyboard.press("Space")
    expect(addresses).to_be_checked()
    page.reload()
    expect(layer_checkbox(page, "Adressen (BAG)")).to_be_checked()


def test_attribution_lists_exactly_the_visible_layers(page: Page, live_server: str):
    open_map(page, live_server)
    expect(attribution(page)).to_contain_text(BAG_ATTRIBUTION)
    expect(attribution(page)).to_contain_text(BUURTEN_ATTRIBUTION)

    layer_checkbox(page, "Panden (BAG)").uncheck()
    expect(attribution(page)).not_to_contain_text(BAG_ATTRIBUTION)
    layer_checkbox(page, "Buurten (Gemeente Amsterdam)").uncheck()
    expect(attribution(page)).not_to_contain_text(BUURTEN_ATTRIBUTION)
    # Addresses carry the same BAG attribution: it comes back with them.
    layer_checkbox(page, "Adressen (BAG)").check()
    expect(attribution(page)).to_contain_text(BAG_ATTRIBUTION)


def test_switching_a_layer_on_fetches_its_tiles_and_draws_them(page: Page, live_server: str):
    open_map(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 17)
    assert painted_pixels(page, "bag-adressen") == 0

    with page.expect_response(re.compile(r"/tiles/bag-adressen/17/\d+/\d+\.pbf")) as answer:
        layer_checkbox(page, "Adressen (BAG)").check()
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert wait_for_paint(page, "bag-adressen") > 100

    # Panden were on from the start and are drawn too; switched off, their canvases go.
    assert wait_for_paint(page, "bag-panden") > 1000
    layer_checkbox(page, "Panden (BAG)").uncheck()
    expect(page.locator(".layer-tiles--bag-panden")).to_have_count(0)


# -- Inspecting and linking ----------------------------------------------------------------------


def test_clicking_a_pand_shows_its_bag_id_and_construction_year(
    page: Page, live_server: str, pand: dict
):
    open_map(page, live_server)
    set_view(page, (pand["lon"], pand["lat"]), 18)
    with page.expect_response(re.compile(r"/api/v1/layers/bag-panden/features\?bbox=")) as answer:
        page.mouse.click(*pixel_of(page, (pand["lon"], pand["lat"])))
    assert answer.value.status == 200
    popup = page.locator(".inspect")
    expect(popup).to_be_visible()
    expect(popup.locator(".popup__title")).to_have_text(f"Pand {pand['feature_id']}")
    expect(popup).to_contain_text("Panden (BAG)")
    year = popup.locator(".inspect__row", has_text="Bouwjaar").locator("dd")
    expect(year).to_have_text(str(pand["construction_year"]))
    expect(popup.get_by_role("button", name="Bijdrage over dit object")).to_be_visible()


def test_a_new_point_contribution_about_a_pand_stores_the_object_and_can_be_detached(
    page: Page, live_server: str, pand: dict, clean_db: Engine
):
    open_map(page, live_server)
    set_view(page, (pand["lon"], pand["lat"]), 18)
    page.mouse.click(*pixel_of(page, (pand["lon"], pand["lat"])))
    page.locator(".inspect").get_by_role("button", name="Bijdrage over dit object").click()

    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()
    label = f"Pand {pand['feature_id']} (Panden (BAG))"
    expect(page.locator("#object-chosen-text")).to_have_text(label)
    page.get_by_role("radio", name="Energie", exact=True).check()
    page.get_by_label("Titel").fill("Zonnepanelen op dit dak")
    with page.expect_response(re.compile(r"/api/v1/contributions$")) as answer:
        page.get_by_role("button", name="Versturen").click()
    assert answer.value.status == 201
    expect(page.get_by_role("heading", name="Bedankt!")).to_be_visible()
    edit_link = page.locator("#edit-link").input_value()

    with clean_db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.object_layer, c.object_id, GeometryType(c.geom) AS type, "
                "ST_Intersects(ST_Transform(c.geom, 28992), p.geom) AS inside "
                "FROM contribution c, open_data.bag_panden p "
                "WHERE c.title = 'Zonnepanelen op dit dak' AND p.feature_id = c.object_id"
            )
        ).one()
    assert (row.object_layer, row.object_id) == ("bag-panden", pand["feature_id"])
    assert row.type == "POINT" and row.inside  # the point is where the resident clicked

    # The contribution's page says what it is about.
    page.locator("#success-link").click()
    expect(page.locator("#contribution-object")).to_have_text(label)
    expect(page.locator(".layer-tiles--bag-panden")).to_have_count(1)  # the panden around it
    expect(page.locator("#detail-map")).to_have_attribute("data-object-shown", "true")

    # The edit page shows it too, and can remove the link.
    page.goto(edit_link)
    expect(page.locator("#object-chosen-text")).to_have_text(label)
    page.get_by_role("button", name="Koppeling verwijderen").click()
    expect(page.locator("#object-chosen")).to_be_hidden()
    with page.expect_response(re.compile(r"/api/v1/contributions/[0-9a-f-]+$")) as answer:
        page.get_by_role("button", name="Opslaan").click()
    assert answer.value.status == 200
    assert answer.value.json()["properties"]["object"] is None
    with clean_db.connect() as conn:
        stored = conn.execute(
            text("SELECT object_layer, object_id FROM contribution WHERE title = :t"),
            {"t": "Zonnepanelen op dit dak"},
        ).one()
    assert tuple(stored) == (None, None)


def test_the_form_links_the_object_clicked_next(page: Page, live_server: str, pand: dict):
    open_map(page, live_server)
    set_view(page, (pand["lon"], pand["lat"]), 18)
    page.get_by_role("button", name="Bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(r"^Punt\b")).click()
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()
    expect(page.locator("#object-chosen")).to_be_hidden()

    page.get_by_role("button", name="Koppel aan een object op de kaart").click()
    expect(page.locator("#object-status")).to_have_text(re.compile("Klik op de kaart"))
    # The point sits on the pand's own spot: click a little beside it, still on the pand.
    x, y = pixel_of(page, (pand["lon"], pand["lat"]))
    page.mouse.click(x + 3, y + 22)
    expect(page.locator("#object-chosen-text")).to_have_text(
        f"Pand {pand['feature_id']} (Panden (BAG))"
    )
    expect(page.locator(".inspect")).to_have_count(0)  # picking is not inspecting


# -- Offline: a basemap that never answers -------------------------------------------------------


@pytest.fixture(scope="module")
def offline_basemap_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app with a basemap whose tiles all fail, as for a browser without internet."""
    offline = Settings(
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        basemap_url=UNREACHABLE_BASEMAP,
    )
    with serving(offline) as url:
        yield url


def test_without_the_basemap_the_map_stays_usable(page: Page, offline_basemap_server: str):
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if "/brt/" in r.url else None)
    open_map(page, offline_basemap_server)
    basemap = layer_checkbox(page, "Achtergrondkaart (PDOK BRT)")
    expect(basemap).to_be_checked()
    expect(attribution(page)).to_contain_text("BRT Achtergrondkaart")
    # The basemap's tiles fail, the open layers still draw (no JavaScript errors: see `page`).
    assert wait_for_paint(page, "bag-panden") > 1000
    assert failed, "the basemap's tiles were requested"
    basemap.uncheck()
    expect(attribution(page)).not_to_contain_text("BRT Achtergrondkaart")
    expect(attribution(page)).to_contain_text(BAG_ATTRIBUTION)
