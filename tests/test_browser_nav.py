"""The site header: every part of Wijkkaart one click away, on a phone too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_header_leads_to_the_map_the_processes_and_the_solar_roofs(page: Page, live_server):
    page.goto(f"{live_server}/")
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link", name="Kaart")).to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name="Meedoen").click()
    expect(page).to_have_url(f"{live_server}/trajecten")
    expect(nav.get_by_role("link", name="Meedoen")).to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name="Zonnedaken").click()
    expect(page).to_have_url(f"{live_server}/coop")
    nav.get_by_role("link", name="Inloggen").click()
    expect(page).to_have_url(f"{live_server}/inloggen")
    page.goto(f"{live_server}/?lang=en")
    expect(page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Solar roofs"))
    page.goto(f"{live_server}/?lang=nl")


@pytest.mark.parametrize("path", ["/", "/trajecten", "/coop", "/inloggen"])
def test_on_a_small_phone_the_menu_opens_over_the_page(page: Page, live_server, path):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}{path}")
    header = page.locator(".site-header")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, "
        "document.querySelector('.site-header').scrollWidth]"
    )
    assert max(widths) <= 360, widths
    assert header.bounding_box()["height"] <= 56  # one row: the map keeps its room
    links = page.locator(".site-nav--menu")
    expect(links).to_be_hidden()
    expect(page.locator(".site-nav--bar")).to_be_hidden()
    toggle = page.locator(".site-menu__toggle")
    toggle.focus()
    page.keyboard.press("Enter")  # a keyboard opens it as well as a tap
    expect(links.get_by_role("link", name="Meedoen")).to_be_visible()
    box = links.get_by_role("link", name="Zonnedaken").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
    links.get_by_role("link", name="Meedoen").click()
    expect(page).to_have_url(f"{live_server}/trajecten")
