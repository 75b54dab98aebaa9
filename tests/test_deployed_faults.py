"""PostgreSQL restarts and stops under the deployed stack (nginx, `kaart serve` with two workers)
while residents write and read. A private cluster of its own, so the rest of the suite keeps its
database. Every answer while the database is away is a 503 with Retry-After (problem+json for
programs, a page for people), the app serves again as soon as the database is back, without a
restart, and every contribution stored was acknowledged to the resident who sent it, once. The
same when gunicorn workers are killed under load: only the requests they were answering fail."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text

from kaart.errors import Unavailable
from tests.stack import PrivateCluster, Stack
from tests.stack_client import LOST, Answer, Resident, Writers, contribute, feature

pytestmark = pytest.mark.deployed  # kaart serve behind nginx (tests/stack.py)

WRITERS = 6
# What a page or the API must say while the database is away: the app's own 503, not nginx's.
DATABASE_DOWN = "The database cannot be reached"


@dataclass
class Readers:
    """Residents reading the API list, a contribution's page and /healthz in a loop."""

    base_url: str
    page: str

    PATHS = ("/api/v1/contributions?limit=5", "/healthz")

    def start(self) -> None:
        self.answers: list[tuple[str, Answer]] = []
        self._stopping = threading.Event()
        paths = (*self.PATHS, self.page)
        self._threads = [
            threading.Thread(target=self._read, args=(path, n), daemon=True)
            for n, path in enumerate(paths)
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, path: str, n: int) -> None:
        with Resident(self.base_url, f"127.0.2.{n + 1}") as resident:
            while not self._stopping.is_set():
                self.answers.append((path, resident.request("GET", path)))
                time.sleep(0.05)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(30)


def first_success_after(answers: list[Answer], moment: float) -> float:
    """Seconds from `moment` until a request sent after it succeeded."""
    done = [a.started + a.seconds for a in answers if a.started >= moment and a.status < 300]
    assert done, "no request succeeded after the database came back"
    return min(done) - moment


def under_load(stack: Stack, title: str, address: str) -> tuple[Writers, Readers]:
    """WRITERS residents writing contributions titled `title …` and the Readers reading the list,
    /healthz and the page of one contribution (seeded from `address`), all started."""
    with Resident(stack.url, address) as author:
        seeded = author.post_json("/api/v1/contributions", feature(f"Leesvoer {title}"))
    assert seeded.status == 201
    writers = Writers(stack.url, WRITERS, title=title)
    readers = Readers(stack.url, f"/bijdragen/{seeded.json()['id']}")
    writers.start()
    readers.start()
    return writers, readers


def assert_stored_once(db: Engine, writers: Writers) -> None:
    """Every contribution stored was acknowledged, once; every acknowledged one is stored."""
    assert not writers.refused and not writers.given_up
    with db.connect() as conn:
        stored = conn.execute(
            text("SELECT id::text, title FROM contribution WHERE title LIKE :t"),
            {"t": f"{writers.title} %"},
        ).all()
    acknowledged = set(writers.acknowledged.values())
    assert len(acknowledged) == len(writers.acknowledged)  # no key answered with two ids
    assert {row.id for row in stored} == acknowledged
    assert len({row.title for row in stored}) == len(stored)  # no duplicates
    assert len(acknowledged) > WRITERS


