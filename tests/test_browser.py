"""The resident pages in headless Chromium against the live app on PostGIS: drawing, sending,
finding, editing and withdrawing contributions, as a resident would, mouse and keyboard."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from pyproj import Transformer
from shapely.geometry import Polygon
from sqlalchemy import Engine, text

from kaart.config import DEMO_CENTER
from tests.places import HET_GROTE_PLEIN, SINGEL_GRASVELD, VAALSERBERG, feature, point

pytestmark = pytest.mark.browser

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_DESCRIPTION = "<script>alert(2)</script>"
SINGEL = SINGEL_GRASVELD[0]  # ~300 m west of Het Grote Plein: its own marker, not a cluster


# -- Helpers ------------------------------------------------------------------------------------


def open_map(page: Page, live_server: str, query: str = "") -> None:
    page.goto(f"{live_server}/{query}")
    wait_for_contributions(page)


def wait_for_contributions(page: Page) -> None:
    # An attribute, not wait_for_function: the page's CSP forbids the eval() that would need.
    expect(page.locator("body")).to_have_attribute("data-contributions-state", "idle")


def start_adding(page: Page, shape: str) -> None:
    """Open the add flow and choose Punt, Lijn or Vlak."""
    page.get_by_role("button", name="Bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(rf"^{shape}\b")).click()
    expect(page.locator("#step-draw")).to_be_visible()


def place_point_with_keyboard(page: Page) -> None:
    button = page.get_by_role("button", name="Gebruik het midden van de kaart")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()


def map_pixel(page: Page, dx: int, dy: int) -> tuple[int, int]:
    """A whole viewport pixel at (dx, dy) from the centre of the map."""
    box = page.locator("#map").bounding_box()
    return round(box["x"] + box["width"] / 2 + dx), round(box["y"] + box["height"] / 2 + dy)


def lonlat_at(page: Page, pixel: tuple[int, int]) -> list[float]:
    """Where a viewport pixel lies on the map, as [lon, lat]."""
    return page.evaluate(
        """([x, y]) => {
            const box = kaartMap.getContainer().getBoundingClientRect();
            const at = kaartMap.containerPointToLatLng([x - box.left, y - box.top]);
            return [at.lng, at.lat];
        }""",
        list(pixel),
    )


def fill_form(page: Page, category: str, title: str, description: str = "") -> None:
    page.get_by_role("radio", name=category, exact=True).check()
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Beschrijving").fill(description)


def submit(page: Page) -> tuple[str, str]:
    """Send the form; return the private edit link and the contribution's path."""
    page.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("heading", name="Bedankt!")).to_be_visible()
    expect(page.get_by_text("We laten deze link maar één keer zien.")).to_be_visible()
    edit_url = page.get_by_label("Uw persoonlijke bewerklink").input_value()
    path = page.get_by_role("link", name="Bekijk uw bijdrage").get_attribute("href")
    return edit_url, path


def create_via_api(page: Page, live_server: str, lonlat, category: str, title: str) -> dict:
    body = feature(point(lonlat), category=category, title=title)
    r = page.request.post(
        f"{live_server}/api/v1/contributions",
        data=json.dumps(body),
        headers={"Content-Type": "application/geo+json"},
    )
    assert r.status == 201, r.text()
    return r.json()


def stored(engine: Engine, path: str):
    ident = path.rsplit("/", 1)[1]
    with engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT ST_SRID(geom) AS srid, GeometryType(geom) AS type, area_m2, "
                    "ST_AsGeoJSON(geom)::json AS geometry, status, title, category "
                    "FROM contribution WHERE id = :id"
                ),
                {"id": ident},
            )
            .mappings()
            .one()
        )


