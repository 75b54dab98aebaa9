"""Behind nginx, every resident is their own address (KAART_TRUSTED_PROXIES=1): reports and rate
limits count per resident, not for the whole site, and a client cannot choose the address the app
uses by sending X-Forwarded-For itself. Residents connect from distinct loopback addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.conftest import running_stack
from tests.stack import Stack
from tests.stack_client import Answer, Resident, feature

pytestmark = pytest.mark.deployed  # kaart serve behind nginx (tests/stack.py)

LIMIT = 5  # contributions per address per hour on the `limited` stack


@pytest.fixture(scope="module")
def limited(database_url: str, engine: Engine) -> Iterator[Stack]:
    """A second deployed stack on the test database, with a low contribution limit."""
    yield from running_stack(database_url, {"KAART_CONTRIBUTIONS_PER_HOUR": str(LIMIT)})


def test_reports_count_per_resident_whatever_x_forwarded_for_says(deployed, deployed_db):
    with Resident(deployed.url, "127.0.0.9") as author:
        created = author.post_json("/api/v1/contributions", feature("Geluidsoverlast"))
    assert created.status == 201, created.body
    ident = created.json()["id"]
    page, reports = f"/bijdragen/{ident}", f"/api/v1/contributions/{ident}/reports"

    def report(address: str, claims: str | None = None) -> Answer:
        # A fresh browser each time: new cookies, so only the address ties two reports together.
        with Resident(deployed.url, address) as resident:
            headers = {"X-CSRF-Token": resident.csrf_token(page)}
            if claims:
                headers["X-Forwarded-For"] = claims
            return resident.post_json(reports, {}, headers)

    first = report("127.0.0.2")
    assert first.status == 201 and first.json() == {"report_count": 1, "hidden": False}
    # One report per address and item, also when the client claims to be somewhere else.
    assert report("127.0.0.2").status == 409
    assert report("127.0.0.2", claims="203.0.113.7").status == 409
    # Another resident claiming the first one's address is counted as themself.
    second = report("127.0.0.3", claims="127.0.0.2")
    assert second.status == 201 and second.json() == {"report_count": 2, "hidden": False}
    # Three residents: the report threshold is reached and the contribution waits for review.
    third = report("127.0.0.4")
    assert third.status == 201 and third.json() == {"report_count": 3, "hidden": True}
    with Resident(deployed.url, "127.0.0.5") as passer_by:
        assert passer_by.request("GET", page).status == 404


def test_a_flood_from_one_address_gets_429_while_another_address_still_gets_201(
    limited, deployed_db, engine: Engine
):
    with Resident(limited.url, "127.0.0.6") as flood:
        for n in range(LIMIT):
            answer = flood.post_json("/api/v1/contributions", feature(f"Vloed {n}"))
            assert answer.status == 201, answer.body
        refused = flood.post_json("/api/v1/contributions", feature("Vloed te veel"))
        disguised = flood.post_json(
            "/api/v1/contributions",
            feature("Vloed vermomd"),
            {"X-Forwarded-For": "198.51.100.23"},
        )
    for answer in (refused, disguised):
        assert answer.status == 429, answer.body
        assert answer.content_type == "application/problem+json"
        assert int(answer.headers["retry-after"]) > 0
        assert answer.json()["errors"][0]["code"] == "rate_limited"
    with Resident(limited.url, "127.0.0.7") as neighbour:
        welcome = neighbour.post_json("/api/v1/contributions", feature("Buurvrouw"))
    assert welcome.status == 201, welcome.body
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM contribution WHERE title LIKE 'Vloed%'")
        ).scalar_one()
    assert stored == LIMIT
