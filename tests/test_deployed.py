"""Issue 10, tried as a new user would on the app as deployed: nginx in front of `kaart serve`
with two workers and no KAART_SECRET_KEY (tests/stack.py). Every fresh staff login holds and
every resident's first "Steun" counts, whichever worker answers."""

from __future__ import annotations

import re
import stat
import time

import pytest
import yaml
from playwright.sync_api import expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart import ROOT
from kaart.services import users
from kaart.views.tiles import MVT
from tests.conftest import browser_tab
from tests.dialogue_fixtures import PASSWORD
from tests.layers_fixture import make_layer
from tests.stack import NGINX_SITE
from tests.stack_client import Resident, feature
from tests.test_tiles import HET_GROTE_PLEIN_Z16, VAALSERBERG_Z14, squares
from tests.test_tiles import url as tile_url

pytestmark = [pytest.mark.browser, pytest.mark.deployed]

PLANNER = "planner-twintig@weesp.example"
TIMES = 20


def test_the_workers_share_the_secret_the_app_keeps_in_its_state_folder(deployed):
    assert "KAART_SECRET_KEY" not in deployed.environment()
    secret = deployed.state_dir / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32
    assert len(deployed.worker_pids()) == 2


def test_twenty_fresh_staff_logins_all_hold(browser, deployed, deployed_db, engine: Engine):
    with Session(engine) as session, session.begin():
        users.create(session, PLANNER, PASSWORD, ["planner"], "Petra Planner")
    mark = deployed.access_log_mark()
    for _ in range(TIMES):
        with browser_tab(browser) as tab:
            tab.goto(f"{deployed.url}/inloggen")
            tab.get_by_label("E-mailadres").fill(PLANNER)
            tab.get_by_label("Wachtwoord").fill(PASSWORD)
            tab.get_by_role("button", name="Inloggen").click()
            # /beheer after the login, and an export: signed in on every request that follows,
            # never "Geen toegang" or back to the login page.
            expect(tab.get_by_role("heading", name="Beheer", exact=True)).to_be_visible()
            export = tab.request.get(f"{deployed.url}/beheer/export.geojson")
            assert export.status == 200, export.status
            assert export.headers["content-disposition"].startswith("attachment")
            assert export.headers["content-type"] == "application/geo+json"
    # Both workers answered these logins: a cookie signed by one was read by the other.
    assert len(deployed.workers_that_answered(since=mark)) == 2
    # Each export was streamed on a session of its own, closed with its last byte: no worker
    # keeps a transaction (and the locks it holds) open after a download.
    assert _transactions_left_open(engine) == []


def _transactions_left_open(engine: Engine, wait: float = 5.0) -> list[str]:
    """The last statement of every other connection to this database that sits idle inside a
    transaction, after waiting up to `wait` seconds for them to end."""
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as conn:
            left = (
                conn.execute(
                    text(
                        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                    )
                )
                .scalars()
                .all()
            )
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_twenty_first_support_clicks_by_fresh_residents_all_count(browser, deployed, deployed_db):
    with Resident(deployed.url) as resident:
        created = resident.post_json("/api/v1/contributions", feature("Bankje erbij"))
    assert created.status == 201, created.body
    page = f"{deployed.url}/bijdragen/{created.json()['id']}"
    mark = deployed.access_log_mark()
    for count in range(1, TIMES + 1):
        with browser_tab(browser) as tab:
            tab.goto(page)
            tab.get_by_role("button", name="Steunen").click()
            expect(tab.locator("#support-label")).to_have_text("U steunt dit")
            expect(tab.locator("#support-count")).to_have_text(f"{count} keer gesteund")
            expect(tab.locator("#dialogue-status")).to_be_hidden()  # no "De pagina is verlopen"
    assert len(deployed.workers_that_answered(since=mark)) == 2


def test_nginx_passes_the_host_and_the_scheme_and_refuses_what_is_too_large(deployed):
    # The app builds its links from the Host nginx passed on (with the port) and from the scheme
    # nginx saw, whatever the client claims.
    with Resident(deployed.url) as resident:
        answer = resident.request("GET", "/ogc/?f=json", headers={"X-Forwarded-Proto": "https"})
        too_large = resident.request(
            "POST",
            "/api/v1/contributions",
            b"x" * (13 * 1024 * 1024),
            {"Content-Type": "application/geo+json"},
        )
    assert answer.status == 200
    hrefs = {link["href"] for link in answer.json()["links"]}
    assert f"http://127.0.0.1:{deployed.port}/ogc/conformance" in hrefs
    assert too_large.status == 413
    assert too_large.content_type == "application/problem+json"
    assert too_large.json()["errors"][0]["code"] == "body_too_large"


def test_docker_compose_puts_the_same_nginx_site_in_front_of_the_app():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    proxy, app = services["nginx"], services["app"]
    assert "./deploy/nginx.conf:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    placeholders = set(re.findall(r"\$\{(WIJKKAART_\w+)\}", NGINX_SITE.read_text()))
    assert placeholders == {k for k in proxy["environment"] if k.startswith("WIJKKAART_")}
    assert proxy["environment"]["WIJKKAART_UPSTREAM"] == "app:8000"
    assert all(port.startswith("127.0.0.1:") for port in proxy["ports"])
    # The app is reached only through nginx, which it trusts as its one proxy.
    assert "ports" not in app
    assert app["environment"]["KAART_TRUSTED_PROXIES"] == "1"


def test_open_layer_tiles_answer_alike_whichever_way_a_worker_takes(deployed, engine: Engine):
    # A worker answers a tile of a layer whose catalogue row it holds in front of Flask
    # (kaart/views/tiles_direct.py); its first tile of the layer goes through Flask. Through
    # nginx, with two workers, every answer is the same: 200, 304 and 204 alike.
    layer = "vierkanten-gediend"
    with engine.begin() as conn:
        make_layer(conn, layer, squares([9, 14, 5, 16]))
    full = tile_url(layer, *HET_GROTE_PLEIN_Z16)
    try:
        with Resident(deployed.url) as resident:
            first = resident.request("GET", full)
            assert first.status == 200 and first.headers["content-type"] == MVT
            etag = first.headers["etag"]
            for _ in range(6):
                again = resident.request("GET", full)
                assert (again.status, again.body) == (200, first.body)
                assert _tile_headers(again) == _tile_headers(first)
                current = resident.request("GET", full, headers={"If-None-Match": etag})
                assert current.status == 304 and current.body == b""
                assert current.headers["etag"] == etag
                empty = resident.request("GET", tile_url(layer, *VAALSERBERG_Z14))
                assert empty.status == 204 and "content-type" not in empty.headers
                assert empty.headers["cache-control"] == first.headers["cache-control"]
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS open_data.{layer.replace('-', '_')}"))
            conn.execute(text("DELETE FROM layer WHERE name = :n"), {"n": layer})


def _tile_headers(answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in ("date", "connection")}
