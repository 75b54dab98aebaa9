"""/beheer/adopties: offers to adopt public space, decided by planners (and admins) with a
response; the accepted ones exported for asset management (GeoPackage, CSV).
/beheer/initiatieven: every initiative for moderators and planners; hide or publish one."""

from __future__ import annotations

import json
import uuid
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError, not_found
from kaart.models.adoption import STATUSES
from kaart.providers import initiatives as provider
from kaart.services import adoption_export, adoptions, audit, initiative_workflow
from kaart.services import initiatives as initiative_service
from kaart.views.beheer import STAFF, bp
from kaart.web import client_key

DECIDERS = ("planner",)  # and admins, who pass every check


@bp.get("/adopties")
@login_required(*DECIDERS)
def adoptions_list() -> str:
    chosen = request.args.get("status") or "offered"
    statuses = (chosen,) if chosen in STATUSES else ()
    session = get_session()
    return render_template(
        "beheer/adoptions.html",
        items=adoptions.records(session, statuses),
        statuses=STATUSES,
        chosen=chosen,
        today=date.today().isoformat(),
    )


@bp.post("/adopties/<uuid:adoption_id>")
@login_required(*DECIDERS)
def adoption_decide(adoption_id: uuid.UUID) -> Response:
    form = request.form
    user = current_user()
    try:
        with transaction() as session:
            adoptions.decide(
                session,
                adoption_id,
                form.get("decision", ""),
                form.get("response", ""),
                user.id if user else None,
                form.get("start_date"),
                form.get("end_date"),
            )
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(_refusal(exc, "adoption.flash.conflict"), "error")
        return redirect(url_for("beheer.adoptions_list", status=form.get("back_status", "")))
    flash("adoption.flash.decided", "success")
    return redirect(url_for("beheer.adoptions_list", status=form.get("decision")))


def _refusal(exc: ApiError, conflict: str) -> str:
    """The catalogue key a flash message shows for a refused decision."""
    return f"error.{exc.errors[0].code}" if exc.errors else conflict


@bp.get("/adopties/export.<fmt>")
@login_required(*DECIDERS)
def adoptions_export(fmt: str) -> Response:
    if fmt not in adoption_export.FORMATS:
        raise not_found("This export format")
    with transaction() as session:
        audit.record(
            session,
            "export.downloaded",
            actor=current_user(),
            address=client_key(),
            details={"format": fmt, "what": "adoptions"},
        )
    mimetype, ext = adoption_export.FORMATS[fmt]
    data = adoption_export.export(get_session(), fmt)
    filename = f"wijkkaart-adopties-{date.today().isoformat()}.{ext}"
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/initiatieven")
@login_required(*STAFF)
def initiatives_list() -> str:
    session = get_session()
    page = provider.page(session, provider.Query(staff=True, limit=200))
    return render_template("beheer/initiatives.html", items=[json.loads(f) for f in page.features])


@bp.get("/initiatieven/<uuid:initiative_id>")
@login_required(*STAFF)
def initiative_record(initiative_id: uuid.UUID) -> str:
    session = get_session()
    feature = json.loads(provider.feature(session, initiative_id, staff=True))
    return render_template(
        "beheer/initiative.html",
        feature=feature,
        participants=initiative_service.participants(session, initiative_id),
        history=initiative_service.history(session, initiative_id),
    )


@bp.post("/initiatieven/<uuid:initiative_id>/zichtbaarheid")
@login_required("moderator")
def initiative_visibility(initiative_id: uuid.UUID) -> Response:
    user = current_user()
    try:
        with transaction() as session:
            initiative_workflow.moderate(
                session,
                initiative_id,
                request.form.get("visibility", ""),
                request.form.get("reason", ""),
                user.id,
            )
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(_refusal(exc, "initiative.flash.conflict"), "error")
    else:
        flash("initiative.flash.moderated", "success")
    return redirect(url_for("beheer.initiative_record", initiative_id=initiative_id))
