"""The /beheer choropleth: contributions per buurt (per 1,000 inhabitants where known), drawn
with folium on self-hosted Leaflet, without any tile server.

folium's maps load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs by default. Here every
resource of every element is mapped to a file under /static/vendor/ (from npm, see
scripts/vendor-assets), and an element that asks for anything we do not host is an error rather
than a silent CDN request.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kaart.providers import contributions, layers
from kaart.services.overview import BuurtFigure, Filters, buurt_figures
from kaart.services.participation import Rate, buurt_rates

# Resources folium's elements may ask for, by folium's own names -> our self-hosted copies.
SELF_HOSTED = {
    "leaflet": "/static/vendor/leaflet/leaflet.js",
    "leaflet_css": "/static/vendor/leaflet/leaflet.css",
}
# folium.Map asks for these for markers with icons and Bootstrap popups; this map draws neither
# (circle markers and plain tooltips only), so they are left out instead of vendored.
NOT_USED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}
# A sequential palette (ColorBrewer YlOrBr, 5 classes); the darkest classes carry white text in
# the legend, and every class differs in lightness, so it reads in greyscale too.
PALETTE = ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404")
EMPTY_FILL = "#f4f4f4"
CATEGORY_COLOURS = {
    "groen": "#2e7d32",
    "speelplek": "#6a1b9a",
    "energie": "#f9a825",
    "knelpunt": "#c62828",
    "idee": "#1565c0",
}
MAX_POINTS = 2000
# The participation layer (ColorBrewer Purples, 5 classes): apart from the selection's YlOrBr.
PARTICIPATION_PALETTE = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")


@dataclass(frozen=True)
class Legend:
    per_1000: bool
    # (upper bound, colour, label): a value belongs to the first class it does not exceed.
    classes: list[tuple[float, str, str]]
    # Participation per buurt of the chosen process (per 1,000 inhabitants), when there is one.
    participation: list[tuple[float, str, str]] | None = None


def classes(
    values: list[float], per_1000: bool, palette: tuple[str, ...] = PALETTE
) -> list[tuple[float, str, str]]:
    """Up to five equal-interval classes from 0 to the highest value; whole numbers for counts
    (with fewer than five distinct counts, the darker end of the palette)."""
    top = max(values, default=0)
    if top <= 0:
        return []
    if per_1000:
        step = top / len(palette)
        return [
            ((i + 1) * step, colour, f"{i * step:.1f} – {(i + 1) * step:.1f}")
            for i, colour in enumerate(palette)
        ]
    top = math.ceil(top)
    n = min(len(PALETTE), top)
    edges = [round(top * k / n) for k in range(n + 1)]
    colours = PALETTE[len(PALETTE) - n :]
    found = []
    for k in range(n):
        low, high = edges[k] + 1, edges[k + 1]
        found.append((float(high), colours[k], str(high) if low == high else f"{low} – {high}"))
    return found


def colour_of(value: float, bins: list[tuple[float, str, str]]) -> str:
    if not bins or value <= 0:
        return EMPTY_FILL
    for high, colour, _label in bins:
        if value <= high * (1 + 1e-9):
            return colour
    return bins[-1][1]


def legend_for(figures: list[BuurtFigure], rates: list[Rate] | None = None) -> Legend:
    """Per 1,000 inhabitants when every buurt with contributions has a known population; with
    `rates` (a process's buurten) also the classes of the participation layer."""
    per_1000 = bool(figures) and all(f.inhabitants for f in figures)
    values = [(f.per_1000 if per_1000 else f.count) or 0.0 for f in figures]
    participation = None
    if rates is not None:
        known = [r.per_1000 for r in rates if r.per_1000 is not None]
        participation = classes(known, True, PARTICIPATION_PALETTE) if known else []
    return Legend(per_1000=per_1000, classes=classes(values, per_1000), participation=participation)


def participation_rates(session: Session, filters: Filters, whole: str) -> list[Rate] | None:
    """The participation per buurt of the filtered process (None without a process)."""
    if filters.process is None:
        return None
    query = Filters(process=filters.process).query()
    return buurt_rates(session, filters.process, query, whole)[1]


def _buurten_geojson(session: Session, filters: Filters, codes: list[str]) -> dict[str, Any]:
    """The buurten with contributions plus their surroundings (the selection's extent, 300 m
    wider), simplified a little, as GeoJSON built in PostGIS."""
    around = contributions.bounds(session, filters.query(), expand=0.004)
    found = layers.buurten(session, around, codes=codes, tolerance=0.00002)
    return json.loads(found)


def _points_geojson(session: Session, filters: Filters) -> dict[str, Any]:
    """The newest MAX_POINTS contributions of the selection as points on their shapes."""
    found = contributions.records(
        session, filters.query(limit=MAX_POINTS), ("id", "title", "category", "lon", "lat")
    )
    features = [
        {
            "type": "Feature",
            "id": str(row.id),
            "geometry": {"type": "Point", "coordinates": [float(row.lon), float(row.lat)]},
            "properties": {"title": row.title, "category": row.category},
        }
        for row in found
    ]
    return {"type": "FeatureCollection", "features": features}


def self_host(element: Any) -> None:
    """Point every JS/CSS resource of `element` and its children at /static/vendor/."""
    for attribute in ("default_js", "default_css"):
        wanted = getattr(element, attribute, None)
        if not wanted:
            continue
        local = []
        for name, _url in wanted:
            if name in SELF_HOSTED:
                local.append((name, SELF_HOSTED[name]))
            elif name not in NOT_USED:
                raise RuntimeError(f"folium wants {name!r}, which is not self-hosted")
        # An instance attribute: folium's class-level lists stay as they are.
        setattr(element, attribute, local)
    for child in element._children.values():
        self_host(child)


def render(
    session: Session,
    filters: Filters,
    labels: dict[str, str],
    center: tuple[float, float],
    lang: str = "nl",
) -> tuple[str, Legend, list[BuurtFigure]]:
    """The map page (HTML) with its legend and figures. `labels`: translated texts for the
    tooltips (buurt, count, per_1000, category names as category.<name>); `lang`: theirs."""
    import folium  # only in the workers that draw the planner's map
    from branca.element import Element

    figures = buurt_figures(session, filters)
    rates = participation_rates(session, filters, labels["whole"])
    legend = legend_for(figures, rates)
    by_code = {f.code: f for f in figures}
    buurten = _buurten_geojson(session, filters, list(by_code))
    for feature in buurten["features"]:
        props = feature["properties"]
        figure = by_code.get(props["code"])
        count = figure.count if figure else 0
        value = (figure.per_1000 if legend.per_1000 else count) if figure else 0
        props["fill"] = colour_of(value or 0, legend.classes) if count else EMPTY_FILL
        # The tooltip is built as HTML by folium's script: escape every text put into it.
        props["name"] = html.escape(props["name"] or props["code"])
        props["count"] = count
        props["per_1000"] = f"{value:.1f}" if legend.per_1000 and figure else "–"
    points = _points_geojson(session, filters)
    for feature in points["features"]:
        props = feature["properties"]
        props["colour"] = CATEGORY_COLOURS.get(props["category"], "#333333")
        props["title"] = html.escape(props["title"])
        props["category"] = html.escape(labels.get(f"category.{props['category']}", ""))

    fmap = folium.Map(
        location=[center[1], center[0]],
        zoom_start=15,
        tiles=None,  # no tile server: the buurt outlines are the map (and the CSP allows no other)
        control_scale=True,
        prefer_canvas=False,
        zoom_control=False,  # Leaflet's own has English titles: ours, in the page's language
    )
    _zoom_control(labels).add_to(fmap)
    if buurten["features"]:
        layer = folium.GeoJson(
            buurten,
            name=labels["buurt"],
            style_function=_buurt_style,
            highlight_function=lambda _f: {"weight": 3, "color": "#154273"},
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "count", "per_1000"],
                aliases=[html.escape(labels[k]) for k in ("buurt", "count", "per_1000")],
            ),
        )
        layer.add_to(fmap)
        # Zoom to the buurten that hold contributions; their neighbours are context.
        holding = [f for f in buurten["features"] if f["properties"]["count"]]
        fmap.fit_bounds(_bounds({"features": holding or buurten["features"]}))
    if rates:
        _participation_layer(session, fmap, rates, legend.participation or [], labels)
    if points["features"]:
        folium.GeoJson(
            points,
            name=labels["points"],
            marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
            style_function=_point_style,
            tooltip=folium.GeoJsonTooltip(
                fields=["title", "category"], aliases=["", ""], labels=False
            ),
        ).add_to(fmap)
    if rates:
        # Last: the control refers to every layer by its variable, so they must exist by then.
        folium.LayerControl(collapsed=False).add_to(fmap)
    header = fmap.get_root().header
    header.add_child(Element(f"<title>{html.escape(labels['title'])}</title>"), name="title")
    # An empty icon, or the browser asks this server for /favicon.ico.
    header.add_child(Element('<link rel="icon" href="data:,">'), name="icon")
    self_host(fmap)
    return accessible_page(fmap.get_root().render(), lang), legend, figures


