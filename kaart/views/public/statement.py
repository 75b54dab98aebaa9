"""The privacy statement (privacyverklaring): what is kept, why, how long and who sees it, from
the same retention table the purge applies (kaart/services/statement.py)."""

from __future__ import annotations

from flask import current_app, render_template

from kaart.i18n import current_language
from kaart.services import statement
from kaart.views.public import bp


@bp.get("/privacy")
def privacy_statement() -> str:
    settings = current_app.config["KAART"]
    return render_template(
        "public/privacy.html",
        entries=statement.register(settings, current_language()),
        contact=settings.privacy_contact,
    )
