"""The status workflow of a contribution: the one state machine, and the one way to change it.

    change_status(session, contribution_id, "in_behandeling", "We bekijken dit.", actor)

    ontvangen -> in_behandeling -> beantwoord | overgenomen | niet_overgenomen | gerealiseerd
    overgenomen -> gerealiseerd
    beantwoord, overgenomen, niet_overgenomen -> in_behandeling   (reopened)

    withdraw(session, contribution_id, edit_token)          # the author, any status but final
    withdraw_on_request(session, contribution_id, admin)    # erasure at the author's request

`ingetrokken` belongs to the author (`withdraw`, with the edit token; an admin takes that step
for them only when they ask for erasure), never to staff's own judgement; `gerealiseerd` is
final. Every change is written to the append-only history (contribution_event) in the caller's
transaction; staff changes carry a public response text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import Conflict, Gone, invalid, not_found
from kaart.mail import notify
from kaart.services.contributions import authorise_edit_token

RESPONSE_MAX = 5000
OUTCOMES = ("beantwoord", "overgenomen", "niet_overgenomen", "gerealiseerd")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "ontvangen": ("in_behandeling",),
    "in_behandeling": OUTCOMES,
    "beantwoord": ("in_behandeling",),
    "overgenomen": ("gerealiseerd", "in_behandeling"),
    "niet_overgenomen": ("in_behandeling",),
    "gerealiseerd": (),
    "ingetrokken": (),
}


@dataclass(frozen=True)
class Transition:
    contribution_id: uuid.UUID
    from_status: str
    to_status: str
    at: datetime


def allowed(from_status: str) -> tuple[str, ...]:
    """The statuses a contribution in `from_status` may move to."""
    return TRANSITIONS.get(from_status, ())


def actor_id(actor: Any) -> uuid.UUID | None:
    """A kaart.auth.User, a user id, or None (the system, e.g. an Open311 client)."""
    if actor is None or isinstance(actor, uuid.UUID):
        return actor
    return actor.id


def change_status(
    session: Session,
    contribution_id: uuid.UUID,
    to_status: str,
    response_text: str,
    actor: Any,
) -> Transition:
    """Move a contribution to `to_status` with a public response, or refuse: 404 unknown,
    409 not an allowed transition, 422 without a response text. The caller commits."""
    response_text = (response_text or "").strip()
    row = session.execute(
        text("SELECT status FROM contribution WHERE id = :id FOR UPDATE"),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This contribution")
    if to_status not in allowed(row.status):
        options = ", ".join(allowed(row.status)) or "none"
        reason = f"From {row.status} a contribution can go to: {options}."
        raise Conflict(reason, "status", "status_transition_refused", title="Status change refused")
    if not response_text:
        raise invalid(
            "response", "Every status change needs a public response.", "response_missing"
        )
    if len(response_text) > RESPONSE_MAX:
        raise invalid("response", "The response is too long.", "response_too_long")
    at = session.execute(
        text(
            "UPDATE contribution SET status = :to, response = :response, "
            "responded_at = now(), updated_at = now() WHERE id = :id RETURNING responded_at"
        ),
        {"to": to_status, "response": response_text, "id": contribution_id},
    ).scalar_one()
    _record(session, contribution_id, actor, row.status, to_status, response_text)
    notify.status_changed(session, contribution_id)  # the outbox, in this same transaction
    return Transition(contribution_id, row.status, to_status, at)


WITHDRAWN = "ingetrokken"


def withdraw(session: Session, contribution_id: uuid.UUID, token: str | None) -> Transition:
    """The author takes their contribution back with the edit token: it leaves the public map,
    the record and its history remain, with the withdrawal as a status event (no staff actor).
    401/403 without the right token, 404 unknown, 410 already withdrawn."""
    authorise_edit_token(session, contribution_id, token)  # locks the row
    return _withdraw(session, contribution_id, None)


def withdraw_on_request(session: Session, contribution_id: uuid.UUID, actor: Any) -> Transition:
    """An admin withdraws a contribution because its author asked for erasure (AVG art. 17):
    the author's own step, taken for them, so any status may go; the status event names the
    admin. 404 unknown, 410 already withdrawn."""
    row = session.execute(
        text("SELECT withdrawn_at FROM contribution WHERE id = :id FOR UPDATE"),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This contribution")
    if row.withdrawn_at is not None:
        raise Gone("This contribution was withdrawn already.")
    return _withdraw(session, contribution_id, actor)


def _withdraw(session: Session, contribution_id: uuid.UUID, actor: Any) -> Transition:
    from_status, at = session.execute(
        text(
            "UPDATE contribution AS c SET status = :to, withdrawn_at = now(), updated_at = now() "
            "FROM (SELECT status FROM contribution WHERE id = :id) AS before "
            "WHERE c.id = :id RETURNING before.status, c.withdrawn_at"
        ),
        {"id": contribution_id, "to": WITHDRAWN},
    ).one()
    _record(session, contribution_id, actor, from_status, WITHDRAWN, None)
    return Transition(contribution_id, from_status, WITHDRAWN, at)


def _record(
    session: Session,
    contribution_id: uuid.UUID,
    actor: Any,
    from_status: str,
    to_status: str,
    response_text: str | None,
) -> None:
    session.execute(
        text(
            "INSERT INTO contribution_event "
            "(contribution_id, actor_id, action, from_status, to_status, text) "
            "VALUES (:id, :actor, 'status', :from_status, :to, :response)"
        ),
        {
            "id": contribution_id,
            "actor": actor_id(actor),
            "from_status": from_status,
            "to": to_status,
            "response": response_text,
        },
    )


@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    from_status: str | None
    to_status: str | None
    to_visibility: str | None
    text: str | None
    actor: str | None  # the staff member's name; None for residents and the system


def history(
    session: Session,
    contribution_id: uuid.UUID,
    *,
    public: bool,
    show_staff: bool = True,
    author: bool = False,
) -> list[Event]:
    """The contribution's events, oldest first. The public sees its creation and status
    changes, the `author` (private link) moderation decisions too, both with staff names only
    when `show_staff`; /beheer (`public=False`) sees everything with names."""
    where = "e.contribution_id = :id"
    if author:
        where += " AND e.action <> 'reported'"
    elif public:
        where += " AND e.action IN ('created', 'status')"
    rows = session.execute(
        text(
            "SELECT e.at, e.action, e.from_status, e.to_status, e.to_visibility, e.text, "
            "u.display_name FROM contribution_event e LEFT JOIN app_user u ON u.id = e.actor_id "
            f"WHERE {where} ORDER BY e.at, e.id"
        ),
        {"id": contribution_id},
    ).all()
    names = show_staff or not (public or author)
    return [
        Event(
            r.at,
            r.action,
            r.from_status,
            r.to_status,
            r.to_visibility,
            r.text,
            r.display_name if names else None,
        )
        for r in rows
    ]
