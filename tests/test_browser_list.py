"""The list beside the map (issue 12): the contributions in view as an accessible list, sortable,
in step with the map; markers out of the tab order; popups that take focus and give it back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from tests.dialogue_fixtures import make_process
from tests.map_helpers import set_view
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, feature, point
from tests.test_browser import open_map, wait_for_contributions

pytestmark = pytest.mark.browser

# Ten places in a row of five by two, ~140 m apart: at zoom 16 each has its own marker.
GRID = [(5.0385 + 0.002 * i, 52.3055 + 0.0025 * j) for j in range(2) for i in range(5)]
LIST = "#contribution-list"


@pytest.fixture
def db(clean_db: Engine) -> Iterator[Engine]:
    """clean_db, and the rate limit's memory and processes these tests made."""
    yield clean_db
    with clean_db.begin() as conn:
        conn.execute(text("DELETE FROM contribution"))
        conn.execute(text("DELETE FROM rate_event"))
        conn.execute(text("DELETE FROM process"))


def create(page: Page, live_server: str, lonlat, title: str, **props) -> dict:
    body = feature(point(lonlat), title=title, **props)
    r = page.request.post(
        f"{live_server}/api/v1/contributions",
        data=json.dumps(body),
        headers={"Content-Type": "application/geo+json"},
    )
    assert r.status == 201, r.text()
    return r.json()


def support(engine: Engine, ident: str, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE contribution SET support_count = :n WHERE id = :id"),
            {"n": count, "id": ident},
        )


def titles(page: Page) -> list[str]:
    return page.locator(f"{LIST} .clist__name").all_inner_texts()


def test_the_list_shows_what_is_in_view_and_sorts_by_distance_date_and_support(
    page: Page, live_server, db
):
    near = create(page, live_server, HET_GROTE_PLEIN, "Bankje op het plein")
    middle = create(page, live_server, OUDE_CONVENT, "Boom bij het Oude Convent", category="groen")
    far = create(page, live_server, GRID[0], "Speelplek aan de rand", category="speelplek")
    support(db, middle["id"], 5)
    support(db, far["id"], 2)
    open_map(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 16)
    wait_for_contributions(page)

    region = page.get_by_role("region", name="Bijdragen in beeld")
    expect(region.get_by_role("heading", name="Bijdragen in beeld", level=2)).to_be_visible()
    items = region.get_by_role("list").get_by_role("listitem")
    expect(items).to_have_count(3)
    expect(region.locator(".clist__count")).to_have_text("3 bijdragen in de lijst.")
    first = items.first
    expect(first.get_by_role("link", name="Bankje op het plein")).to_have_attribute(
        "href", f"/bijdragen/{near['id']}"
    )
    expect(first).to_contain_text("Idee")
    expect(first).to_contain_text("Nog geen steun")
    expect(first.locator("time")).to_have_count(1)

    # Closest to the centre of the map first (the default); then newest; then most support.
    assert titles(page) == [
        "Bankje op het plein",
        "Boom bij het Oude Convent",
        "Speelplek aan de rand",
    ]
    sort = page.get_by_label("Sorteren op")
    sort.select_option(label="Nieuwste eerst")
    assert titles(page) == [
        "Speelplek aan de rand",
        "Boom bij het Oude Convent",
        "Bankje op het plein",
    ]
    sort.select_option(label="Meeste steun")
    assert titles(page) == [
        "Boom bij het Oude Convent",
        "Speelplek aan de rand",
        "Bankje op het plein",
    ]
    expect(items.first).to_contain_text("5 keer gesteund")
    sort.select_option(label="Dichtbij het midden van de kaart")
    set_view(page, GRID[0], 18)  # the far one is now at the centre, alone
    assert titles(page)[0] == "Speelplek aan de rand"

    # Filtered with the legend, like the map; an empty view says what to do.
    page.get_by_role("checkbox", name="Speelplek").uncheck()
    expect(items).to_have_count(0)
    expect(region.locator(".clist__empty")).to_contain_text("Zet meer categorieën aan")
    set_view(page, (5.10, 52.35), 17)
    page.get_by_role("checkbox", name="Speelplek").check()
    expect(region.locator(".clist__empty")).to_have_text(
        "Geen bijdragen in dit deel van de kaart. Zoom uit of verschuif de kaart om meer te zien."
    )
    assert near and far


