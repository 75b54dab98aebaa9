"""The web adapters: thin blueprints, one per audience. Each parses parameters (kaart/params.py),
calls one provider or service function and renders; each says how its errors look.

    public   pages for people: the map, contributions, /trajecten, /coop, photo files
    api      /api/v1 for programs and the pages' scripts (problem+json)
    beheer   /beheer for staff
    auth     /inloggen, /uitloggen
    ogc      /ogc, OGC API – Features
    open311  /open311/v2, GeoReport v2
    tiles    /tiles and /coop/tiles, vector tiles
    archives /tiles/archives, the prebuilt tile archives (PMTiles files)
    health   /healthz
"""

from __future__ import annotations

from flask import Flask

from kaart import errors_http
from kaart.views import api, archives, auth, beheer, health, ogc, open311, public, tiles


def register(app: Flask) -> None:
    audiences = (
        (public.blueprint(), errors_http.page, ()),
        (api.blueprint(), errors_http.problem, ("/api/",)),
        (beheer.blueprint(), errors_http.page, ("/beheer",)),
        (auth.bp, errors_http.page, ()),
        (ogc.bp, errors_http.problem_or_page, ("/ogc",)),
        (open311.bp, open311.error_response, ("/open311/",)),
        (tiles.bp, errors_http.problem, ("/tiles/",)),
        (archives.bp, errors_http.problem, ()),
        (health.bp, errors_http.problem, ("/healthz",)),
    )
    for blueprint, render, prefixes in audiences:
        app.register_blueprint(blueprint)
        errors_http.use(app, blueprint, render, prefixes)
