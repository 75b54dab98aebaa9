"""/api/v1/pacts: the published wijkpacten, and one pact's commitments as GeoJSON."""

from __future__ import annotations

from flask import Response, url_for

from kaart.db import get_read_session
from kaart.providers import commitments as provider
from kaart.services import pacts
from kaart.views.api import bp
from kaart.views.api.io import as_json, geojson


@bp.get("/pacts")
def list_pacts() -> Response:
    found = pacts.all_pacts(get_read_session())
    return as_json(
        {
            "pacts": [
                {
                    "slug": p.slug,
                    "title": p.title,
                    "description": p.description,
                    "area": {"kind": p.area_kind, "code": p.area_code},
                    "parties": [party.as_json() for party in p.parties],
                    "url": url_for("public.pact", slug=p.slug, _external=True),
                    "commitments": url_for("api.pact_commitments", slug=p.slug, _external=True),
                }
                for p in found
            ]
        }
    )


@bp.get("/pacts/<slug>")
def pact_commitments(slug: str) -> Response:
    session = get_read_session()
    pact = pacts.find(session, slug)
    return geojson(provider.collection(session, pact.id))
