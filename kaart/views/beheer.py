"""The staff area (/beheer): moderation, status and responses, processes, standard responses
and accounts. Thin views over kaart/services; every route names the roles it needs."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from kaart.auth import ROLES, current_user, login_required
from kaart.db import get_session
from kaart.errors import ApiError
from kaart.geo import limits_for
from kaart.models.contribution import CATEGORIES
from kaart.providers import contributions
from kaart.services import dialogue, processes, users, workflow
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
    moderating.publish(get_session(), kind, _uuid(item_id), current_user())
    flash("dialogue.flash.published", "success")
    return _back(url_for("beheer.moderation"))


@bp.post("/moderatie/<kind>/<item_id>/verbergen")
@login_required("moderator")
def hide(kind: str, item_id: str) -> Response:
    if kind not in KINDS:
        abort(404)
    try:
        moderating.hide(
            get_session(), kind, _uuid(item_id), request.form.get("reason", ""), current_user()
        )
    except ApiError as error:
        if error.status != 422:
            raise
        flash("dialogue.flash.reason_missing", "error")
        return _back(url_for("beheer.moderation"))
    flash("dialogue.flash.hidden", "success")
    return _back(url_for("beheer.moderation"))


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
        workflow.change_status(
            get_session(),
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
    session = get_session()
    form = request.form
    try:
        data = processes.parse_form(form, limits_for(current_app.config["KAART"]))
        saved = processes.save(session, data, current_user().id, process.id if process else None)
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
    standard.delete(get_session(), _uuid(response_id))
    flash("dialogue.flash.response_deleted", "success")
    return redirect(url_for("beheer.standard_responses"))


# -- Accounts -----------------------------------------------------------------------------------


@bp.route("/gebruikers", methods=["GET", "POST"], endpoint="users")
@login_required("admin")
def users_page():
    session = get_session()
    errors = []
    if request.method == "POST":
        try:
            users.create(
                session,
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.getlist("roles"),
                request.form.get("display_name", ""),
            )
        except ApiError as error:
            errors = error.errors
        else:
            flash("dialogue.flash.user_created", "success")
            return redirect(url_for("beheer.users"))
    return render_template(
        "beheer/users.html", accounts=users.accounts(session), roles=ROLES, errors=errors
    ), (422 if errors else 200)


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
        users.update(
            get_session(),
            ident,
            roles=roles,
            active=active,
            password=request.form.get("password") or None,
        )
    except ApiError as error:
        if error.status == 404:
            raise
        flash(f"dialogue.flash.{error.errors[0].code}", "error")
        return redirect(url_for("beheer.users"))
    flash("dialogue.flash.user_saved", "success")
    return redirect(url_for("beheer.users"))
