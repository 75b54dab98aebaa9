"""Shared by the retention and rights tests: moving the clock, photos, Open311 requests and an
app that commits (for the `kaart privacy` commands, which use their own connections)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import Connection, Engine, text

from kaart import create_app
from kaart.config import Settings
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT

API = "/api/v1/contributions"
OPEN311 = "/open311/v2/requests.json"
REPORTER = "bewoner.retentie@example.org"


def move_clock(connection: Connection, contribution_id: object, days: float) -> None:
    """Everything that happened to this contribution happened `days` earlier: its stamps, its
    comments and photos, and its history. The history is append-only; its guard is lifted for
    the one statement that moves it (inside the caller's transaction)."""
    shift = {"id": str(contribution_id), "d": timedelta(days=days)}
    connection.execute(
        text(
            "UPDATE contribution SET created_at = created_at - :d, updated_at = updated_at - :d, "
            "withdrawn_at = withdrawn_at - :d, responded_at = responded_at - :d WHERE id = :id"
        ),
        shift,
    )
    connection.execute(
        text(
            "UPDATE comment SET created_at = created_at - :d, hidden_at = hidden_at - :d "
            "WHERE contribution_id = :id"
        ),
        shift,
    )
    connection.execute(
        text("UPDATE photo SET created_at = created_at - :d WHERE contribution_id = :id"), shift
    )
    guard = "contribution_event_append_only"
    connection.execute(text(f"ALTER TABLE contribution_event DISABLE TRIGGER {guard}"))
    connection.execute(
        text("UPDATE contribution_event SET at = at - :d WHERE contribution_id = :id"), shift
    )
    connection.execute(text(f"ALTER TABLE contribution_event ENABLE TRIGGER {guard}"))


def jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    image = Image.new("RGB", size, (40, 120, 60))
    for x in range(0, size[0], 16):
        image.putpixel((x, x % size[1]), (250, 250, 250))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def contribute(client, title: str = "Bankje bij de pomp", photo: bool = False) -> dict:
    """A contribution through the JSON API (with a photo through its edit token)."""
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(OUDE_CONVENT)},
        "properties": {
            "category": "idee",
            "title": title,
            "description": "Mijn naam is Jan Jansen, 06-12345678.",
        },
    }
    r = client.post(API, json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    if photo:
        r = client.post(
            f"{API}/{created['id']}/photos",
            data=jpeg(),
            headers={
                "Authorization": f"Bearer {created['edit_token']}",
                "Content-Type": "image/jpeg",
            },
        )
        assert r.status_code == 201, r.get_data(as_text=True)
        created["photo"] = r.get_json()
    return created


def withdraw(client, created: dict) -> None:
    auth = {"Authorization": f"Bearer {created['edit_token']}"}
    assert client.delete(f"{API}/{created['id']}", headers=auth).status_code == 204


def open311_request(client, email: str = REPORTER, **contact: str) -> str:
    """A request through the real GeoReport v2 POST, with contact fields; its id."""
    form = {
        "service_code": "knelpunt",
        "lat": str(HET_GROTE_PLEIN[1]),
        "long": str(HET_GROTE_PLEIN[0]),
        "description": "Losliggende stoeptegel voor nummer 12.\nBel me gerust.",
        "email": email,
        "first_name": "Anna",
        "last_name": "de Vries",
        "phone": "06-12345678",
        **contact,
    }
    r = client.post(OPEN311, data=form)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()[0]["service_request_id"]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@contextmanager
def committing_client(settings: Settings, engine: Engine, upload_dir: Path) -> Iterator:
    """A test client of an app on the real engine: what it writes is committed, as the CLI
    needs. The contributions made meanwhile are removed afterwards (their audit entries stay:
    the log is append-only)."""
    app = create_app({"settings": settings.replace(upload_dir=upload_dir)})
    with engine.connect() as conn:
        before = set(conn.execute(text("SELECT id FROM contribution")).scalars())
    try:
        yield app.test_client()
    finally:
        app.extensions["kaart.db"]["engine"].dispose()
        with engine.begin() as conn:
            made = set(conn.execute(text("SELECT id FROM contribution")).scalars()) - before
            conn.execute(
                text("DELETE FROM contribution WHERE id = ANY(:ids)"),
                {"ids": [uuid.UUID(str(i)) for i in made]},
            )
            conn.execute(text("DELETE FROM idempotency_key"))
            conn.execute(text("DELETE FROM rate_event WHERE at > now() - interval '1 hour'"))