def test_show_on_the_map_opens_the_popup_escape_closes_it_and_focus_returns(
    page: Page, live_server, db
):
    create(page, live_server, HET_GROTE_PLEIN, "Bankje op het plein")
    create(page, live_server, OUDE_CONVENT, "Boom bij het Oude Convent", category="groen")
    open_map(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 16)
    wait_for_contributions(page)
    item = page.locator(f"{LIST} li", has_text="Boom bij het Oude Convent")
    button = item.get_by_role("button", name="Toon op de kaart")
    expect(button).to_have_accessible_name("Toon op de kaart: Boom bij het Oude Convent")
    button.focus()
    page.keyboard.press("Enter")

    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    heading = popup.get_by_role("heading", name="Boom bij het Oude Convent")
    expect(heading).to_be_focused()
    expect(item).to_have_attribute("aria-current", "true")
    page.keyboard.press("Tab")
    expect(popup.get_by_role("link", name="Bekijk bijdrage")).to_be_focused()
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(
        page.locator(f"{LIST} li", has_text="Boom bij het Oude Convent").get_by_role(
            "button", name="Toon op de kaart"
        )
    ).to_be_focused()
    expect(page.locator(f"{LIST} li[aria-current]")).to_have_count(0)

    # The close button by keyboard gives focus back as well.
    page.keyboard.press("Enter")
    expect(popup.get_by_role("heading")).to_be_focused()
    popup.get_by_role("button", name="Sluiten").focus()
    page.keyboard.press("Enter")
    expect(popup).to_have_count(0)
    expect(
        page.locator(f"{LIST} li", has_text="Boom bij het Oude Convent").get_by_role(
            "button", name="Toon op de kaart"
        )
    ).to_be_focused()


def test_clicking_a_marker_marks_its_item_in_the_list(page: Page, live_server, db):
    create(page, live_server, HET_GROTE_PLEIN, "Bankje op het plein")
    create(page, live_server, GRID[0], "Speelplek aan de rand", category="speelplek")
    open_map(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 16)
    wait_for_contributions(page)
    page.locator(".kaart-marker--speelplek").click()
    popup = page.locator(".leaflet-popup")
    expect(popup.get_by_role("heading", name="Speelplek aan de rand")).to_be_focused()
    current = page.locator(f"{LIST} li[aria-current='true']")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("Speelplek aan de rand")
    expect(page.locator(".kaart-marker--selected")).to_have_count(1)
    page.keyboard.press("Escape")  # opened from the map: focus goes back to the map
    expect(page.locator("#map")).to_be_focused()
    expect(current).to_have_count(0)


def test_the_panel_comes_before_the_markers_in_the_tab_order(page: Page, live_server, db):
    for i, place in enumerate(GRID):
        create(page, live_server, place, f"Plek {i + 1}")
    open_map(page, live_server)
    set_view(page, (5.0425, 52.3068), 16)
    wait_for_contributions(page)
    markers = page.locator(".leaflet-marker-pane .kaart-marker")
    expect(markers).to_have_count(10)
    for marker in markers.all():  # out of the tab order, but named
        expect(marker).to_have_attribute("tabindex", "-1")
        expect(marker).to_have_attribute("aria-label", re.compile(r"Plek \d+ \(Idee\)"))
    expect(page.locator(f"{LIST} li")).to_have_count(10)

    page.locator("body").click(position={"x": 1, "y": 1})
    page.keyboard.press("Home")
    presses = 0
    while presses < 40:
        page.keyboard.press("Tab")
        presses += 1
        focused = page.evaluate(
            "() => [document.activeElement.className, document.activeElement.textContent.trim()]"
        )
        assert "kaart-marker" not in str(focused[0]), f"a marker after {presses} Tabs"
        if focused[1] == "Bijdrage toevoegen":
            break
    # Skip link, five site links, login, language, search... it was 20 with markers in the way.
    assert presses <= 11, presses
    # Every marker is an item in the list instead: a landmark with a heading and a list.
    tree = page.locator(LIST).aria_snapshot()
    assert tree.startswith('- region "Bijdragen in beeld":')
    assert 'heading "Bijdragen in beeld" [level=2]' in tree
    assert 'combobox "Sorteren op"' in tree and 'list "Bijdragen in beeld"' in tree
    assert tree.count("- listitem") == 10
    assert 'link "Plek 10"' in tree


