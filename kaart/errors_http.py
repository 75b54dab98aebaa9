"""One place that turns errors into responses: problem+json for the API, pages for people."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, g, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kaart.db import is_connection_error
from kaart.errors import PROBLEM_JSON, ApiError, FieldError, Unavailable

log = logging.getLogger(__name__)
DATABASE_DOWN = (
    "The database cannot be reached right now; try again in a few seconds. A request sent "
    "again with the same Idempotency-Key header is never stored twice."
)


def _wants_problem() -> bool:
    # Programs (API, tile clients, monitoring) get problem+json; people get a page.
    if request.path.startswith("/ogc") and request.args.get("f") != "html":
        return True  # OGC API clients (QGIS, GDAL, OWSLib): problem+json
    if request.path.startswith("/open311/"):
        return True  # rendered in GeoReport v2's own error format by problem_response
    return request.path.startswith(("/api/", "/tiles/")) or request.path == "/healthz"


def problem_response(error: ApiError) -> Response:
    if request.path.startswith("/open311/"):
        from kaart.views.open311 import error_response

        return error_response(error)
    body = json.dumps(error.as_problem(instance=request.path), ensure_ascii=False)
    response = Response(body, status=error.status, mimetype=PROBLEM_JSON)
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        if _wants_problem():
            return problem_response(error)
        return _page(error.status, error.title, error.detail, error.headers)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(_error: RequestEntityTooLarge) -> Response:
        limit = app.config["MAX_CONTENT_LENGTH"]
        reason = f"The request body is larger than {limit:,} bytes."
        error = ApiError(
            413, "Payload too large", reason, [FieldError("body", reason, "body_too_large")]
        )
        return problem_response(error) if _wants_problem() else _page(413, error.title, reason)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        status = error.code or 500
        title = error.name
        detail = error.description or title
        if _wants_problem():
            response = problem_response(ApiError(status, title, detail))
            if status == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        return _page(status, title, detail)

    @app.errorhandler(SQLAlchemyError)
    def handle_database(error: SQLAlchemyError) -> Response:
        if not is_connection_error(error):
            return handle_unexpected(error)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return handle_api_error(Unavailable(DATABASE_DOWN))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        detail = "Something went wrong on our side; nothing was saved. Please try again later."
        if _wants_problem():
            return problem_response(ApiError(500, "Internal server error", detail))
        return _page(500, "Internal server error", detail)


def _page(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    if status == 503:
        g.kaart_user = None  # the page header must not ask the database who is logged in
    html = render_template("error.html", status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html", headers=headers or {})
