"""/beheer/overzicht: the planner's table and choropleth of the filtered contributions."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from urllib.parse import urlencode

from flask import Response, current_app, render_template, request

from kaart.auth import current_user, login_required
from kaart.db import get_session
from kaart.i18n import current_language, translate
from kaart.models.contribution import CATEGORIES
from kaart.services import overview as selection
from kaart.services import overview_map as choropleth
from kaart.views.beheer import STAFF, bp
from kaart.views.beheer.participation import section as who_takes_part

TABLE_ROWS = 200
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def map_labels() -> dict[str, str]:
    labels = {
        key: translate(f"outputs.overview.map.{key}")
        for key in ("buurt", "count", "per_1000", "points", "title")
    }
    labels |= {f"category.{c}": translate(f"category.{c}") for c in CATEGORIES}
    labels["zoom_in"] = translate("map.zoom_in")
    labels["zoom_out"] = translate("map.zoom_out")
    labels["whole"] = translate("participation.whole")
    labels["participation"] = translate("participation.map.layer")
    labels["participation_attribution"] = translate("participation.map.attribution")
    return labels


def _filters() -> selection.Filters:
    """The filters of the query string; the places as drawn for staff who may see them."""
    filters = selection.parse_filters(request.args)
    return replace(filters, exact=current_user().sees_exact_location)


@bp.get("/overzicht")
@login_required(*STAFF)
def overview() -> str:
    session = get_session()
    filters = _filters()
    figures = selection.buurt_figures(session, filters)
    rates = choropleth.participation_rates(session, filters, translate("participation.whole"))
    query = urlencode(filters.query_args())
    return render_template(
        "beheer_overview/overview.html",
        filters=filters,
        query=query,
        total=selection.count(session, filters),
        rows=selection.rows(session, filters, limit=TABLE_ROWS),
        table_rows=TABLE_ROWS,
        by_category=selection.counts_by(session, filters, "category"),
        by_status=selection.counts_by(session, filters, "status"),
        by_visibility=selection.counts_by(session, filters, "visibility"),
        figures=figures,
        legend=choropleth.legend_for(figures, rates),
        processes=selection.processes(session),
        buurten=selection.buurten_with_contributions(session),
        categories=CATEGORIES,
        statuses=selection.OPEN_STATUSES,
        visibilities=selection.VISIBILITIES,
        **who_takes_part(filters.process, public_only=False, csv=True),
    )


@bp.get("/overzicht/kaart")
@login_required(*STAFF)
def overview_map() -> Response:
    """The folium map, shown in an <iframe> on the overview page."""
    settings = current_app.config["KAART"]
    filters = _filters()
    html, _legend, _figures = choropleth.render(
        get_session(), filters, map_labels(), settings.map_center, lang=current_language()
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = map_csp(html)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


def map_csp(html: str) -> str:
    """The CSP of the folium map page.

    folium writes the map as inline <script> blocks (it has no option to emit a separate
    script file), which the app-wide CSP forbids. This route alone allows exactly those
    scripts by their SHA-256 hashes: nothing injected later, no other inline script and no
    other origin can run. Everything else still comes only from this server ('self').
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        # folium and Leaflet position the map with inline styles.
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
