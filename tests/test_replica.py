"""The read replica (KAART_DATABASE_READ_URL): public reads (tiles, OGC items, the /api/v1 list,
the address search) come from a real hot standby on this machine, made with `pg_basebackup -R`;
writes, and a browser's reads right after its own write, go to the primary; a standby that is
down leaves its reads to the primary until it is back.

"Served by the standby" is shown by what the answers hold: with the standby's replay paused, the
primary moves on while the standby keeps what it had, so each answer tells which one gave it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, create_engine, make_url, text

from geodata import address_search
from kaart import create_app
from kaart.config import Settings
from kaart.db import EXTENSION_KEY, IDLE_PING_SECONDS
from kaart.errors import ConfigError
from kaart.replica import REPLICA_RETRY_SECONDS, WROTE_COOKIE
from kaart.schema import fresh_database
from tests.conftest import running_stack
from tests.layers_fixture import make_weesp_addresses
from tests.replica_fixtures import (
    PrimaryCluster,
    StandbyCluster,
    replay_paused,
    wait_for_replay,
)
from tests.stack import Stack, StackError
from tests.stack_client import Resident, feature

URL = "postgresql+psycopg://wijkkaart@db:5432/wijkkaart"
READ_URL = "postgresql+psycopg://wijkkaart@replica:5432/wijkkaart"
SECRET = {"KAART_SECRET_KEY": "0123456789abcdef" * 4}

# Weesp Centrum: a bbox around Het Grote Plein, and its z14 tile.
WEESP_BBOX = "5.03,52.29,5.06,52.31"
WEESP_Z14 = "14/8421/5389"
SEARCH = "Het Grote Plein 4"


# -- Configuration ------------------------------------------------------------------------------


def test_the_read_url_is_optional_and_gets_the_database_password():
    assert Settings.from_env({"KAART_DATABASE_URL": URL, **SECRET}).database_read_url is None
    env = {"KAART_DATABASE_URL": URL, "KAART_DATABASE_READ_URL": READ_URL, **SECRET}
    assert Settings.from_env(env).database_read_url == READ_URL
    settings = Settings.from_env({**env, "KAART_DATABASE_PASSWORD": "p@ss:w/rd#1"})
    # A streaming replica has the primary's roles, so the one password serves both.
    read = make_url(settings.database_read_url)
    assert (read.host, read.password) == ("replica", "p@ss:w/rd#1")
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize(
    ("read_url", "message"),
    [
        ("postgresql+psycopg://u:other@h/db", "KAART_DATABASE_READ_URL has a password"),
        ("not a url", "KAART_DATABASE_READ_URL is not a database URL"),
    ],
)
def test_a_bad_read_url_fails_at_start_up(read_url, message):
    env = {"KAART_DATABASE_URL": URL, "KAART_DATABASE_READ_URL": read_url, **SECRET}
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**env, "KAART_DATABASE_PASSWORD": "p@ss"})


# -- In process: a replica that cannot be reached, and the cookie after a write ------------------


@pytest.fixture
def unreachable_replica(settings: Settings, engine: Engine, clean_db) -> Iterator:
    """The app on the test database (committing), with a read replica that is not there."""
    nowhere = "postgresql+psycopg://nobody@/wijkkaart?host=/nonexistent-replica-socket"
    app = create_app({"settings": settings.replace(database_read_url=nowhere)})
    yield app
    ext = app.extensions[EXTENSION_KEY]
    ext["engine"].dispose()
    ext["replica"].engine.dispose()


def test_an_unreachable_replica_leaves_reads_to_the_primary_and_is_left_alone(
    unreachable_replica, caplog
):
    client = unreachable_replica.test_client()
    replica = unreachable_replica.extensions[EXTENSION_KEY]["replica"]
    with caplog.at_level(logging.WARNING, logger="kaart.db"):
        for path in ("/api/v1/contributions", f"/api/v1/search?q={SEARCH}", "/api/v1/layers"):
            assert client.get(path).status_code == 200, path
    warned = [r for r in caplog.records if "read replica cannot be reached" in r.getMessage()]
    # Once: after the first refusal the replica is not asked again until the wait is over.
    assert len(warned) == 1
    assert replica.retry_at - time.monotonic() == pytest.approx(REPLICA_RETRY_SECONDS, abs=2)


def test_healthz_reports_an_unreachable_replica_and_stays_up(unreachable_replica):
    client = unreachable_replica.test_client()
    first = client.get("/healthz")
    assert first.status_code == 200  # the primary answers public reads meanwhile
    assert first.json["status"] == "ok" and first.json["replica"] == {"status": "unreachable"}
    replica = unreachable_replica.extensions[EXTENSION_KEY]["replica"]
    waiting_until = replica.retry_at
    assert client.get("/healthz").json["replica"] == {"status": "unreachable"}
    assert replica.retry_at == waiting_until  # not asked again within its wait


def test_a_write_leaves_its_wal_position_in_a_signed_short_lived_cookie(
    unreachable_replica, engine
):
    client = unreachable_replica.test_client()
    assert client.get("/api/v1/contributions").headers.get("Set-Cookie") is None
    created = client.post("/api/v1/contributions", json=feature("Bankje"))
    assert created.status_code == 201
    (cookie,) = [c for c in created.headers.getlist("Set-Cookie") if c.startswith(WROTE_COOKIE)]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=60" in cookie
    raw = cookie.split(";")[0].split("=", 1)[1]
    serializer = URLSafeTimedSerializer(unreachable_replica.config["SECRET_KEY"], "kaart-wrote")
    position = serializer.loads(raw, max_age=60)
    with engine.connect() as conn:
        now = conn.execute(text("SELECT pg_current_wal_insert_lsn() - '0/0'")).scalar_one()
    assert 0 < position <= now
    # A refused write leaves none.
    refused = client.post("/api/v1/contributions", json={"type": "Feature"})
    assert refused.status_code == 422
    assert not any(c.startswith(WROTE_COOKIE) for c in refused.headers.getlist("Set-Cookie"))


# -- Deployed: a real standby behind the app ----------------------------------------------------


@dataclass
class Replicated:
    primary: PrimaryCluster
    standby: StandbyCluster
    primary_db: Engine  # the app's database on the primary
    standby_admin: Engine  # the standby's `postgres` database: replay control

    def caught_up(self) -> None:
        wait_for_replay(self.primary_db, self.standby_admin)


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A primary, a hot standby streaming from it, and the app's database migrated on the
    primary and replayed on the standby. Everything is removed afterwards, also on failure."""
    try:
        with PrimaryCluster() as primary, StandbyCluster(primary) as standby:
            url = fresh_database(primary.url("wijkkaart"), "replica")
            primary_db = create_engine(url)
            standby_admin = create_engine(
                standby.url("postgres"), isolation_level="AUTOCOMMIT", pool_pre_ping=True
            )
            try:
                both = Replicated(primary, standby, primary_db, standby_admin)
                both.caught_up()
                yield both
            finally:
                primary_db.dispose()
                standby_admin.dispose()
    except StackError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def replica_stack(replicated: Replicated) -> Iterator[Stack]:
    """The deployed stack (2 gunicorn workers behind nginx) reading from the standby."""
    url = replicated.primary_db.url.render_as_string(hide_password=False)
    read_url = replicated.standby.url(replicated.primary_db.url.database)
    yield from running_stack(url, {"KAART_DATABASE_READ_URL": read_url})


