"""GET /api/v1/openapi.json (generated from the code) and /api/v1/docs (self-hosted Swagger UI).
The API describes itself; these two are not part of the document."""

from __future__ import annotations

from flask import Response, current_app, render_template, url_for

from kaart.i18n import translate as _
from kaart.services import openapi
from kaart.views.api import bp
from kaart.views.api.io import as_json


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return as_json(openapi.document(current_app, current_app.config["KAART"]))


@bp.get("/docs")
def docs() -> str:
    return render_template(
        "apidocs.html",
        spec_url=url_for("api.openapi_document"),
        title=_("standards.docs.api_title"),
    )
