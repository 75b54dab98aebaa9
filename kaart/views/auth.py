"""Logging in and out of the staff area (/inloggen, /uitloggen)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kaart.auth import current_user, log_in, log_out, safe_next
from kaart.db import get_session
from kaart.security import client_address
from kaart.services import users

bp = Blueprint("auth", __name__)


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("auth/login.html", next=next_url, error=None, email="")
    email = request.form.get("email", "")
    limit = current_app.config["KAART"].login_max_attempts
    try:
        user = users.authenticate(
            get_session(), email, request.form.get("password", ""), client_address(), limit
        )
    except users.LoginThrottled:
        page = render_template(
            "auth/login.html", next=next_url, error="dialogue.login.throttled", email=email
        )
        return page, 429
    if user is None:
        page = render_template(
            "auth/login.html", next=next_url, error="dialogue.login.failed", email=email
        )
        return page, 401
    log_in(user)
    if not request.values.get("next") and not user.is_staff:
        # Co-operatives have no /beheer; they start on their own page when it is there.
        return redirect(
            url_for("coop.coop_page") if "coop.coop_page" in current_app.view_functions else "/"
        )
    return redirect(next_url)


@bp.post("/uitloggen")
def logout() -> Response:
    log_out()
    return redirect(url_for("auth.login", out=1))
