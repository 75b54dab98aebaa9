"""Start, join and run resident initiatives (reading them: kaart/providers/initiatives.py;
status and moderation: kaart/services/initiative_workflow.py).

    created = create(session, data, language="nl")      # Created(id, edit_token)
    join(session, initiative_id, JoinInput("Sanne", None), "nl")
    authorise(session, initiative_id, token)            # the initiator's private link
    post_update(session, initiative_id, token, "We beginnen zaterdag om 10 uur.")

The initiator's address and the joiners' names and addresses are read only by `participants`
(the initiator through the private link, and staff). The caller owns the transaction.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import CatalogueError, Conflict, Forbidden, Unauthorized, invalid, not_found
from kaart.mail import addresses
from kaart.services.contributions import AREA_CODES_SQL, _wkb, hash_token
from kaart.services.initiative_input import InitiativeInput, JoinInput
from kaart.services.initiative_mail import ask_confirmation, receipt, tell_participants

ADOPTABLE_KINDS = ("green", "tree", "playground")
CLOSED = ("gerealiseerd", "gestopt")  # nobody joins any more
PARTICIPANTS_MAX = 500


@dataclass(frozen=True)
class Created:
    id: uuid.UUID
    edit_token: str


def create(
    session: Session,
    data: InitiativeInput,
    language: str,
    *,
    edit_token: str | None = None,
    initiative_id: uuid.UUID | None = None,
) -> Created:
    """Store a new initiative with its needs and its `created` event."""
    token = edit_token or secrets.token_urlsafe(32)
    place = _place(session, data)
    address_id = addresses.remember(session, data.email)[0] if data.email else None
    new_id = session.execute(
        text(
            f"""
            INSERT INTO initiative (id, title, description, geom, buurt_code, contribution_id,
              object_layer, object_id, start_date, contact_address_id, language, edit_token_hash)
            SELECT coalesce(:id, gen_random_uuid()), :title, :description, g.geom, codes.code,
                   :contribution, :layer, :object_id, :start_date, :address, :language,
                   :token_hash
            FROM ({place}) g
            {AREA_CODES_SQL}
            RETURNING id
            """
        ),
        {
            "id": initiative_id,
            "title": data.title,
            "description": data.description,
            "contribution": data.contribution,
            "layer": data.object_layer,
            "object_id": data.object_id,
            "start_date": data.start_date,
            "address": address_id,
            "language": language,
            "token_hash": hash_token(token),
            "wkb": _wkb(data.geom) if data.geom is not None else None,
            "cid": data.contribution,
            "fid": data.object_id,
        },
    ).scalar_one()
    for need in data.needs:
        session.execute(
            text(
                "INSERT INTO initiative_need (initiative_id, kind, description, amount, unit) "
                "VALUES (:id, :kind, :description, :amount, :unit)"
            ),
            {"id": new_id, **need.__dict__},
        )
    event(session, new_id, "created", to_status="idee", to_visibility="published")
    if address_id is not None:
        receipt(session, new_id, token)
    return Created(new_id, token)


def _place(session: Session, data: InitiativeInput) -> str:
    """SQL for one row `geom` (WGS84): drawn, else the object's, else the contribution's place
    as the public sees it. Checks that the contribution and object exist."""
    if data.contribution is not None:
        public = session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM contribution WHERE id = :id "
                "AND withdrawn_at IS NULL AND visibility = 'published')"
            ),
            {"id": data.contribution},
        ).scalar_one()
        if not public:
            reason = "There is no published contribution with this id."
            raise invalid("properties.contribution", reason, "initiative_contribution_unknown")
    if data.geom is not None:
        return "SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom"
    if data.object_layer is not None:
        table = object_table(session, data.object_layer, "properties.object.layer")
        if object_geometry(session, table, data.object_id or "") is None:
            reason = f"Layer {data.object_layer!r} has no object {data.object_id[:40]!r}."
            raise invalid("properties.object.id", reason, "object_not_found")
        return (
            f'SELECT ST_Transform(geom, 4326) AS geom FROM open_data."{table}" '
            "WHERE feature_id = :fid ORDER BY fid LIMIT 1"
        )
    return "SELECT public_geom AS geom FROM contribution WHERE id = :cid"


def object_table(
    session: Session, layer: str, field: str, kinds: tuple[str, ...] | None = None
) -> str:
    """The table of a loaded layer (of one of `kinds`, if given); 422 when there is none."""
    row = session.execute(
        text("SELECT table_name, kind FROM layer WHERE name = :name AND table_name IS NOT NULL"),
        {"name": layer},
    ).one_or_none()
    if row is None or (kinds is not None and row.kind not in kinds):
        raise invalid(field, f"There is no suitable layer {layer[:40]!r}.", "object_layer_unknown")
    if not re.fullmatch(r"[a-z0-9_]+", row.table_name):
        raise CatalogueError(f"layer {layer!r}: table name the loader never writes")
    return row.table_name


def object_geometry(session: Session, table: str, feature_id: str) -> str | None:
    """The object's geometry as GeoJSON (WGS84), or None. `table` comes from object_table."""
    return session.execute(
        text(
            f'SELECT ST_AsGeoJSON(ST_Transform(geom, 4326), 7) FROM open_data."{table}" '
            "WHERE feature_id = :fid ORDER BY fid LIMIT 1"
        ),
        {"fid": feature_id[:200]},
    ).scalar_one_or_none()


