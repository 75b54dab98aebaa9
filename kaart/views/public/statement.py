"""The privacy statement (privacyverklaring): what is kept, why, how long and who sees it, from
the same retention table the purge applies (kaart/services/statement.py); and the accessibility
statement (toegankelijkheidsverklaring): what is tested, how, and what is known not to work."""

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


@bp.get("/toegankelijkheid")
def accessibility_statement() -> str:
    return render_template(
        "public/accessibility.html", contact=current_app.config["KAART"].privacy_contact
    )
