"""Public pages of participation processes: /trajecten and /trajecten/<slug>."""

from __future__ import annotations

import json
from datetime import date

from flask import abort, render_template

from kaart.db import get_session
from kaart.i18n import translate
from kaart.models.participant import QUESTIONS
from kaart.services import processes as service
from kaart.views.public import bp
from kaart.views.public.pages import map_config


@bp.get("/trajecten")
def processes() -> str:
    items = service.all_processes(get_session())
    return render_template("process/index.html", processes=items, today=service.local_today())


@bp.get("/trajecten/<slug>")
def process(slug: str) -> str:
    process = service.find(get_session(), slug)
    if process is None or process.slug != slug:
        abort(404)
    config = map_config()
    config["process"] = process.as_json()
    config["categories"] = list(process.categories)
    contributions = json.loads(service.contributions_geojson(get_session(), process.id))
    return render_template(
        "process/show.html",
        process=process,
        state=process.state(),
        config=config,
        contributions=contributions,
        participant_questions=QUESTIONS.items(),
    )


@bp.app_template_filter("longdate")
def longdate(value: date) -> str:
    """A date as people read it in the page's language: "1 december 2026"."""
    month = translate(f"month.{value.month}")
    return translate("date.format", day=value.day, month=month, year=value.year)


@bp.get("/trajecten/<slug>/reactienota")
def process_reactienota(slug: str) -> str:
    """The reactienota, once a planner published it (the same report staff download)."""
    from kaart.views.beheer.exports import render_report

    process = service.find(get_session(), slug)
    if process is None or process.slug != slug or process.reactienota_published_at is None:
        abort(404)
    html, _report = render_report(process.id)
    return html
