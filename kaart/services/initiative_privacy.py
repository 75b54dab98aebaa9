"""Personal data of initiatives and adoptions: the retention purge, and access and erasure for
an e-mail address (called from kaart/services/retention.py and kaart/services/rights.py).

Held: the initiator's address, joiners' names and addresses, an adopting group's address. The
group's chosen name and an initiative's own texts are public by the resident's choice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings

ENDED = "i.status IN ('gerealiseerd', 'gestopt')"
# When an initiative ended: the moment of its latest status event.
ENDED_AT = "(SELECT max(e.at) FROM initiative_event e WHERE e.initiative_id = i.id)"
# Addresses still in use here (retention keeps them; see _mail_addresses there).
ADDRESS_IN_USE = (
    "EXISTS (SELECT 1 FROM initiative i WHERE i.contact_address_id = a.id) "
    "OR EXISTS (SELECT 1 FROM initiative_participant p WHERE p.address_id = a.id) "
    "OR EXISTS (SELECT 1 FROM adoption d WHERE d.contact_address_id = a.id)"
)
NAME_REMOVED = "[naam verwijderd]"


def purge(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    """`age` after an initiative ended: the joiners' names and every address; `age` after an
    adoption was declined or ended: the group's address."""
    params = {"age": age, "removed": NAME_REMOVED}
    ended = f"{ENDED} AND {ENDED_AT} < now() - :age"
    people = session.execute(
        text(
            "UPDATE initiative_participant p SET name = :removed, address_id = NULL "
            f"FROM initiative i WHERE i.id = p.initiative_id AND {ended} "
            "AND (p.name <> :removed OR p.address_id IS NOT NULL)"
        ),
        params,
    ).rowcount
    initiators = session.execute(
        text(
            f"UPDATE initiative i SET contact_address_id = NULL WHERE {ended} "
            "AND i.contact_address_id IS NOT NULL"
        ),
        params,
    ).rowcount
    groups = session.execute(
        text(
            "UPDATE adoption SET contact_address_id = NULL WHERE contact_address_id IS NOT NULL "
            "AND (status = 'declined' AND decided_at < now() - :age "
            "OR status = 'ended' AND end_date < CAST(now() - :age AS date))"
        ),
        params,
    ).rowcount
    return {"participants": people, "initiators": initiators, "adoptions": groups}, []


def held(session: Session, address: str) -> dict[str, list[dict[str, Any]]]:
    """What is tied to an address: initiatives started, joined, adoptions offered."""
    rows = {
        "started": "SELECT i.id, i.title, i.status, i.created_at FROM initiative i "
        "JOIN mail_address a ON a.id = i.contact_address_id WHERE a.address = :a",
        "joined": "SELECT p.initiative_id, p.name, p.joined_at, p.withdrawn_at "
        "FROM initiative_participant p JOIN mail_address a ON a.id = p.address_id "
        "WHERE a.address = :a",
        "adoptions": "SELECT d.id, d.layer, d.feature_id, d.group_name, d.activities, "
        "d.status, d.created_at FROM adoption d JOIN mail_address a "
        "ON a.id = d.contact_address_id WHERE a.address = :a",
    }
    return {
        name: [
            {k: _plain(v) for k, v in row._mapping.items()}
            for row in session.execute(text(sql), {"a": address})
        ]
        for name, sql in rows.items()
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def erase(session: Session, address: str) -> int:
    """Before the address goes: the names it joined with (the count goes down with them)."""
    gone = (
        session.execute(
            text(
                "DELETE FROM initiative_participant p USING mail_address a "
                "WHERE a.id = p.address_id AND a.address = :a RETURNING p.initiative_id"
            ),
            {"a": address},
        )
        .scalars()
        .all()
    )
    session.execute(
        text("UPDATE initiative SET updated_at = now() WHERE id = ANY(:ids)"), {"ids": list(gone)}
    )
    return len(gone)
