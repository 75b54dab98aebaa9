"""GET /healthz: is the database reachable and does PostGIS answer? (503 naming what is down)"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kaart.db import get_session
from kaart.errors import Unavailable
from kaart.services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    found, ok = health.report(get_session())
    if ok:
        return jsonify(found), 200
    # The same hint as every other 503: a monitor or load balancer may ask again after it.
    return jsonify(found), 503, {"Retry-After": str(Unavailable.RETRY_AFTER)}
