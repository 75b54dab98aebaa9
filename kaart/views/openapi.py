"""GET /api/v1/openapi.json (generated from the code) and /api/v1/docs (self-hosted Swagger UI)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, url_for

from kaart.i18n import translate as _
from kaart.services import openapi

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def document() -> Response:
    body = openapi.document(current_app, current_app.config["KAART"])
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.get("/docs")
def docs() -> str:
    return render_template(
        "apidocs.html", spec_url=url_for("openapi.document"), title=_("standards.docs.api_title")
    )