def _zoom_control(labels: dict[str, str]) -> Any:
    """Leaflet's zoom buttons with their titles (read out as their names) translated."""
    from branca.element import MacroElement
    from jinja2 import Template

    control = MacroElement()
    control._name = "ZoomControl"
    control._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.zoom({zoomInTitle: {{ this.zoom_in|tojson }},"
        " zoomOutTitle: {{ this.zoom_out|tojson }}}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    control.zoom_in, control.zoom_out = labels["zoom_in"], labels["zoom_out"]
    return control


# folium's viewport forbids zooming in (WCAG 1.4.4) and its <html> names no language (3.1.1).
VIEWPORT_LOCK = re.compile(r",\s*maximum-scale=1\.0,\s*user-scalable=no")


def accessible_page(page: str, lang: str) -> str:
    """folium's page with its language and with zooming allowed."""
    page = page.replace("<html>", f'<html lang="{lang}">', 1)
    return VIEWPORT_LOCK.sub("", page, count=1)


def _participation_layer(
    session: Session,
    fmap: Any,
    rates: list[Rate],
    bins: list[tuple[float, str, str]],
    labels: dict[str, str],
) -> None:
    """The process's buurten shaded by contributions per 1,000 inhabitants (all of them, none
    too), the under-represented ones with a dashed outline, with the CBS attribution."""
    import folium

    by_code = {r.code: r for r in rates}
    area = json.loads(layers.buurten(session, None, codes=list(by_code), tolerance=0.00002))
    for feature in area["features"]:
        props = feature["properties"]
        rate = by_code[props["code"]]
        props["name"] = html.escape(props["name"] or props["code"])
        props["count"] = rate.count
        props["per_1000"] = f"{rate.per_1000:.1f}" if rate.per_1000 is not None else "–"
        known = rate.per_1000 is not None
        props["fill"] = _participation_colour(rate.per_1000, bins) if known else EMPTY_FILL
        props["under"] = rate.under
    folium.GeoJson(
        area,
        name=html.escape(labels["participation"]),
        style_function=_participation_style,
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "count", "per_1000"],
            aliases=[html.escape(labels[k]) for k in ("buurt", "count", "per_1000")],
        ),
        attribution=html.escape(labels["participation_attribution"]),
    ).add_to(fmap)


def _participation_colour(value: float, bins: list[tuple[float, str, str]]) -> str:
    """Zero is a class of its own here (the lightest): a buurt without input must show."""
    if not bins or value <= 0:
        return PARTICIPATION_PALETTE[0]
    return colour_of(value, bins)


def _participation_style(feature: dict[str, Any]) -> dict[str, Any]:
    under = feature["properties"]["under"]
    return {
        "fillColor": feature["properties"]["fill"],
        "color": "#2d004b" if under else "#4a4a4a",
        "weight": 3 if under else 1,
        "dashArray": "6 4" if under else None,
        "fillOpacity": 0.8,
    }


def _buurt_style(feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "fillColor": feature["properties"]["fill"],
        "color": "#4a4a4a",
        "weight": 1,
        "fillOpacity": 0.75,
    }


def _point_style(feature: dict[str, Any]) -> dict[str, Any]:
    colour = feature["properties"]["colour"]
    return {"color": "#ffffff", "fillColor": colour, "weight": 1, "fillOpacity": 0.95}


def _bounds(collection: dict[str, Any]) -> list[list[float]]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for part in coords:
                walk(part)

    for feature in collection["features"]:
        walk(feature["geometry"]["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]
