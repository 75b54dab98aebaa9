"""/wijkpact: the wijkpacten, one pact's map of commitments with progress, what is overdue and
the history, its voortgangsrapportage (PDF), and the parties' logos."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from flask import Response, render_template

from kaart.db import get_session
from kaart.i18n import current_language, translate
from kaart.models.pact import PARTY_TYPES, THEMES, UPDATE_STATUSES
from kaart.providers import commitments as provider
from kaart.services import commitments, pacts, reactienota
from kaart.services import pact_report as report_map
from kaart.views.public import bp
from kaart.views.public.pages import map_config


@bp.get("/wijkpact")
def pacts_index() -> str:
    return render_template("pact/index.html", pacts=pacts.all_pacts(get_session()))


def pact_context(slug: str) -> dict:
    """Everything the pact page and its report show."""
    session = get_session()
    pact = pacts.find(session, slug)
    items = provider.rows(session, pact.id)
    return {
        "pact": pact,
        "items": items,
        "overdue": [i for i in items if i.overdue],
        "by_party": provider.progress_by(session, pact.id, "party"),
        "by_theme": provider.progress_by(session, pact.id, "theme"),
        "history": commitments.history(session, pact.id),
        "inputs": {i.id: commitments.contributions_of(session, i.id) for i in items},
        "statuses": UPDATE_STATUSES,
        "themes": THEMES,
        "party_types": PARTY_TYPES,
        "generated_at": datetime.now().astimezone(),
    }


@bp.get("/wijkpact/<slug>")
def pact(slug: str) -> str:
    context = pact_context(slug)
    config = map_config()
    config["pact"] = {
        "slug": slug,
        "area": json.loads(context["pact"].geojson),
        "commitments": json.loads(provider.collection(get_session(), context["pact"].id)),
    }
    return render_template("pact/show.html", config=config, **context)


@bp.get("/wijkpact/<slug>/voortgang.pdf")
def pact_report(slug: str) -> Response:
    """The voortgangsrapportage: the pact page as a tagged PDF (built like the reactienota)."""
    context = pact_context(slug)
    labels = {f"status.{s}": translate(f"pact.status.{s}") for s in UPDATE_STATUSES}
    labels["area"] = translate("pact.report.map_area")
    png = report_map.map_png(get_session(), context["pact"].id, labels)
    html = render_template("pact/report.html", map_uri=report_map.data_uri(png), **context)
    data = reactienota.pdf(html)
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="voortgang-{slug}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/wijkpact/logo/<uuid:party_id>")
def party_logo(party_id: uuid.UUID) -> Response:
    data, media_type = pacts.logo(get_session(), party_id)
    return Response(
        data,
        mimetype=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@bp.app_template_filter("euro")
def euro(value) -> str:
    """An amount as people read it: "€ 12.500" (Dutch) or "€12,500" (English)."""
    if value is None:
        return translate("pact.no_budget")
    whole = f"{round(float(value)):,}"
    if current_language() == "nl":
        whole = whole.replace(",", ".")
    return translate("pact.euro", amount=whole)
