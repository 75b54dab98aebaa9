"""JSON API of the wijkdialoog under /api/v1: comments, support, reports, history, the author's
private view, and the processes. Writes rely on the resident's cookies, so they need the
X-CSRF-Token header (see kaart.auth) and are rate-limited per IP address."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import text

from kaart.auth import csrf_protected
from kaart.db import get_session, transaction
from kaart.errors import ApiError, Conflict, FieldError
from kaart.providers import contributions
from kaart.services import dialogue, moderation, processes, ratelimit, workflow
from kaart.services.contributions import authorise_edit_token
from kaart.views.api import read_json
from kaart.web import bearer_token, client_key, limit_client

bp = Blueprint("dialogue", __name__, url_prefix="/api/v1")

SUPPORTER_COOKIE = "kaart_supporter"
PRIVATE_SQL = text(
    "SELECT status, visibility, hidden_reason, response, responded_at, support_count "
    "FROM contribution WHERE id = :id"
)
ONE_YEAR = 365 * 24 * 3600


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
    )


def _id(value: str) -> uuid.UUID:
    return dialogue.refuse_unknown(value)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kaart-supporter")


def supporter_key() -> str:
    """This browser's anonymous identity: a random token in a signed cookie, kept as a hash.
    Clearing cookies makes a new identity; the rate limit per IP address bounds the damage."""
    if "supporter_token" not in g:
        token = None
        raw = request.cookies.get(SUPPORTER_COOKIE)
        if raw:
            try:
                token = _serializer().loads(raw)
            except BadSignature:
                token = None
        g.supporter_new = not isinstance(token, str)
        g.supporter_token = token if isinstance(token, str) else secrets.token_urlsafe(24)
    return hashlib.sha256(g.supporter_token.encode()).hexdigest()


def existing_supporter_key() -> str | None:
    """The identity when the browser already has one (pages only read it)."""
    raw = request.cookies.get(SUPPORTER_COOKIE)
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return hashlib.sha256(token.encode()).hexdigest() if isinstance(token, str) else None


@bp.after_app_request
def _remember_supporter(response: Response) -> Response:
    if g.get("supporter_new"):
        response.set_cookie(
            SUPPORTER_COOKIE,
            _serializer().dumps(g.supporter_token),
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["KAART"].session_cookie_secure,
        )
    return response


def _body() -> dict[str, Any]:
    body = read_json()
    if not isinstance(body, dict):
        reason = "Send a JSON object."
        raise ApiError(400, "Bad request", reason, [FieldError("body", reason, "not_an_object")])
    return body


@bp.get("/contributions/<contribution_id>/comments")
def list_comments(contribution_id: str) -> Response:
    ident = _id(contribution_id)
    contributions.feature(get_session(), ident)  # 404/410 like the contribution itself
    items = dialogue.comments(get_session(), ident)
    return _json({"comments": [c.as_json() for c in items]})


@bp.post("/contributions/<contribution_id>/comments")
@csrf_protected
def add_comment(contribution_id: str) -> Response:
    ident = _id(contribution_id)
    body = _body()
    unknown = sorted(set(body) - {"body", "author_name", "parent"})
    if unknown:
        reason = f"Unknown field {unknown[0][:40]!r}."
        raise ApiError(
            422,
            "Invalid comment",
            reason,
            [FieldError(unknown[0][:40], reason, "unknown_property")],
        )
    with transaction() as session:
        comment = dialogue.add_comment(
            session, ident, body.get("body"), body.get("author_name"), body.get("parent")
        )
        limit_client(session, "public")  # only a valid comment counts
    data = comment.as_json() | {"visibility": comment.visibility}
    return _json(data, 201)


@bp.post("/contributions/<contribution_id>/support")
@csrf_protected
def support(contribution_id: str) -> Response:
    ident = _id(contribution_id)
    key = supporter_key()
    with transaction() as session:
        result = dialogue.support(session, ident, key)
        limit_client(session, "public")
    return _json(
        {"support_count": result.support_count, "supported": True, "added": result.added},
        201 if result.added else 200,
    )


def _report(table: str, item_id: str) -> Response:
    ident = _id(item_id)
    body = _body()
    reason = body.get("reason") or ""
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
    return _json({"report_count": result.report_count, "hidden": result.hidden}, 201)


@bp.post("/contributions/<contribution_id>/reports")
@csrf_protected
def report_contribution(contribution_id: str) -> Response:
    return _report("contribution", contribution_id)


@bp.post("/comments/<comment_id>/reports")
@csrf_protected
def report_comment(comment_id: str) -> Response:
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


@bp.get("/contributions/<contribution_id>/history")
def history(contribution_id: str) -> Response:
    ident = _id(contribution_id)
    contributions.feature(get_session(), ident)
    show_staff = current_app.config["KAART"].history_show_staff
    events = workflow.history(get_session(), ident, public=True, show_staff=show_staff)
    return _json({"history": _events(events)})


@bp.get("/contributions/<contribution_id>/private")
def private(contribution_id: str) -> Response:
    """What the author sees through the private link: status, response, moderation, history."""
    ident = _id(contribution_id)
    session = get_session()
    authorise_edit_token(session, ident, bearer_token())
    row = session.execute(PRIVATE_SQL, {"id": ident}).one()
    session.rollback()  # the token check locked the row; nothing was written
    show_staff = current_app.config["KAART"].history_show_staff
    events = workflow.history(session, ident, public=True, show_staff=show_staff, author=True)
    return _json(
        {
            "status": row.status,
            "visibility": row.visibility,
            "hidden_reason": row.hidden_reason,
            "response": row.response,
            "responded_at": row.responded_at.isoformat() if row.responded_at else None,
            "support_count": row.support_count,
            "history": _events(events),
        }
    )


@bp.get("/processes")
def list_processes() -> Response:
    items = processes.all_processes(get_session())
    return _json({"processes": [p.as_json() for p in items]})


@bp.get("/processes/<slug>")
def get_process(slug: str) -> Response:
    process = processes.find(get_session(), slug)
    if process is None:
        raise ApiError(404, "Not found", "This process does not exist")
    return _json(process.as_json())


@bp.app_context_processor
def _dialogue_globals() -> dict[str, Any]:
    return {"dialogue_for": dialogue_for}


def dialogue_for(contribution_id: str) -> dict[str, Any]:
    """What a contribution's public page shows of the dialogue (templates/process/)."""
    session = get_session()
    ident = uuid.UUID(str(contribution_id))
    settings = current_app.config["KAART"]
    row = session.execute(
        text(
            "SELECT c.support_count, p.slug, p.title FROM contribution c "
            "LEFT JOIN process p ON p.id = c.process_id WHERE c.id = :id"
        ),
        {"id": ident},
    ).one()
    return {
        "support_count": row.support_count,
        "process": {"slug": row.slug, "title": row.title} if row.slug else None,
        "supported": dialogue.supported(session, ident, existing_supporter_key()),
        "comments": dialogue.comments(session, ident),
        "history": workflow.history(
            session, ident, public=True, show_staff=settings.history_show_staff
        ),
    }
