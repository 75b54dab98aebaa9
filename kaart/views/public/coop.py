"""/coop: the energy co-operative's map of rooftop potential. Public for now; the `coop` role
is meant to guard it."""

from __future__ import annotations

from flask import render_template

from kaart.solar import queries, roofs
from kaart.views.public import bp
from kaart.views.public.pages import map_config

CLASS_NAMES = tuple(name for name, _ in roofs.CLASSES)


@bp.get("/coop")
def coop() -> str:
    config = map_config()
    config["solar"] = {
        "classes": list(CLASS_NAMES),
        "tiles": "/coop/tiles/{z}/{x}/{y}.pbf",
        "minZoom": queries.TILE_ZOOMS[0],
        "buildingLayer": queries.BUILDING_LAYER,
        "offerCategory": queries.OFFER_CATEGORY,
    }
    return render_template("coop/coop.html", config=config)
