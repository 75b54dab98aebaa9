"""Who is logged in, what their roles allow, and CSRF protection for everything that changes state.

    from kaart.auth import current_user, login_required

    @bp.get("/beheer/export")
    @login_required("planner")          # planners (and admins); not logged in -> login redirect,
    def export(): ...                   # logged in without the role -> 403
        user = current_user()           # kaart.auth.User | None

Admins pass every role check. Forms carry ``csrf_token()`` in a hidden field named ``csrf_token``;
scripts send it as the ``X-CSRF-Token`` header (the token is in ``<meta name="csrf-token">``).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy import text

from kaart.db import get_session
from kaart.errors import Forbidden, Unauthorized
from kaart.models.user import ROLES

# Roles that may enter /beheer at all.
STAFF_ROLES = ("moderator", "planner", "admin")
# Who sees a contribution's place as drawn rather than as published (location privacy):
# planners, who answer for the area, and admins; moderators judge the text and see the public map.
EXACT_LOCATION_ROLES = ("planner",)  # admins pass every role check
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Programs call these with their own credentials (bearer tokens), never with the session cookie,
# so CSRF does not apply unless a view says it relies on cookies (see `csrf_protected`).
COOKIELESS_PREFIXES = ("/api/", "/open311/", "/ogc/", "/tiles/")
SESSION_HOURS = 8


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    roles: tuple[str, ...]

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of `roles` (or is admin). No roles: any user."""
        if not roles or "admin" in self.roles:
            return True
        return any(role in self.roles for role in roles)

    @property
    def is_staff(self) -> bool:
        return self.has_role(*STAFF_ROLES)

    @property
    def sees_exact_location(self) -> bool:
        return self.has_role(*EXACT_LOCATION_ROLES)


def current_user() -> User | None:
    """The logged-in, active user of this request, or None."""
    if "kaart_user" not in g:
        g.kaart_user = _load_user(session.get("user_id"))
    return g.kaart_user


def _load_user(user_id: Any) -> User | None:
    if not isinstance(user_id, str):
        return None
    try:
        ident = uuid.UUID(user_id)
    except ValueError:
        return None
    row = (
        get_session()
        .execute(
            text("SELECT id, email, display_name, roles FROM app_user WHERE id = :id AND active"),
            {"id": ident},
        )
        .one_or_none()
    )
    if row is None:
        return None
    return User(row.id, row.email, row.display_name, tuple(row.roles))


def log_in(user: User) -> None:
    """Start a fresh session for `user` (nothing from before the login survives)."""
    session.clear()
    session.permanent = True
    session["user_id"] = str(user.id)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.kaart_user = user


def log_out() -> None:
    session.clear()
    g.kaart_user = None


def login_required(*roles: Any) -> Callable:
    """Only for logged-in users holding one of `roles` (none given: any logged-in user).

    Usable as ``@login_required`` or ``@login_required("planner", "moderator")``."""
    if len(roles) == 1 and callable(roles[0]):
        return login_required()(roles[0])
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith(COOKIELESS_PREFIXES):
                    raise Unauthorized("Log in to do this.", title="Login required")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.has_role(*roles):
                raise Forbidden("Your account does not have the role for this.")
            return view(*args, **kwargs)

        wrapper.required_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapper

    return decorate


roles_required = login_required


def safe_next(target: str | None) -> str:
    """A local path to return to after logging in; anything else goes to /beheer."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("beheer.index")


# -- CSRF ---------------------------------------------------------------------------------------


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_protected(view: Callable) -> Callable:
    """Mark an API view that relies on cookies: it needs the X-CSRF-Token header too."""
    view.csrf_protected = True  # type: ignore[attr-defined]
    return view


def csrf_exempt(view: Callable) -> Callable:
    """Mark a view whose POST is authorised by a signed token in its URL and comes from outside
    the site: the one-click unsubscribe of RFC 8058, posted by a mail program."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _needs_csrf() -> bool:
    if request.method in SAFE_METHODS:
        return False
    view = request.endpoint and _app_view(request.endpoint)
    if view is not None and getattr(view, "csrf_exempt", False):
        return False
    if view is not None and getattr(view, "csrf_protected", False):
        return True
    return not request.path.startswith(COOKIELESS_PREFIXES)


def _app_view(endpoint: str) -> Callable | None:
    from flask import current_app

    return current_app.view_functions.get(endpoint)


def check_csrf() -> None:
    if not _needs_csrf():
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        reason = "The form or request has no valid CSRF token; reload the page and try again."
        raise Forbidden(reason, "csrf_token", "csrf", title="CSRF token missing or wrong")


class Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that an answer any cache may keep and share
    (`Cache-Control: public`: tiles, tile archives, a pact party's logo) never carries the
    session cookie. Flask renews a logged-in staff member's cookie on every answer
    (SESSION_HOURS count from the last request), and a renewed cookie in a shared cache's copy
    of a tile would hand their session to whoever that copy is served to. Their next page or
    API call renews it."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if response.cache_control.public and not session.modified:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    settings = app.config["KAART"]
    app.session_interface = Sessions()
    app.config.update(
        SESSION_COOKIE_NAME="kaart_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    app.before_request(check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=current_user)
