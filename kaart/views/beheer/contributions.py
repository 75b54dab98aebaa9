"""/beheer/bijdragen/<id>: one contribution with its history, comments, status and response."""

from __future__ import annotations

import json
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError, Gone
from kaart.mail import follow
from kaart.providers import contributions
from kaart.services import dialogue, workflow
from kaart.services import responses as standard
from kaart.views.beheer import STAFF, bp
from kaart.views.public.pages import map_config

# What the page shows beside the Feature (also for a withdrawn contribution).
INFO_VALUES = (
    "status",
    "visibility",
    "hidden_reason",
    "report_count",
    "title",
    "category",
    "process_title",
    "process_slug",
    "public_location",
)


@bp.get("/bijdragen/<uuid:contribution_id>")
@login_required(*STAFF)
def contribution(contribution_id: uuid.UUID) -> str:
    ident = contribution_id
    session = get_session()
    exact = current_user().sees_exact_location  # planners and admins: the place as drawn
    try:
        feature = json.loads(
            contributions.feature(session, ident, audience=contributions.STAFF, exact=exact)
        )
    except Gone:
        feature = None
    found = contributions.records(
        session, contributions.Query(audience=contributions.ALL, ids=(ident,)), INFO_VALUES
    )
    if not found:
        abort(404)
    row = found[0]
    return render_template(
        "beheer/contribution.html",
        contribution_id=ident,
        feature=feature,
        info=row,
        events=workflow.history(session, ident, public=False),
        comments=dialogue.comments(session, ident, public=False),
        next_statuses=workflow.allowed(row.status),
        responses=standard.for_category(session, row.category),
        config=map_config(),
        satisfaction=follow.satisfaction_of(session, ident),
    )


@bp.post("/bijdragen/<uuid:contribution_id>/status")
@login_required("planner")
def change_status(contribution_id: uuid.UUID) -> Response:
    ident = contribution_id
    try:
        with transaction() as session:
            workflow.change_status(
                session,
                ident,
                request.form.get("status", ""),
                request.form.get("response", ""),
                current_user(),
            )
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        code = error.errors[0].code if error.errors else "status_transition_refused"
        flash(f"dialogue.flash.{code}", "error")
        return redirect(url_for("beheer.contribution", contribution_id=ident))
    flash("dialogue.flash.status_changed", "success")
    return redirect(url_for("beheer.contribution", contribution_id=ident))
