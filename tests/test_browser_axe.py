"""WCAG 2.1 AA by axe-core (issue 12): every page and state that renders HTML, in Dutch and
English, at 1280 and 320 CSS px, for residents and for each staff role — zero violations.

axe-core comes from npm with the other front-end libraries (scripts/vendor-assets copies it to
static/vendor/axe/); only this test injects it, no template loads it.

PAGES lists the page views. `test_every_html_page_is_checked` walks the app's URL map and fails
when a GET route that renders HTML is neither in PAGES nor in EXEMPT (with its reason), so a new
page cannot slip past the check.

Run: `make test` (with the other browser tests) or
`scripts/with-db .venv/bin/python -m pytest -m browser tests/test_browser_axe.py`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart import create_app
from kaart.i18n import catalogue
from kaart.mail import links
from kaart.services import demo_pact, users
from tests import initiative_axe
from tests.dialogue_fixtures import PASSWORD
from tests.fixtures.outputs.seed import add_process, seed_weesp

AXE = Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ("nl", "en")
WIDTHS = (1280, 320)
EDIT_TOKEN = "axe-edit-token-0123456789abcdef"
SECRET = "test-secret"  # the live server's (tests/conftest.py `settings`)

# Staff who log in through the form (the seed's own users have no usable password).
STAFF = {
    "admin": "axe-admin@weesp.example",
    "planner": "axe-planner@weesp.example",
    "moderator": "axe-moderator@weesp.example",
}


@dataclass
class Ids:
    """The seeded rows that paths name."""

    process: uuid.UUID
    process_slug: str
    closed_slug: str
    contribution: uuid.UUID
    line: uuid.UUID
    hidden: uuid.UUID
    # Signed links from messages (kaart/mail/links.py): purpose -> token.
    mail: dict[str, str] = field(default_factory=dict)


# Any well-formed ids: enough to match paths against the URL map without a database.
PLACEHOLDER = Ids(
    uuid.uuid4(),
    "plein",
    "dicht",
    uuid.uuid4(),
    uuid.uuid4(),
    uuid.uuid4(),
    {p: "x.y" for p in ("confirm", "unsubscribe", "manage", "satisfaction", "staff")},
)


# -- States: what a test does on a loaded page before axe looks at it -------------------------


def wait_for_map(page: Page) -> None:
    page.wait_for_selector(".leaflet-container")
    page.wait_for_load_state("networkidle")


def add_form_open(page: Page) -> None:
    """The main map's add flow: a point placed at the centre, the form shown."""
    wait_for_map(page)
    page.locator("#add-start").click()
    page.locator('.shape-choice[data-shape="Marker"]').click()
    page.locator("#draw-center").click()
    expect(page.locator("#step-form")).to_be_visible()


def drawing_area(page: Page) -> None:
    """The main map's add flow while an area is drawn: two vertices with their handles."""
    wait_for_map(page)
    page.locator("#add-start").click()
    page.locator('.shape-choice[data-shape="Polygon"]').click()
    page.locator("#draw-center").click()
    page.mouse.move(0, 0)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    expect(page.locator("#draw-undo")).to_be_visible()


