"""The wijkpact in headless Chromium against the live app (issue 15): a planner creates a pact with
three parties and a commitment drawn on the map; a partner updates only its own party's
commitment and is refused on another's; a resident follows a contribution to the afspraak that
took it up, and back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.services import commitments, pacts, users
from tests.dialogue_fixtures import PASSWORD
from tests.places import feature

pytestmark = pytest.mark.browser

PLANNER = "planner-pact@weesp.example"
PARTNER = "partner-pact@ymere.example"


@pytest.fixture
def accounts(engine: Engine) -> Iterator[dict]:
    """A planner and a partner (no party yet), removed with every pact and party afterwards."""
    with Session(engine) as session:
        found = {
            "planner": users.create(session, PLANNER, PASSWORD, ["planner"], "Piet Planner"),
            "partner": users.create(session, PARTNER, PASSWORD, ["partner"], "Pam Partner"),
        }
        session.commit()
    yield found
    with engine.begin() as conn:
        for table in ("pact", "party"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text("DELETE FROM app_user WHERE email IN (:a, :b)"), {"a": PLANNER, "b": PARTNER}
        )


@pytest.fixture
def pact(engine: Engine, accounts: dict, live_server: str, page: Page) -> dict:
    """A pact with two commitments: the woningcorporatie's (the partner's party) and the
    gemeente's, the first taking up a resident's contribution."""
    created = page.request.post(
        f"{live_server}/api/v1/contributions", data=feature(title="Geveltuinen graag")
    ).json()
    with Session(engine) as session:
        city = pacts.create_party(session, None, "Gemeente Amsterdam", "gemeente")
        corp = pacts.create_party(session, None, "Ymere", "woningcorporatie")
        pacts.add_member(session, corp, accounts["partner"])
        form = {
            "title": "Wijkpact Plein",
            "area_kind": "buurt",
            "area_code": "BU0363SD03",
            "party_ids": [str(city), str(corp)],
        }
        slug = pacts.create_pact(session, form, accounts["planner"])
        found = pacts.find(session, slug)
        due = (date.today() + timedelta(days=30)).isoformat()
        own = commitments.create(
            session,
            found,
            {
                "title": "Geveltuinen aanleggen",
                "party_id": str(corp),
                "theme": "groen",
                "due_on": due,
                "geometry": '{"type": "Point", "coordinates": [5.04234, 52.30658]}',
                "contribution_ids": created["id"],
            },
            accounts["planner"],
        )
        other = commitments.create(
            session,
            found,
            {
                "title": "Lantaarns vervangen",
                "party_id": str(city),
                "theme": "verkeer",
                "due_on": due,
            },
            accounts["planner"],
        )
        session.commit()
    return {"slug": slug, "own": own, "other": other, "contribution": created["id"]}


def log_in(page: Page, live_server: str, email: str, next_path: str) -> None:
    page.goto(f"{live_server}/inloggen?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.beheer-form button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(next_path)))


def test_a_planner_creates_a_pact_with_three_parties(page: Page, live_server, accounts):
    log_in(page, live_server, PLANNER, "/beheer/wijkpact")
    for name, kind in (
        ("Gemeente Amsterdam", "gemeente"),
        ("Woningcorporatie Eigen Haard", "woningcorporatie"),
        ("Bewonersvereniging Weesp", "bewonersorganisatie"),
    ):
        page.get_by_label("Naam van de organisatie").fill(name)
        page.get_by_label("Soort organisatie").select_option(kind)
        page.get_by_role("button", name="Partij opslaan").click()
        expect(page.get_by_text("De partij is opgeslagen.")).to_be_visible()
    expect(page.locator("#party-table tbody tr")).to_have_count(3)
    page.locator("#member-user").select_option(label=PARTNER)
    page.locator("#member-party").select_option(label="Woningcorporatie Eigen Haard")
    page.get_by_role("button", name="Koppelen aan partij").click()
    expect(page.locator("#party-table")).to_contain_text(PARTNER)

    page.get_by_role("link", name="Nieuw wijkpact").click()
    page.get_by_role("button", name="Wijkpact opslaan").click()  # empty: field errors
    expect(page.locator('#form-errors [data-code="pact_title_invalid"]')).to_be_visible()
    page.get_by_label("Titel").fill("Wijkpact Weesp Centrum")
    for name in ("Gemeente Amsterdam", "Woningcorporatie Eigen Haard", "Bewonersvereniging Weesp"):
        page.get_by_label(name).check()
    page.get_by_label("Code van de buurt of wijk").fill("BU0363SD03")
    page.get_by_role("button", name="Wijkpact opslaan").click()
    expect(page.get_by_text("Het wijkpact is opgeslagen.")).to_be_visible()
    expect(page.locator("#pact-title")).to_have_text("Wijkpact Weesp Centrum")

    page.get_by_role("link", name="Nieuwe afspraak").click()
    page.wait_for_selector(".leaflet-container")
    page.get_by_label("Wat is afgesproken").fill("Speelplek opknappen")
    page.get_by_label("Wie is verantwoordelijk").select_option(label="Woningcorporatie Eigen Haard")
    page.get_by_label("Thema").select_option("speelplek")
    page.get_by_label("Klaar op").fill((date.today() + timedelta(days=90)).isoformat())
    page.get_by_label("Budget").fill("15000")
    page.locator("#draw-point").click()
    box = page.locator("#pact-draw-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#draw-status")).to_have_text("1 plek getekend.")
    page.get_by_role("button", name="Afspraak opslaan").click()
    expect(page.get_by_text("De afspraak is opgeslagen.")).to_be_visible()

    page.goto(f"{live_server}/wijkpact/wijkpact-weesp-centrum")
    expect(page.locator(".pact-party")).to_have_count(3)
    article = page.locator(".pact-commitment")
    expect(article).to_contain_text("Speelplek opknappen")
    expect(article).to_contain_text("Gepland")
    expect(page.locator("#pact-map .pact-marker--gepland")).to_have_count(1)


def test_a_partner_updates_only_its_own_commitment(page: Page, live_server, pact):
    log_in(page, live_server, PARTNER, f"/beheer/wijkpact/{pact['slug']}")
    own = page.locator(f"#c-{pact['own']}")
    other = page.locator(f"#c-{pact['other']}")
    expect(own.locator("form")).to_have_count(1)
    expect(other.locator("form")).to_have_count(0)
    expect(other.locator(".pact-not-yours")).to_be_visible()

    own.get_by_label("Status").select_option("vertraagd")
    own.get_by_role("button", name="Voortgang opslaan").click()
    own = page.locator(f"#c-{pact['own']}")
    reason = own.get_by_label("Reden")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(own.locator(".field-error")).to_contain_text("Zeg waarom")
    reason.fill("De tuinaarde komt later.")
    own.get_by_label("Percentage klaar").fill("25")
    own.get_by_role("button", name="Voortgang opslaan").click()
    expect(page.get_by_text("De voortgang is opgeslagen.")).to_be_visible()
    expect(page.locator(f"#c-{pact['own']}")).to_contain_text("Vertraagd")

    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = page.request.post(
        f"{live_server}/beheer/afspraken/{pact['other']}/voortgang",
        form={"csrf_token": token, "status": "bezig"},
        max_redirects=0,
    )
    assert refused.status == 403

    page.goto(f"{live_server}/wijkpact/{pact['slug']}")
    expect(page.locator(f"#c-{pact['own']}")).to_contain_text("Vertraagd")
    expect(page.locator(f"#c-{pact['other']}")).to_contain_text("Gepland")
    expect(page.locator("#pact-history")).to_contain_text("De tuinaarde komt later.")
    expect(page.locator("#pact-legend")).to_contain_text("Vertraagd")


def test_a_resident_follows_a_contribution_to_its_afspraak_and_back(page: Page, live_server, pact):
    page.goto(f"{live_server}/bijdragen/{pact['contribution']}")
    chain = page.locator("#pact-chain")
    expect(chain).to_contain_text("Geveltuinen aanleggen")
    expect(chain).to_contain_text("Ymere")
    chain.get_by_role("link", name="Geveltuinen aanleggen").click()
    page.wait_for_url(re.compile(rf"/wijkpact/{pact['slug']}#c-{pact['own']}$"))
    commitment = page.locator(f"#c-{pact['own']}")
    expect(commitment).to_be_in_viewport()
    commitment.get_by_role("link", name="Geveltuinen graag").click()
    page.wait_for_url(f"{live_server}/bijdragen/{pact['contribution']}")
    expect(page.locator("h1")).to_contain_text("Geveltuinen graag")
    assert uuid.UUID(pact["contribution"])
