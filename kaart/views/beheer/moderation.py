"""/beheer/moderatie: what waits for a moderator and what is hidden; publish, hide, restore."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.services import audit
from kaart.services import moderation as moderating
from kaart.views.beheer import bp
from kaart.web import client_key


@bp.get("/moderatie", endpoint="moderation")
@login_required("moderator")
def moderation_queue() -> str:
    return render_template("beheer/moderation.html", items=moderating.queue(get_session()))


def _back(default: str) -> Response:
    target = request.form.get("back") or ""
    if not target.startswith("/beheer") or target.startswith("//"):
        target = default
    return redirect(target)


@bp.post("/moderatie/<any(contribution, comment):kind>/<uuid:item_id>/publiceren")
@login_required("moderator")
def publish(kind: str, item_id: uuid.UUID) -> Response:
    with transaction() as session:
        _record_comment_decision(session, kind, item_id, "published")
        moderating.publish(session, kind, item_id, current_user())
    flash("dialogue.flash.published", "success")
    return _back(url_for("beheer.moderation"))


@bp.post("/moderatie/<any(contribution, comment):kind>/<uuid:item_id>/verbergen")
@login_required("moderator")
def hide(kind: str, item_id: uuid.UUID) -> Response:
    reason = request.form.get("reason", "")
    try:
        with transaction() as session:
            _record_comment_decision(session, kind, item_id, "hidden", reason)
            moderating.hide(session, kind, item_id, reason, current_user())
    except ApiError as error:
        if error.status != 422:
            raise
        flash("dialogue.flash.reason_missing", "error")
        return _back(url_for("beheer.moderation"))
    flash("dialogue.flash.hidden", "success")
    return _back(url_for("beheer.moderation"))


def _record_comment_decision(
    session, kind: str, item_id: uuid.UUID, action: str, reason: str | None = None
) -> None:
    # Decisions on contributions are rows of their history already (contribution_event); those
    # on comments are audited here, in the decision's own transaction.
    if kind == "comment":
        details = {"comment_id": str(item_id), "text": (reason or "").strip() or None}
        audit.record(
            session,
            f"comment.{action}",
            actor=current_user(),
            address=client_key(),
            details=details,
        )
