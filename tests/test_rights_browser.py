"""/beheer/privacy in Chromium: an admin finds an Open311 reporter by e-mail address, downloads
the ZIP, cannot erase without ticking the confirmation, then erases keeping the request on the
map; the page fits a 360 px phone."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import retention, users
from tests.dialogue_fixtures import PASSWORD
from tests.places import HET_GROTE_PLEIN

pytestmark = pytest.mark.browser

ADMIN = "privacy-admin@weesp.example"
REPORTER = "melder.browser@example.org"


@pytest.fixture
def admin_account(engine: Engine) -> Iterator[str]:
    """An admin committed for the live server; removed afterwards (its log entries stay)."""
    with Session(engine) as session, transaction(session):
        users.create(session, ADMIN, PASSWORD, ["admin"], "Priya Privacy")
    yield ADMIN
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM app_user WHERE email = :e"), {"e": ADMIN})
        conn.execute(text("DELETE FROM rate_event"))


def test_an_admin_finds_downloads_and_erases_a_reporter(
    page: Page, live_server: str, admin_account: str, engine: Engine
):
    made = requests.post(
        f"{live_server}/open311/v2/requests.json",
        data={
            "service_code": "knelpunt",
            "lat": str(HET_GROTE_PLEIN[1]),
            "long": str(HET_GROTE_PLEIN[0]),
            "description": "Kapotte lantaarnpaal bij de pomp.",
            "email": REPORTER,
            "first_name": "Mo",
            "last_name": "Bakker",
            "phone": "06-87654321",
        },
        timeout=10,
    )
    assert made.status_code == 201, made.text
    ident = made.json()[0]["service_request_id"]

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}/inloggen?next=/beheer/privacy")
    page.get_by_label("E-mailadres").fill(ADMIN)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Inzage en verwijderen", level=1)).to_be_visible()

    page.get_by_label("E-mailadres, telefoonnummer of code van een bijdrage").fill(REPORTER)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#privacy-count")).to_have_text("Gevonden bijdragen: 1.")
    row = page.locator(f'#privacy-table tr[data-contribution="{ident}"]')
    expect(row).to_contain_text("Kapotte lantaarnpaal")
    expect(row).to_contain_text("Bakker")
    expect(row).to_contain_text("06-87654321")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] <= 360, widths  # only the table scrolls sideways

    with page.expect_download() as download:
        page.get_by_role("link", name="Alles downloaden (ZIP)").click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["subject"] == {"kind": "email", "value": REPORTER}
    assert data["contributions"][0]["request"]["last_name"] == "Bakker"

    page.get_by_label("Ze blijven op de kaart, zonder tekst en foto's").check()
    erase = page.get_by_role("button", name="Nu verwijderen")
    erase.click()  # the confirmation box is required: nothing is sent
    expect(page.locator("#privacy-confirm")).to_be_visible()
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT email FROM open311_request WHERE contribution_id = :id"), {"id": ident}
        ).scalar_one() == (REPORTER)

    page.get_by_label("Ik heb gecontroleerd dat dit de juiste persoon is.").check()
    erase.click()
    expect(page.get_by_role("status")).to_contain_text("Verwijderd.")
    expect(page.locator("#privacy-none")).to_contain_text("Niets gevonden")
    with engine.connect() as conn:
        status, title, email = conn.execute(
            text(
                "SELECT c.status, c.title, r.email FROM contribution c "
                "JOIN open311_request r ON r.contribution_id = c.id WHERE c.id = :id"
            ),
            {"id": ident},
        ).one()
    assert (status, title, email) == ("ontvangen", retention.MARKER, None)
    public = requests.get(f"{live_server}/open311/v2/requests/{ident}.json", timeout=10)
    assert public.status_code == 200 and public.json()[0]["description"] == retention.MARKER