def process_drawing(page: Page) -> None:
    """A process page while a resident draws an area (Geoman's handles on the map)."""
    wait_for_map(page)
    page.locator('#process-contribute [data-shape="Polygon"]').click()
    box = page.locator("#process-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)


def swagger_ready(page: Page) -> None:
    page.wait_for_selector("#apidocs .opblock")


def swagger_operation_open(page: Page) -> None:
    swagger_ready(page)
    page.locator("#apidocs .opblock-summary-control").first.click()
    page.wait_for_selector("#apidocs .opblock-body")


def wrong_password(page: Page) -> None:
    page.fill("#email", "niemand@weesp.example")
    page.fill("#password", "fout wachtwoord")
    page.locator("form.beheer-form button[type=submit]").click()
    expect(page.locator("#login-error")).to_be_visible()


def follow_map_ready(page: Page) -> None:
    expect(page.locator("#follow-map.leaflet-container")).to_be_visible()


def submit_follow_empty(page: Page) -> None:
    """The follow form sent with an address but nothing chosen to follow: field errors."""
    follow_map_ready(page)
    page.fill("#email", "bewoner@example.nl")
    page.locator("#use-area").uncheck()
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#form-errors")).to_be_visible()


def overview_map_ready(page: Page) -> None:
    # The map's frame loads lazily: on a narrow screen below a long staff menu, once the user
    # scrolls to it, as here.
    page.locator("iframe").scroll_into_view_if_needed()
    frame = page.frame_locator("iframe")
    expect(frame.locator(".leaflet-container")).to_be_visible()


def ogc_map_ready(page: Page) -> None:
    if page.locator("#map").count():
        page.wait_for_selector("#map.leaflet-container")
    page.wait_for_load_state("networkidle")


def opened_menu(page: Page) -> None:
    toggle = page.locator(".site-nav__toggle, #nav-toggle").first
    if toggle.is_visible():
        toggle.click()


# -- The page views -----------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    path: str | Callable[[Ids], str]
    role: str | None  # None: a resident, not logged in
    state: str
    prepare: Callable[[Page], None] | None = None
    status: int = 200

    def url(self, ids: Ids) -> str:
        return self.path(ids) if callable(self.path) else self.path

    @property
    def id(self) -> str:
        path = self.path if isinstance(self.path, str) else self.path(PLACEHOLDER)
        path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "ID", path)
        return f"{self.role or 'resident'}:{path}:{self.state}"


def contribution_page(ids: Ids) -> str:
    return f"/bijdragen/{ids.contribution}"


RESIDENT = [
    View("/", None, "the map", wait_for_map),
    View("/", None, "adding: the form after placing a point", add_form_open),
    View("/", None, "adding: drawing an area", drawing_area),
    View(contribution_page, None, "a contribution with response, comments and history"),
    View(lambda i: f"/bijdragen/{i.line}", None, "a line in a process, being handled"),
    View(lambda i: f"/bijdragen/{i.hidden}", None, "a hidden contribution", status=404),
    View(
        lambda i: f"/bijdragen/{i.contribution}/bewerken#token={EDIT_TOKEN}",
        None,
        "editing with the private link",
        wait_for_map,
    ),
    View("/trajecten", None, "the processes"),
    View(lambda i: f"/trajecten/{i.process_slug}", None, "an open process", wait_for_map),
    View(lambda i: f"/trajecten/{i.process_slug}", None, "drawing on a process", process_drawing),
    View(lambda i: f"/trajecten/{i.closed_slug}", None, "a closed process", wait_for_map),
    View("/coop", None, "the co-operative's map", wait_for_map),
    View("/privacy", None, "the privacy statement"),
    View("/toegankelijkheid", None, "the accessibility statement"),
    View("/inloggen", None, "the login form"),
    View("/inloggen", None, "a failed login", wrong_password),
    View("/api/v1/docs", None, "the API documentation", swagger_ready),
    View("/api/v1/docs", None, "the API documentation, an operation open", swagger_operation_open),
    View("/ogc/?f=html", None, "OGC landing page"),
    View("/ogc/api?f=html", None, "OGC API documentation", swagger_ready),
    View("/ogc/conformance?f=html", None, "OGC conformance"),
    View("/ogc/collections?f=html", None, "OGC collections"),
    View("/ogc/collections/contributions?f=html", None, "OGC collection", ogc_map_ready),
    View("/ogc/collections/contributions/items?f=html", None, "OGC items", ogc_map_ready),
    View(
        lambda i: f"/ogc/collections/contributions/items/{i.contribution}?f=html",
        None,
        "OGC item",
        ogc_map_ready,
    ),
    View("/bestaat-niet", None, "page not found", status=404),
    View("/volgen", None, "following by e-mail: a buurt or an area", follow_map_ready),
    View("/volgen", None, "following by e-mail: field errors", submit_follow_empty),
    View(lambda i: f"/volgen?contribution={i.contribution}", None, "following a contribution"),
    View("/stuur-mijn-links", None, "send my links"),
    View(lambda i: f"/e-mail/bevestigen/{i.mail['confirm']}", None, "a follow confirmed"),
    View(lambda i: f"/e-mail/afmelden/{i.mail['unsubscribe']}", None, "unsubscribe: the question"),
    View(lambda i: f"/e-mail/volgen/{i.mail['manage']}", None, "what an address follows"),
    View(
        lambda i: f"/e-mail/tevreden/{i.mail['satisfaction']}?antwoord=nee",
        None,
        "the satisfaction question",
    ),
    View(lambda i: f"/trajecten/{i.process_slug}/reactienota", None, "a published reactienota"),
    View(lambda i: f"/e-mail/medewerker/{i.mail['staff']}", None, "stopping the staff digest"),
    View("/wijkpact", None, "the wijkpacten"),
    View(f"/wijkpact/{demo_pact.SLUG}", None, "a wijkpact with its map", wait_for_map),
]

