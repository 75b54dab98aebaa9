"""/beheer/gebruikers: admins add accounts, change roles, deactivate, set passwords, unlock."""

from __future__ import annotations

import uuid

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from kaart.auth import ROLES, current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.services import audit, users
from kaart.views.beheer import bp
from kaart.web import client_key


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
        record(session, "user.created", users.created_details(new_id, form["email"], roles))


def record(session: Session, action: str, details: dict) -> None:
    """An audit entry for what the logged-in admin just did, from their address."""
    audit.record(session, action, actor=current_user(), address=client_key(), details=details)


@bp.post("/gebruikers/<uuid:user_id>")
@login_required("admin")
def user_update(user_id: uuid.UUID) -> Response:
    ident = user_id
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
                record(session, action, details)
    except ApiError as error:
        if error.status == 404:
            raise
        flash(f"dialogue.flash.{error.errors[0].code}", "error")
        return redirect(url_for("beheer.users"))
    flash("dialogue.flash.user_saved", "success")
    return redirect(url_for("beheer.users"))


@bp.post("/gebruikers/<uuid:user_id>/ontgrendelen")
@login_required("admin")
def user_unlock(user_id: uuid.UUID) -> Response:
    with transaction() as session:
        record(session, "user.unlocked", users.unlock(session, user_id))
    flash("audit.flash.unlocked", "success")
    return redirect(url_for("beheer.users"))
