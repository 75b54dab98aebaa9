"""Issue 14, done when: in Chromium, through the deployed stack (gunicorn with 2 workers behind
nginx) and the real worker command (`kaart mail work --once`, as cron or the `mail` service runs
it), with a real SMTP server (aiosmtpd):

a resident submits with an e-mail address and confirms it from the received message; a planner
answers and changes the status while the mail server is down; once it is back the resident gets
the update exactly once, and its link opens the contribution page with the response; "Stuur
mijn links" returns every link of that address; an area follower gets a digest of new input; no
e-mail address appears in any public output."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.services import users
from tests.conftest import browser_tab
from tests.dialogue_fixtures import PASSWORD
from tests.mail_fixtures import links_in, smtp_server, text_of
from tests.stack import ROOT, Stack, StackError, free_port
from tests.test_browser import fill_form, place_point_with_keyboard, start_adding, submit

pytestmark = [pytest.mark.browser, pytest.mark.deployed]

RESIDENT = "bewoner.mail@weesp.example"
FOLLOWER = "volger.mail@weesp.example"
PLANNER = "planner.mail@gemeente.example"
RESPONSE = "De bank wordt in april geplaatst, bij de lantaarnpaal."


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def mail_stack(database_url: str, engine: Engine, smtp_port: int) -> Iterator[Stack]:
    """The deployed stack with e-mail: its public address is nginx's, where links point."""
    stack = Stack(
        database_url,
        {
            "KAART_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "KAART_MAIL_FROM": "Wijkkaart Weesp <wijkkaart@weesp.example>",
            "KAART_MAIL_RETRY_SECONDS": "1",
        },
    )
    stack.extra_env["KAART_PUBLIC_URL"] = stack.url
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield stack
    finally:
        stack.stop()