def test_a_database_restart_and_an_outage_give_503s_and_no_orphaned_or_lost_writes(
    private_cluster: PrivateCluster, private_db: Engine, private_stack: Stack
):
    workers = private_stack.worker_pids()
    writers, readers = under_load(private_stack, "Fout", "127.0.2.100")
    time.sleep(1.5)
    private_cluster.restart()  # fast: open connections are cut
    restarted = time.monotonic()
    time.sleep(1.5)
    private_cluster.stop()
    with Resident(private_stack.url, "127.0.2.101") as monitor:
        health = [monitor.request("GET", "/healthz") for _ in range(5)]
        time.sleep(2)
        private_cluster.start()
        back = time.monotonic()
        recovered = contribute(monitor, "Terug", lambda: time.monotonic() > back + 10)
    time.sleep(1.5)
    readers.stop()
    writers.stop()

    # While it was down, /healthz said what is missing.
    for answer in health:
        assert answer.status == 503
        assert answer.json()["database"] == "unreachable"
    # Nothing but successes and the app's own 503s; never a 500, a 502 or a lost connection.
    seen = [("POST /api/v1/contributions", a) for a in writers.attempts] + readers.answers
    assert {a.status for _, a in seen} <= {200, 201, 503}, sorted({a.status for _, a in seen})
    unavailable = [(path, a) for path, a in seen if a.status == 503]
    assert unavailable, "the outage was not seen"
    for path, answer in unavailable:
        assert int(answer.headers.get("retry-after", 0)) > 0, (path, answer.headers)
        if path == "/healthz":  # a report for monitors, not a problem document
            assert answer.json()["database"] == "unreachable"
            continue
        if path.startswith("/bijdragen/"):
            assert answer.content_type == "text/html"
            assert "503" in answer.body.decode()
        else:
            assert answer.content_type == "application/problem+json", answer.body
            assert DATABASE_DOWN in answer.json()["detail"]
    # Back without a restart: the same workers, serving again by the time a client that waited
    # as Retry-After asked comes back.
    assert recovered is not None and recovered.status == 201
    assert private_stack.worker_pids() == workers
    for path in (*Readers.PATHS, readers.page):
        answers = [a for p, a in readers.answers if p == path]
        assert first_success_after(answers, restarted) < Unavailable.RETRY_AFTER, path
        assert first_success_after(answers, back) < Unavailable.RETRY_AFTER, path
    assert first_success_after(writers.attempts, back) < Unavailable.RETRY_AFTER
    assert_stored_once(private_db, writers)


def test_a_write_whose_answer_was_lost_is_acknowledged_by_its_retry_and_stored_once(
    private_db: Engine, private_stack: Stack
):
    key, title = str(uuid.uuid4()), f"Verloren antwoord {uuid.uuid4().hex[:8]}"
    body = json.dumps(feature(title)).encode()
    headers = {"Content-Type": "application/geo+json", "Idempotency-Key": key}
    # Send the write, wait until it is committed, then hang up without reading the answer.
    cut = http.client.HTTPConnection(
        "127.0.0.1", private_stack.port, source_address=("127.0.2.200", 0)
    )
    cut.request("POST", "/api/v1/contributions", body, headers)
    stored = None
    deadline = time.monotonic() + 15
    while stored is None and time.monotonic() < deadline:
        with private_db.connect() as conn:
            stored = conn.execute(
                text("SELECT id::text FROM contribution WHERE title = :title"), {"title": title}
            ).scalar_one_or_none()
        time.sleep(0.05)
    cut.close()
    assert stored is not None, "the write was not committed"

    with Resident(private_stack.url, "127.0.2.200") as resident:
        retry = resident.request("POST", "/api/v1/contributions", body, headers)
    assert retry.status == 201, retry.body
    assert retry.json()["id"] == stored
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.json()["edit_url"].startswith(f"/bijdragen/{stored}/bewerken#token=")
    with private_db.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM contribution WHERE title = :title"), {"title": title}
        ).scalar_one()
    assert count == 1


def test_workers_killed_under_load_lose_no_write_and_the_stack_serves_on(
    private_db: Engine, private_stack: Stack
):
    # A worker that dies (killed, out of memory) takes down only the requests it was answering:
    # those get the proxy's 503 with Retry-After (or, when their answer was already on its way,
    # a cut connection); gunicorn starts a new worker, the other one serves on, and no write is
    # lost or stored twice.
    before = private_stack.worker_pids()
    writers, readers = under_load(private_stack, "Werker", "127.0.2.110")
    time.sleep(1.5)
    kills = []
    for victim in sorted(before):  # one after the other
        os.kill(victim, signal.SIGKILL)
        kills.append(time.monotonic())
        time.sleep(1.5)
    time.sleep(1.5)
    readers.stop()
    writers.stop()

    after = private_stack.worker_pids()
    assert len(after) == len(before) and not after & before
    seen = [("POST /api/v1/contributions", a) for a in writers.attempts] + readers.answers
    assert {a.status for _, a in seen} <= {200, 201, 503, LOST}, sorted({a.status for _, a in seen})
    failed = [(path, a) for path, a in seen if a.status in (503, LOST)]
    assert failed, "no request met a killed worker"
    for path, answer in failed:
        # Only requests under way when a worker died; everything sent later was answered.
        assert any(
            answer.started - 1.0 < kill < answer.started + answer.seconds + 0.1 for kill in kills
        ), (path, answer)
        if answer.status == 503:
            assert int(answer.headers.get("retry-after", 0)) > 0, (path, answer.headers)
    assert_stored_once(private_db, writers)