@dataclass(frozen=True)
class View:
    """What the four public reads showed one client."""

    listed: frozenset[str]  # ids in GET /api/v1/contributions
    ogc: frozenset[str]  # ids in the OGC items of the contributions collection
    tile: int  # status of the contributions tile over Weesp (204: nothing in it)
    address: bool  # whether the search found the address


def view(client: Resident) -> View:
    answers = {
        "list": client.request("GET", f"/api/v1/contributions?bbox={WEESP_BBOX}"),
        "ogc": client.request(
            "GET", f"/ogc/collections/contributions/items?bbox={WEESP_BBOX}&f=json"
        ),
        "tile": client.request("GET", f"/tiles/contributions/{WEESP_Z14}.pbf"),
        "search": client.request("GET", "/api/v1/search?q=" + SEARCH.replace(" ", "+")),
    }
    for name, answer in answers.items():
        assert answer.status in (200, 204), (name, answer.status, answer.body[:300])

    def ids(answer) -> frozenset[str]:
        return frozenset(f["id"] for f in answer.json()["features"])

    return View(
        ids(answers["list"]),
        ids(answers["ogc"]),
        answers["tile"].status,
        bool(answers["search"].json()["features"]),
    )


def contribute(client: Resident, title: str) -> str:
    answer = client.post_json("/api/v1/contributions", feature(title))
    assert answer.status == 201, answer.body
    return answer.json()["id"]


def load_addresses(engine: Engine) -> None:
    """The demo's BAG addresses and their search index, committed on the primary."""
    with engine.begin() as conn:
        table = make_weesp_addresses(conn)
        address_search.build(conn.connection.driver_connection.cursor(), table)


