"""Real PostGIS, real Chromium. Nothing here skips: a missing service fails the run."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from werkzeug.serving import make_server

from geodata.load import load_layer
from geodata.sources import amsterdam_buurten
from kaart import create_app
from kaart.config import Settings
from kaart.schema import fresh_database
from tests.layers_fixture import PANDEN_COLUMNS, make_layer, make_weesp_addresses, weesp_panden
from tests.stack import PrivateCluster, Stack, StackError

CHROMIUM = os.environ.get("KAART_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# -- The suite fails, never skips -------------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped; database and browser tests must run.",
            red=True,
        )


# -- Database -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh database for this run, next to the one KAART_DATABASE_URL names."""
    base = os.environ.get("KAART_DATABASE_URL")
    if not base:
        pytest.fail("KAART_DATABASE_URL is not set: run the tests with `make test`", pytrace=False)
    # KAART_TEST_DB_SUFFIX lets two runs on one cluster keep out of each other's way.
    return fresh_database(base, os.environ.get("KAART_TEST_DB_SUFFIX", "test"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    # The demo buurten, so contributions get their buurt/wijk/gemeente codes as in production.
    load_layer(
        engine, "amsterdam-buurten", path=amsterdam_buurten.DEMO_FILE, progress=lambda _m: None
    )
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction, rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture(scope="session", autouse=True)
def tiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where this run's tile archives go (`kaart tiles build`, also after `kaart layers load`):
    KAART_TILES_DIR for the commands tests run, and `settings` for the app; never var/tiles."""
    path = tmp_path_factory.mktemp("tiles")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAART_TILES_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def settings(database_url: str, tiles_dir: Path) -> Settings:
    # No basemap: tests never leave this machine.
    # A light argon2 cost: the suite hashes many passwords; the code path is the same.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        basemap_url="",
        password_hash_time_cost=1,
        password_hash_memory_kib=8_192,
        tiles_dir=tiles_dir,
    )


@pytest.fixture
def app(settings: Settings, connection: Connection):
    return create_app({"settings": settings, "db_bind": connection})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def weesp_homes(connection: Connection) -> str:
    """The demo's BAG addresses as the address layer, in the test's transaction: the location
    privacy rule (kaart/services/privacy.py) then knows where the homes are. Without an address
    layer every point is published generalised, as the centre of its 50 m cell."""
    return make_weesp_addresses(connection)


@pytest.fixture
def count_rows(connection: Connection):
    """How many rows a table has, seen from inside the test's transaction."""

    def count(table: str = "contribution") -> int:
        assert table.isidentifier()
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()

    return count


# -- A running server and a real browser ------------------------------------------------------


def closing_bodies(app):
    """The WSGI app, with every response body closed even when the browser drops the request.

    Werkzeug's development server closes a body only after draining the socket, and that read
    raises when Chromium has reset the connection (a request it cancelled), so a static file's
    handle was left to the garbage collector (a ResourceWarning, an error under
    filterwarnings=error). gunicorn, which production runs, closes the body itself."""

    def wrapped(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return wrapped


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """An app with these settings on a free local port, in a thread; yields its base URL."""
    app = create_app({"settings": settings})
    server = make_server("127.0.0.1", 0, closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["kaart.db"]["engine"].dispose()


@pytest.fixture(scope="session")
def live_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app on a real port, on the test database (writes are committed, see clean_db)."""
    with serving(settings) as url:
        yield url


@pytest.fixture(scope="session")
def deployed(database_url: str, engine: Engine) -> Iterator[Stack]:
    """The app as deployed, on the test database: `kaart serve` (gunicorn, 2 workers, no
    KAART_SECRET_KEY) behind nginx (deploy/nginx.conf). `deployed.url` goes through nginx.
    Writes are committed: tests clean up with `deployed_db`."""
    yield from running_stack(database_url)


def running_stack(database_url: str, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A started Stack for a fixture to yield; the test fails with the logs if it does not start."""
    stack = Stack(database_url, env)
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of its own that fault tests may stop and restart."""
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
    except StackError as exc:
        cluster.remove()
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.remove()


@pytest.fixture(scope="session")
def private_db(private_cluster: PrivateCluster) -> Iterator[Engine]:
    """A migrated database on the private cluster (pre-ping: it outlives the restarts)."""
    url = fresh_database(private_cluster.url("wijkkaart"), "faults")
    engine = create_engine(url, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def private_stack(private_db: Engine) -> Iterator[Stack]:
    """The deployed stack on the private cluster; no rate limit gets in the way of its load."""
    url = private_db.url.render_as_string(hide_password=False)
    yield from running_stack(url, {"KAART_CONTRIBUTIONS_PER_HOUR": "100000000"})


@pytest.fixture
def deployed_db(engine: Engine) -> Iterator[Engine]:
    """For tests against a deployed stack: remove everything they committed."""
    yield engine
    with engine.begin() as conn:
        tables = ("contribution", "process", "app_user", "rate_event", "idempotency_key")
        for table in (*tables, "mail_address", "outbox"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def panden(connection: Connection) -> str:
    """Weesp Centrum's 1,271 BAG panden as an open layer inside the test's transaction, drawn
    from zoom 14 as the loader records buildings."""
    make_layer(
        connection,
        "weesp-panden",
        weesp_panden(),
        columns=PANDEN_COLUMNS,
        min_zoom=14,
        title="Panden (BAG)",
    )
    return "weesp-panden"


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """For tests against the live server: remove the contributions, initiatives, adoptions and
    pacts they committed, the answers kept for their Idempotency-Keys (the map's form sends one
    with every write) and e-mail."""
    yield engine
    with engine.begin() as conn:
        # What residents and staff made together (issue 15): pacts before their parties.
        for table in ("pact", "party", "initiative", "adoption"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM contribution"))
        conn.execute(text("DELETE FROM idempotency_key"))
        # E-mail written by the server: addresses (their subscriptions go with them), the outbox.
        conn.execute(text("DELETE FROM mail_address"))
        conn.execute(text("DELETE FROM outbox"))


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run the tests with `make test`", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@contextmanager
def browser_tab(browser, **options) -> Iterator:
    """A tab in a fresh browser context (no cookies); fails on any JavaScript error on it."""
    options = {"locale": "nl-NL", "viewport": {"width": 1280, "height": 860}} | options
    context = browser.new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, live_server: str, clean_db):
    """A fresh browser tab on the in-process server."""
    with browser_tab(browser) as tab:
        yield tab


@pytest.fixture
def deployed_page(browser, deployed: Stack, deployed_db):
    """A fresh browser tab for the deployed stack."""
    with browser_tab(browser) as tab:
        yield tab