ADMIN = [
    View("/beheer", "admin", "the staff start page"),
    View("/beheer/overzicht", "admin", "the overview with its map", overview_map_ready),
    View(
        lambda i: f"/beheer/overzicht?proces={i.process}",
        "admin",
        "the overview of a process",
        overview_map_ready,
    ),
    View("/beheer/overzicht/kaart", "admin", "the overview's map on its own", wait_for_map),
    View(lambda i: f"/beheer/bijdragen/{i.contribution}", "admin", "a contribution", wait_for_map),
    View("/beheer/moderatie", "admin", "moderation"),
    View("/beheer/trajecten", "admin", "processes"),
    View("/beheer/trajecten/nieuw", "admin", "a new process", wait_for_map),
    View(
        lambda i: f"/beheer/trajecten/{i.process}/bewerken",
        "admin",
        "editing a process",
        wait_for_map,
    ),
    View("/beheer/standaardreacties", "admin", "standard responses"),
    View("/beheer/gebruikers", "admin", "users"),
    View("/beheer/privacy", "admin", "privacy requests"),
    View("/beheer/audit", "admin", "the audit log"),
    View("/beheer/e-mail", "admin", "e-mail that could not be sent"),
    View(lambda i: f"/beheer/reactienota/{i.process}", "admin", "the reactienota (HTML)"),
    View("/", "admin", "the map, logged in", wait_for_map),
]

PLANNER = [
    View("/beheer", "planner", "the staff start page"),
    View("/beheer/overzicht", "planner", "the overview with its map", overview_map_ready),
    View("/beheer/trajecten", "planner", "processes"),
    View(
        lambda i: f"/beheer/bijdragen/{i.contribution}", "planner", "a contribution", wait_for_map
    ),
    View("/beheer/standaardreacties", "planner", "standard responses"),
    View("/beheer/wijkpact", "planner", "wijkpact: parties, accounts, pacts"),
    View("/beheer/wijkpact/nieuw", "planner", "wijkpact: a new pact", wait_for_map),
    View(f"/beheer/wijkpact/{demo_pact.SLUG}", "planner", "wijkpact: progress forms"),
    View(
        f"/beheer/wijkpact/{demo_pact.SLUG}/afspraken/nieuw",
        "planner",
        "wijkpact: a new commitment",
        wait_for_map,
    ),
]

MODERATOR = [
    View("/beheer", "moderator", "the staff start page"),
    View("/beheer/moderatie", "moderator", "moderation"),
    View(
        lambda i: f"/beheer/bijdragen/{i.hidden}",
        "moderator",
        "a hidden contribution",
        wait_for_map,
    ),
    View("/beheer/overzicht", "moderator", "the overview with its map", overview_map_ready),
]

# Initiatives and adoptions (tests/initiative_axe.py seeds their rows).
INITIATIVES = [View(*view) for view in initiative_axe.VIEWS]
PAGES = RESIDENT + ADMIN + PLANNER + MODERATOR + INITIATIVES

