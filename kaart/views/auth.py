"""Logging in and out of the staff area (/inloggen, /uitloggen). Every attempt, successful or
not, is written to the audit log in the request's own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kaart.auth import current_user, log_in, log_out, safe_next
from kaart.db import transaction
from kaart.services import audit, users
from kaart.services.processes import LOCAL
from kaart.web import client_key

bp = Blueprint("auth", __name__)


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Response | tuple[str, int, dict[str, str]] | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("auth/login.html", next=next_url, error=None, email="")
    settings = current_app.config["KAART"]
    email, address = request.form.get("email", ""), client_key()
    with transaction() as session:
        attempt = users.authenticate(
            session,
            email,
            request.form.get("password", ""),
            client_key(),
            settings.login_max_attempts,
        )
        details = {"email": attempt.email, "reason": attempt.reason or None}
        audit.record(
            session,
            f"login.{attempt.outcome}",
            actor=attempt.user,
            address=address,
            details=details,
        )
    if attempt.outcome == "throttled":
        page = render_template(
            "auth/login.html",
            next=next_url,
            error="dialogue.login.throttled",
            email=email,
            until=_clock_time(attempt.retry_after),
        )
        return page, 429, {"Retry-After": str(attempt.retry_after)}
    if attempt.user is None:
        page = render_template(
            "auth/login.html", next=next_url, error="dialogue.login.failed", email=email
        )
        return page, 401
    user = attempt.user
    log_in(user)
    if not request.values.get("next") and not user.is_staff:
        # Partners start at their party's commitments; co-operatives have no /beheer and start
        # on their own page.
        if user.has_role("partner"):
            return redirect(url_for("beheer.pacts"))
        return redirect(url_for("public.coop"))
    return redirect(next_url)


def _clock_time(seconds: int) -> str:
    """When one may try again, as Dutch clock time rounded up to the minute ("14:32")."""
    moment = datetime.now(LOCAL) + timedelta(seconds=seconds + 59)
    return moment.strftime("%H:%M")


@bp.post("/uitloggen")
def logout() -> Response:
    user = current_user()
    if user is not None:
        with transaction() as session:
            audit.record(session, "logout", actor=user, address=client_key())
    log_out()
    return redirect(url_for("auth.login", out=1))
