"""Issue 4 in Chromium: a planner creates a process for Weesp Centrum, a resident contributes
within it and comments, a moderator hides and restores, the planner answers and changes the
status, and the resident sees the response on the public page and through the private link.
Through the deployed stack: nginx in front of `kaart serve` with two workers (tests/stack.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.services import users
from tests.conftest import browser_tab
from tests.dialogue_fixtures import PASSWORD

pytestmark = pytest.mark.browser

PLANNER = "planner@weesp.example"
MODERATOR = "moderator@weesp.example"


@pytest.fixture
def staff(engine: Engine, deployed_db) -> None:
    """A planner and a moderator, committed for the stack; deployed_db removes them afterwards
    with everything the test made."""
    with Session(engine) as session, session.begin():
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")
        users.create(session, MODERATOR, PASSWORD, ["moderator"], "Mo Moderator")


@pytest.fixture
def new_page(browser) -> Iterator:
    """Another person's browser (own cookies); fails on JavaScript errors like `page`."""
    with ExitStack() as tabs:
        yield lambda: tabs.enter_context(
            browser_tab(browser, viewport={"width": 1280, "height": 900})
        )


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()


def map_pixel(page: Page, selector: str, dx: int, dy: int) -> tuple[int, int]:
    box = page.locator(selector).bounding_box()
    return round(box["x"] + box["width"] / 2 + dx), round(box["y"] + box["height"] / 2 + dy)


