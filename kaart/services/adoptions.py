"""Adopting public space (zelfbeheer): offers by residents or groups, decisions by planners and
beheerders, and what the public and the asset register see.

    offer(session, AdoptionInput(...), "nl")                     -> id
    decide(session, id, "accepted", "Fijn!", actor_id, start, end)
    public_collection(session)      -> FeatureCollection text (accepted, current; no address)
    records(session, statuses)      -> rows for /beheer and the exports

The contact address is never public. The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import Conflict, invalid, not_found
from kaart.mail import addresses
from kaart.mail.outbox import Message, write
from kaart.models.adoption import ACTIVITIES_MAX, FREQUENCIES, GROUP_NAME_MAX, RESPONSE_MAX
from kaart.providers import versions
from kaart.services.initiative_input import parse_date, text_value
from kaart.services.initiatives import ADOPTABLE_KINDS, object_geometry, object_table

DECISIONS = ("accepted", "declined")


@dataclass(frozen=True)
class AdoptionInput:
    layer: str
    feature_id: str
    group_name: str
    activities: str
    frequency: str
    email: str | None


def parse_offer(values: dict[str, Any]) -> AdoptionInput:
    frequency = values.get("frequency")
    if frequency not in FREQUENCIES:
        reason = f"frequency must be one of {', '.join(FREQUENCIES)}."
        raise invalid("frequency", reason, "adoption_frequency_unknown")
    return AdoptionInput(
        layer=text_value(values.get("layer"), "layer", 100, required=True),
        feature_id=text_value(values.get("feature"), "feature", 200, required=True),
        group_name=text_value(
            values.get("group_name"), "group_name", GROUP_NAME_MAX, required=True
        ),
        activities=text_value(
            values.get("activities"), "activities", ACTIVITIES_MAX, required=True, single_line=False
        ),
        frequency=frequency,
        email=addresses.parse(values.get("email"), "email"),
    )


def adoptable(session: Session, layer: str, feature_id: str) -> dict[str, Any]:
    """The object to adopt (its layer title and geometry); 422 when it cannot be adopted."""
    table = object_table(session, layer, "layer", ADOPTABLE_KINDS)
    geometry = object_geometry(session, table, feature_id)
    if geometry is None:
        reason = f"Layer {layer[:40]!r} has no object {feature_id[:40]!r}."
        raise invalid("feature", reason, "object_not_found")
    title = session.execute(
        text("SELECT title, kind FROM layer WHERE name = :name"), {"name": layer}
    ).one()
    return {
        "layer": layer,
        "feature": feature_id,
        "title": title.title,
        "kind": title.kind,
        "geometry": geometry,
    }


def offer(session: Session, data: AdoptionInput, language: str) -> uuid.UUID:
    """Store an offer with the object's geometry as it is now, and its `offered` event."""
    found = adoptable(session, data.layer, data.feature_id)
    address_id = addresses.remember(session, data.email)[0] if data.email else None
    new_id = session.execute(
        text(
            "INSERT INTO adoption (layer, feature_id, geom, group_name, activities, frequency, "
            "contact_address_id, language) VALUES (:layer, :fid, "
            "ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326), :group_name, :activities, "
            ":frequency, :address, :language) RETURNING id"
        ),
        {
            "layer": data.layer,
            "fid": data.feature_id,
            "geometry": found["geometry"],
            "group_name": data.group_name,
            "activities": data.activities,
            "frequency": data.frequency,
            "address": address_id,
            "language": language,
        },
    ).scalar_one()
    _event(session, new_id, "offered", None, None)
    return new_id


def _event(session: Session, adoption_id: uuid.UUID, action: str, note, actor_id) -> None:
    session.execute(
        text(
            "INSERT INTO adoption_event (adoption_id, action, text, actor_id) "
            "VALUES (:id, :action, :text, :actor)"
        ),
        {"id": adoption_id, "action": action, "text": note, "actor": actor_id},
    )


