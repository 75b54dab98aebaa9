"""Pages for people: the map, a contribution's page and its private edit page, the
participation processes (/trajecten), the co-operatives' map (/coop), photo files and the
privacy statement (/privacy).
Errors are HTML pages (kaart/errors_http.py)."""

from __future__ import annotations

import importlib

from flask import Blueprint

bp = Blueprint("public", __name__)
MODULES = (
    "pages",
    "processes",
    "coop",
    "photos",
    "statement",
    "feeds",
    "follow",
    "pacts",
    "initiatives",
    "adoptions",
)


def blueprint() -> Blueprint:
    """The blueprint with every module's routes on it."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return bp
