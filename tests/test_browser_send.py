"""Sending safely, in Chromium against the live app on PostGIS: the map's form, a process page
and a photo upload send an Idempotency-Key, send the same key again when a 503 or a lost
connection makes them retry (so the write is stored once and the resident gets the one edit
link), a new key for a new or corrected write, and a 429 says how long to wait without
retrying by itself. The browser's routing stands in for the faults; the database is real."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine, text

from kaart.config import Settings
from tests.conftest import serving
from tests.fixtures.outputs.seed import add_process
from tests.places import HET_GROTE_PLEIN, feature, point

pytestmark = pytest.mark.browser

CONTRIBUTIONS = re.compile(r"/api/v1/contributions$")
PHOTOS = re.compile(r"/api/v1/contributions/[0-9a-f-]+/photos$")
RETRYING = "De verbinding is even weg. We proberen het over 1 seconde opnieuw…"
UNAVAILABLE = {
    "type": "about:blank",
    "title": "Service unavailable",
    "status": 503,
    "detail": "The database cannot be reached right now; try again in a few seconds.",
    "errors": [{"field": "service", "reason": "down", "code": "unavailable"}],
}
TOO_MANY = {
    "type": "about:blank",
    "title": "Too many requests",
    "status": 429,
    "detail": "Too many contributions from here; wait a while and try again.",
    "errors": [{"field": "rate", "reason": "too many", "code": "rate_limited"}],
}


@pytest.fixture(autouse=True)
def forget_rate_events(engine: Engine) -> Iterator[None]:
    """The live server counts writes per address: leave the budget as it was found."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_event"))


class Posts:
    """Routes a write's URL: records each POST's Idempotency-Key and lets `faults` (one per
    attempt: "503", "429", "lost" — stored, but the answer never arrives — or "reset" — never
    arrives) answer the first attempts; the rest reach the live server."""

    def __init__(self, page: Page, url: re.Pattern, *faults: str) -> None:
        self.keys: list[str | None] = []
        self.first_answer: dict | None = None
        self.faults = list(faults)
        page.route(url, self.handle)

    def handle(self, route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        self.keys.append(route.request.headers.get("idempotency-key"))
        fault = self.faults.pop(0) if self.faults else None
        if fault == "503":
            problem(route, 503, UNAVAILABLE, retry_after="1")
        elif fault == "429":
            problem(route, 429, TOO_MANY, retry_after="120")
        elif fault == "reset":
            route.abort("connectionreset")
        elif fault == "lost":
            answer = route.fetch()  # the server stores it ...
            self.first_answer = answer.json()
            route.abort("connectionreset")  # ... and the resident never hears back
        else:
            route.continue_()


def problem(route: Route, status: int, body: dict, retry_after: str) -> None:
    route.fulfill(
        status=status,
        headers={"Retry-After": retry_after},
        content_type="application/problem+json",
        body=json.dumps(body),
    )


def watch_texts(page: Page, selector: str) -> None:
    """Keep every text a live region shows (the retry message is there for about a second)."""
    page.evaluate(
        """(selector) => {
            const node = document.querySelector(selector);
            window.shownTexts = [];
            new MutationObserver(() => {
                if (node.textContent) window.shownTexts.push(node.textContent);
            }).observe(node, { childList: true, characterData: true, subtree: true });
        }""",
        selector,
    )


def shown_texts(page: Page) -> list[str]:
    return page.evaluate("window.shownTexts")


def is_uuid(value: str | None) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError):
        return False


