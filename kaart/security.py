"""Response headers that keep pages self-contained and user text inert, and a guard against the
one character PostgreSQL cannot store in text (NUL)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request

from kaart.errors import ApiError, FieldError

# A JSON string escape for NUL (\u0000) that is not itself an escaped backslash plus "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def nul_field() -> str | None:
    """Where the request carries a NUL character (path, a parameter, a form field, JSON text)."""
    if "\x00" in request.path:
        return "path"
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in _FORMS:
            for key, value in request.form.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    return key.replace("\x00", "")
        elif request.is_json and _JSON_NUL.search(request.get_data(cache=True)):
            try:
                return _json_nul_path(json.loads(request.get_data(cache=True)), "") or "body"
            except ValueError:  # malformed JSON: the view says what is wrong with it
                return None
    return None


def _json_nul_path(value: Any, path: str) -> str | None:
    """The dotted path of the first key or string holding NUL, e.g. ``properties.title``."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if not isinstance(value, dict | list):
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return here.replace("\x00", "")
        if found := _json_nul_path(item, here):
            return found
    return None


def init_app(app: Flask) -> None:
    basemap = app.config["KAART"].basemap_url
    img_src = "'self' data:"
    if basemap:
        parts = urlsplit(basemap)
        img_src += f" {parts.scheme}://{parts.netloc}"
    csp = (
        "default-src 'self'; "
        f"img-src {img_src}; "
        "script-src 'self'; "
        # Leaflet positions map panes with inline style attributes.
        "style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )

    @app.before_request
    def refuse_nul() -> None:
        # psycopg refuses NUL in text; without this check such a request would end in a 500.
        field = nul_field()
        if field is not None:
            reason = "Text must not contain control characters such as NUL (\\u0000)."
            in_body = field not in request.args and field != "path"
            status, title = (422, "Unprocessable content") if in_body else (400, "Bad request")
            raise ApiError(status, title, reason, [FieldError(field, reason, "text_control_chars")])

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
