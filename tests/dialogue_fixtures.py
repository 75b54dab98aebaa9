"""Shared by the dialogue tests: staff accounts, logged-in clients and a process in Weesp."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from kaart.db import transaction
from kaart.services import users

PASSWORD = "correct horse battery staple"
ROLE_USERS = ("moderator", "planner", "coop", "admin")
# Around Het Grote Plein in Weesp Centrum (lon/lat); the Singel grasveld lies west of it.
WEESP_CENTRUM_BLOCK = [
    (5.0400, 52.3040),
    (5.0460, 52.3040),
    (5.0460, 52.3090),
    (5.0400, 52.3090),
    (5.0400, 52.3040),
]


def block_geometry() -> dict:
    return {"type": "Polygon", "coordinates": [[list(c) for c in WEESP_CENTRUM_BLOCK]]}


@contextmanager
def session_on(connection: Connection) -> Iterator[Session]:
    """A session inside the test's transaction, committed (to a savepoint) at the end like a
    request's `kaart.db.transaction()`, or rolled back when the block raises."""
    with (
        Session(bind=connection, join_transaction_mode="create_savepoint") as session,
        transaction(session),
    ):
        yield session


def make_user(connection: Connection, role: str | None, email: str | None = None) -> uuid.UUID:
    email = email or f"{role or 'nobody'}-{uuid.uuid4().hex[:6]}@gemeente.example"
    with session_on(connection) as session:
        return users.create(
            session, email, PASSWORD, [role] if role else [], display_name=f"Jan {role}"
        )


def log_in_as(client, user_id: uuid.UUID) -> str:
    """Put `user_id` into the client's session as a login does; returns the CSRF token."""
    token = uuid.uuid4().hex
    with client.session_transaction() as sess:
        sess["user_id"] = str(user_id)
        sess["csrf_token"] = token
    return token


def csrf_of(client) -> str:
    """The CSRF token the app gives this client (from a page that has a form)."""
    html = client.get("/inloggen").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def make_process(
    connection: Connection,
    slug: str = "plein-weesp",
    *,
    categories: tuple[str, ...] = ("groen", "idee", "knelpunt"),
    premoderation: bool = False,
    starts: int = -7,
    ends: int = 30,
) -> uuid.UUID:
    today = date.today()
    return connection.execute(
        text(
            "INSERT INTO process (slug, title, question, geom, starts_on, ends_on, categories, "
            "premoderation) VALUES (:slug, :title, :question, "
            "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:geojson), 4326)), :starts, :ends, "
            ":categories, :pre) RETURNING id"
        ),
        {
            "slug": slug,
            "title": "Het Grote Plein opnieuw",
            "question": "Wat wilt u op Het Grote Plein?",
            "geojson": json.dumps(block_geometry()),
            "starts": today + timedelta(days=starts),
            "ends": today + timedelta(days=ends),
            "categories": list(categories),
            "pre": premoderation,
        },
    ).scalar_one()
