"""The demo's wijkpact for Weesp Centrum: four parties, a partner account of the woningcorporatie
and five afspraken tied to the demo contributions (and to a demo initiative when there is one),
with some progress, a delay and an overdue one, so `make run` shows the whole chain.

Idempotent: nothing happens when the pact exists or the buurt is not loaded. The partner
account gets a random password, reported once through `echo` (an admin sets another at
/beheer/gebruikers).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.services import commitments, demo_initiatives, pacts, users
from kaart.services.processes import local_today

SLUG = "weesp-centrum"
PLUKTUIN = "Pluktuin langs het Singel"  # the demo initiative builds on this contribution
BUURT = "BU0363SD03"
PARTNER_EMAIL = "partner.woningcorporatie@wijkkaart.example"
PARTIES = (
    ("Gemeente Amsterdam", "gemeente"),
    ("Woningcorporatie Eigen Haard", "woningcorporatie"),
    ("Bewonersvereniging Weesp Centrum", "bewonersorganisatie"),
    ("Energiecoöperatie Weesp", "energiecooperatie"),
)
# title, responsible, supporting, theme, due (days from today), budget, demo contribution,
# progress updates (status, percentage, reason)
COMMITMENTS = (
    (
        "Vijf nieuwe bomen op de Ossenmarkt",
        "Gemeente Amsterdam",
        ("Bewonersvereniging Weesp Centrum",),
        "groen",
        120,
        "25000",
        "Meer bomen op de Ossenmarkt",
        (("bezig", 30, None),),
    ),
    (
        "Pluktuin langs het Singel samen aanleggen",
        "Bewonersvereniging Weesp Centrum",
        ("Gemeente Amsterdam",),
        "groen",
        200,
        "4500",
        "Pluktuin langs het Singel",
        (),
    ),
    (
        "Zonnepanelen op de daken in de Middenstraat",
        "Energiecoöperatie Weesp",
        ("Woningcorporatie Eigen Haard",),
        "energie",
        300,
        "180000",
        "Gezamenlijk zonnedak in de Middenstraat",
        (("bezig", 60, None),),
    ),
    (
        "Speelplek bij het Oude Convent opknappen",
        "Woningcorporatie Eigen Haard",
        (),
        "speelplek",
        -10,
        "40000",
        "Speelplek bij het Oude Convent opknappen",
        (("bezig", 20, None), ("vertraagd", 20, "De nieuwe toestellen worden later geleverd.")),
    ),
    (
        "Fietsnietjes in de Hoogstraat",
        "Gemeente Amsterdam",
        (),
        "verkeer",
        -30,
        None,
        "Fietsen blokkeren de stoep in de Hoogstraat",
        (("bezig", 50, None), ("klaar", 100, None)),
    ),
)


@dataclass(frozen=True)
class _System:
    """Who posts the demo's progress: a planner-like actor (the demo has no staff of its own)."""

    id: uuid.UUID | None = None
    roles: tuple[str, ...] = ("planner",)

    def has_role(self, *roles: str) -> bool:
        return True


def load(session: Session, echo: Callable[[str], None] = lambda _m: None) -> bool:
    """Create the demo pact (False when it exists already or the buurt is missing)."""
    exists = session.execute(text("SELECT 1 FROM pact WHERE slug = :s"), {"s": SLUG}).first()
    buurt = session.execute(text("SELECT 1 FROM buurt WHERE code = :c"), {"c": BUURT}).first()
    if exists or not buurt:
        return False
    ids = {name: _party(session, name, kind) for name, kind in PARTIES}
    form = {
        "title": "Wijkpact Weesp Centrum",
        "slug": SLUG,
        "description": (
            "Voorbeeld: afspraken van de gemeente, de woningcorporatie, de bewonersvereniging en "
            "de energiecoöperatie over het centrum van Weesp."
        ),
        "area_kind": "buurt",
        "area_code": BUURT,
        "party_ids": [str(v) for v in ids.values()],
    }
    pacts.create_pact(session, form, None)
    pact = pacts.find(session, SLUG)
    initiative = _demo_initiative(session)
    for title, party, support, theme, due, budget, source, updates in COMMITMENTS:
        contribution = _contribution(session, source)
        commitment_id = commitments.create(
            session,
            pact,
            {
                "title": title,
                "party_id": str(ids[party]),
                "support_ids": [str(ids[name]) for name in support],
                "theme": theme,
                "due_on": (local_today() + timedelta(days=due)).isoformat(),
                "budget": budget,
                "geometry": contribution.geojson if contribution else "",
                "contribution_ids": [str(contribution.id)] if contribution else [],
                "initiative_ids": [str(initiative)] if initiative and source == PLUKTUIN else [],
            },
            None,
        )
        for status, percentage, reason in updates:
            update = {"status": status, "percentage": str(percentage), "reason": reason or ""}
            commitments.post_update(session, commitment_id, _System(), update)
    password = _partner(session, ids["Woningcorporatie Eigen Haard"])
    echo(f"demo wijkpact: /wijkpact/{SLUG}")
    if password:
        echo(f"demo partner account: {PARTNER_EMAIL} (password: {password})")
    return True


def _party(session: Session, name: str, kind: str) -> uuid.UUID:
    found = session.execute(text("SELECT id FROM party WHERE name = :n"), {"n": name}).scalar()
    if found:
        return found
    return pacts.create_party(session, None, name, kind)


def _contribution(session: Session, title: str):
    """A published demo contribution by title, with the place the public sees."""
    return session.execute(
        text(
            "SELECT id, ST_AsGeoJSON(public_geom) AS geojson FROM contribution "
            "WHERE title = :t AND withdrawn_at IS NULL AND visibility = 'published' "
            "ORDER BY created_at LIMIT 1"
        ),
        {"t": title},
    ).first()


def _demo_initiative(session: Session) -> uuid.UUID | None:
    """The demo's initiative (kaart/services/demo_initiatives.py), when it is there."""
    return session.execute(
        text("SELECT id FROM initiative WHERE id = :id"), {"id": demo_initiatives.INITIATIVE_ID}
    ).scalar()


def _partner(session: Session, party_id: uuid.UUID) -> str | None:
    """The woningcorporatie's partner account (a random password, returned when new)."""
    existing = session.execute(
        text("SELECT id FROM app_user WHERE email = :e"), {"e": PARTNER_EMAIL}
    ).scalar()
    password = None
    if existing is None:
        password = secrets.token_urlsafe(12)
        existing = users.create(
            session, PARTNER_EMAIL, password, ["partner"], display_name="Partner Eigen Haard"
        )
    pacts.add_member(session, party_id, existing)
    return password