# GET routes that answer with something other than an HTML page, by endpoint, with the reason.
EXEMPT = {
    "static": "CSS, JavaScript and images",
    "public.photo_file": "a photo file (JPEG)",
    "public.initiative_photo": "a photo file of an initiative's update (JPEG)",
    "health.healthz": "a JSON health check for the load balancer",
    "tiles.tile": "vector tiles (application/vnd.mapbox-vector-tile)",
    "tiles.no_tile": "an error answer (problem+json) for malformed tile paths",
    "tiles.solar_tile": "vector tiles of the co-operative's buildings",
    "archives.archive": "a prebuilt tile archive (application/vnd.pmtiles)",
    "beheer.export": "the CSV, GeoJSON or GeoPackage export (a download)",
    "beheer.adoptions_export": "the accepted adoptions as GeoPackage or CSV (a download)",
    "beheer.report_pdf": "the reactienota as PDF (a download)",
    "beheer.audit_csv": "the audit log as CSV (a download)",
    "beheer.participation_csv": "who takes part, as CSV (a download)",
    "beheer.privacy_export": "a resident's data as a ZIP file (a download)",
    "public.buurt_feed": "an Atom feed (application/atom+xml)",
    "public.process_feed": "an Atom feed (application/atom+xml)",
    "public.category_feed": "an Atom feed (application/atom+xml)",
    "public.contribution_feed": "an Atom feed (application/atom+xml)",
    "public.pact_report": "the wijkpact's voortgangsrapportage as PDF (a download)",
    "public.party_logo": "a party's logo (an image)",
}
# Whole blueprints that answer in JSON or XML only (problem+json on errors). The one HTML page
# among them, the API documentation (api.docs), is in PAGES and so counts as covered first.
EXEMPT_BLUEPRINTS = {
    "api": "the JSON API (/api/v1); its HTML documentation page is in PAGES",
    "open311": "Open311 GeoReport v2: JSON and XML documents only",
}


# -- Completeness of PAGES ----------------------------------------------------------------------


def test_every_html_page_is_checked(settings):
    app = create_app({"settings": settings})
    adapter = app.url_map.bind("localhost")
    covered = set()
    for view in PAGES:
        path = view.url(PLACEHOLDER).split("#")[0].split("?")[0]
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except Exception as exc:  # a 404 page is a state, not a route
            if view.status == 404 and "bestaat-niet" in path:
                continue
            raise AssertionError(f"{view.id} matches no route: {exc!r}") from exc
        covered.add(endpoint)
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in covered or rule.endpoint in EXEMPT or blueprint in EXEMPT_BLUEPRINTS:
            continue
        missing.append(f"{rule.rule} ({rule.endpoint})")
    assert not missing, (
        "GET routes neither in PAGES (checked by axe) nor in EXEMPT (with a reason): "
        + ", ".join(sorted(missing))
    )
    stale = [endpoint for endpoint in EXEMPT if endpoint not in app.view_functions]
    assert not stale, f"EXEMPT names endpoints that no longer exist: {stale}"


# -- Data and browsers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ids(engine: Engine, live_server: str) -> Iterator[Ids]:
    """The Weesp seed (a process with contributions in every state, comments, a response), a
    closed process, and staff of each role with a password; removed afterwards."""
    today = date.today()
    with engine.begin() as conn:
        seed = seed_weesp(conn)
        conn.execute(
            text("UPDATE process SET starts_on = :s, ends_on = :e WHERE id = :id"),
            {"s": today - timedelta(days=30), "e": today + timedelta(days=30), "id": seed.process},
        )
        add_process(
            conn,
            slug="speeltuin-afgerond",
            title="Speeltuin aan de Vecht",
            question="Wat wilt u in de speeltuin?",
            starts_on=today - timedelta(days=90),
            ends_on=today - timedelta(days=30),
        )
        conn.execute(
            text("UPDATE contribution SET edit_token_hash = :h WHERE id = :id"),
            {"h": hashlib.sha256(EDIT_TOKEN.encode()).digest(), "id": seed.ids["pluktuin"]},
        )
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            for role, email in STAFF.items():
                users.create(session, email, PASSWORD, [role], display_name=f"Axe {role}")
            demo_pact.load(session)  # the wijkpact pages, and the chain on a contribution's page
            session.commit()
        initiative_axe.seed(conn)
        conn.execute(
            text(
                "INSERT INTO commitment_contribution (commitment_id, contribution_id) "
                "SELECT id, :c FROM commitment ORDER BY due_on LIMIT 1"
            ),
            {"c": seed.ids["pluktuin"]},
        )
        slug = conn.execute(
            text("SELECT slug FROM process WHERE id = :id"), {"id": seed.process}
        ).scalar_one()
        mail = _mail_rows(conn, seed.process, seed.ids["pluktuin"])
    yield Ids(
        seed.process,
        slug,
        "speeltuin-afgerond",
        seed.ids["pluktuin"],
        seed.ids["nieuwstraat"],
        seed.ids["verborgen"],
        mail,
    )
    with engine.begin() as conn:
        initiative_axe.clean(conn)
        tables = ("contribution", "process", "app_user", "rate_event", "idempotency_key")
        for table in ("pact", "party", *tables, "outbox", "mail_address"):
            conn.execute(text(f"DELETE FROM {table}"))


