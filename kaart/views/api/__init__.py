"""/api/v1: the JSON API (GeoJSON in and out) for residents' apps, the map's scripts, co-ops
and other programs. Every error is application/problem+json (kaart/errors_http.py).

One blueprint; its routes live in a module per kind of data: contributions, layers, dialogue
(comments, support, reports, history, processes), photos, solar (and the postcoderoos), openapi.
"""

from __future__ import annotations

import importlib

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MODULES = (
    "contributions",
    "layers",
    "dialogue",
    "photos",
    "solar",
    "follow",
    "pacts",
    "initiatives",
    "openapi",
)


def blueprint() -> Blueprint:
    """The blueprint with every module's routes on it."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return bp