def contributions(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id::text AS id, title FROM contribution ORDER BY title"))
        return [dict(row._mapping) for row in rows]


# -- The map's form ----------------------------------------------------------------------------


def open_form(page: Page, live_server: str, title: str) -> None:
    """The map, a point at its centre (keyboard route), the form filled in."""
    page.goto(f"{live_server}/")
    expect(page.locator("body")).to_have_attribute("data-contributions-state", "idle")
    page.get_by_role("button", name="Bijdrage toevoegen").click()
    page.get_by_role("button", name=re.compile(r"^Punt\b")).click()
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    expect(page.get_by_role("heading", name="Vertel erover")).to_be_visible()
    page.get_by_role("radio", name="Idee", exact=True).check()
    page.get_by_label("Titel").fill(title)


def sent(page: Page) -> str:
    """The success step is shown; returns the private edit link."""
    expect(page.get_by_role("heading", name="Bedankt!")).to_be_visible()
    edit_link = page.get_by_label("Uw persoonlijke bewerklink").input_value()
    assert re.search(r"/bijdragen/[0-9a-f-]{36}/bewerken#token=[\w-]{40,}$", edit_link)
    return edit_link


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_the_form_retries_a_503_or_a_reset_connection_with_the_same_key(
    page: Page, live_server: str, clean_db: Engine, fault: str
):
    open_form(page, live_server, "Bankje bij de Vecht")
    posts = Posts(page, CONTRIBUTIONS, fault)
    status = page.locator("#add-send-status")
    expect(status).to_have_attribute("role", "status")  # read out by screen readers
    expect(status).to_be_empty()
    watch_texts(page, "#add-send-status")
    page.get_by_role("button", name="Versturen").click()
    edit_link = sent(page)

    assert len(posts.keys) == 2 and is_uuid(posts.keys[0])
    assert posts.keys[1] == posts.keys[0]
    said = shown_texts(page)
    assert said and said[0].startswith("De verbinding is even weg. We proberen het over")
    if fault == "503":
        assert said[0] == RETRYING  # Retry-After: 1
    expect(status).to_be_empty()  # the message goes once it is sent
    [stored] = contributions(clean_db)
    assert stored["title"] == "Bankje bij de Vecht" and stored["id"] in edit_link


def test_without_random_uuid_the_key_is_still_a_random_v4_uuid(
    page: Page, live_server: str, clean_db: Engine
):
    """crypto.randomUUID exists only in secure contexts; a demo on http://<LAN address> has
    just getRandomValues."""
    page.add_init_script("delete Crypto.prototype.randomUUID")
    open_form(page, live_server, "Zonder randomUUID")
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    posts = Posts(page, CONTRIBUTIONS)
    page.get_by_role("button", name="Versturen").click()
    sent(page)
    [key] = posts.keys
    assert is_uuid(key) and uuid.UUID(key).version == 4
    assert [c["title"] for c in contributions(clean_db)] == ["Zonder randomUUID"]


def test_a_write_stored_but_never_acknowledged_is_not_stored_twice(
    page: Page, live_server: str, clean_db: Engine
):
    """The server commits, the connection drops before the answer: the retry's key finds the
    first answer, so the resident gets that contribution's id and edit link."""
    open_form(page, live_server, "Wadi op het plein")
    posts = Posts(page, CONTRIBUTIONS, "lost")
    replays: list[str | None] = []
    page.on(
        "response",
        lambda r: (
            replays.append(r.headers.get("idempotent-replayed"))
            if CONTRIBUTIONS.search(r.url) and r.request.method == "POST"
            else None
        ),
    )
    page.get_by_role("button", name="Versturen").click()
    edit_link = sent(page)

    assert len(posts.keys) == 2 and posts.keys[0] == posts.keys[1]
    assert replays == ["true"]  # the second attempt got the stored answer
    first = posts.first_answer
    assert edit_link.endswith(first["edit_url"])  # the same id and the same token
    assert [c["id"] for c in contributions(clean_db)] == [first["id"]]


def test_sending_again_by_hand_after_the_retries_gave_up_keeps_the_key(
    page: Page, live_server: str, clean_db: Engine
):
    """Stored, then no answer to that or to the two automatic retries: the resident is told
    there is no connection, keeps what was typed, and "Versturen" again gets the first answer."""
    open_form(page, live_server, "Speeltoestel")
    posts = Posts(page, CONTRIBUTIONS, "lost", "reset", "reset")
    page.get_by_role("button", name="Versturen").click()
    summary = page.get_by_role("alert").filter(has_text="Controleer het volgende")
    expect(summary).to_contain_text("Geen verbinding met de server")
    expect(page.get_by_label("Titel")).to_have_value("Speeltoestel")
    assert len(posts.keys) == 3

    page.get_by_role("button", name="Versturen").click()
    edit_link = sent(page)
    assert len(posts.keys) == 4 and len(set(posts.keys)) == 1 and is_uuid(posts.keys[0])
    assert edit_link.endswith(posts.first_answer["edit_url"])
    assert [c["id"] for c in contributions(clean_db)] == [posts.first_answer["id"]]


def test_a_new_or_corrected_contribution_gets_a_new_key(
    page: Page, live_server: str, clean_db: Engine
):
    posts: list[tuple[str | None, str]] = []  # (key, body) of every POST
    page.on(
        "request",
        lambda r: (
            posts.append((r.headers.get("idempotency-key"), r.post_data))
            if CONTRIBUTIONS.search(r.url) and r.method == "POST"
            else None
        ),
    )

    def another(category: str) -> None:
        page.get_by_role("button", name="Nog een bijdrage").click()
        page.get_by_role("button", name=re.compile(r"^Punt\b")).click()
        page.get_by_role("button", name="Gebruik het midden van de kaart").click()
        page.get_by_role("radio", name=category, exact=True).check()

    open_form(page, live_server, "Eerste idee")
    page.get_by_role("button", name="Versturen").click()
    sent(page)
    # The very same contribution once more, on purpose: stored again, so a new key.
    another("Idee")
    page.get_by_label("Titel").fill("Eerste idee")
    page.get_by_role("button", name="Versturen").click()
    sent(page)
    assert posts[1][1] == posts[0][1]

    another("Groen")
    title = page.get_by_label("Titel")
    title.evaluate("(input, value) => { input.value = value; }", "x" * 121)  # past maxlength
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#title-error")).to_have_text(
        "De titel is te lang: gebruik hoogstens 120 tekens."
    )
    # Corrected after the refusal: another request body, so another key.
    title.fill("Tweede idee")
    page.get_by_role("button", name="Versturen").click()
    sent(page)

    keys = [key for key, _body in posts]
    assert len(keys) == 4 and all(is_uuid(k) for k in keys)
    assert len(set(keys)) == 4
    titles = [c["title"] for c in contributions(clean_db)]
    assert titles == ["Eerste idee", "Eerste idee", "Tweede idee"]