def _mail_rows(conn, process_id: uuid.UUID, contribution_id: uuid.UUID) -> dict[str, str]:
    """A follower of the contribution, its satisfaction question, a published reactienota and a
    dead message; the signed links of the pages they open."""
    address = conn.execute(
        text("INSERT INTO mail_address (address) VALUES ('axe@example.nl') RETURNING id")
    ).scalar_one()
    subscription = conn.execute(
        text(
            "INSERT INTO subscription (address_id, kind, contribution_id, language) "
            "VALUES (:a, 'contribution', :c, 'nl') RETURNING id"
        ),
        {"a": address, "c": contribution_id},
    ).scalar_one()
    conn.execute(
        text("INSERT INTO satisfaction (contribution_id) VALUES (:c)"), {"c": contribution_id}
    )
    conn.execute(
        text("UPDATE process SET reactienota_published_at = now() WHERE id = :p"), {"p": process_id}
    )
    conn.execute(
        text(
            "INSERT INTO outbox (kind, to_address, language, subject, status, attempts, last_error)"
            " VALUES ('status', 'axe@example.nl', 'nl', 'Nieuws', 'dead', 8, '550 No such user')"
        )
    )
    ids = {"confirm": subscription, "unsubscribe": subscription, "manage": address}
    ids["satisfaction"] = contribution_id
    ids["staff"] = conn.execute(
        text("SELECT id FROM app_user WHERE email = :e"), {"e": STAFF["planner"]}
    ).scalar_one()
    return {purpose: links.token(SECRET, purpose, ident) for purpose, ident in ids.items()}


@dataclass
class Tabs:
    """One browser context (cookies: language, login) and tab per role and language."""

    browser: object
    server: str
    open: dict[tuple[str | None, str], tuple[object, Page, list[str]]] = field(default_factory=dict)

    def tab(self, role: str | None, lang: str) -> tuple[Page, list[str]]:
        if (role, lang) not in self.open:
            context = self.browser.new_context(
                locale="nl-NL" if lang == "nl" else "en-GB",
                viewport={"width": 1280, "height": 860},
                # axe is added as a script tag; the pages' CSP would refuse it.
                bypass_csp=True,
            )
            context.add_cookies([{"name": "kaart_lang", "value": lang, "url": self.server}])
            page = context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            if role:
                page.goto(f"{self.server}/inloggen")
                page.fill("#email", STAFF[role])
                page.fill("#password", PASSWORD)
                page.locator("form.beheer-form button[type=submit]").click()
                page.wait_for_url(re.compile(r"/beheer"))
            self.open[(role, lang)] = (context, page, errors)
        _context, page, errors = self.open[(role, lang)]
        return page, errors

    def close(self) -> None:
        for context, _page, _errors in self.open.values():
            context.close()


@pytest.fixture(scope="module")
def tabs(browser, live_server: str, ids: Ids) -> Iterator[Tabs]:
    tabs = Tabs(browser, live_server)
    yield tabs
    tabs.close()


