"""/beheer: the staff area for moderators, planners and admins: moderation, one contribution's
status and response, processes, standard responses, the overview with its map, exports and the
reactienota, accounts, the audit log and residents' requests for access and erasure
(/beheer/privacy). Every route names the roles it needs
(kaart.auth.login_required); errors are HTML pages.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Blueprint, current_app, render_template

from kaart.auth import login_required
from kaart.db import get_session
from kaart.providers import contributions as provider  # (a module of this package is

# called `contributions` too)

bp = Blueprint("beheer", __name__, url_prefix="/beheer")
STAFF = ("moderator", "planner")  # and admin, who passes every check
MODULES = (
    "moderation",
    "contributions",
    "processes",
    "responses",
    "users",
    "audit",
    "rights",
    "overview",
    "exports",
    "participation",
    "mail",
    "pacts",
    "adoptions",
)
RECENT = 50
RECENT_VALUES = (
    "id",
    "title",
    "category",
    "status",
    "visibility",
    "created_at",
    "support_count",
    "process_title",
)


def blueprint() -> Blueprint:
    """The blueprint with every module's routes on it."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return bp


@bp.app_context_processor
def _nav_globals() -> dict[str, Any]:
    return {"has_endpoint": lambda name: name in current_app.view_functions}


@bp.get("")
@login_required(*STAFF)
def index() -> str:
    session = get_session()
    staff = provider.Query(audience=provider.STAFF, limit=None)
    by_visibility = provider.counts_by(session, staff, "visibility")
    new = provider.Query(
        audience=provider.STAFF, visibilities=("published",), statuses=("ontvangen",)
    )
    counts = {
        "pending": by_visibility.get("pending", 0),
        "hidden": by_visibility.get("hidden", 0),
        "new": provider.count(session, new),
    }
    recent = provider.records(
        session, provider.Query(audience=provider.STAFF, limit=RECENT), RECENT_VALUES
    )
    return render_template("beheer/index.html", counts=counts, recent=recent)
