"""Atom feeds (RFC 4287) of what the public sees, to follow without e-mail or an account:

    buurt(session, "BU0363SD03")      the newest contributions in a buurt
    process(session, "grote-plein")   ... in a participation process
    category(session, "groen")        ... in a category
    contribution(session, id)         one contribution's public history

Which contributions and which place the public sees is the contributions provider's rule
(audience PUBLIC, the public geometry); the history is workflow.history(public=True). This
module only shapes them into entries; the words are the template's (templates/feeds/).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaart.errors import NotFound
from kaart.models import tables as t
from kaart.models.contribution import CATEGORIES
from kaart.providers import contributions
from kaart.services import processes, workflow

ENTRIES_MAX = 50
# What an entry shows of a contribution: public values only (the provider refuses others).
FIELDS = (
    "id",
    "title",
    "description",
    "category",
    "status",
    "response",
    "created_at",
    "updated_at",
    "lat",
    "lon",
)
# Feed and event ids are name-based UUIDs under this one: the same whatever host or
# language serves the feed, so a reader never sees an entry twice.
NAMESPACE = uuid.UUID("d1d110e4-1916-45cd-ad23-08f64171ce0f")


@dataclass(frozen=True)
class Entry:
    id: str  # urn:uuid:…
    contribution_id: uuid.UUID  # the page the entry links to
    title: str  # the contribution's title
    category: str
    status: str  # for a history event: the status it led to
    summary: str  # the description, or an event's public response
    response: str | None  # the municipality's current response (list feeds)
    published: datetime
    updated: datetime
    point: tuple[Any, Any] | None  # lat, lon of the public place (generalised near homes)
    event: workflow.Event | None = None  # set in a contribution's own feed


@dataclass(frozen=True)
class Feed:
    kind: str  # buurt, process, category or contribution
    key: str  # the buurt code, process slug, category or contribution id
    name: str  # what the title names: a buurt, process or contribution title, a category
    entries: list[Entry]
    updated: datetime

    @property
    def id(self) -> str:
        return urn(uuid.uuid5(NAMESPACE, f"{self.kind}/{self.key}"))


def urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def buurt(session: Session, code: str) -> Feed:
    name = session.execute(
        select(t.buurt.c.name).where(t.buurt.c.code == code)
    ).scalar_one_or_none()
    if name is None:
        raise NotFound("This buurt")
    return _listing("buurt", code, name, _newest(session, buurten=(code,)))


def process(session: Session, slug: str) -> Feed:
    found = processes.find(session, slug)
    if found is None or found.slug != slug:  # by slug only, like its page
        raise NotFound("This participation process")
    return _listing("process", slug, found.title, _newest(session, process=found.id))


def category(session: Session, name: str) -> Feed:
    if name not in CATEGORIES:
        raise NotFound("This category")
    return _listing("category", name, name, _newest(session, categories=(name,)))


def contribution(session: Session, contribution_id: uuid.UUID) -> Feed:
    """404 when unknown, pending or hidden, 410 when withdrawn: as the contribution's page."""
    row = _public_record(session, contribution_id)
    events = workflow.history(session, contribution_id, public=True, show_staff=False)
    entries = [_event_entry(row, e) for e in reversed(events)][:ENTRIES_MAX]
    updated = max((e.updated for e in entries), default=row.updated_at)
    return Feed("contribution", str(contribution_id), row.title, entries, updated)


def _newest(session: Session, **filters: Any) -> Sequence[Any]:
    query = contributions.Query(limit=ENTRIES_MAX, **filters)
    return contributions.records(session, query, FIELDS)


def _listing(kind: str, key: str, name: str, rows: Sequence[Any]) -> Feed:
    entries = [_entry(row) for row in rows]
    # An empty feed still needs an `updated`: now is all it can truthfully say.
    updated = max((e.updated for e in entries), default=datetime.now(UTC))
    return Feed(kind, key, name, entries, updated)


def _public_record(session: Session, contribution_id: uuid.UUID) -> Any:
    query = contributions.Query(ids=(contribution_id,), limit=1)
    rows = contributions.records(session, query, FIELDS)
    if rows:
        return rows[0]
    contributions.feature(session, contribution_id)  # raises 404 or 410, as the page does
    raise NotFound("This contribution")  # published again in between: ask again


def _point(row: Any) -> tuple[Any, Any] | None:
    return None if row.lat is None else (row.lat, row.lon)


def _entry(row: Any) -> Entry:
    return Entry(
        id=urn(row.id),
        contribution_id=row.id,
        title=row.title,
        category=row.category,
        status=row.status,
        summary=row.description or "",
        response=row.response,
        published=row.created_at,
        updated=row.updated_at,
        point=_point(row),
    )


def _event_entry(row: Any, event: workflow.Event) -> Entry:
    key = f"{event.action}/{event.at.isoformat()}/{event.to_status}"
    created = event.action == "created"
    return Entry(
        id=urn(uuid.uuid5(row.id, key)),
        contribution_id=row.id,
        title=row.title,
        category=row.category,
        status=event.to_status or row.status,
        summary=(row.description if created else event.text) or "",
        response=None,
        published=event.at,
        updated=event.at,
        point=_point(row),
        event=event,
    )