def count_contributions(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM contribution")).scalar_one()


# -- a. An area drawn with the mouse ------------------------------------------------------------


def test_area_drawn_with_the_mouse_is_stored_and_measured_in_rd_new(page, live_server, clean_db):
    open_map(page, live_server)
    expect(page.locator("#map-status")).to_contain_text(
        "Nog geen bijdragen in dit deel van de kaart"
    )
    start_adding(page, "Vlak")
    corners = [map_pixel(page, dx, dy) for dx, dy in [(-120, -70), (90, -95), (130, 60), (-90, 95)]]
    ring = [lonlat_at(page, pixel) for pixel in corners]
    for pixel in corners:
        page.mouse.click(*pixel)
    expect(page.locator("#draw-instructions")).to_contain_text("4 hoek(en) gezet")
    page.mouse.click(*corners[0])  # the first corner again closes the area
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()
    expect(page.locator("#drawn-text")).to_contain_text("U heeft een vlak getekend")
    expect(page.locator("#nearby-results")).to_contain_text("Niets gevonden binnen")

    fill_form(page, "Groen", "Pluktuin op het Singel", "Fruitbomen en bessen,\nvoor iedereen.")
    edit_url, path = submit(page)
    assert re.fullmatch(
        rf"{live_server}/bijdragen/[0-9a-f-]{{36}}/bewerken#token=[\w-]{{40,}}", edit_url
    )
    expect(page.locator(".kaart-marker--groen")).to_have_count(1)  # on the map straight away

    page.reload()
    wait_for_contributions(page)
    expect(page.locator(".kaart-marker--groen")).to_have_count(1)
    expect(page.locator("#map-status")).to_contain_text("1 bijdrage in dit deel van de kaart")
    assert page.evaluate("document.body.dataset.contributionsLoaded") == "1"

    row = stored(clean_db, path)
    assert row["srid"] == 4326 and row["type"] == "POLYGON" and row["category"] == "groen"
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    expected = Polygon([to_rd.transform(lon, lat) for lon, lat in ring]).area
    assert expected > 10_000  # a real area, so 1 % is a real check
    assert row["area_m2"] == pytest.approx(expected, rel=0.01)


# -- b. A point (keyboard) and a line (mouse): send, view, edit, withdraw --------------------------


@pytest.mark.parametrize("shape", ["Punt", "Lijn"])
def test_point_and_line_can_be_sent_viewed_edited_and_withdrawn(page, live_server, clean_db, shape):
    open_map(page, live_server)
    start_adding(page, shape)
    if shape == "Punt":
        centre = page.evaluate(
            "(() => { const c = kaartMap.getCenter(); return [c.lng, c.lat]; })()"
        )
        place_point_with_keyboard(page)
    else:
        vertices = [map_pixel(page, dx, dy) for dx, dy in [(-140, 50), (-10, -40), (120, 10)]]
        for pixel in vertices:
            page.mouse.click(*pixel)
        page.mouse.click(*vertices[-1])  # the last point again finishes the line
        expect(page.locator("#drawn-text")).to_contain_text("U heeft een lijn getekend")
    title = f"Bankje aan de Vecht ({shape})"
    fill_form(page, "Idee", title, "Met uitzicht op het water.")
    edit_url, path = submit(page)

    page.get_by_role("link", name="Bekijk uw bijdrage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".description")).to_have_text("Met uitzicht op het water.")

    page.goto(edit_url)
    expect(page.get_by_label("Titel")).to_have_value(title)
    expect(page.get_by_role("radio", name="Idee", exact=True)).to_be_checked()
    assert "token" not in page.url  # taken out of the address bar
    page.reload()  # the tab remembers the token
    new_title = f"Bankje met schaduw ({shape})"
    page.get_by_label("Titel").fill(new_title)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#edit-message")).to_contain_text("Uw wijzigingen zijn opgeslagen.")

    page.locator("#edit-message a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(new_title)

    page.goto(edit_url.split("#")[0])
    page.get_by_role("button", name="Intrekken", exact=True).click()
    expect(page.get_by_text("Weet u zeker dat u uw bijdrage wilt intrekken?")).to_be_visible()
    page.get_by_role("button", name="Ja, trek mijn bijdrage in").click()
    expect(page.get_by_role("heading", name="Uw bijdrage is ingetrokken")).to_be_visible()

    response = page.goto(f"{live_server}{path}")
    assert response.status == 410
    expect(page.get_by_text("Deze bijdrage is ingetrokken door de indiener.")).to_be_visible()

    row = stored(clean_db, path)
    assert row["status"] == "ingetrokken" and row["title"] == new_title
    assert row["type"] == ("POINT" if shape == "Punt" else "LINESTRING")
    if shape == "Punt":
        assert row["geometry"]["coordinates"] == pytest.approx(centre, abs=1e-6)


def test_an_area_can_be_drawn_with_the_keyboard_alone(page, live_server, clean_db):
    open_map(page, live_server)
    page.get_by_role("button", name="Bijdrage toevoegen").press("Enter")
    page.get_by_role("button", name=re.compile(r"^Vlak\b")).press("Enter")
    add_vertex = page.get_by_role("button", name="Punt zetten in het midden van de kaart")
    progress = page.locator("#draw-instructions")
    for corners, key in enumerate(("ArrowLeft", "ArrowUp", "ArrowRight"), start=1):
        add_vertex.press("Enter")  # waits for the map to stop moving, then adds the corner
        expect(progress).to_contain_text(f"{corners} hoek(en) gezet")
        page.locator("#map").press(key)  # pans 80 px: the corners make a square
    add_vertex.press("Enter")
    expect(progress).to_contain_text("4 hoek(en) gezet")
    add_vertex.press("Enter")  # the same place twice is refused, not taken as "finish"
    expect(page.locator("#draw-error")).to_contain_text("Verschuif eerst de kaart")
    page.get_by_role("button", name="Klaar met tekenen").press("Enter")
    expect(page.locator("#drawn-text")).to_contain_text("U heeft een vlak getekend")
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_focused()
    fill_form(page, "Groen", "Geveltuintjes")
    _, path = submit(page)
    assert stored(clean_db, path)["type"] == "POLYGON"


def test_edit_page_without_or_with_a_wrong_token_says_so(page, live_server, clean_db):
    created = create_via_api(page, live_server, HET_GROTE_PLEIN, "idee", "Bankjes")
    edit = f"{live_server}/bijdragen/{created['id']}/bewerken"

    # The page asks for the place as drawn with the token at once, so it says so straight away.
    page.goto(f"{edit}#token=niet-de-goede-sleutel")
    expect(page.locator("#token-missing")).to_contain_text("Deze bewerklink hoort niet bij")
    expect(page.get_by_role("button", name="Opslaan")).to_be_hidden()

    page.goto("about:blank")
    page.goto(edit)  # no token in the link and none remembered
    expect(page.get_by_role("heading", name="Deze link werkt niet")).to_be_visible()
    expect(page.get_by_role("button", name="Opslaan")).to_be_hidden()
    expect(page.get_by_role("button", name="Intrekken", exact=True)).to_be_hidden()
    with clean_db.connect() as conn:
        title = conn.execute(
            text("SELECT title FROM contribution WHERE id = :id"), {"id": created["id"]}
        ).scalar_one()
    assert title == "Bankjes"


# -- c. Hostile text ----------------------------------------------------------------------------


def test_hostile_text_is_shown_literally_and_never_runs(page, live_server, clean_db):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    fill_form(page, "Knelpunt", HOSTILE_TITLE, HOSTILE_DESCRIPTION)
    edit_url, path = submit(page)

    page.get_by_role("button", name="Terug naar de kaart").click()
    page.locator(".kaart-marker--knelpunt").click()
    expect(page.locator(".leaflet-popup-content .popup__title")).to_have_text(HOSTILE_TITLE)
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Knelpunt")

    page.goto(f"{live_server}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    expect(page.locator(".description")).to_have_text(HOSTILE_DESCRIPTION)
    page.goto(edit_url)
    expect(page.get_by_label("Titel")).to_have_value(HOSTILE_TITLE)
    expect(page.get_by_label("Beschrijving")).to_have_value(HOSTILE_DESCRIPTION)

    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []


# -- d. Errors next to their fields ---------------------------------------------------------------


def test_errors_are_translated_tied_to_their_fields_and_nothing_is_written(
    page, live_server, clean_db
):
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    title = page.get_by_label("Titel")

    page.get_by_role("button", name="Versturen").click()
    summary = page.get_by_role("alert").filter(has_text="Controleer het volgende")
    expect(summary).to_be_visible()
    expect(page.locator("#category-error")).to_have_text("Kies een categorie.")
    expect(page.locator("#title-error")).to_have_text("Geef uw bijdrage een titel.")

    # Past the input's maxlength: the API refuses it and the page says why, at the field.
    page.get_by_role("radio", name="Groen", exact=True).check()
    title.evaluate("(input, value) => { input.value = value; }", "x" * 121)
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#title-error")).to_have_text(
        "De titel is te lang: gebruik hoogstens 120 tekens."
    )
    expect(page.locator("#category-error")).to_be_hidden()
    expect(title).to_have_attribute("aria-invalid", "true")
    assert "title-error" in title.get_attribute("aria-describedby")
    expect(summary.get_by_role("link")).to_have_text(
        ["De titel is te lang: gebruik hoogstens 120 tekens."]
    )
    summary.get_by_role("link").click()
    expect(title).to_be_focused()

    # Offline: a clear message, and what was typed stays.
    page.route("**/api/v1/contributions", lambda route: route.abort())
    title.fill("Een korte titel")
    page.get_by_role("button", name="Versturen").click()
    expect(summary).to_contain_text("Geen verbinding met de server")
    expect(title).to_have_value("Een korte titel")
    assert count_contributions(clean_db) == 0


# -- e. Legend, filter and language ---------------------------------------------------------------


def test_legend_filters_categories_and_the_language_switch_translates(page, live_server, clean_db):
    create_via_api(page, live_server, SINGEL, "groen", "Pluktuin")
    create_via_api(page, live_server, HET_GROTE_PLEIN, "knelpunt", "Losse tegels")
    open_map(page, live_server)
    labels = page.locator(".legend__label")
    expect(labels).to_have_text(["Groen", "Speelplek", "Energie", "Knelpunt", "Idee"])
    groen, knelpunt = page.locator(".kaart-marker--groen"), page.locator(".kaart-marker--knelpunt")
    expect(groen).to_have_count(1)
    expect(knelpunt).to_have_count(1)

    page.get_by_role("checkbox", name="Groen").uncheck()
    expect(groen).to_have_count(0)
    expect(knelpunt).to_have_count(1)
    page.get_by_role("checkbox", name="Knelpunt").uncheck()
    expect(page.locator("#map-status")).to_contain_text("Geen bijdragen in beeld")
    page.get_by_role("checkbox", name="Groen").check()
    page.get_by_role("checkbox", name="Knelpunt").check()
    expect(groen).to_have_count(1)
    expect(page.locator("#map-status")).to_contain_text("2 bijdragen in dit deel van de kaart")

    page.get_by_role("link", name="English").click()
    wait_for_contributions(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Add a contribution")).to_be_visible()
    expect(labels).to_have_text(["Green space", "Playground", "Energy", "Problem spot", "Idea"])
    expect(page.locator("#map-status")).to_contain_text("2 contributions in this part of the map")
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_role("button", name="Bijdrage toevoegen")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "nl")


def test_attribution_names_the_buurten_source(page, live_server, clean_db):
    open_map(page, live_server)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(
        "Buurten: Gemeente Amsterdam"
    )
    expect(page.locator(".buurt-label", has_text="Weesp Centrum")).to_be_visible()


# -- f. "Bestaat dit al?" -------------------------------------------------------------------------


def test_contributions_near_the_new_one_are_listed_and_highlighted(page, live_server, clean_db):
    near = create_via_api(
        page, live_server, (DEMO_CENTER[0] + 0.0002, DEMO_CENTER[1]), "speelplek", "Schommel"
    )
    create_via_api(page, live_server, VAALSERBERG, "speelplek", "Ver weg")
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    nearby = page.locator(".nearby")
    expect(nearby.get_by_role("heading", name="Bestaat dit al?")).to_be_visible()
    link = nearby.get_by_role("link", name=re.compile("^Schommel"))
    expect(link).to_have_attribute("href", f"/bijdragen/{near['id']}")
    expect(page.locator(".nearby__item")).to_have_count(1)
    expect(nearby).to_contain_text("Speelplek")
    expect(page.locator(".leaflet-highlight-pane path")).to_have_count(1)


# -- g. A phone ---------------------------------------------------------------------------------


def test_adding_works_on_a_phone_sized_screen(page, live_server, clean_db):
    page.set_viewport_size({"width": 390, "height": 844})
    open_map(page, live_server)
    map_box = page.locator("#map").bounding_box()
    assert map_box["width"] == 390 and map_box["height"] > 844 * 0.35
    add = page.get_by_role("button", name="Bijdrage toevoegen")
    expect(add).to_be_in_viewport()

    start_adding(page, "Punt")
    assert page.locator("#map").bounding_box()["height"] > 844 * 0.4  # the map stays usable
    place_point_with_keyboard(page)
    fill_form(page, "Speelplek", "Glijbaan bij de school", "Voor de kleintjes.")
    page.keyboard.press("Tab")  # to the e-mail address, the last field before sending
    expect(page.get_by_role("button", name="Versturen")).to_be_in_viewport()
    panel = page.locator("#panel").bounding_box()
    assert panel["y"] + panel["height"] <= 844 + 1 and panel["width"] == 390
    submit(page)
    copy = page.get_by_role("button", name="Kopieer link")
    copy.scroll_into_view_if_needed()
    expect(copy).to_be_in_viewport()

    page.get_by_role("button", name="Terug naar de kaart").click()
    page.get_by_role("button", name="Paneel inklappen").click()
    expect(page.get_by_role("button", name="Paneel uitklappen")).to_be_visible()
    assert page.locator("#map").bounding_box()["height"] > 844 * 0.75
    expect(page.locator(".kaart-marker--speelplek")).to_have_count(1)
