"""Commitments (afspraken) of a wijkpact, their progress, and the chain to the input they answer.

    commitment_id = create(session, pact, form, actor_id)      # planners and admins
    post_update(session, commitment_id, user, form)           # its party's partners, planners
    for_contribution(session, contribution_id)                 # the afspraken that took it up

Progress is history: every update is a new row of `commitment_update` (a trigger refuses
changing or deleting one); a commitment's status is its latest update's.

    gepland -> bezig -> klaar | vertraagd | vervallen
    vertraagd -> bezig | klaar | vervallen;   klaar and vervallen are final

`vertraagd` and `vervallen` need a reason. An update may repeat the status with a new
percentage or milestone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from kaart.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from kaart.models.pact import NAME_MAX, REASON_STATUSES, TEXT_MAX, THEMES, UPDATE_STATUSES
from kaart.params import form_list, uuid_list
from kaart.services import commitment_input as form_input
from kaart.services import pacts

FINAL = ("klaar", "vervallen")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "gepland": ("gepland", "bezig", "klaar", "vertraagd", "vervallen"),
    "bezig": ("bezig", "klaar", "vertraagd", "vervallen"),
    "vertraagd": ("vertraagd", "bezig", "klaar", "vervallen"),
    "klaar": (),
    "vervallen": (),
}
MILESTONE_MAX = NAME_MAX * 4
# The latest update of commitment `c`, as a LATERAL join (`u`).
LATEST = (
    "LEFT JOIN LATERAL (SELECT status, percentage, milestone, at FROM commitment_update "
    "WHERE commitment_id = c.id ORDER BY at DESC, id DESC LIMIT 1) u ON true"
)
# Published, not withdrawn input only: what the public may see of the chain.
PUBLIC_CONTRIBUTION = "x.withdrawn_at IS NULL AND x.visibility = 'published'"
UUIDS = ARRAY(UUID(as_uuid=True))
# A process response: a history event in which staff answered the contribution publicly.
RESPONSE = "action IN ('status', 'response') AND text IS NOT NULL AND actor_id IS NOT NULL"


def allowed(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


# -- Creating -----------------------------------------------------------------------------------


def create(
    session: Session, pact: pacts.Pact, form: Any, actor_id: uuid.UUID | None, **links: Any
) -> uuid.UUID:
    """A commitment from a planner's form: title, description, party_id (a party of the pact),
    support_ids, theme, due_on, budget, geometry (GeoJSON: a geometry, a Feature or a
    FeatureCollection of one or more places), contribution_ids, initiative_ids, response_ids.
    Starts as `gepland`."""
    errors: list[FieldError] = []
    title = (form.get("title") or "").strip()
    if not 1 <= len(title) <= NAME_MAX:
        errors.append(FieldError("title", "Say what is agreed.", "commitment_title_invalid"))
    description = (form.get("description") or "").strip()
    if len(description) > TEXT_MAX:
        errors.append(FieldError("description", "The text is too long.", "commitment_text_long"))
    members = {p.id for p in pact.parties}
    party_id = form_input.one_uuid(form.get("party_id"))
    if party_id not in members:
        errors.append(FieldError("party_id", "Choose who is responsible.", "commitment_party"))
    support = [p for p in uuid_list(form_list(form, "support_ids")) if p in members]
    theme = form.get("theme") or ""
    if theme not in THEMES:
        errors.append(FieldError("theme", "Choose a theme.", "commitment_theme_invalid"))
    due_on = form_input.one_date(form.get("due_on"))
    if due_on is None:
        errors.append(FieldError("due_on", "Give the date it is due.", "commitment_due_invalid"))
    budget = form_input.budget(form.get("budget"), errors)
    geometry = form_input.places(form.get("geometry"), errors)
    if errors:
        raise Invalid(errors[0].reason, errors=errors, title="Invalid commitment")
    geom_sql = "NULL"
    if geometry is not None:
        geom_sql = (
            "(SELECT ST_Collect(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)) "
            "FROM jsonb_array_elements_text(CAST(:geometry AS jsonb)) AS g)"
        )
    commitment_id = session.execute(
        text(
            "INSERT INTO commitment (pact_id, title, description, party_id, theme, due_on, "
            f"budget, geom, created_by) VALUES (:pact, :title, :description, :party, :theme, "
            f":due, :budget, {geom_sql}, :actor) RETURNING id"
        ),
        {
            "pact": pact.id,
            "title": title,
            "description": description,
            "party": party_id,
            "theme": theme,
            "due": due_on,
            "budget": budget,
            "actor": actor_id,
            **({"geometry": json.dumps(geometry)} if geometry is not None else {}),
        },
    ).scalar_one()
    support = [p for p in support if p != party_id]
    _link(session, "commitment_support", "party_id", commitment_id, support)
    link(session, commitment_id, form, **links)
    session.execute(
        text(
            "INSERT INTO commitment_update (commitment_id, status, percentage, actor_id) "
            "VALUES (:id, 'gepland', 0, :actor)"
        ),
        {"id": commitment_id, "actor": actor_id},
    )
    return commitment_id


def link(session: Session, commitment_id: uuid.UUID, form: Any, **_ignored: Any) -> None:
    """Tie a commitment to the input it answers: contributions (ids), initiatives (ids) and
    process responses (contribution_event ids of a staff response). Unknown ids are skipped."""
    contributions = uuid_list(form_input.ids_of(form, "contribution_ids"))
    found = session.execute(
        text("SELECT id FROM contribution WHERE id = ANY(:ids)").bindparams(
            bindparam("ids", type_=UUIDS)
        ),
        {"ids": contributions},
    ).scalars()
    _link(session, "commitment_contribution", "contribution_id", commitment_id, list(found))
    initiatives = uuid_list(form_input.ids_of(form, "initiative_ids"))
    found = session.execute(
        text("SELECT id FROM initiative WHERE id = ANY(:ids)").bindparams(
            bindparam("ids", type_=UUIDS)
        ),
        {"ids": initiatives},
    ).scalars()
    _link(session, "commitment_initiative", "initiative_id", commitment_id, list(found))
    events = [int(v) for v in form_input.ids_of(form, "response_ids") if str(v).strip().isdigit()]
    if events:
        session.execute(
            text(
                "INSERT INTO commitment_response (commitment_id, event_id) "
                f"SELECT :c, id FROM contribution_event WHERE id = ANY(:ids) AND {RESPONSE} "
                "ON CONFLICT DO NOTHING"
            ),
            {"c": commitment_id, "ids": events},
        )
    # The chain input -> response -> afspraak: the latest staff response to each linked input.
    session.execute(
        text(
            "INSERT INTO commitment_response (commitment_id, event_id) SELECT :c, e.id "
            "FROM commitment_contribution cc CROSS JOIN LATERAL (SELECT id FROM "
            f"contribution_event WHERE contribution_id = cc.contribution_id AND {RESPONSE} "
            "ORDER BY at DESC, id DESC LIMIT 1) e WHERE cc.commitment_id = :c "
            "ON CONFLICT DO NOTHING"
        ),
        {"c": commitment_id},
    )


def _link(session: Session, table: str, column: str, commitment_id: uuid.UUID, ids: list) -> None:
    # `table` and `column` are our own constants, never input.
    if not ids:
        return
    session.execute(
        text(
            f"INSERT INTO {table} (commitment_id, {column}) SELECT :c, unnest(:ids) "
            "ON CONFLICT DO NOTHING"
        ).bindparams(bindparam("ids", type_=UUIDS)),
        {"c": commitment_id, "ids": ids},
    )


# -- Progress -----------------------------------------------------------------------------------


def find(session: Session, commitment_id: uuid.UUID) -> Any:
    row = session.execute(
        text(
            "SELECT c.id, c.title, c.party_id, c.pact_id, p.slug AS pact_slug, "
            "coalesce(u.status, 'gepland') AS status, u.percentage "
            f"FROM commitment c JOIN pact p ON p.id = c.pact_id {LATEST} WHERE c.id = :id"
        ),
        {"id": commitment_id},
    ).one_or_none()
    if row is None:
        raise NotFound("This commitment")
    return row


def may_update(session: Session, user: Any, party_id: uuid.UUID) -> bool:
    """Planners and admins update any commitment; a partner only its own party's."""
    if user is None:
        return False
    if user.has_role("planner"):
        return True
    return "partner" in user.roles and party_id in pacts.parties_of(session, user.id)


