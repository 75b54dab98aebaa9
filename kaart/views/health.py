"""GET /healthz: is the database reachable and does PostGIS answer? (503 naming what is down)"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kaart.db import get_session
from kaart.services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    found, ok = health.report(get_session())
    return jsonify(found), 200 if ok else 503
