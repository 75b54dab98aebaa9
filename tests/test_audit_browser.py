"""The audit log in Chromium: an admin logs in, finds the log in the staff menu, sees their own
login, filters by action, and the page fits a 360 px phone (only the table scrolls sideways)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import users
from tests.dialogue_fixtures import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "audit-admin@weesp.example"


@pytest.fixture
def admin_account(engine: Engine) -> Iterator[str]:
    """An admin committed for the live server; removed afterwards (its log entries stay)."""
    with Session(engine) as session, transaction(session):
        users.create(session, ADMIN, PASSWORD, ["admin"], "Ada Audit")
    yield ADMIN
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM app_user WHERE email = :e"), {"e": ADMIN})
        conn.execute(text("DELETE FROM rate_event"))


def test_an_admin_reads_and_filters_the_log_on_a_phone(page: Page, live_server, admin_account):
    page.goto(f"{live_server}/inloggen")
    page.get_by_label("E-mailadres").fill(ADMIN)
    page.get_by_label("Wachtwoord").fill("not the password at all")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.locator("#login-error")).to_contain_text("klopt niet")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()

    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_role("navigation", name="Beheer").get_by_role("link", name="Auditlog").click()
    expect(page.get_by_role("heading", name="Auditlog", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Gebeurtenissen, nieuwste eerst")
    expect(table).to_be_visible()
    newest = table.locator("tbody tr").first
    expect(newest).to_contain_text("Ingelogd")
    expect(newest).to_contain_text(ADMIN)
    expect(table.locator("tbody tr", has_text="Inloggen mislukt").first).to_contain_text(
        "wachtwoord klopt niet"
    )
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] <= 360, widths  # the page itself never scrolls sideways

    page.get_by_label("Actie").select_option(label="Inloggen mislukt")
    page.get_by_label("Persoon").fill("audit-admin@")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(
        f"{live_server}/beheer/audit?action=login.failed&who=audit-admin%40&from=&to="
    )
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Inloggen mislukt")
    csv_link = page.get_by_role("link", name="Download deze regels als CSV")
    expect(csv_link).to_have_attribute(
        "href", "/beheer/audit.csv?action=login.failed&who=audit-admin%40"
    )
