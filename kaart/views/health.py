"""GET /healthz: is the database reachable and does PostGIS answer?"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kaart.db import get_session, is_connection_error

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    session = get_session()
    report: dict[str, str] = {"status": "ok"}
    try:
        report["database"] = session.execute(text("SELECT version()")).scalar_one().split(",")[0]
    except SQLAlchemyError as exc:
        session.rollback()
        return jsonify(status="unavailable", database="unreachable", error=_name(exc)), 503
    try:
        report["postgis"] = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except SQLAlchemyError as exc:
        session.rollback()
        if is_connection_error(exc):  # lost between the two queries (a restart), not PostGIS
            return jsonify(status="unavailable", database="unreachable", error=_name(exc)), 503
        return jsonify(
            status="unavailable", database=report["database"], postgis="missing", error=_name(exc)
        ), 503
    return jsonify(report), 200


def _name(exc: Exception) -> str:
    return type(exc.__cause__ or exc).__name__
