"""Public pages of participation processes: /trajecten and /trajecten/<slug>."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, render_template

from kaart.db import get_session
from kaart.i18n import translate
from kaart.services import processes
from kaart.views.public import map_config

bp = Blueprint("processes", __name__)


@bp.get("/trajecten")
def index() -> str:
    items = processes.all_processes(get_session())
    return render_template("process/index.html", processes=items, today=processes.local_today())


@bp.get("/trajecten/<slug>")
def show(slug: str) -> str:
    process = processes.find(get_session(), slug)
    if process is None or process.slug != slug:
        abort(404)
    config = map_config()
    config["process"] = process.as_json()
    config["categories"] = list(process.categories)
    contributions = json.loads(processes.contributions_geojson(get_session(), process.id))
    return render_template(
        "process/show.html",
        process=process,
        state=process.state(),
        config=config,
        contributions=contributions,
    )


@bp.app_template_filter("longdate")
def longdate(value: date) -> str:
    """A date as people read it in the page's language: "1 december 2026"."""
    month = translate(f"month.{value.month}")
    return translate("date.format", day=value.day, month=month, year=value.year)