def event(session: Session, initiative_id: uuid.UUID, action: str, **values: Any) -> None:
    """Append one history event (the table is append-only: never updated)."""
    columns = ("from_status", "to_status", "from_visibility", "to_visibility", "text", "actor_id")
    params = {name: values.get(name) for name in columns}
    session.execute(
        text(
            "INSERT INTO initiative_event (initiative_id, action, from_status, to_status, "
            "from_visibility, to_visibility, text, actor_id) VALUES (:id, :action, "
            ":from_status, :to_status, :from_visibility, :to_visibility, :text, :actor_id)"
        ),
        {"id": initiative_id, "action": action, **params},
    )


def _public_row(session: Session, initiative_id: uuid.UUID, lock: bool = False) -> Any:
    row = session.execute(
        text(
            "SELECT id, status, visibility, title FROM initiative WHERE id = :id"
            + (" FOR UPDATE" if lock else "")
        ),
        {"id": initiative_id},
    ).one_or_none()
    if row is None or row.visibility != "published":
        raise not_found("This initiative")
    return row


def join(session: Session, initiative_id: uuid.UUID, data: JoinInput, language: str) -> uuid.UUID:
    """Someone joins ("Ik doe mee"); 404 unknown or not public, 409 when it has ended."""
    row = _public_row(session, initiative_id, lock=True)
    if row.status in CLOSED:
        raise Conflict("This initiative has ended; joining is no longer possible.")
    joined = session.execute(
        text("SELECT count(*) FROM initiative_participant WHERE initiative_id = :id"),
        {"id": initiative_id},
    ).scalar_one()
    if joined >= PARTICIPANTS_MAX:
        raise Conflict("This initiative has as many participants as it can list.")
    address_id = addresses.remember(session, data.email)[0] if data.email else None
    touch(session, initiative_id)
    participant_id = session.execute(
        text(
            "INSERT INTO initiative_participant (initiative_id, name, address_id, language) "
            "VALUES (:id, :name, :address, :language) RETURNING id"
        ),
        {"id": initiative_id, "name": data.name, "address": address_id, "language": language},
    ).scalar_one()
    if address_id is not None:
        ask_confirmation(session, participant_id)
    return participant_id


def touch(session: Session, initiative_id: uuid.UUID) -> None:
    """What the public sees of it changed (the ETags of the API and /ogc follow updated_at)."""
    session.execute(
        text("UPDATE initiative SET updated_at = now() WHERE id = :id"), {"id": initiative_id}
    )