def work(stack: Stack) -> str:
    """`kaart mail work --once` with the stack's settings; what it printed."""
    kaart = Path(sys.executable).with_name("kaart")
    done = subprocess.run(
        [str(kaart), "mail", "work", "--once"],
        env=stack.environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stderr


@pytest.fixture
def planner(engine: Engine, deployed_db) -> str:
    with Session(engine) as session, session.begin():
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")
    return PLANNER


def _link(message, part: str) -> str:
    return next(u for u in links_in(message) if part in u)


def _submit_with_address(page: Page, stack: Stack, title: str) -> str:
    page.goto(stack.url + "/")
    expect(page.locator("body")).to_have_attribute("data-contributions-state", "idle")
    start_adding(page, "Punt")
    place_point_with_keyboard(page)
    fill_form(page, "Idee", title, "Een bank om even uit te rusten.")
    page.get_by_label("E-mailadres (niet verplicht)").fill(RESIDENT)
    _edit_url, path = submit(page)
    return path.rsplit("/", 1)[1]


def _change_status(browser, stack: Stack, contribution_id: str) -> None:
    with browser_tab(browser) as staff:
        staff.goto(f"{stack.url}/inloggen")
        staff.get_by_label("E-mailadres").fill(PLANNER)
        staff.get_by_label("Wachtwoord").fill(PASSWORD)
        staff.get_by_role("button", name="Inloggen").click()
        expect(staff.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()
        staff.goto(f"{stack.url}/beheer/bijdragen/{contribution_id}")
        staff.get_by_label("Nieuwe status").select_option("in_behandeling")
        staff.locator("#response").fill(RESPONSE)
        staff.locator("#status-form button[type=submit]").click()
        expect(staff.get_by_text(RESPONSE).first).to_be_visible()


def test_a_resident_is_kept_in_the_loop_by_mail(
    browser, page: Page, mail_stack: Stack, smtp_port: int, planner: str, engine: Engine
):
    with smtp_server(smtp_port) as inbox:
        contribution_id = _submit_with_address(page, mail_stack, "Bankje bij de brug")
        assert "1 sent" in work(mail_stack)
        (receipt,) = inbox.to(RESIDENT)
        assert receipt["From"] == "Wijkkaart Weesp <wijkkaart@weesp.example>"
        assert receipt["Subject"] == "Uw bijdrage is ontvangen: Bankje bij de brug"
        # The confirmation link from the message, followed in the browser.
        page.goto(_link(receipt, "/e-mail/bevestigen/"))
        expect(page.get_by_role("heading", name="Bevestigd")).to_be_visible()
        # The private link from the message opens the author's page.
        page.goto(_link(receipt, "/bewerken#token="))
        expect(page.get_by_label("Titel")).to_have_value("Bankje bij de brug")

    # The mail server is down while the planner answers: nothing is lost.
    _change_status(browser, mail_stack, contribution_id)
    assert "1 to retry" in work(mail_stack)
    with smtp_server(smtp_port) as inbox:
        time.sleep(1.5)  # the first retry waits KAART_MAIL_RETRY_SECONDS
        assert "1 sent" in work(mail_stack)
        assert "0 sent" in work(mail_stack)
        (update,) = inbox.to(RESIDENT)
        assert update["Subject"] == "Nieuws over: Bankje bij de brug"
        assert RESPONSE in text_of(update) and "In behandeling" in text_of(update)
        page.goto(_link(update, f"/bijdragen/{contribution_id}"))
        expect(page.get_by_role("heading", name="Bankje bij de brug")).to_be_visible()
        expect(page.get_by_text(RESPONSE).first).to_be_visible()

        # "Stuur mijn links": every link of this address.
        second = _submit_with_address(page, mail_stack, "Boom op het plein")
        work(mail_stack)
        inbox.messages.clear()
        page.goto(f"{mail_stack.url}/stuur-mijn-links")
        page.get_by_label("Uw e-mailadres").fill(RESIDENT)
        page.get_by_role("button", name="Stuur mijn links").click()
        expect(page.get_by_role("heading", name="Kijk in uw mailbox")).to_be_visible()
        work(mail_stack)
        (links,) = inbox.to(RESIDENT)
        edit_links = [u for u in links_in(links) if "/bewerken#token=" in u]
        assert {u.split("/bijdragen/")[1].split("/")[0] for u in edit_links} == {
            contribution_id,
            second,
        }
        page.goto(next(u for u in edit_links if second in u))
        expect(page.get_by_label("Titel")).to_have_value("Boom op het plein")

    _no_address_in_public_output(mail_stack, contribution_id)


def _no_address_in_public_output(stack: Stack, contribution_id: str) -> None:
    urls = [
        f"/api/v1/contributions/{contribution_id}",
        "/api/v1/contributions?bbox=5.0,52.29,5.08,52.32",
        f"/bijdragen/{contribution_id}",
        "/ogc/collections/contributions/items?limit=100&f=json",
        f"/open311/v2/requests/{contribution_id}.json?jurisdiction_id=wijkkaart",
        "/open311/v2/requests.json?jurisdiction_id=wijkkaart",
        "/feeds/buurten/BU0363SD03.atom",
        "/feeds/categorieen/idee.atom",
        f"/bijdragen/{contribution_id}/feed.atom",
    ]
    for url in urls:
        r = requests.get(stack.url + url, timeout=10)
        assert r.status_code == 200, (url, r.status_code)
        assert RESIDENT not in r.text and "weesp.example" not in r.text, url


def test_an_area_follower_gets_a_digest_of_new_input(
    browser, page: Page, mail_stack: Stack, smtp_port: int, engine: Engine, deployed_db
):
    with smtp_server(smtp_port) as inbox:
        page.goto(f"{mail_stack.url}/volgen")
        expect(page.locator("#follow-map.leaflet-container")).to_be_visible()
        page.locator("#follow-map").focus()
        page.keyboard.press("ArrowRight")
        expect(page.locator("#use-area")).to_be_checked()
        centre = [float(page.locator(f"#near_{axis}").input_value()) for axis in ("lon", "lat")]
        page.get_by_label("Uw e-mailadres").fill(FOLLOWER)
        page.get_by_label("Eén keer per dag").check()
        page.get_by_role("button", name="Volg", exact=True).click()
        expect(page.get_by_role("heading", name="Kijk in uw mailbox")).to_be_visible()
        work(mail_stack)
        (confirmation,) = inbox.to(FOLLOWER)
        page.goto(_link(confirmation, "/e-mail/bevestigen/"))
        expect(page.get_by_role("heading", name="Bevestigd")).to_be_visible()

        for title, place in (("Plantenbak", centre), ("Ver weg", [4.8929, 52.3731])):
            r = requests.post(
                f"{mail_stack.url}/api/v1/contributions",
                json={
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": place},
                    "properties": {"category": "groen", "title": title},
                },
                timeout=10,
            )
            assert r.status_code == 201
        work(mail_stack)
        assert len(inbox.to(FOLLOWER)) == 1  # a daily digest: not yet
        # A day passes (for the subscription: it was confirmed a day ago).
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE subscription SET confirmed_at = confirmed_at - interval '25 hours'")
            )
        assert re.search(r"[1-9]\d* written", work(mail_stack))
        digest = inbox.to(FOLLOWER)[-1]
        assert digest["Subject"] == "Wat er nieuw is (1)"
        assert "Plantenbak" in text_of(digest) and "Ver weg" not in text_of(digest)
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # One click from the mail program (no cookie, no form) ends it.
        target = digest["List-Unsubscribe"].strip("<>")
        assert requests.post(target, data="List-Unsubscribe=One-Click", timeout=10).ok
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM subscription")).scalar_one() == 0
