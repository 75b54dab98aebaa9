"""A resident talking to the deployed stack over HTTP, as a careful client does.

Each resident connects from its own loopback address (all of 127.0.0.0/8 is local on Linux), so
nginx sees distinct clients; it keeps its own cookies. `contribute` writes one contribution with
an Idempotency-Key and sends it again with the same key after a 503 or a lost connection until it
is acknowledged, as the map's own form does.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOST = 0  # the status recorded for an attempt whose connection was lost
RETRY_STATUSES = frozenset({502, 503, 504})
# A retry waits at most this long (less than Retry-After), so recovery times measure the app.
RETRY_PAUSE = 0.25
# Het Grote Plein, Weesp Centrum.
GROTE_PLEIN = (5.04234, 52.30658)


@dataclass
class Answer:
    status: int  # LOST when the connection broke before a full answer arrived
    headers: dict[str, str]  # lower-case names
    body: bytes
    started: float  # time.monotonic() when the request was sent
    seconds: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return json.loads(self.body)


@dataclass
class Resident:
    """One client: its own source address, one keep-alive connection, its own cookies."""

    base_url: str
    address: str = "127.0.0.1"
    timeout: float = 30
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Answer:
        """One request; a lost connection is an Answer with status LOST (and is closed)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout, source_address=(self.address, 0)
            )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return Answer(LOST, {}, b"", started, time.monotonic() - started)
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        if response.will_close:
            self.close()
        return Answer(response.status, answer_headers, data, started, time.monotonic() - started)

    def post_json(self, path: str, payload: object, headers: dict | None = None) -> Answer:
        sent = {"Content-Type": "application/json", "Accept": "application/json"}
        return self.request("POST", path, json.dumps(payload).encode(), sent | (headers or {}))

    def csrf_token(self, page: str) -> str:
        """The CSRF token a page gives this resident (and the session cookie that goes with it)."""
        answer = self.request("GET", page)
        assert answer.status == 200, f"GET {page}: {answer.status}"
        return re.search(rb'data-csrf="([^"]+)"', answer.body).group(1).decode()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Resident:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def feature(title: str, where: tuple[float, float] = GROTE_PLEIN) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {"category": "idee", "title": title},
    }


def contribute(
    resident: Resident,
    title: str,
    give_up: Callable[[], bool],
    attempts: list[Answer] | None = None,
    key: str | None = None,
) -> Answer | None:
    """POST one contribution with an Idempotency-Key, again with the same key after a 503 or a
    lost connection; the acknowledging 201 (or the 4xx that refused it), or None when `give_up()`
    said so before one came. Every attempt is appended to `attempts`."""
    key = key or str(uuid.uuid4())
    body = json.dumps(feature(title)).encode()
    headers = {"Content-Type": "application/geo+json", "Idempotency-Key": key}
    while True:
        answer = resident.request("POST", "/api/v1/contributions", body, headers)
        if attempts is not None:
            attempts.append(answer)
        if answer.status != LOST and answer.status not in RETRY_STATUSES:
            return answer
        if give_up():
            return None
        retry_after = float(answer.headers.get("retry-after", RETRY_PAUSE))
        time.sleep(min(retry_after, RETRY_PAUSE))


@dataclass
class Writers:
    """`count` residents, each at its own address (127.0.1.1, 127.0.1.2, ...), each writing one
    contribution after another with `contribute` until `stop()`. The threads only append to
    lists and add keys of their own (atomic in CPython)."""

    base_url: str
    count: int
    title: str = "Schrijver"
    attempts: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> id
    refused: list[Answer] = field(default_factory=list)  # 4xx: not stored, not retried
    given_up: list[str] = field(default_factory=list)  # keys never acknowledged

    def start(self) -> None:
        assert self.count <= 250, "one address each, in 127.0.1.0/24"
        self._stopping = threading.Event()
        self._give_up_at = float("inf")
        self._threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(self.count)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, grace: float = 30) -> None:
        """No new writes; a write under way is retried for at most `grace` seconds more."""
        self._give_up_at = time.monotonic() + grace
        self._stopping.set()
        for thread in self._threads:
            thread.join(grace + 60)

    def _write(self, n: int) -> None:
        with Resident(self.base_url, f"127.0.1.{n + 1}") as resident:
            number = 0
            while not self._stopping.is_set():
                key, number = str(uuid.uuid4()), number + 1
                title = f"{self.title} {n + 1}-{number}"
                answer = contribute(resident, title, self._give_up, self.attempts, key)
                if answer is None:
                    self.given_up.append(key)
                elif answer.status == 201:
                    self.acknowledged[key] = answer.json()["id"]
                else:
                    self.refused.append(answer)

    def _give_up(self) -> bool:
        return time.monotonic() > self._give_up_at