def test_process_contribution_dialogue_moderation_and_response(
    deployed_page, new_page, deployed, staff, engine
):
    server = deployed.url
    # -- The planner creates a process and draws its area around the centre of Weesp ----------
    planner = deployed_page
    log_in(planner, server, PLANNER)
    planner.get_by_role("link", name="Trajecten").click()
    planner.get_by_role("link", name="Nieuw traject").click()
    planner.locator("#process-map").scroll_into_view_if_needed()
    planner.get_by_role("button", name="Gebied tekenen").click()
    corners = [
        map_pixel(planner, "#process-map", dx, dy)
        for dx, dy in [(-140, -110), (140, -110), (140, 110), (-140, 110)]
    ]
    for pixel in corners:
        planner.mouse.click(*pixel)
        planner.wait_for_timeout(150)  # separate clicks, not a double click
    planner.mouse.click(*corners[0])  # the first corner again closes the area
    expect(planner.locator("#area-status")).to_contain_text("Gebied gekozen")
    planner.get_by_label("Titel").fill("Het Grote Plein vergroenen")
    planner.get_by_label("Vraag aan de bewoners").fill("Waar wilt u meer groen in Weesp Centrum?")
    planner.get_by_label("Begint op").fill("2020-01-01")
    planner.get_by_label("Eindigt op").fill("2099-12-31")
    planner.get_by_label("Groen").check()
    planner.get_by_label("Idee").check()
    planner.get_by_role("button", name="Traject opslaan").click()
    expect(planner).to_have_url(f"{server}/trajecten/het-grote-plein-vergroenen")
    expect(planner.locator("#process-question")).to_have_text(
        "Waar wilt u meer groen in Weesp Centrum?"
    )

    # -- A resident contributes within it: outside the area is refused with the reason --------
    resident = new_page()
    resident.goto(f"{server}/trajecten/het-grote-plein-vergroenen")
    expect(resident.locator("#process-state")).to_have_text("Open voor bijdragen")
    resident.evaluate("kaartMap.setView([52.3067, 5.0300], 16, {animate: false})")  # west of it
    resident.get_by_role("button", name="Gebruik het midden van de kaart").click()
    resident.get_by_role("radio", name="Groen").check()
    resident.get_by_label("Titel").fill("Bomen langs de Nieuwstraat")
    resident.get_by_role("button", name="Versturen").click()
    expect(resident.locator("#contribute-errors")).to_contain_text(
        "buiten het gebied van het traject"
    )
    expect(resident.locator("#geometry-error")).to_be_visible()

    resident.evaluate("kaartMap.setView([52.30658, 5.04234], 17, {animate: false})")
    resident.get_by_role("button", name="Gebruik het midden van de kaart").click()
    resident.get_by_role("button", name="Versturen").click()
    expect(resident.locator("#contribute-done")).to_contain_text("Uw bijdrage staat op de kaart")
    edit_url = resident.locator("#contribute-edit-link").get_attribute("href")
    view_path = resident.locator("#contribute-view-link").get_attribute("href")
    assert re.fullmatch(r"/bijdragen/[0-9a-f-]{36}", view_path)
    contribution_id = view_path.rsplit("/", 1)[1]
    with engine.connect() as conn:
        linked = conn.execute(
            text(
                "SELECT p.slug FROM contribution c JOIN process p ON p.id = c.process_id "
                "WHERE c.id = :id"
            ),
            {"id": contribution_id},
        ).scalar_one()
    assert linked == "het-grote-plein-vergroenen"

    # ... and comments on it, then supports it.
    resident.goto(f"{server}{view_path}")
    resident.get_by_label("Uw reactie").fill("Liefst linden, die geven schaduw.")
    resident.get_by_label("Uw naam").fill("Sanne")
    resident.get_by_role("button", name="Plaatsen").click()
    expect(resident.locator("#comment-list")).to_contain_text("Liefst linden, die geven schaduw.")
    resident.get_by_role("button", name="Steunen").click()
    expect(resident.locator("#support-count")).to_have_text("1 keer gesteund")

    # -- A moderator hides it with a reason, then restores it ---------------------------------
    moderator = new_page()
    log_in(moderator, server, MODERATOR)
    moderator.goto(f"{server}/beheer/bijdragen/{contribution_id}")
    moderator.get_by_label("Reden voor de indiener").first.fill("Even controleren.")
    moderator.get_by_role("button", name="Verbergen").first.click()
    expect(moderator.locator("#beheer-visibility")).to_have_text("Verborgen")
    assert resident.goto(f"{server}{view_path}").status == 404
    moderator.get_by_role("link", name="Moderatie").click()
    expect(moderator.locator(".moderation-item")).to_contain_text("Bomen langs de Nieuwstraat")
    moderator.get_by_role("button", name="Terugzetten").click()
    expect(moderator.locator("#moderation-empty")).to_be_visible()
    assert resident.goto(f"{server}{view_path}").status == 200

    # -- The planner answers and changes the status -------------------------------------------
    planner.goto(f"{server}/beheer/bijdragen/{contribution_id}")
    expect(planner.locator("#history")).to_contain_text("Verborgen door een moderator")
    planner.get_by_label("Nieuwe status").select_option("in_behandeling")
    planner.get_by_label("Openbare reactie").fill("We nemen linden mee in het ontwerp.")
    planner.get_by_role("button", name="Status wijzigen").click()
    expect(planner.locator("#beheer-status")).to_have_text("In behandeling")
    planner.get_by_label("Nieuwe status").select_option("overgenomen")
    planner.get_by_label("Openbare reactie").fill("Vier linden komen in het plan voor 2027.")
    planner.get_by_role("button", name="Status wijzigen").click()
    expect(planner.locator("#beheer-status")).to_have_text("Overgenomen")

    # -- The resident sees the response, publicly and through the private link ----------------
    resident.goto(f"{server}{view_path}")
    expect(resident.locator(".response")).to_contain_text(
        "Vier linden komen in het plan voor 2027."
    )
    expect(resident.locator("#history")).to_contain_text("Status: In behandeling → Overgenomen")
    expect(resident.locator("#comment-list")).to_contain_text("Sanne")
    resident.goto(f"{server}{edit_url}")
    expect(resident.locator("#status-chip")).to_have_text("Overgenomen")
    expect(resident.locator("#private-dialogue")).to_be_visible()
    expect(resident.locator("#private-visibility")).to_have_text("Uw bijdrage staat op de kaart.")
    expect(resident.locator("#private-history")).to_contain_text("Teruggezet door een moderator")
