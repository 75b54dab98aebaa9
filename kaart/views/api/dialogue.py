"""/api/v1 of the wijkdialoog: comments, support, reports, a contribution's history, the
author's private view, and the participation processes. Writes rely on the resident's cookies,
so they need the X-CSRF-Token header (kaart/auth.py) and count against the per-address limits."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Response, current_app

from kaart.auth import csrf_protected
from kaart.db import get_read_session, get_session, transaction
from kaart.errors import Conflict, Invalid, NotFound
from kaart.providers import contributions
from kaart.services import dialogue, moderation, processes, ratelimit, workflow
from kaart.supporters import supporter_key
from kaart.views.api import bp
from kaart.views.api.io import as_json, json_object
from kaart.web import bearer_token, client_key, limit_client

COMMENT_FIELDS = {"body", "author_name", "parent"}


@bp.get("/contributions/<uuid:contribution_id>/comments")
def list_comments(contribution_id: uuid.UUID) -> Response:
    session = get_read_session()
    contributions.feature(session, contribution_id)  # 404/410 like the contribution itself
    items = dialogue.comments(session, contribution_id)
    return as_json({"comments": [c.as_json() for c in items]})


@bp.post("/contributions/<uuid:contribution_id>/comments")
@csrf_protected
def add_comment(contribution_id: uuid.UUID) -> Response:
    body = json_object()
    unknown = sorted(set(body) - COMMENT_FIELDS)
    if unknown:
        reason = f"Unknown field {unknown[0][:40]!r}."
        raise Invalid(reason, unknown[0][:40], "unknown_property", title="Invalid comment")
    with transaction() as session:
        comment = dialogue.add_comment(
            session, contribution_id, body.get("body"), body.get("author_name"), body.get("parent")
        )
        limit_client(session, "public")  # only a valid comment counts
    return as_json(comment.as_json() | {"visibility": comment.visibility}, 201)


@bp.post("/contributions/<uuid:contribution_id>/support")
@csrf_protected
def support(contribution_id: uuid.UUID) -> Response:
    key = supporter_key()
    with transaction() as session:
        result = dialogue.support(session, contribution_id, key)
        limit_client(session, "public")
    return as_json(
        {"support_count": result.support_count, "supported": True, "added": result.added},
        201 if result.added else 200,
    )


def _report(table: str, ident: uuid.UUID) -> Response:
    reason = json_object().get("reason") or ""
    if not isinstance(reason, str):
        reason = ""
    key = supporter_key()
    threshold = current_app.config["KAART"].report_threshold
    with transaction() as session:
        result = moderation.report(session, table, ident, key, reason, threshold)
        limit_client(session, "public")
        # A new cookie is a new reporter, so one address may report one item once a day: hiding
        # something takes reports from as many addresses as the threshold.
        if not ratelimit.allow(session, f"report:{ident}", client_key(), 1, timedelta(days=1)):
            raise Conflict(
                "This item was reported from your address already; a moderator will look at it.",
                "report",
                "report_duplicate",
                title="Already reported",
            )
    return as_json({"report_count": result.report_count, "hidden": result.hidden}, 201)


@bp.post("/contributions/<uuid:contribution_id>/reports")
@csrf_protected
def report_contribution(contribution_id: uuid.UUID) -> Response:
    return _report("contribution", contribution_id)


@bp.post("/comments/<uuid:comment_id>/reports")
@csrf_protected
def report_comment(comment_id: uuid.UUID) -> Response:
    return _report("comment", comment_id)


def _events(events: list[workflow.Event]) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at.isoformat(),
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "text": e.text,
            "actor": e.actor,
        }
        for e in events
    ]


@bp.get("/contributions/<uuid:contribution_id>/history")
def history(contribution_id: uuid.UUID) -> Response:
    session = get_read_session()
    contributions.feature(session, contribution_id)
    show_staff = current_app.config["KAART"].history_show_staff
    events = workflow.history(session, contribution_id, public=True, show_staff=show_staff)
    return as_json({"history": _events(events)})


@bp.get("/contributions/<uuid:contribution_id>/private")
def private(contribution_id: uuid.UUID) -> Response:
    """What the author sees through the private link: status, response, moderation, history."""
    show_staff = current_app.config["KAART"].history_show_staff
    view = dialogue.private_view(get_session(), contribution_id, bearer_token(), show_staff)
    return as_json(
        {
            "status": view.status,
            "visibility": view.visibility,
            "hidden_reason": view.hidden_reason,
            "response": view.response,
            "responded_at": view.responded_at.isoformat() if view.responded_at else None,
            "support_count": view.support_count,
            # The place as drawn: the edit page draws this, not the public page's place.
            "geometry": json.loads(view.geometry),
            "public_location": view.public_location,
            "history": _events(view.history),
        }
    )


@bp.get("/processes")
def list_processes() -> Response:
    items = processes.all_processes(get_read_session())
    return as_json({"processes": [p.as_json() for p in items]})


@bp.get("/processes/<slug>")
def get_process(slug: str) -> Response:
    process = processes.find(get_read_session(), slug)
    if process is None:
        raise NotFound("This process")
    return as_json(process.as_json())
