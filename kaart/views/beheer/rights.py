"""/beheer/privacy: admins answer residents' requests for access and erasure (AVG/GDPR art. 15
and 17) through the functions the `kaart privacy` commands use (kaart/services/rights.py).
Every search, download and erasure is one audit entry."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import urlencode

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from kaart.auth import current_user, login_required
from kaart.db import transaction
from kaart.errors import ApiError
from kaart.i18n import current_language
from kaart.services import photos, rights
from kaart.views.beheer import bp
from kaart.views.beheer.users import record


def _page(query: str = "", held: rights.Held | None = None, error: bool = False):
    html = render_template("beheer/privacy.html", query=query, held=held, error=error)
    return html, (400 if error else 200)


def _subject(query: str) -> rights.Subject | None:
    try:
        return rights.parse_subject(query)
    except ApiError:
        return None


@bp.get("/privacy")
@login_required("admin")
def privacy():
    query = request.args.get("q", "").strip()
    if not query:
        return _page()
    subject = _subject(query)
    if subject is None:
        return _page(query, error=True)
    settings = current_app.config["KAART"]
    with transaction() as session:
        held = rights.find(session, subject, settings, current_language())
        record(session, "privacy.found", rights.audit_details(subject, held.ids))
    return _page(query, held)


@bp.get("/privacy/export.zip")
@login_required("admin")
def privacy_export():
    query = request.args.get("q", "").strip()
    subject = _subject(query)
    if subject is None:
        return _page(query, error=True)
    settings = current_app.config["KAART"]
    # In memory: a person's data is a few contributions (photos are at most 2048 px each).
    out = io.BytesIO()
    with transaction() as session:
        held = rights.find(session, subject, settings, current_language())
        rights.write_zip(held, settings.upload_dir, out)
        record(session, "privacy.exported", rights.audit_details(subject, held.ids))
    name = f"wijkkaart-gegevens-{date.today().isoformat()}.zip"
    return Response(
        out.getvalue(),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/privacy/verwijderen")
@login_required("admin")
def privacy_erase():
    query = request.form.get("q", "").strip()
    subject = _subject(query)
    if subject is None:
        return _page(query, error=True)
    back = redirect(f"{url_for('beheer.privacy')}?{urlencode({'q': query})}")
    if request.form.get("confirm") != "yes":
        flash("rights.flash.confirm_missing", "error")
        return back
    keep = request.form.get("keep_on_map") == "yes"
    upload_dir = current_app.config["KAART"].upload_dir
    with transaction() as session:
        erased = rights.erase(session, subject, current_user(), upload_dir, keep_on_map=keep)
        counts = erased.redacted.counts()
        details = rights.audit_details(subject, erased.ids, keep_on_map=keep, **counts)
        record(session, "privacy.erased", details)
    photos.discard(tuple(erased.redacted.files))  # only now that the rows are gone for good
    flash("rights.flash.erased", "success")
    return back