def test_the_process_page_has_the_list_too(page: Page, live_server, db):
    with db.begin() as conn:
        make_process(conn, slug="lijst-weesp", categories=("groen", "idee"))
    create(page, live_server, HET_GROTE_PLEIN, "Bankje op het plein", process="lijst-weesp")
    create(
        page,
        live_server,
        OUDE_CONVENT,
        "Boom bij het Oude Convent",
        category="groen",
        process="lijst-weesp",
    )
    page.goto(f"{live_server}/trajecten/lijst-weesp")
    region = page.get_by_role("region", name="Bijdragen in beeld")
    items = region.get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(page.locator("#process-map .kaart-marker").first).to_have_attribute("tabindex", "-1")
    page.get_by_label("Sorteren op").select_option(label="Nieuwste eerst")
    assert titles(page) == ["Boom bij het Oude Convent", "Bankje op het plein"]
    button = items.first.get_by_role("button", name="Toon op de kaart")
    button.click()
    popup = page.locator(".leaflet-popup")
    expect(popup.get_by_role("heading", name="Boom bij het Oude Convent")).to_be_focused()
    expect(items.first).to_have_attribute("aria-current", "true")
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(button).to_be_focused()


def test_in_english_the_list_speaks_english(page: Page, live_server, db):
    create(page, live_server, HET_GROTE_PLEIN, "Bench on the square")
    open_map(page, live_server, "?lang=en")
    region = page.get_by_role("region", name="Contributions in view")
    expect(region.locator(".clist__count")).to_have_text("1 contribution in the list.")
    expect(region.get_by_role("button", name="Show on the map")).to_be_visible()
    expect(page.get_by_label("Sort by")).to_be_visible()
    expect(region).to_contain_text("No support yet")


def test_a_long_list_comes_in_pages_and_a_marker_further_down_is_found(page: Page, live_server, db):
    for i in range(27):  # 27 places ~70 m apart on a line east of the centre
        create(page, live_server, (5.0300 + 0.001 * i, 52.3067), f"Plek {i + 1:02d}")
    open_map(page, live_server)
    set_view(page, (5.0430, 52.3067), 15)
    wait_for_contributions(page)
    items = page.locator(f"{LIST} li")
    expect(items).to_have_count(25)
    expect(page.locator(f"{LIST} .clist__count")).to_have_text("De eerste 25 van 27 bijdragen.")
    page.get_by_label("Sorteren op").select_option(label="Nieuwste eerst")
    assert titles(page)[0] == "Plek 27"
    more = page.get_by_role("button", name="Toon meer bijdragen")
    more.click()
    expect(items).to_have_count(27)
    expect(more).to_be_hidden()
    expect(page.get_by_role("link", name="Plek 02", exact=True)).to_be_focused()
    expect(page.locator(f"{LIST} .clist__count")).to_have_text("27 bijdragen in de lijst.")


def test_the_map_is_a_named_region_and_buurt_names_are_not_tooltips(page: Page, live_server):
    open_map(page, live_server)
    set_view(page, HET_GROTE_PLEIN, 15)
    # The map's name reaches the accessibility tree (a div's aria-label alone does not).
    expect(page.get_by_role("region", name="Kaart met bijdragen")).to_be_visible()
    labels = page.locator(".buurt-label")
    expect(labels.first).to_be_attached()
    assert labels.count() > 3
    # The buurt names painted on the map are hidden from screen readers, which hear the buurt
    # from the map's status line, instead of being read as many tooltips.
    for label in labels.all():
        expect(label).to_have_attribute("aria-hidden", "true")
        assert label.get_attribute("role") is None
    expect(page.get_by_role("tooltip")).to_have_count(0)
