"""/beheer/trajecten: planners create and edit participation processes."""

from __future__ import annotations

import json
import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.geo import limits_for
from kaart.models.contribution import CATEGORIES
from kaart.services import processes
from kaart.views.beheer import bp
from kaart.views.public.pages import map_config


@bp.get("/trajecten", endpoint="processes")
@login_required("planner")
def processes_index() -> str:
    items = processes.all_processes(get_session())
    return render_template("beheer/processes.html", processes=items)


def _process_form(process: processes.Process | None, status: int = 200, **extra):
    config = map_config()
    config["processArea"] = json.loads(process.geojson) if process else None
    return (
        render_template(
            "beheer/process_form.html",
            process=process,
            categories=CATEGORIES,
            config=config,
            **extra,
        ),
        status,
    )


def _save_process(process: processes.Process | None):
    form = request.form
    try:
        data = processes.parse_form(form, limits_for(current_app.config["KAART"]))
        with transaction() as session:
            saved = processes.save(
                session, data, current_user().id, process.id if process else None
            )
    except processes.FormErrors as error:
        return _process_form(process, 422, errors=error.errors, values=form)
    flash("dialogue.flash.process_saved", "success")
    slug = processes.find(session, saved).slug
    return redirect(url_for("public.process", slug=slug))


@bp.route("/trajecten/nieuw", methods=["GET", "POST"])
@login_required("planner")
def process_new():
    if request.method == "POST":
        return _save_process(None)
    return _process_form(None, errors=[], values={})


@bp.route("/trajecten/<uuid:process_id>/bewerken", methods=["GET", "POST"])
@login_required("planner")
def process_edit(process_id: uuid.UUID):
    process = processes.find(get_session(), process_id)
    if process is None:
        abort(404)
    if request.method == "POST":
        return _save_process(process)
    values = {
        "title": process.title,
        "slug": process.slug,
        "question": process.question,
        "description": process.description,
        "starts_on": process.starts_on.isoformat(),
        "ends_on": process.ends_on.isoformat(),
        "categories": list(process.categories),
        "premoderation": process.premoderation,
        "participant_questions": process.participant_questions,
        "geometry": process.geojson,
    }
    return _process_form(process, errors=[], values=values)
