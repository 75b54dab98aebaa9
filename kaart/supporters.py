"""A resident's anonymous identity for support and reports: a random token in a signed,
HttpOnly cookie (`kaart_supporter`, kept a year); the database only ever sees its SHA-256.

Clearing cookies makes a new identity; the per-address limits bound the damage (kaart/web.py).
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "kaart_supporter"
ONE_YEAR = 365 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kaart-supporter")


def _token_in_cookie() -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def supporter_key() -> str:
    """This browser's identity as stored (a hash); made, and set as a cookie, when it has none."""
    if "supporter_token" not in g:
        token = _token_in_cookie()
        g.supporter_new = token is None
        g.supporter_token = token or secrets.token_urlsafe(24)
    return hashlib.sha256(g.supporter_token.encode()).hexdigest()


def existing_supporter_key() -> str | None:
    """The identity when the browser already has one (pages only read it)."""
    token = _token_in_cookie()
    return hashlib.sha256(token.encode()).hexdigest() if token else None


def _remember(response: Response) -> Response:
    if g.get("supporter_new"):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.supporter_token),
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["KAART"].session_cookie_secure,
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember)
