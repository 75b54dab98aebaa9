"""Finding a street by keyboard alone, on the app as deployed (nginx, two gunicorn workers): the
address search on the map, on a process page and on /coop, over the demo's BAG addresses loaded
with the real loader (which builds the search's streets table); and "Mijn locatie" with the
browser's permission given or refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geodata.load import load_layer
from kaart.db import transaction
from kaart.services import processes
from tests.conftest import browser_tab
from tests.layers_fixture import WEESP_BAG

pytestmark = pytest.mark.browser

NIEUWSTRAAT_13 = (5.041766, 52.3078736)  # the BAG point of Nieuwstraat 13, 1381 BB Weesp


@pytest.fixture(scope="module")
def loaded_addresses(engine: Engine) -> Iterator[None]:
    """The demo's BAG addresses through `geodata.load` (committed); removed after the module."""
    load_layer(
        engine, "bag-adressen", path=WEESP_BAG, layer="verblijfsobject", progress=lambda _m: None
    )
    with engine.connect() as conn:
        streets = conn.execute(text("SELECT count(*) FROM open_data.bag_adressen__streets"))
        assert streets.scalar_one() > 40  # the streets of Weesp Centrum
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE open_data.bag_adressen, open_data.bag_adressen__streets"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-adressen'"))


def map_centre(page: Page) -> tuple[float, float]:
    return tuple(
        page.evaluate("(() => { const c = kaartMap.getCenter(); return [c.lng, c.lat]; })()")
    )


def find_by_keyboard(page: Page, typed: str, wanted: str) -> None:
    """Tab to the search, type, arrow down to `wanted` and press Enter: no mouse at all."""
    search = page.get_by_role("combobox", name="Zoek een adres")
    search.focus()
    page.keyboard.type(typed, delay=20)
    listbox = page.get_by_role("listbox", name="Gevonden adressen")
    expect(listbox).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    # Typing goes on while answers for the first letters come in: wait for the one wanted.
    expect(options.filter(has_text=wanted)).not_to_have_count(0)
    page.wait_for_timeout(300)  # the search's debounce: no later answer replaces this list
    labels = options.all_text_contents()
    assert wanted in labels, labels
    for _ in range(labels.index(wanted) + 1):
        page.keyboard.press("ArrowDown")
    active = search.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_have_text(wanted)
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#address-search-status")).to_have_text(f"De kaart staat nu op {wanted}.")


def test_the_map_finds_a_street_and_number_by_keyboard(deployed_page, deployed, loaded_addresses):
    page = deployed_page
    page.goto(f"{deployed.url}/")
    find_by_keyboard(page, "nieuwstraat 13", "Nieuwstraat 13, 1381BB Weesp")
    page.wait_for_function("() => kaartMap.getZoom() === 19")
    assert map_centre(page) == pytest.approx(NIEUWSTRAAT_13, abs=1e-5)
    # A postcode with a number finds the same address; Escape closes, then clears.
    search = page.get_by_role("combobox", name="Zoek een adres")
    search.fill("")
    find_by_keyboard(page, "1381 BB 13", "Nieuwstraat 13, 1381BB Weesp")
    search.press("Escape")
    expect(search).to_have_value("")
    # Nothing found is said, not left silent.
    page.keyboard.type("Kalverstraat 1", delay=10)
    expect(page.locator("#address-search-status")).to_contain_text("Geen adres gevonden")
    expect(page.get_by_role("listbox", name="Gevonden adressen")).to_be_hidden()


def test_a_process_page_and_coop_have_the_search_too(
    deployed_page, deployed, loaded_addresses, engine, deployed_db
):
    with Session(engine) as session, transaction(session):
        assert processes.load_demo(session)
    page = deployed_page
    page.goto(f"{deployed.url}/trajecten/{processes.DEMO_SLUG}")
    find_by_keyboard(page, "nieuwstr", "Nieuwstraat, Weesp")  # a street: zoomed out a little
    page.wait_for_function("() => kaartMap.getZoom() === 17")
    page.goto(f"{deployed.url}/coop")
    find_by_keyboard(page, "Nieuwstraat 13", "Nieuwstraat 13, 1381BB Weesp")


def test_my_location_with_and_without_permission(browser, deployed, loaded_addresses):
    with browser_tab(
        browser, geolocation={"longitude": 5.0422, "latitude": 52.3066}, permissions=["geolocation"]
    ) as page:
        page.goto(f"{deployed.url}/")
        page.get_by_role("button", name="Mijn locatie").press("Enter")
        expect(page.locator("#address-search-status")).to_have_text(
            "De kaart staat nu op uw locatie."
        )
        # The status is said when the map starts moving; the centre is there when it stops.
        deadline = time.monotonic() + 5
        while map_centre(page) != pytest.approx((5.0422, 52.3066), abs=1e-5):
            assert time.monotonic() < deadline, map_centre(page)
            page.wait_for_timeout(100)
    with browser_tab(browser, locale="en-GB") as page:
        page.context.clear_permissions()
        page.goto(f"{deployed.url}/?lang=en")
        page.get_by_role("button", name="My location").press("Enter")
        expect(page.locator("#address-search-status")).to_contain_text(
            "You did not allow this website to use your location."
        )