def post_update(session: Session, commitment_id: uuid.UUID, user: Any, form: Any) -> int:
    """Append a progress update (status, percentage 0-100 and/or milestone text, reason):
    403 for a partner of another party, 409 after a final status, 422 with field errors."""
    current = find(session, commitment_id)
    if not may_update(session, user, current.party_id):
        raise Forbidden("Only the responsible party updates this commitment.")
    session.execute(
        text("SELECT 1 FROM commitment WHERE id = :id FOR UPDATE"), {"id": commitment_id}
    )
    errors: list[FieldError] = []
    status = form.get("status") or ""
    if status not in UPDATE_STATUSES:
        errors.append(FieldError("status", "Choose a status.", "update_status_invalid"))
    percentage = _percentage(form.get("percentage"), errors)
    milestone = (form.get("milestone") or "").strip() or None
    if milestone and len(milestone) > MILESTONE_MAX:
        errors.append(FieldError("milestone", "The milestone is too long.", "milestone_long"))
    reason = (form.get("reason") or "").strip() or None
    if status in REASON_STATUSES and not reason:
        errors.append(FieldError("reason", "Say why (required).", "update_reason_missing"))
    elif reason and len(reason) > TEXT_MAX:
        errors.append(FieldError("reason", "The reason is too long.", "update_reason_long"))
    if errors:
        raise Invalid(errors[0].reason, errors=errors, title="Invalid progress update")
    if status not in allowed(current.status):
        raise Conflict(
            f"A commitment that is {current.status} cannot become {status}.",
            "status",
            "update_transition",
        )
    if status == "klaar" and percentage is None:
        percentage = 100
    return session.execute(
        text(
            "INSERT INTO commitment_update (commitment_id, status, percentage, milestone, "
            "reason, actor_id) VALUES (:c, :s, :p, :m, :r, :a) RETURNING id"
        ),
        {
            "c": commitment_id,
            "s": status,
            "p": percentage,
            "m": milestone,
            "r": reason,
            "a": user.id,
        },
    ).scalar_one()


