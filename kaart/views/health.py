"""GET /healthz: is the database reachable and does PostGIS answer? (503 naming what is down)
With KAART_DATABASE_READ_URL, also the replica's state and how far it is behind."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kaart.db import EXTENSION_KEY, get_session
from kaart.errors import Unavailable
from kaart.services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    replica = current_app.extensions[EXTENSION_KEY]["replica"]
    found, ok = health.report(get_session(), replica)
    if ok:
        return jsonify(found), 200
    # The same hint as every other 503: a monitor or load balancer may ask again after it.
    return jsonify(found), 503, {"Retry-After": str(Unavailable.RETRY_AFTER)}