def app_connections(standby_admin: Engine, database: str) -> int:
    with standby_admin.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND backend_type = 'client backend'"
            ),
            {"db": database},
        ).scalar_one()


@pytest.mark.deployed
def test_public_reads_come_from_the_standby_and_a_writer_reads_its_own_write(
    replicated: Replicated, replica_stack: Stack
):
    with (
        Resident(replica_stack.url, "127.0.3.1") as writer,
        Resident(replica_stack.url, "127.0.3.2") as reader,
        Resident(replica_stack.url, "127.0.3.3") as other,
    ):
        assert view(reader) == View(frozenset(), frozenset(), 204, False)
        with replay_paused(replicated.standby_admin):
            bankje = contribute(writer, "Bankje op het plein")
            assert WROTE_COOKIE in writer.cookies
            load_addresses(replicated.primary_db)
            # Everyone else reads the standby, which has neither the contribution nor the
            # addresses yet...
            assert view(reader) == View(frozenset(), frozenset(), 204, False)
            # ...the writer reads the primary, with its own write (and all else it holds).
            assert view(writer) == View(frozenset({bankje}), frozenset({bankje}), 200, True)
            # The place a 201 names (Location) reads from the primary, without any cookie.
            found = reader.request("GET", f"/api/v1/contributions/{bankje}")
            assert found.status == 200 and found.json()["id"] == bankje
            # The app's workers are connected to the standby's copy of the database.
            database = replicated.primary_db.url.database
            assert app_connections(replicated.standby_admin, database) >= 1
            # /healthz: the standby answers, and is behind by the writes it has not replayed.
            health = reader.request("GET", "/healthz")
            assert health.status == 200 and health.json()["replica"]["status"] == "ok"
            assert health.json()["replica"]["behind_bytes"] > 0
        replicated.caught_up()
        assert reader.request("GET", "/healthz").json()["replica"] == {
            "status": "ok",
            "behind_bytes": 0,
        }
        assert view(reader) == View(frozenset({bankje}), frozenset({bankje}), 200, True)

        # Once the standby has replayed the write, the writer reads from it again: with replay
        # paused, a newer contribution (someone else's) is not in what the writer sees.
        with replay_paused(replicated.standby_admin):
            tweede = contribute(other, "Tweede bankje")
            assert view(writer).listed == {bankje}
            assert view(other).listed == {bankje, tweede}  # its own write: the primary
        replicated.caught_up()
        assert view(writer).listed == {bankje, tweede}


def _warnings(stack: Stack, text_: str) -> int:
    return (stack.dir / "gunicorn.log").read_text(errors="replace").count(text_)


@pytest.mark.deployed
def test_a_stopped_standby_leaves_reads_to_the_primary_until_it_is_back(
    replicated: Replicated, replica_stack: Stack
):
    with (
        Resident(replica_stack.url, "127.0.3.4") as reader,
        Resident(replica_stack.url, "127.0.3.5") as other,
    ):
        before = view(reader).listed
        replicated.standby.stop()
        # Past the idle time after which a pooled connection is checked before use (a request
        # that was using its connection to the standby at the moment it stopped fails with 503,
        # as one on the primary would).
        time.sleep(IDLE_PING_SECONDS + 0.2)
        down = contribute(other, "Terwijl de standby stil staat")
        outage = [view(reader) for _ in range(6)]  # over both workers
        assert all(seen.listed == before | {down} for seen in outage)  # the primary's rows
        # One warning per worker, not one per request: the dead replica is left alone a while.
        refused = _warnings(replica_stack, "read replica cannot be reached")
        assert 1 <= refused <= replica_stack.workers
        # /healthz says so, and stays 200: the app works on the primary alone.
        health = [reader.request("GET", "/healthz") for _ in range(4)]  # over both workers
        assert all(h.status == 200 for h in health)
        assert all(h.json()["replica"] == {"status": "unreachable"} for h in health)

        replicated.standby.start()
        replicated.caught_up()
        # Back to the standby within a retry wait: with its replay paused, a new contribution
        # is missing from every answer, whichever worker gives it.
        with replay_paused(replicated.standby_admin):
            later = contribute(other, "Weer terug")
            deadline = time.monotonic() + 4 * REPLICA_RETRY_SECONDS
            streak = 0
            while streak < 6:
                assert time.monotonic() < deadline, replica_stack.logs()
                listed = view(reader).listed
                streak = streak + 1 if later not in listed else 0
                time.sleep(0.2)
            assert listed == before | {down}
        replicated.caught_up()
        assert _warnings(replica_stack, "read replica answers again") >= 1
        assert view(reader).listed == before | {down, later}