def test_too_many_requests_says_how_long_to_wait_and_does_not_retry_by_itself(
    page: Page, live_server: str, clean_db: Engine
):
    open_form(page, live_server, "Nog een bankje")
    posts = Posts(page, CONTRIBUTIONS, "429")
    page.get_by_role("button", name="Versturen").click()
    summary = page.get_by_role("alert").filter(has_text="Controleer het volgende")
    expect(summary).to_contain_text(
        "Er is in korte tijd veel verstuurd vanaf uw adres. Probeer het over 2 minuten opnieuw."
    )
    # The send is over (the form is no longer busy) after that one attempt.
    expect(page.locator("#add-form")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("button", name="Versturen")).to_be_enabled()
    assert len(posts.keys) == 1
    assert page.locator("#add-send-status").text_content() == ""
    assert contributions(clean_db) == []
    expect(page.get_by_label("Titel")).to_have_value("Nog een bankje")  # what was typed stays

    # Sent again by the resident once the wait is over: the same write, with the same key.
    page.get_by_role("button", name="Versturen").click()
    sent(page)
    assert len(posts.keys) == 2 and posts.keys[1] == posts.keys[0] and is_uuid(posts.keys[0])
    assert [c["title"] for c in contributions(clean_db)] == ["Nog een bankje"]

    # In English too, in plain words.
    page.goto(f"{live_server}/?lang=en")
    expect(page.locator("body")).to_have_attribute("data-contributions-state", "idle")
    page.get_by_role("button", name="Add a contribution").click()
    page.get_by_role("button", name=re.compile(r"^Point\b")).click()
    page.get_by_role("button", name="Use the centre of the map").click()
    page.get_by_role("radio", name="Idea", exact=True).check()
    page.get_by_label("Title").fill("Another bench")
    Posts(page, CONTRIBUTIONS, "429")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#error-summary")).to_contain_text("Please try again in 2 minutes.")