def _percentage(value: Any, errors: list[FieldError]) -> int | None:
    raw = str(value if value is not None else "").strip().rstrip("%")
    if not raw:
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        errors.append(
            FieldError("percentage", "Give a number from 0 to 100.", "update_percentage_invalid")
        )
        return None
    return int(raw)


def history(session: Session, pact_id: uuid.UUID) -> list[Any]:
    """Every update of the pact's commitments, newest first, with the party (never a person)."""
    return session.execute(
        text(
            "SELECT u.id, u.at, u.status, u.percentage, u.milestone, u.reason, "
            "c.id AS commitment_id, c.title, y.name AS party "
            "FROM commitment_update u JOIN commitment c ON c.id = u.commitment_id "
            "JOIN party y ON y.id = c.party_id WHERE c.pact_id = :p ORDER BY u.at DESC, u.id DESC"
        ),
        {"p": pact_id},
    ).all()


# -- The chain, both ways -----------------------------------------------------------------------

CHAIN = (
    "SELECT c.id, c.title, coalesce(u.status, 'gepland') AS status, u.percentage, "
    "c.due_on, p.slug AS pact_slug, p.title AS pact_title, y.name AS party "
    "FROM commitment c JOIN pact p ON p.id = c.pact_id AND p.published "
    f"JOIN party y ON y.id = c.party_id {LATEST} "
)


def for_contribution(session: Session, contribution_id: uuid.UUID) -> list[Any]:
    """The afspraken of published pacts that took up a contribution."""
    return session.execute(
        text(
            CHAIN + "JOIN commitment_contribution cc ON cc.commitment_id = c.id "
            "WHERE cc.contribution_id = :id ORDER BY c.due_on, c.title"
        ),
        {"id": contribution_id},
    ).all()


def for_initiative(session: Session, initiative_id: uuid.UUID) -> list[Any]:
    """The afspraken of published pacts that took up an initiative."""
    return session.execute(
        text(
            CHAIN + "JOIN commitment_initiative ci ON ci.commitment_id = c.id "
            "WHERE ci.initiative_id = :id ORDER BY c.due_on, c.title"
        ),
        {"id": initiative_id},
    ).all()


def for_contributions(session: Session, ids: list[uuid.UUID]) -> dict[str, list[Any]]:
    """Per contribution id (text) the afspraken that took it up: the reactienota's lists."""
    if not ids:
        return {}
    rows = session.execute(
        text(
            CHAIN.replace("SELECT ", "SELECT cc.contribution_id AS contribution_id, ", 1)
            + "JOIN commitment_contribution cc ON cc.commitment_id = c.id "
            "WHERE cc.contribution_id = ANY(:ids) ORDER BY c.due_on, c.title"
        ).bindparams(bindparam("ids", type_=UUIDS)),
        {"ids": ids},
    ).all()
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(str(row.contribution_id), []).append(row)
    return found


def contributions_of(session: Session, commitment_id: uuid.UUID) -> list[Any]:
    """The published input a commitment answers (id, title and its latest public response)."""
    return session.execute(
        text(
            "SELECT x.id, x.title, x.response FROM commitment_contribution cc "
            "JOIN contribution x ON x.id = cc.contribution_id "
            f"WHERE cc.commitment_id = :id AND {PUBLIC_CONTRIBUTION} ORDER BY x.created_at"
        ),
        {"id": commitment_id},
    ).all()
