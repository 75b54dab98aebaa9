"""E-mail in the browser (issue 14): the optional address in the map's add flow, and following
an area on /volgen with the mouse-free map, in headless Chromium against the live app."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from kaart.config import DEMO_CENTER
from tests.test_browser import fill_form, open_map, place_point_with_keyboard, start_adding, submit

pytestmark = pytest.mark.browser

ADDRESS = "bewoner@weesp.example"
EMAILED = "We hebben uw persoonlijke link ook naar uw e-mailadres gestuurd."
CREATE = "/api/v1/contributions"


def counts(engine: Engine) -> list[int]:
    """Rows of the tables a contribution with an address writes to."""
    with engine.connect() as conn:
        return [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("contribution", "mail_address", "subscription", "outbox")
        ]


def one(engine: Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().one_or_none()


def email_field(page: Page):
    return page.get_by_label("E-mailadres (niet verplicht)")


# -- The add flow ---------------------------------------------------------------------------------


def test_an_address_given_when_adding_gets_the_receipt(page, live_server, clean_db):
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    fill_form(page, "Groen", "Geveltuin bij de brug")
    email = email_field(page)
    expect(email).to_have_attribute("type", "email")
    expect(email).to_have_attribute("autocomplete", "email")
    assert email.get_attribute("aria-describedby") == "email-hint email-error"
    email.fill(f"  {ADDRESS}  ")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(CREATE)) as sent:
        _edit_url, path = submit(page)
    assert sent.value.post_data_json["properties"]["email"] == ADDRESS
    expect(page.get_by_text(EMAILED)).to_be_visible()
    expect(page.get_by_label("Uw persoonlijke bewerklink")).to_have_value(re.compile("#token="))

    ident = path.rsplit("/", 1)[1]
    row = one(
        clean_db,
        "SELECT a.address FROM contribution c JOIN mail_address a ON a.id = c.author_address_id "
        "WHERE c.id = :id",
        id=ident,
    )
    assert row is not None and row["address"] == ADDRESS
    receipt = one(
        clean_db,
        "SELECT language FROM outbox WHERE kind = 'received' AND to_address = :a",
        a=ADDRESS,
    )
    assert receipt is not None and receipt["language"] == "nl"

    # The next one starts empty, and without an address nothing is sent or said about it.
    page.get_by_role("button", name="Nog een bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(r"^Punt\b")).click()
    place_point_with_keyboard(page)
    expect(email_field(page)).to_have_value("")
    fill_form(page, "Idee", "Bankje aan het water")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(CREATE)) as sent:
        submit(page)
    assert "email" not in sent.value.post_data_json["properties"]
    expect(page.get_by_text(EMAILED)).to_be_hidden()
    with clean_db.connect() as conn:
        mailed = "SELECT count(*) FROM outbox WHERE to_address = :a"
        assert conn.execute(text(mailed), {"a": ADDRESS}).scalar_one() == 1


def test_a_wrong_address_is_shown_at_its_field_and_nothing_is_stored(page, live_server, clean_db):
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    fill_form(page, "Knelpunt", "Losse tegel")
    email = email_field(page)
    email.fill("bewoner-at-weesp")
    before = counts(clean_db)
    page.get_by_role("button", name="Versturen").click()

    error = page.locator("#email-error")
    expect(error).to_have_text("Vul een geldig e-mailadres in.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-email")).to_have_class(re.compile("field--invalid"))
    summary = page.get_by_role("alert").filter(has_text="Controleer het volgende")
    summary.get_by_role("link", name="Vul een geldig e-mailadres in.").click()
    expect(email).to_be_focused()
    expect(email).to_have_value("bewoner-at-weesp")  # what was typed stays
    assert counts(clean_db) == before


def test_the_receipt_is_in_the_language_of_the_page(page, live_server, clean_db):
    open_map(page, live_server, "?lang=en")
    page.get_by_role("button", name="Add a contribution").click()
    page.get_by_role("button", name=re.compile(r"^Point\b")).click()
    page.get_by_role("button", name="Use the centre of the map").click()
    page.get_by_role("radio", name="Green space", exact=True).check()
    page.get_by_label("Title").fill("Plant a tree")
    page.get_by_label("E-mail address (optional)").fill(ADDRESS)
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("We also sent your personal link to your e-mail address.")
    ).to_be_visible()
    receipt = one(clean_db, "SELECT language, subject FROM outbox WHERE to_address = :a", a=ADDRESS)
    assert receipt["language"] == "en" and receipt["subject"].startswith("Your contribution")


def test_the_address_field_fits_a_320_px_phone_and_is_next_after_the_text(
    page, live_server, clean_db
):
    page.set_viewport_size({"width": 320, "height": 640})
    open_map(page, live_server)
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    page.get_by_label("Beschrijving").focus()
    page.keyboard.press("Tab")
    email = email_field(page)
    expect(email).to_be_focused()
    expect(email).to_be_in_viewport()
    box = email.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


# -- /volgen --------------------------------------------------------------------------------------


def test_following_an_area_chosen_with_the_keyboard(page, live_server, clean_db):
    page.goto(f"{live_server}/volgen")
    use_area = page.get_by_label("Volg dit gebied op de kaart")
    near_lon, near_lat = page.locator("#near_lon"), page.locator("#near_lat")
    expect(use_area).not_to_be_checked()
    expect(near_lon).to_have_value("")

    the_map = page.get_by_role("region", name="Een gebied op de kaart")
    the_map.focus()
    page.keyboard.press("ArrowRight")  # pans the map east: the centre moves east
    expect(use_area).to_be_checked()
    expect(near_lon).to_have_value(re.compile(r"^\d+\.\d{6}$"))
    expect(near_lat).to_have_value(re.compile(r"^\d+\.\d{6}$"))
    assert float(near_lon.input_value()) > DEMO_CENTER[0]
    assert float(near_lat.input_value()) == pytest.approx(DEMO_CENTER[1], abs=1e-5)

    # One target at a time: a buurt unticks the area, the area (a new radius) forgets the buurt.
    buurt = page.get_by_label("Een buurt")
    buurt.select_option(index=1)
    expect(use_area).not_to_be_checked()
    expect(near_lon).to_have_value("")
    page.get_by_label("Straal van het gebied").select_option("500")
    expect(use_area).to_be_checked()
    expect(buurt).to_have_value("")
    lon, lat = float(near_lon.input_value()), float(near_lat.input_value())

    page.get_by_label("Uw e-mailadres").fill(ADDRESS)
    page.get_by_role("button", name="Volg", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw mailbox")
    row = one(
        clean_db,
        "SELECT s.kind, ST_Area(ST_Transform(s.area, 28992)) AS m2, "
        "ST_Distance(ST_Transform(ST_Centroid(s.area), 28992), "
        "ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 28992)) AS off "
        "FROM subscription s JOIN mail_address a ON a.id = s.address_id WHERE a.address = :a",
        a=ADDRESS,
        lon=lon,
        lat=lat,
    )
    assert row is not None and row["kind"] == "area"
    assert row["m2"] == pytest.approx(math.pi * 500**2, rel=0.02)
    assert row["off"] < 1


def test_unticking_the_area_forgets_it(page, live_server, clean_db):
    page.goto(f"{live_server}/volgen")
    use_area = page.get_by_label("Volg dit gebied op de kaart")
    use_area.check()
    expect(page.locator("#near_lon")).to_have_value(re.compile(r"^\d+\.\d{6}$"))
    use_area.uncheck()
    expect(page.locator("#near_lon")).to_have_value("")
    expect(page.locator("#near_lat")).to_have_value("")
    expect(page.locator("#follow-map path")).to_have_count(1)  # the circle stays in view
