"""One place that turns every error into a response, in the format of the audience that asked.

Each blueprint registers how its errors look (kaart/views/__init__.py): problem+json for the API,
the tiles and /healthz, a page for people, GeoReport v2's list for Open311, either for /ogc (by
`f`). A URL that matches no route belongs to the blueprint whose registered prefix it starts
with. Whatever was raised becomes an ApiError first: a lost database connection a 503 with
Retry-After, anything unexpected a logged 500 that says nothing was saved.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kaart.db import is_connection_error
from kaart.errors import PROBLEM_JSON, ApiError, FieldError, Unavailable

log = logging.getLogger(__name__)
Renderer = Callable[[ApiError], Response]
EXTENSION_KEY = "kaart.renderers"
DATABASE_DOWN = (
    "The database cannot be reached right now; try again in a few seconds. A request sent "
    "again with the same Idempotency-Key header is never stored twice."
)
UNEXPECTED = "Something went wrong on our side; nothing was saved. Please try again later."


def problem(error: ApiError) -> Response:
    """RFC 9457 problem details."""
    body = json.dumps(error.as_problem(instance=request.path), ensure_ascii=False)
    return Response(body, status=error.status, mimetype=PROBLEM_JSON, headers=error.headers)


def page(error: ApiError) -> Response:
    """An error page for people, in their language."""
    if error.status == 503:
        g.kaart_user = None  # the page header must not ask the database who is logged in
    html = render_template(
        "error.html", status=error.status, title=error.title, detail=error.detail
    )
    return Response(html, status=error.status, mimetype="text/html", headers=error.headers)


def problem_or_page(error: ApiError) -> Response:
    """For APIs that also serve HTML on request (`f=html`, OGC API – Features)."""
    return page(error) if request.args.get("f") == "html" else problem(error)


def use(app: Flask, blueprint: Blueprint, render: Renderer, prefixes: Iterable[str] = ()) -> None:
    """Render the errors of `blueprint` (and of unmatched URLs under `prefixes`) with `render`."""
    registry = app.extensions.setdefault(EXTENSION_KEY, {"blueprints": {}, "prefixes": []})
    registry["blueprints"][blueprint.name] = render
    registry["prefixes"] += [(prefix, render) for prefix in prefixes]
    registry["prefixes"].sort(key=lambda pair: -len(pair[0]))


def _renderer() -> Renderer:
    registry = current_app.extensions.get(EXTENSION_KEY, {"blueprints": {}, "prefixes": []})
    found = registry["blueprints"].get(request.blueprint)
    if found is None:  # no route matched: whose URL space is it?
        found = next((r for p, r in registry["prefixes"] if request.path.startswith(p)), page)
    return found


def as_api_error(error: BaseException) -> ApiError:
    """What a client may be told about `error`."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, RequestEntityTooLarge):
        reason = (
            f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']:,} bytes."
        )
        return ApiError(
            413, "Payload too large", reason, [FieldError("body", reason, "body_too_large")]
        )
    if isinstance(error, HTTPException):
        converted = ApiError(error.code or 500, error.name, error.description or error.name)
        allow = error.get_response().headers.get("Allow") if error.code == 405 else None
        if allow:
            converted.headers["Allow"] = allow
        return converted
    if isinstance(error, SQLAlchemyError) and is_connection_error(error):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return Unavailable(DATABASE_DOWN)
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return ApiError(500, "Internal server error", UNEXPECTED)


def init_app(app: Flask) -> None:
    @app.errorhandler(Exception)
    def handle(error: Exception) -> Response:
        return _renderer()(as_api_error(error))