# -- A process page ----------------------------------------------------------------------------


@pytest.fixture
def open_process(engine: Engine, clean_db: Engine) -> Iterator[str]:
    """A process open for contributions around Het Grote Plein; its slug."""
    with engine.begin() as conn:
        add_process(
            conn, slug="plein-groen", starts_on=date(2020, 1, 1), ends_on=date(2099, 12, 31)
        )
    yield "plein-groen"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM contribution"))
        conn.execute(text("DELETE FROM process WHERE slug = 'plein-groen'"))


def test_a_process_contribution_is_retried_with_the_same_key(
    page: Page, live_server: str, open_process: str, clean_db: Engine
):
    page.goto(f"{live_server}/trajecten/{open_process}")
    lon, lat = HET_GROTE_PLEIN
    page.evaluate(f"kaartMap.setView([{lat}, {lon}], 17, {{animate: false}})")
    page.get_by_role("button", name="Gebruik het midden van de kaart").click()
    page.get_by_role("radio", name="Groen").check()
    page.get_by_label("Titel").fill("Bomen op het plein")
    posts = Posts(page, CONTRIBUTIONS, "reset")
    watch_texts(page, "#contribute-send-status")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#contribute-done")).to_contain_text("Uw bijdrage staat op de kaart")

    assert len(posts.keys) == 2 and is_uuid(posts.keys[0]) and posts.keys[1] == posts.keys[0]
    assert shown_texts(page)[0].startswith("De verbinding is even weg.")
    [stored] = contributions(clean_db)
    assert stored["title"] == "Bomen op het plein"
    assert page.locator("#contribute-view-link").get_attribute("href").endswith(stored["id"])


# -- A photo upload ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo_server(settings: Settings, engine: Engine, tmp_path_factory) -> Iterator[str]:
    """The app with its photos in a temporary folder."""
    with serving(settings.replace(upload_dir=tmp_path_factory.mktemp("uploads"))) as url:
        yield url


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (46, 125, 50)).save(out, format="JPEG")
    return out.getvalue()


def test_a_photo_upload_is_retried_with_the_same_key_and_stored_once(
    page: Page, photo_server: str, clean_db: Engine, tmp_path
):
    created = page.request.post(
        f"{photo_server}/api/v1/contributions",
        data=json.dumps(feature(point(HET_GROTE_PLEIN), category="groen", title="Boom")),
        headers={"Content-Type": "application/geo+json"},
    )
    assert created.status == 201
    body = created.json()
    page.goto(photo_server + body["edit_url"])
    photo = tmp_path / "boom.jpg"
    photo.write_bytes(jpeg())
    posts = Posts(page, PHOTOS, "503")
    watch_texts(page, "#photo-status")
    page.set_input_files("#photo-file", str(photo))
    page.click("#photo-upload")
    expect(page.locator("#photo-status")).to_have_text("Foto toegevoegd.")
    expect(page.locator("#photo-list img")).to_have_count(1)

    assert len(posts.keys) == 2 and is_uuid(posts.keys[0]) and posts.keys[1] == posts.keys[0]
    assert RETRYING in shown_texts(page)
    with clean_db.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM photo WHERE contribution_id = :id"), {"id": body["id"]}
        ).scalar_one()
    assert count == 1
