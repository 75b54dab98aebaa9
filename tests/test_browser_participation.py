"""Wie doet er mee? in Chromium: a resident answers the optional questions on the form of a
process that asks them; the planner's overview then shows the section with the answer counted
(and suppressed: one person is fewer than 10)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import processes, users
from tests.dialogue_fixtures import PASSWORD

pytestmark = pytest.mark.browser

PLANNER = "planner.deelname@weesp.example"


@pytest.fixture
def asking_demo(engine: Engine, deployed_db) -> str:
    """The demo process with the questions on, and a planner, committed; deployed_db removes
    them (the answers go with their process)."""
    with Session(engine) as session, transaction(session):
        assert processes.load_demo(session)
        session.execute(
            text("UPDATE process SET participant_questions = true WHERE slug = :s"),
            {"s": processes.DEMO_SLUG},
        )
        users.create(session, PLANNER, PASSWORD, ["planner"], "Pien Planner")
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT id FROM process WHERE slug = :s"), {"s": processes.DEMO_SLUG}
            ).scalar_one()
        )


def test_a_resident_answers_and_the_planner_sees_who_takes_part(
    page: Page, live_server: str, asking_demo: str, engine: Engine
):
    page.goto(f"{live_server}/trajecten/{processes.DEMO_SLUG}")
    questions = page.locator("#participant-questions")
    expect(questions).to_contain_text("Over u")
    expect(questions.get_by_role("radio", name="Zeg ik liever niet").first).to_be_checked()
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    page.get_by_role("radio", name="Idee").check()
    page.get_by_label("Titel").fill("Meer bankjes op het plein")
    questions.get_by_role("radio", name="45 tot 65 jaar").check()
    questions.get_by_role("radio", name="Meer dan 10 jaar").check()
    questions.get_by_role("radio", name="Ik woon hier", exact=True).check()
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#contribute-done")).to_be_visible()

    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT buurt_code, age_group, residence, relation FROM participant_answer")
        ).all()
    assert [tuple(r) for r in stored] == [("BU0363SD03", "45-64", "over_10", "live")]

    page.goto(f"{live_server}/inloggen")
    page.get_by_label("E-mailadres").fill(PLANNER)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}/beheer/overzicht?process={asking_demo}")
    section = page.locator("#participation")
    expect(section.get_by_role("heading", name="Wie doet er mee?")).to_be_visible()
    expect(page.locator("#participation-respondents")).to_contain_text(": 1 (bij 1 bijdragen)")
    ages = page.get_by_role("table", name="Leeftijd van wie meedoet")
    expect(ages.get_by_role("row", name="Weesp Centrum")).to_contain_text("< 10")
    expect(page.locator("#participation-buurten")).to_contain_text("Weesp Centrum")
    expect(page.locator("#participation-csv")).to_be_visible()