def run_axe(page: Page) -> list[dict]:
    """axe over the page and every frame in it (each frame gets its own copy of axe)."""
    for frame in page.frames:
        frame.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: tags },
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
            }));
        }""",
        TAGS,
    )


SIDEWAYS = """() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    // Inside a map or a scrolling box the overflow is clipped: it does not move the page.
    const clipped = (e) => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== "visible") return true;
        }
        return false;
    };
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.classList.length ? "." + [...e.classList].join(".") : "");
    return [...document.body.querySelectorAll("*")]
        .filter((e) => e.getBoundingClientRect().right > width + 1)
        .filter((e) => !clipped(e))
        .filter((e) => e.parentElement.getBoundingClientRect().right <= width + 1)
        .slice(0, 8)
        .map((e) => `${name(e)} (${Math.round(e.getBoundingClientRect().right)} px)`);
}"""


# Every text a page shows or gives to assistive technology: text nodes, whole texts of the
# elements that hold a phrase, and the attributes that are read out.
PAGE_TEXTS = """() => {
    const texts = new Set();
    const add = (s) => { const t = (s || "").replace(/\\s+/g, " ").trim(); if (t) texts.add(t); };
    // Code (identifiers, property names) is the same in every language. The API docs' Swagger
    // part renders the OpenAPI document, which is written in English like the API's field
    // names; the page around it is translated.
    const skip = (e) => e.closest("script, style, noscript, template, code, #apidocs");
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        if (!skip(walker.currentNode.parentElement)) add(walker.currentNode.data);
    }
    const phrases = "p, li, label, button, a, h1, h2, h3, h4, legend, option, dt, dd, th, td, "
        + "caption, summary";
    const withoutCode = (e) => {
        if (!e.querySelector("code")) return e.textContent;
        const copy = e.cloneNode(true);
        for (const c of copy.querySelectorAll("code")) c.remove();
        return copy.textContent;
    };
    for (const e of document.body.querySelectorAll(phrases)) if (!skip(e)) add(withoutCode(e));
    for (const e of document.body.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
        for (const a of ["aria-label", "title", "placeholder", "alt"]) add(e.getAttribute(a));
    }
    return [...texts];
}"""


def _normal(text: str) -> str:
    return " ".join(text.split())


def _other_language_only(lang: str) -> dict[str, str]:
    """Texts of the other language's catalogue (text -> key) that this language never uses:
    shown on a `lang` page, such a text is a leftover. Texts with placeholders or markup are
    left out (they are never shown as they stand)."""
    own = {_normal(v) for v in catalogue(lang).values()}
    other = "en" if lang == "nl" else "nl"
    return {
        _normal(v): key
        for key, v in catalogue(other).items()
        if "{" not in v and "<" not in v and len(v.strip()) > 2 and _normal(v) not in own
    }


LEFTOVERS = {lang: _other_language_only(lang) for lang in LANGUAGES}


def untranslated(page: Page, lang: str) -> list[str]:
    """What the page shows in the other language, by the catalogue key it came from."""
    found = {LEFTOVERS[lang][t]: t for t in page.evaluate(PAGE_TEXTS) if t in LEFTOVERS[lang]}
    return [f"{key}: {text!r}" for key, text in sorted(found.items())]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            summary = " ".join((node["summary"] or "").split())[:300]
            lines.append(f"    {node['target']}: {summary}")
        if len(v["nodes"]) > 6:
            lines.append(f"    … and {len(v['nodes']) - 6} more")
    return "\n".join(lines)


CASES = [
    pytest.param(view, lang, width, id=f"{lang}-{width}-{view.id}")
    for view in PAGES
    for lang in LANGUAGES
    for width in WIDTHS
]


@pytest.mark.browser
@pytest.mark.parametrize(("view", "lang", "width"), CASES)
def test_no_axe_violations(tabs: Tabs, ids: Ids, live_server: str, view: View, lang, width):
    page, errors = tabs.tab(view.role, lang)
    page.set_viewport_size({"width": width, "height": 860})
    response = page.goto(f"{live_server}{view.url(ids)}")
    if response is None:  # the same page again, with another #fragment: load it anew
        response = page.reload()
    assert response.status == view.status, f"{view.id}: HTTP {response.status}"
    expect(page.locator("html")).to_have_attribute("lang", lang)
    if view.prepare:
        view.prepare(page)
    violations = run_axe(page)
    # Reflow (WCAG 1.4.10), which axe does not check: nothing scrolls sideways at 320 px.
    sideways = page.evaluate(SIDEWAYS) if width <= 320 else []
    # No language leftovers: nothing on a Dutch page from the English catalogue, nor the other
    # way round.
    leftovers = untranslated(page, lang)
    page_errors, errors[:] = list(errors), []
    assert not violations, f"axe on {view.id} ({lang}, {width} px):\n{describe(violations)}"
    assert not sideways, f"{view.id} ({lang}) scrolls sideways at {width} px: {sideways}"
    assert not leftovers, f"{view.id} ({lang}) shows the other language: {leftovers}"
    assert not page_errors, f"JavaScript errors on {view.id}: {page_errors}"
