"""The status of an initiative and its moderation: the one state machine, append-only events.

    idee -> in_voorbereiding -> bezig -> gerealiseerd
    idee, in_voorbereiding, bezig -> gestopt
    gestopt -> idee                      (picked up again)

The initiator changes the status through the private link; staff may too (with their id on the
event). Moderators hide or publish an initiative with a reason. The caller commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import Conflict, invalid, not_found
from kaart.services.initiative_mail import tell_participants
from kaart.services.initiatives import event

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "idee": ("in_voorbereiding", "gestopt"),
    "in_voorbereiding": ("bezig", "gestopt"),
    "bezig": ("gerealiseerd", "gestopt"),
    "gerealiseerd": (),
    "gestopt": ("idee",),
}
REASON_MAX = 2000


def allowed(from_status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(from_status, ())


def _locked(session: Session, initiative_id: uuid.UUID) -> Any:
    row = session.execute(
        text("SELECT status, visibility FROM initiative WHERE id = :id FOR UPDATE"),
        {"id": initiative_id},
    ).one_or_none()
    if row is None:
        raise not_found("This initiative")
    return row


def change_status(
    session: Session,
    initiative_id: uuid.UUID,
    to_status: str,
    note: str = "",
    actor_id: uuid.UUID | None = None,
) -> str:
    """Move to `to_status` or refuse (404, 409); joiners with an address hear of it."""
    row = _locked(session, initiative_id)
    if to_status not in allowed(row.status):
        options = ", ".join(allowed(row.status)) or "none"
        raise Conflict(f"From {row.status} the status can become: {options}.")
    session.execute(
        text("UPDATE initiative SET status = :s, updated_at = now() WHERE id = :id"),
        {"s": to_status, "id": initiative_id},
    )
    event(
        session,
        initiative_id,
        "status",
        from_status=row.status,
        to_status=to_status,
        text=(note or "").strip()[:REASON_MAX] or None,
        actor_id=actor_id,
    )
    tell_participants(session, initiative_id, "initiative_status", to_status)
    return row.status


def moderate(
    session: Session, initiative_id: uuid.UUID, to: str, reason: str, actor_id: uuid.UUID
) -> None:
    """Hide (with a reason) or publish an initiative; 409 when it already is so."""
    if to not in ("hidden", "published"):
        raise invalid(
            "visibility", "visibility is hidden or published.", "initiative_visibility_invalid"
        )
    reason = (reason or "").strip()
    if to == "hidden" and not reason:
        raise invalid("reason", "Give the reason for hiding it.", "reason_missing")
    row = _locked(session, initiative_id)
    if row.visibility == to:
        raise Conflict(f"This initiative is {to} already.")
    session.execute(
        text(
            "UPDATE initiative SET visibility = :to, hidden_reason = :reason, updated_at = now() "
            "WHERE id = :id"
        ),
        {"to": to, "reason": reason[:REASON_MAX] if to == "hidden" else None, "id": initiative_id},
    )
    action = "hidden" if to == "hidden" else ("restored" if row.visibility == "hidden" else to)
    event(
        session,
        initiative_id,
        action,
        from_visibility=row.visibility,
        to_visibility=to,
        text=reason[:REASON_MAX] or None,
        actor_id=actor_id,
    )
