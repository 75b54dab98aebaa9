"""Pages for residents: the map, a contribution's page and its private edit page."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template

from kaart.db import get_session
from kaart.errors import ApiError
from kaart.i18n import catalogue, current_language, translate
from kaart.models.contribution import CATEGORIES
from kaart.services import contributions as service
from kaart.services import layers

bp = Blueprint("public", __name__)

# Dates on the pages are Dutch local time, whatever the database session's time zone.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def map_config() -> dict[str, Any]:
    """What the map scripts need, handed over as JSON in the page (never as inline script)."""
    s = current_app.config["KAART"]
    return {
        "center": [s.map_center[1], s.map_center[0]],
        "zoom": s.map_zoom,
        "bbox": list(s.area_bbox),
        "basemapUrl": s.basemap_url,
        "categories": list(CATEGORIES),
        "pageMax": s.page_max,
        "lang": current_language(),
        "messages": catalogue(current_language()),
        "layers": layers.catalogue(get_session()),
    }


def _contribution(contribution_id: str) -> dict[str, Any]:
    try:
        ident = uuid.UUID(contribution_id)
        return json.loads(service.feature(get_session(), ident))
    except ValueError:
        abort(404)
    except ApiError as error:
        if error.status == 410:
            return {"withdrawn": True, "id": contribution_id}
        abort(error.status)


@bp.get("/")
def index() -> str:
    return render_template("public/map.html", config=map_config())


@bp.get("/bijdragen/<contribution_id>")
def contribution(contribution_id: str) -> tuple[str, int]:
    feature = _contribution(contribution_id)
    status = 410 if feature.get("withdrawn") else 200
    return render_template("public/contribution.html", feature=feature, config=map_config()), status


@bp.get("/bijdragen/<contribution_id>/bewerken")
def edit(contribution_id: str) -> tuple[str, int]:
    # The token travels in the URL fragment (#token=…), which browsers never send to the server.
    feature = _contribution(contribution_id)
    status = 410 if feature.get("withdrawn") else 200
    return render_template("public/edit.html", feature=feature, config=map_config()), status


@bp.app_template_filter("number")
def number(value: float | None) -> str:
    """A measurement rounded to whole units, grouped the way the page's language does it."""
    if value is None:
        return ""
    text = f"{round(float(value)):,}"
    return text.replace(",", ".") if current_language() == "nl" else text


@bp.app_template_filter("localdate")
def localdate(value: str | None) -> str:
    """An ISO timestamp from the API as a date people read: "24 november 2025"."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(LOCAL_TIME)
    month = translate(f"month.{moment.month}")
    return translate("date.format", day=moment.day, month=month, year=moment.year)
