"""/beheer/standaardreacties: standard responses per category, which fill the response field."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kaart.auth import login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.models.contribution import CATEGORIES
from kaart.services import responses as standard
from kaart.views.beheer import bp


@bp.route("/standaardreacties", methods=["GET", "POST"])
@login_required("planner")
def standard_responses():
    session = get_session()
    errors = []
    if request.method == "POST":
        try:
            with transaction():
                standard.add(
                    session,
                    request.form.get("category") or None,
                    request.form.get("title", ""),
                    request.form.get("body", ""),
                )
        except ApiError as error:
            errors = error.errors
        else:
            flash("dialogue.flash.response_saved", "success")
            return redirect(url_for("beheer.standard_responses"))
    return render_template(
        "beheer/standard_responses.html",
        items=standard.all_responses(session),
        categories=CATEGORIES,
        errors=errors,
    ), (422 if errors else 200)


@bp.post("/standaardreacties/<uuid:response_id>/verwijderen")
@login_required("planner")
def standard_response_delete(response_id: uuid.UUID) -> Response:
    with transaction() as session:
        standard.delete(session, response_id)
    flash("dialogue.flash.response_deleted", "success")
    return redirect(url_for("beheer.standard_responses"))
