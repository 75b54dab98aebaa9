"""The staff area (/beheer): moderation, status and responses, processes, standard responses,
accounts and the audit log. Thin views over kaart/services; every route names the roles it
needs."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import text
from werkzeug.wrappers import Response

from kaart.auth import ROLES, current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.geo import limits_for
from kaart.models.contribution import CATEGORIES
from kaart.providers import contributions
from kaart.security import client_address
from kaart.services import audit, dialogue, processes, users, workflow
from kaart.services import moderation as moderating
from kaart.services import responses as standard
from kaart.views.public import map_config

bp = Blueprint("beheer", __name__, url_prefix="/beheer")

STAFF = ("moderator", "planner")  # and admin, who passes every check
KINDS = ("contribution", "comment")


@bp.app_context_processor
def _nav_globals() -> dict:
    # Other parts add /beheer pages (the overview); the nav links to those that exist.
    return {"has_endpoint": lambda name: name in current_app.view_functions}


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


@bp.get("")
@login_required(*STAFF)
def index() -> str:
    session = get_session()
    counts = session.execute(
        text(
            "SELECT count(*) FILTER (WHERE visibility = 'pending') AS pending, "
            "count(*) FILTER (WHERE visibility = 'hidden') AS hidden, "
            "count(*) FILTER (WHERE status = 'ontvangen' AND visibility = 'published') AS new "
            "FROM contribution WHERE withdrawn_at IS NULL"
        )
    ).one()
    recent = session.execute(
        text(
            "SELECT c.id, c.title, c.category, c.status, c.visibility, c.created_at, "
            "c.support_count, p.title AS process_title FROM contribution c "
            "LEFT JOIN process p ON p.id = c.process_id WHERE c.withdrawn_at IS NULL "
            "ORDER BY c.created_at DESC LIMIT 50"
        )
    ).all()
    return render_template("beheer/index.html", counts=counts, recent=recent)


# -- Moderation ---------------------------------------------------------------------------------


@bp.get("/moderatie", endpoint="moderation")
@login_required("moderator")
def moderation_queue() -> str:
    return render_template("beheer/moderation.html", items=moderating.queue(get_session()))


def _back(default: str) -> Response:
    target = request.form.get("back") or ""
    if not target.startswith("/beheer") or target.startswith("//"):
        target = default
    return redirect(target)


@bp.post("/moderatie/<kind>/<item_id>/publiceren")
@login_required("moderator")
def publish(kind: str, item_id: str) -> Response:
    if kind not in KINDS:
        abort(404)
    with transaction() as session:
        _record_comment_decision(session, kind, item_id, "published")
        moderating.publish(session, kind, _uuid(item_id), current_user())
    flash("dialogue.flash.published", "success")
    return _back(url_for("beheer.moderation"))


@bp.post("/moderatie/<kind>/<item_id>/verbergen")
@login_required("moderator")
def hide(kind: str, item_id: str) -> Response:
    if kind not in KINDS:
        abort(404)
    reason = request.form.get("reason", "")
    try:
        with transaction() as session:
            _record_comment_decision(session, kind, item_id, "hidden", reason)
            moderating.hide(session, kind, _uuid(item_id), reason, current_user())
    except ApiError as error:
        if error.status != 422:
            raise
        flash("dialogue.flash.reason_missing", "error")
        return _back(url_for("beheer.moderation"))
    flash("dialogue.flash.hidden", "success")
    return _back(url_for("beheer.moderation"))


def _record_comment_decision(
    session, kind: str, item_id: str, action: str, reason: str | None = None
) -> None:
    # Decisions on contributions are rows of their history already (contribution_event); those
    # on comments are audited here, in the decision's own transaction.
    if kind == "comment":
        details = {"comment_id": str(_uuid(item_id)), "text": (reason or "").strip() or None}
        audit.record(
            session,
            f"comment.{action}",
            actor=current_user(),
            address=client_address(),
            details=details,
        )


# -- One contribution: history, comments, status and response ----------------------------------


@bp.get("/bijdragen/<contribution_id>")
@login_required(*STAFF)
def contribution(contribution_id: str) -> str:
    ident = _uuid(contribution_id)
    session = get_session()
    try:
        feature = json.loads(contributions.feature(session, ident, audience=contributions.STAFF))
    except ApiError as error:
        if error.status != 410:
            raise
        feature = None
    row = session.execute(
        text(
            "SELECT c.status, c.visibility, c.hidden_reason, c.report_count, c.title, "
            "c.category, p.title AS process_title, p.slug AS process_slug "
            "FROM contribution c LEFT JOIN process p ON p.id = c.process_id WHERE c.id = :id"
        ),
        {"id": ident},
    ).one_or_none()
    if row is None:
        abort(404)
    return render_template(
        "beheer/contribution.html",
        contribution_id=ident,
        feature=feature,
        info=row,
        events=workflow.history(session, ident, public=False),
        comments=dialogue.comments(session, ident, public=False),
        next_statuses=workflow.allowed(row.status),
        responses=standard.for_category(session, row.category),
        config=map_config(),
    )


@bp.post("/bijdragen/<contribution_id>/status")
@login_required("planner")
def change_status(contribution_id: str) -> Response:
    ident = _uuid(contribution_id)
    try:
        with transaction() as session:
            workflow.change_status(
                session,
                ident,
                request.form.get("status", ""),
                request.form.get("response", ""),
                current_user(),
            )
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        code = error.errors[0].code if error.errors else "status_transition_refused"
        flash(f"dialogue.flash.{code}", "error")
        return redirect(url_for("beheer.contribution", contribution_id=ident))
    flash("dialogue.flash.status_changed", "success")
    return redirect(url_for("beheer.contribution", contribution_id=ident))


# -- Processes ----------------------------------------------------------------------------------


@bp.get("/trajecten", endpoint="processes")
@login_required("planner")
def processes_index() -> str:
    items = processes.all_processes(get_session())
    return render_template("beheer/processes.html", processes=items)


def _process_form(process: processes.Process | None, status: int = 200, **extra):
    config = map_config()
    config["processArea"] = json.loads(process.geojson) if process else None
    return (
        render_template(
            "beheer/process_form.html",
            process=process,
            categories=CATEGORIES,
            config=config,
            **extra,
        ),
        status,
    )


def _save_process(process: processes.Process | None):
    form = request.form
    try:
        data = processes.parse_form(form, limits_for(current_app.config["KAART"]))
        with transaction() as session:
            saved = processes.save(
                session, data, current_user().id, process.id if process else None
            )
    except processes.FormErrors as error:
        return _process_form(process, 422, errors=error.errors, values=form)
    flash("dialogue.flash.process_saved", "success")
    slug = processes.find(session, saved).slug
    return redirect(url_for("processes.show", slug=slug))


@bp.route("/trajecten/nieuw", methods=["GET", "POST"])
@login_required("planner")
def process_new():
    if request.method == "POST":
        return _save_process(None)
    return _process_form(None, errors=[], values={})


@bp.route("/trajecten/<process_id>/bewerken", methods=["GET", "POST"])
@login_required("planner")
def process_edit(process_id: str):
    process = processes.find(get_session(), _uuid(process_id))
    if process is None:
        abort(404)
    if request.method == "POST":
        return _save_process(process)
    values = {
        "title": process.title,
        "slug": process.slug,
        "question": process.question,
        "description": process.description,
        "starts_on": process.starts_on.isoformat(),
        "ends_on": process.ends_on.isoformat(),
        "categories": list(process.categories),
        "premoderation": process.premoderation,
        "geometry": process.geojson,
    }
    return _process_form(process, errors=[], values=values)


# -- Standard responses ------------------------------------------------------------------------


@bp.route("/standaardreacties", methods=["GET", "POST"])
@login_required("planner")
def standard_responses():
    session = get_session()
    errors = []
    if request.method == "POST":
        try:
            with transaction():
                standard.add(
                    session,
                    request.form.get("category") or None,
                    request.form.get("title", ""),
                    request.form.get("body", ""),
                )
        except ApiError as error:
            errors = error.errors
        else:
            flash("dialogue.flash.response_saved", "success")
            return redirect(url_for("beheer.standard_responses"))
    return render_template(
        "beheer/standard_responses.html",
        items=standard.all_responses(session),
        categories=CATEGORIES,
        errors=errors,
    ), (422 if errors else 200)


@bp.post("/standaardreacties/<response_id>/verwijderen")
@login_required("planner")
def standard_response_delete(response_id: str) -> Response:
    with transaction() as session:
        standard.delete(session, _uuid(response_id))
    flash("dialogue.flash.response_deleted", "success")
    return redirect(url_for("beheer.standard_responses"))


# -- Accounts -----------------------------------------------------------------------------------


@bp.route("/gebruikers", methods=["GET", "POST"], endpoint="users")
@login_required("admin")
def users_page():
    errors = []
    if request.method == "POST":
        try:
            _create_user()
        except ApiError as error:
            errors = error.errors
        else:
            flash("dialogue.flash.user_created", "success")
            return redirect(url_for("beheer.users"))
    session = get_session()
    limit = current_app.config["KAART"].login_max_attempts
    return render_template(
        "beheer/users.html",
        accounts=users.accounts(session),
        failed=users.failed_logins(session, limit),
        roles=ROLES,
        errors=errors,
    ), (422 if errors else 200)


def _create_user() -> None:
    form = request.form
    with transaction() as session:
        roles = form.getlist("roles")
        new_id = users.create(
            session,
            form.get("email", ""),
            form.get("password", ""),
            roles,
            form.get("display_name", ""),
        )
        _audit(session, "user.created", users.created_details(new_id, form["email"], roles))


def _audit(session, action: str, details: dict) -> None:
    audit.record(session, action, actor=current_user(), address=client_address(), details=details)


@bp.post("/gebruikers/<user_id>")
@login_required("admin")
def user_update(user_id: str) -> Response:
    ident = _uuid(user_id)
    me = current_user()
    active = request.form.get("active") == "1"
    roles = request.form.getlist("roles")
    if ident == me.id and (not active or "admin" not in roles):
        flash("dialogue.flash.not_yourself", "error")
        return redirect(url_for("beheer.users"))
    try:
        with transaction() as session:
            changes = users.update(
                session,
                ident,
                roles=roles,
                active=active,
                password=request.form.get("password") or None,
            )
            for action, details in changes:
                _audit(session, action, details)
    except ApiError as error:
        if error.status == 404:
            raise
        flash(f"dialogue.flash.{error.errors[0].code}", "error")
        return redirect(url_for("beheer.users"))
    flash("dialogue.flash.user_saved", "success")
    return redirect(url_for("beheer.users"))


@bp.post("/gebruikers/<user_id>/ontgrendelen")
@login_required("admin")
def user_unlock(user_id: str) -> Response:
    with transaction() as session:
        _audit(session, "user.unlocked", users.unlock(session, _uuid(user_id)))
    flash("audit.flash.unlocked", "success")
    return redirect(url_for("beheer.users"))


# -- The audit log ----------------------------------------------------------------------------


@bp.get("/audit")
@login_required("admin")
def audit_log() -> str:
    filters = audit.parse_filters(request.args)
    retention = current_app.config["KAART"].audit_retention_days
    with transaction() as session:
        # Opening the log also applies the retention (cron can run `kaart audit purge` too).
        audit.purge(session, timedelta(days=retention))
    found = audit.page(get_session(), filters, request.args.get("cursor") or None)
    return render_template(
        "beheer/audit.html",
        filters=filters,
        query=urlencode(filters.query_args()),
        page=found,
        actions=audit.ALL_ACTIONS,
        retention=retention,
    )


@bp.get("/audit.csv")
@login_required("admin")
def audit_csv() -> Response:
    filters = audit.parse_filters(request.args)
    with transaction() as session:
        _audit(session, "audit.downloaded", {"filters": dict(filters.query_args())})
    body = stream_with_context(audit.csv_chunks(get_session(), filters))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="wijkkaart-audit-{date.today()}.csv"',
            "Cache-Control": "no-store",
        },
    )
