"""Pages for residents: the map, a contribution's page and its private edit page."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from kaart.archives import store
from kaart.db import get_session
from kaart.errors import Gone
from kaart.i18n import catalogue, current_language, translate
from kaart.models.contribution import CATEGORIES
from kaart.providers import contributions, layers
from kaart.services import commitments, dialogue, photos, privacy
from kaart.supporters import existing_supporter_key
from kaart.views.public import bp

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
        "layers": open_layers(),
        # Near a home the public map shows a place within a cell this large (metres).
        "privacy": privacy.rule_for(s).sizes(),
    }


def open_layers() -> list[dict[str, Any]]:
    """The open layers' catalogue (tile and archive URLs, zoom range, attribution, the typed
    columns the inspect popup shows). Contributions are not in it: the map draws them as
    markers."""
    archives = store.catalogue_fields(current_app.config["KAART"].tiles_dir)
    return layers.catalogue_entries(get_session(), with_contributions=False, archives=archives)


def object_label(feature: dict[str, Any], config: dict[str, Any]) -> str | None:
    """The object a contribution is about as people read it, "Pand 0457… (Panden (BAG))"."""
    ref = (feature.get("properties") or {}).get("object")
    if not ref:
        return None
    kinds = {layer["name"]: layer["kind"] for layer in config["layers"]}
    key = f"object.kind.{kinds.get(ref['layer'])}"
    if key not in catalogue(current_language()):
        key = "object.kind.other"
    noun = translate(key)
    return f"{noun} {ref['id']} ({ref.get('layer_title') or ref['layer']})"


def _contribution(ident: uuid.UUID, public: bool = True) -> dict[str, Any]:
    audience = contributions.PUBLIC if public else contributions.STAFF
    try:
        return json.loads(contributions.feature(get_session(), ident, audience=audience))
    except Gone:
        return {"withdrawn": True, "id": str(ident)}


@bp.get("/")
def index() -> str:
    return render_template("public/map.html", config=map_config())


@bp.get("/bijdragen/<uuid:contribution_id>")
def contribution(contribution_id: uuid.UUID) -> tuple[str, int]:
    feature = _contribution(contribution_id)
    config = map_config()
    if feature.get("withdrawn"):
        return render_template("public/contribution.html", feature=feature, config=config), 410
    session = get_session()
    show_staff = current_app.config["KAART"].history_show_staff
    page = render_template(
        "public/contribution.html",
        feature=feature,
        config=config,
        object_label=object_label(feature, config),
        dialogue=dialogue.page_view(session, contribution_id, existing_supporter_key(), show_staff),
        photos=photos.public_photos(session, contribution_id),
        # The afspraken of a wijkpact that took it up (templates/pact/_chain.html).
        pact_commitments=commitments.for_contribution(session, contribution_id),
    )
    return page, 200


@bp.get("/bijdragen/<uuid:contribution_id>/bewerken")
def edit(contribution_id: uuid.UUID) -> tuple[str, int]:
    # The token travels in the URL fragment (#token=…), which browsers never send to the server.
    # Pending or hidden contributions open here too: the author sees why through the token.
    feature = _contribution(contribution_id, public=False)
    status = 410 if feature.get("withdrawn") else 200
    config = map_config()
    label = object_label(feature, config)
    page = "public/edit.html"
    return render_template(page, feature=feature, config=config, object_label=label), status


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
