"""Initiatives and adoptions in headless Chromium against the live app (issue 15): a resident
starts an initiative from a contribution and two others join; a group offers to adopt a BGT
green area, a planner accepts it in /beheer, and it shows on the map with the group's name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.services import users
from tests.adoption_fixtures import GREEN_ID, GREEN_LAYER, make_green
from tests.conftest import browser_tab
from tests.dialogue_fixtures import PASSWORD
from tests.initiative_axe import clean
from tests.places import OUDE_CONVENT, feature, point
from tests.test_browser_dialogue import log_in

pytestmark = pytest.mark.browser

PLANNER = "planner-adopties@weesp.example"


@pytest.fixture
def initiative_data(engine: Engine) -> Iterator[None]:
    """A BGT green area layer and a planner, committed for the live server; removed after."""
    with engine.begin() as conn:
        make_green(conn)
    with Session(engine) as session, session.begin():
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")
    yield
    with engine.begin() as conn:
        clean(conn)
        conn.execute(text("DELETE FROM app_user WHERE email = :e"), {"e": PLANNER})
        conn.execute(text("DELETE FROM rate_event"))


def join_as(browser, url: str, name: str, email: str | None) -> None:
    with browser_tab(browser) as tab:
        tab.goto(url)
        tab.get_by_label("Uw voornaam of een bijnaam").fill(name)
        if email:
            tab.get_by_label("E-mailadres (niet verplicht)").fill(email)
        tab.get_by_role("button", name="Ik doe mee").click()
        expect(tab.locator("#join-thanks")).to_be_visible()


def test_start_an_initiative_from_a_contribution_and_two_neighbours_join(
    page: Page, browser, live_server: str, initiative_data
):
    body = feature(point(OUDE_CONVENT), category="groen", title="Pluktuin bij het Oude Convent")
    created = requests.post(f"{live_server}/api/v1/contributions", json=body, timeout=10).json()
    page.goto(f"{live_server}/bijdragen/{created['id']}")
    page.get_by_role("link", name="Start een initiatief met deze bijdrage").click()
    expect(page.get_by_label("Naam van het initiatief")).to_have_value(
        "Pluktuin bij het Oude Convent"
    )
    expect(page.locator("#initiative-source")).to_contain_text("Pluktuin bij het Oude Convent")
    page.get_by_label("Wat wilt u bereiken?").fill("Samen bessen en kruiden planten.")
    page.locator("#need_hands").fill("Mensen die willen planten")
    page.locator("#need_hands_amount").fill("5")
    page.locator("#need_materials").fill("Struiken")
    page.locator("#need_materials_amount").fill("20")
    page.locator("#need_materials_unit").fill("stuks")
    page.get_by_role("button", name="Initiatief starten").click()
    expect(page.locator("#initiative-created")).to_be_visible()
    private_url = page.url
    assert "/beheer/" in private_url
    public_url = page.get_by_role("link", name="Naar de openbare pagina").get_attribute("href")
    public_url = f"{live_server}{public_url}"

    join_as(browser, public_url, "Sanne", "sanne@weesp.example")
    join_as(browser, public_url, "Ahmed", None)

    page.goto(public_url)
    expect(page.locator("#initiative-participants")).to_have_text("2 mensen doen mee")
    needs = page.locator("#initiative-needs li")
    expect(needs).to_have_count(2)
    expect(needs.first).to_have_text("Handen: Mensen die willen planten (5)")
    expect(needs.nth(1)).to_have_text("Materiaal: Struiken (20 stuks)")
    expect(page.locator("body")).not_to_contain_text("Sanne")
    # On the main map, filterable by status, with how many joined.
    page.get_by_role("link", name="Bekijk op de kaart").click()
    popup = page.locator(".initiative-popup")
    expect(popup).to_contain_text("Pluktuin bij het Oude Convent")
    expect(popup).to_contain_text("2 mensen doen mee")
    page.get_by_label("Stand van zaken").select_option("bezig")
    expect(page.locator("#initiatives-legend")).to_have_attribute("data-loaded", "0")
    # The contribution's page links the initiative that grew from it.
    page.goto(f"{live_server}/bijdragen/{created['id']}")
    expect(page.locator("#initiative-start")).to_contain_text("Pluktuin bij het Oude Convent")

    # The initiator sees who joined, ticks off a need and posts news for the timeline.
    page.goto(private_url)
    expect(page.locator("#initiative-people li")).to_have_count(2)
    expect(page.locator("#initiative-people")).to_contain_text("Sanne")
    page.locator("li", has_text="Materiaal: Struiken").get_by_role("button").click()
    page.get_by_label("Uw bericht (komt op de tijdlijn)").fill("Zaterdag om 10 uur beginnen we!")
    page.get_by_role("button", name="Plaatsen").click()
    page.goto(public_url)
    expect(page.locator("#initiative-needs li")).to_have_count(1)
    expect(page.locator("#initiative-timeline")).to_contain_text("Zaterdag om 10 uur")


def test_a_group_adopts_a_green_area_and_a_planner_accepts_it(
    page: Page, browser, live_server: str, initiative_data
):
    with browser_tab(browser) as resident:
        resident.goto(f"{live_server}/adopteren?layer={GREEN_LAYER}&feature={GREEN_ID}")
        expect(resident.locator("#adopt-object")).to_contain_text(GREEN_ID)
        resident.get_by_label("Naam van u of uw groep").fill("Groene Vingers Singel")
        resident.get_by_label("Wat gaat u doen?").fill("Onkruid wieden en bollen planten")
        resident.get_by_label("Hoe vaak").select_option("maandelijks")
        resident.get_by_role("button", name="Aanbod versturen").click()
        expect(resident.locator("#adopt-sent")).to_be_visible()

    log_in(page, live_server, PLANNER)
    page.goto(f"{live_server}/beheer/adopties")
    card = page.locator(".card", has_text="Groene Vingers Singel")
    card.get_by_label("Reactie aan de groep").fill("Wat fijn! Wij zorgen voor gereedschap.")
    card.get_by_label("Startdatum").fill("2026-01-15")
    card.get_by_role("button", name="Besluit opslaan").click()
    expect(page.get_by_text("Het besluit is opgeslagen.")).to_be_visible()
    expect(page.locator(".card", has_text="Groene Vingers Singel")).to_contain_text("Geaccepteerd")

    page.goto(live_server + "/")
    legend = page.locator("#initiatives-legend")
    expect(legend).to_have_attribute("data-adoptions", "1")
    page.evaluate("window.kaartMap.setView([52.30667, 5.0379], 18)")
    page.locator('path[stroke="#2e7d32"]').click()
    popup = page.locator(".adoption-popup")
    expect(popup.locator(".adoption-popup__group")).to_have_text("Groene Vingers Singel")
    expect(popup.locator(".adoption-popup__dates")).to_have_text("Sinds 2026-01-15")
    # Switching the layer off takes it off the map.
    page.get_by_label("Geadopteerde plekken (zelfbeheer)").uncheck()
    expect(page.locator('path[stroke="#2e7d32"]')).to_have_count(0)