def authorise(
    session: Session, initiative_id: uuid.UUID, token: str | None, lock: bool = True
) -> Any:
    """Lock the initiative (unless only reading) and check the initiator's token: 404/401/403."""
    row = session.execute(
        text(
            "SELECT id, status, edit_token_hash FROM initiative WHERE id = :id"
            + (" FOR UPDATE" if lock else "")
        ),
        {"id": initiative_id},
    ).one_or_none()
    if row is None:
        raise not_found("This initiative")
    if not token:
        raise Unauthorized("Use the private link of this initiative.", title="Token required")
    if not hmac.compare_digest(bytes(row.edit_token_hash), hash_token(token)):
        raise Forbidden("This link does not belong to this initiative.")
    return row


def participants(session: Session, initiative_id: uuid.UUID) -> list[Any]:
    """Who joined (names; whether they get updates): for the initiator and staff only."""
    return session.execute(
        text(
            "SELECT id, name, address_id IS NOT NULL AS gets_updates, joined_at, withdrawn_at "
            "FROM initiative_participant WHERE initiative_id = :id ORDER BY joined_at, id"
        ),
        {"id": initiative_id},
    ).all()


def needs(session: Session, initiative_id: uuid.UUID) -> list[Any]:
    return session.execute(
        text(
            "SELECT id, kind, description, amount, unit, fulfilled FROM initiative_need "
            "WHERE initiative_id = :id ORDER BY id"
        ),
        {"id": initiative_id},
    ).all()


def set_fulfilled(
    session: Session, initiative_id: uuid.UUID, token: str | None, need_id: int, done: bool
) -> None:
    authorise(session, initiative_id, token)
    found = session.execute(
        text(
            "UPDATE initiative_need SET fulfilled = :done WHERE id = :need "
            "AND initiative_id = :id RETURNING id"
        ),
        {"done": done, "need": need_id, "id": initiative_id},
    ).first()
    if found is None:
        raise not_found("This need")
    touch(session, initiative_id)


def post_update(
    session: Session, initiative_id: uuid.UUID, token: str | None, update_text: str
) -> int:
    """The initiator posts to the public timeline; joiners with an address get it by mail."""
    authorise(session, initiative_id, token)
    update_id = session.execute(
        text("INSERT INTO initiative_update (initiative_id, text) VALUES (:id, :t) RETURNING id"),
        {"id": initiative_id, "t": update_text},
    ).scalar_one()
    touch(session, initiative_id)
    tell_participants(session, initiative_id, "initiative_update", update_text)
    return update_id


def timeline(session: Session, initiative_id: uuid.UUID) -> list[Any]:
    """The public timeline, newest first: the initiator's updates and the status changes."""
    return session.execute(
        text(
            "SELECT 'update' AS kind, u.created_at AS at, u.text, NULL AS to_status, "
            "u.photo_id, u.photo_media_type, u.photo_width, u.photo_height "
            "FROM initiative_update u WHERE u.initiative_id = :id "
            "UNION ALL SELECT 'status', e.at, NULL, e.to_status, NULL, NULL, NULL, NULL "
            "FROM initiative_event e "
            "WHERE e.initiative_id = :id AND e.action IN ('created', 'status') "
            "ORDER BY at DESC"
        ),
        {"id": initiative_id},
    ).all()


def history(session: Session, initiative_id: uuid.UUID) -> list[Any]:
    """Every event (staff): status, moderation, with who did it."""
    return session.execute(
        text(
            "SELECT e.at, e.action, e.from_status, e.to_status, e.from_visibility, "
            "e.to_visibility, e.text, u.display_name AS actor FROM initiative_event e "
            "LEFT JOIN app_user u ON u.id = e.actor_id WHERE e.initiative_id = :id "
            "ORDER BY e.at, e.id"
        ),
        {"id": initiative_id},
    ).all()


def started_from(session: Session, contribution_id: uuid.UUID) -> list[Any]:
    """Published initiatives that grew from a contribution (its page links them)."""
    return session.execute(
        text(
            "SELECT id, title, status FROM initiative WHERE contribution_id = :id "
            "AND visibility = 'published' ORDER BY created_at"
        ),
        {"id": contribution_id},
    ).all()