def decide(
    session: Session,
    adoption_id: uuid.UUID,
    decision: str,
    response: str,
    actor_id: uuid.UUID | None,
    start: Any = None,
    end: Any = None,
) -> None:
    """Accept (with a start date, optionally an end date) or decline an offer, with a response
    for the group; or end an accepted adoption. 404 unknown, 409 not possible from its status."""
    if decision not in (*DECISIONS, "ended"):
        raise invalid(
            "decision", "decision is accepted, declined or ended.", "adoption_decision_unknown"
        )
    response = text_value(response, "response", RESPONSE_MAX, required=True, single_line=False)
    start_date = parse_date(start, "start_date") if decision == "accepted" else None
    end_date = parse_date(end, "end_date") if decision in ("accepted", "ended") else None
    if decision == "accepted" and start_date is None:
        raise invalid(
            "start_date", "An accepted adoption needs a start date.", "adoption_start_missing"
        )
    if decision == "ended" and end_date is None:
        end_date = date.today()
    row = session.execute(
        text("SELECT status, start_date FROM adoption WHERE id = :id FOR UPDATE"),
        {"id": adoption_id},
    ).one_or_none()
    if row is None:
        raise not_found("This adoption")
    expected = "accepted" if decision == "ended" else "offered"
    if row.status != expected:
        raise Conflict(f"This adoption is {row.status}; it cannot become {decision}.")
    first = start_date or row.start_date
    if end_date is not None and first is not None and end_date < first:
        raise invalid(
            "end_date", "The end date is before the start date.", "adoption_dates_invalid"
        )
    session.execute(
        text(
            "UPDATE adoption SET status = :status, response = :response, decided_by = :actor, "
            "decided_at = now(), start_date = coalesce(:start, start_date), end_date = :end, "
            "updated_at = now() WHERE id = :id"
        ),
        {
            "status": decision,
            "response": response,
            "actor": actor_id,
            "start": start_date,
            "end": end_date,
            "id": adoption_id,
        },
    )
    _event(session, adoption_id, decision, response, actor_id)
    _tell_group(session, adoption_id)


def _tell_group(session: Session, adoption_id: uuid.UUID) -> None:
    """The group gave an address: the decision and its response by mail (the outbox)."""
    row = session.execute(
        text(
            "SELECT d.status, d.response, d.group_name, d.start_date, d.end_date, d.language, "
            "m.address FROM adoption d JOIN mail_address m ON m.id = d.contact_address_id "
            "WHERE d.id = :id"
        ),
        {"id": adoption_id},
    ).one_or_none()
    if row is not None:
        message = Message(row.address, "adoption_decided", row.language)
        write(session, message, adoption=row)


# What anyone may see of an accepted adoption: no address, no person.
PUBLIC_PROPERTIES = (
    "'group_name', a.group_name, 'activities', a.activities, 'frequency', a.frequency, "
    "'start_date', a.start_date, 'end_date', a.end_date, 'layer', a.layer, "
    "'feature_id', a.feature_id"
)
CURRENT = "a.status = 'accepted' AND (a.end_date IS NULL OR a.end_date >= current_date)"


def public_collection(session: Session) -> str:
    """Current accepted adoptions as a FeatureCollection (PostGIS builds it)."""
    body = session.execute(
        text(
            "SELECT coalesce(string_agg(json_build_object('type', 'Feature', 'id', a.id, "
            "'geometry', ST_AsGeoJSON(a.geom, 7)::json, 'properties', "
            f"json_build_object({PUBLIC_PROPERTIES}))::text, ',' ORDER BY a.start_date, a.id), '') "
            f"FROM adoption a WHERE {CURRENT}"
        )
    ).scalar_one()
    return '{"type": "FeatureCollection", "features": [' + body + "]}"


def version(session: Session) -> str:
    """The public layer's version: the adoption table's change counter (migration 0019), and
    the day, which moves which adoptions are current."""
    return f"{versions.current(session, ('adoption',))};{date.today().isoformat()}"


def adoptions_of(session: Session, layer: str, feature_id: str) -> list[Any]:
    """Current accepted adoptions of one object (its page says who looks after it)."""
    return session.execute(
        text(
            "SELECT a.group_name, a.start_date, a.end_date FROM adoption a "
            f"WHERE a.layer = :layer AND a.feature_id = :fid AND {CURRENT}"
        ),
        {"layer": layer, "fid": feature_id},
    ).all()


RECORD_COLUMNS = (
    "a.id, a.layer, a.feature_id, a.group_name, a.activities, a.frequency, a.status, "
    "a.response, a.start_date, a.end_date, a.created_at, a.decided_at, "
    "u.display_name AS decided_by_name"
)


def records(session: Session, statuses: tuple[str, ...] = ()) -> list[Any]:
    """Adoptions for staff, newest first (no contact address: staff write back through mail)."""
    where = "WHERE a.status = ANY(:statuses)" if statuses else ""
    return session.execute(
        text(
            f"SELECT {RECORD_COLUMNS} FROM adoption a LEFT JOIN app_user u ON u.id = a.decided_by "
            f"{where} ORDER BY a.created_at DESC, a.id DESC"
        ),
        {"statuses": list(statuses)},
    ).all()


def history(session: Session, adoption_id: uuid.UUID) -> list[Any]:
    return session.execute(
        text(
            "SELECT e.at, e.action, e.text, u.display_name AS actor FROM adoption_event e "
            "LEFT JOIN app_user u ON u.id = e.actor_id WHERE e.adoption_id = :id "
            "ORDER BY e.at, e.id"
        ),
        {"id": adoption_id},
    ).all()
