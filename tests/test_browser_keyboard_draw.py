"""Drawing by keyboard alone (issue 12) on the maps beside the main one, as deployed (nginx, two
workers): a resident draws an area and a line on a process page and sends the area; a planner
draws a process's area in /beheer; a co-operative draws its shortlist area on /coop. No mouse
events: buttons are pressed with Enter, the map is panned with the arrow keys, the vertex goes at
the centre cross."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import processes, users
from tests.dialogue_fixtures import PASSWORD

pytestmark = pytest.mark.browser

PLANNER = "planner@weesp.example"


def draw_by_keyboard(page: Page, panel: str, map_id: str, keys: tuple[str, ...]) -> None:
    """Put a vertex at the centre, pan with each key and put the next one; then finish. The
    live status counts them and says the length or area so far."""
    controls = page.locator(f"#{panel}")
    expect(controls).to_be_visible()
    add = controls.get_by_role("button", name="Punt zetten in het midden van de kaart")
    status = controls.get_by_role("status")
    add.press("Enter")
    expect(status).to_contain_text("1 ")
    for placed, key in enumerate(keys, start=2):
        page.locator(f"#{map_id}").press(key)
        page.locator(f"#{map_id}").press(key)
        add.press("Enter")
        expect(status).to_contain_text(f"{placed} ")
    size = r"lengte [1-9][\d.]* m\." if len(keys) == 1 else r"oppervlakte [1-9][\d.]* m²\."
    expect(status).to_have_text(re.compile(rf"^{len(keys) + 1} \w+\(en\) gezet, {size}$"))
    add.press("Enter")  # the same place twice is refused with a reason
    expect(controls.get_by_role("alert")).to_contain_text("Verschuif eerst de kaart")
    controls.get_by_role("button", name="Klaar met tekenen").press("Enter")
    expect(controls).to_be_hidden()


@pytest.fixture
def demo(engine: Engine, deployed_db) -> None:
    with Session(engine) as session, transaction(session):
        assert processes.load_demo(session)
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")


def test_a_resident_draws_and_sends_an_area_on_a_process_page(
    deployed_page, deployed, demo, engine
):
    page = deployed_page
    page.goto(f"{deployed.url}/trajecten/{processes.DEMO_SLUG}")
    # Closer in by keyboard ("=" zooms in), so the shapes stay inside the process area.
    start = page.evaluate("kaartMap.getZoom()")
    for _ in range(8):  # a key press during a zoom animation may be dropped: press until there
        if page.evaluate("kaartMap.getZoom()") >= start + 2:
            break
        page.locator("#process-map").press("=")
        page.wait_for_timeout(400)
    assert page.evaluate("kaartMap.getZoom()") >= start + 2
    page.get_by_role("button", name=re.compile(r"^Lijn\b")).press("Enter")
    # Geoman's tooltips for mouse users speak Dutch too.
    finish = page.evaluate("L.PM.Utils.getTranslation('tooltips.finishLine')")
    assert finish == "Klik op een bestaand punt om te beëindigen"
    controls = page.locator("#process-keyboard-draw")
    expect(controls.get_by_role("status")).to_contain_text("Teken de lijn")
    draw_by_keyboard(page, "process-keyboard-draw", "process-map", ("ArrowRight",))
    expect(page.locator("#geometry-status")).to_have_text("Getekend. U kunt het nog verslepen.")
    # Another shape replaces it: an area of four corners, told with its size while drawing.
    page.get_by_role("button", name=re.compile(r"^Vlak\b")).press("Enter")
    draw_by_keyboard(
        page, "process-keyboard-draw", "process-map", ("ArrowLeft", "ArrowUp", "ArrowRight")
    )
    expect(page.locator("#geometry-status")).to_have_text("Getekend. U kunt het nog verslepen.")
    page.get_by_role("radio", name="Groen").focus()
    page.keyboard.press("Space")
    # Sent without a title: the message stands beside the field, which says it is invalid.
    page.get_by_role("button", name="Versturen").press("Enter")
    title = page.get_by_label("Titel")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_attribute("aria-describedby", "title-error")
    expect(page.locator("#title-error")).to_be_visible()
    page.get_by_label("Titel").fill("Geveltuinen langs het plein")
    page.get_by_role("button", name="Versturen").press("Enter")
    expect(page.locator("#contribute-done")).to_contain_text("Uw bijdrage staat op de kaart")
    with engine.connect() as conn:
        kind, area = conn.execute(
            text(
                "SELECT GeometryType(geom), ST_Area(ST_Transform(geom, 28992)) FROM contribution "
                "WHERE title = 'Geveltuinen langs het plein'"
            )
        ).one()
    assert kind == "POLYGON" and area > 100


def test_a_planner_draws_a_process_area_by_keyboard(deployed_page, deployed, demo):
    page = deployed_page
    page.goto(f"{deployed.url}/inloggen")
    page.get_by_label("E-mailadres").fill(PLANNER)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").press("Enter")
    expect(page.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()
    page.goto(f"{deployed.url}/beheer/trajecten/nieuw")
    page.get_by_role("button", name="Gebied tekenen").press("Enter")
    draw_by_keyboard(
        page, "area-keyboard-draw", "process-map", ("ArrowLeft", "ArrowUp", "ArrowRight")
    )
    expect(page.locator("#area-status")).to_have_text(
        "Gebied gekozen. U kunt de hoeken nog verslepen."
    )
    geometry = page.locator("#geometry").input_value()
    assert '"type":"Polygon"' in geometry.replace(" ", "")


def test_a_cooperative_draws_its_area_by_keyboard(deployed_page, deployed):
    page = deployed_page
    page.goto(f"{deployed.url}/coop")
    page.get_by_role("radio", name="Zelf getekend gebied").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Teken een gebied op de kaart").press("Enter")
    draw_by_keyboard(page, "area-keyboard-draw", "map", ("ArrowLeft", "ArrowUp", "ArrowRight"))
    expect(page.locator("#area-drawn")).to_have_text("Gebied getekend.")
