"""Issue 12's done-when, end to end with the keyboard only, as deployed (nginx, two workers): a
resident finds an address, draws a point, a line and an area, and sends them — on the main map
and on a process page. Nothing here moves or clicks a mouse: buttons are pressed with Enter,
radios chosen with Space, the map panned with the arrow keys. The page itself counts every
pointer event it sees, and the test ends by checking that there were none."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import processes
from tests.test_browser_keyboard_draw import draw_by_keyboard
from tests.test_browser_search import find_by_keyboard, loaded_addresses  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.deployed]

ADDRESS = "Nieuwstraat 13, 1381BB Weesp"

# Installed before any page script: counts pointer and mouse events, trusted or not.
COUNT_POINTER_EVENTS = """
window.__pointerEvents = 0;
for (const type of ["pointerdown", "pointerup", "mousedown", "mouseup", "mousemove"]) {
  window.addEventListener(type, () => { window.__pointerEvents += 1; }, true);
}
"""


def keyboard_only(page: Page) -> Page:
    page.add_init_script(COUNT_POINTER_EVENTS)
    return page


def no_pointer_events(page: Page) -> None:
    assert page.evaluate("window.__pointerEvents") == 0


def choose_radio(page: Page, name: str) -> None:
    page.get_by_role("radio", name=name, exact=True).focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name=name, exact=True)).to_be_checked()


def stored_shapes(engine: Engine, prefix: str) -> list[str]:
    with engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT GeometryType(geom) FROM contribution "
                    "WHERE title LIKE :p ORDER BY created_at"
                ),
                {"p": f"{prefix}%"},
            )
            .scalars()
            .all()
        )


def send_on_main_map(page: Page, title: str) -> None:
    """The form step of the main map's add flow, by keyboard; ends on "Bedankt!"."""
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_focused()
    choose_radio(page, "Idee")
    page.get_by_label("Titel").fill(title)
    page.get_by_role("button", name="Versturen").press("Enter")
    expect(page.get_by_role("heading", name="Bedankt!")).to_be_visible()


@pytest.mark.usefixtures("loaded_addresses")
def test_main_map_find_an_address_and_send_a_point_a_line_and_an_area(
    deployed_page,
    deployed,
    deployed_db,
    engine,
):
    page = keyboard_only(deployed_page)
    page.goto(deployed.url)
    find_by_keyboard(page, "nieuwstraat 13 weesp", ADDRESS)

    # A point at the centre cross, which the search put on the address.
    page.get_by_role("button", name="Bijdrage toevoegen").press("Enter")
    page.get_by_role("button", name=re.compile(r"^Punt\b")).press("Enter")
    page.get_by_role("button", name="Gebruik het midden van de kaart").press("Enter")
    send_on_main_map(page, "Toetsenbord punt")

    # A line: pan with the arrows, a vertex at the centre each time.
    page.get_by_role("button", name="Nog een bijdrage toevoegen").press("Enter")
    page.get_by_role("button", name=re.compile(r"^Lijn\b")).press("Enter")
    add_vertex = page.get_by_role("button", name="Punt zetten in het midden van de kaart")
    add_vertex.press("Enter")
    page.locator("#map").press("ArrowRight")
    add_vertex.press("Enter")
    expect(page.locator("#draw-instructions")).to_contain_text("2 punt(en) gezet")
    page.get_by_role("button", name="Klaar met tekenen").press("Enter")
    expect(page.locator("#drawn-text")).to_contain_text("U heeft een lijn getekend")
    send_on_main_map(page, "Toetsenbord lijn")

    # An area of four corners.
    page.get_by_role("button", name="Nog een bijdrage toevoegen").press("Enter")
    page.get_by_role("button", name=re.compile(r"^Vlak\b")).press("Enter")
    progress = page.locator("#draw-instructions")
    for corners, key in enumerate(("ArrowLeft", "ArrowUp", "ArrowRight"), start=1):
        add_vertex.press("Enter")  # waits for the map to stop moving, then adds the corner
        expect(progress).to_contain_text(f"{corners} hoek(en) gezet")
        page.locator("#map").press(key)
    add_vertex.press("Enter")
    expect(progress).to_contain_text("4 hoek(en) gezet")
    page.get_by_role("button", name="Klaar met tekenen").press("Enter")
    expect(page.locator("#drawn-text")).to_contain_text("U heeft een vlak getekend")
    send_on_main_map(page, "Toetsenbord vlak")

    assert stored_shapes(engine, "Toetsenbord") == ["POINT", "LINESTRING", "POLYGON"]
    no_pointer_events(page)


@pytest.fixture
def demo_process(engine: Engine, deployed_db) -> None:
    with Session(engine) as session, transaction(session):
        processes.load_demo(session)


@pytest.mark.usefixtures("loaded_addresses")
def test_process_page_find_an_address_and_send_a_point_a_line_and_an_area(
    deployed_page,
    deployed,
    demo_process,
    engine,
):
    page = keyboard_only(deployed_page)
    page.goto(f"{deployed.url}/trajecten/{processes.DEMO_SLUG}")
    find_by_keyboard(page, "nieuwstraat 13 weesp", ADDRESS)

    shapes = {
        "Punt": (),
        "Lijn": ("ArrowRight",),
        "Vlak": ("ArrowLeft", "ArrowUp", "ArrowRight"),
    }
    for shape, keys in shapes.items():
        page.get_by_role("button", name=re.compile(rf"^{shape}\b")).press("Enter")
        if keys:
            draw_by_keyboard(page, "process-keyboard-draw", "process-map", keys)
        else:
            page.get_by_role("button", name="Gebruik het midden van de kaart").press("Enter")
        expect(page.locator("#geometry-status")).to_contain_text("Getekend")
        choose_radio(page, "Idee")
        page.get_by_label("Titel").fill(f"Traject toetsenbord {shape.lower()}")
        page.get_by_role("button", name="Versturen").press("Enter")
        done = page.locator("#contribute-done")
        expect(done).to_be_visible()
        expect(done).to_be_focused()
        expect(done).to_contain_text("Uw bijdrage staat op de kaart")
        if shape != "Vlak":
            page.get_by_role("button", name="Nog een bijdrage toevoegen").press("Enter")

    assert stored_shapes(engine, "Traject toetsenbord") == ["POINT", "LINESTRING", "POLYGON"]
    no_pointer_events(page)
