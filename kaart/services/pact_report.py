"""The map of the voortgangsrapportage: the pact's area and its commitments by status, drawn
offline with matplotlib like the reactienota's (RD New, no tiles), as a PNG for the PDF.

Each status has its own colour AND marker shape and line style, named in the legend, so the
printed map does not rely on colour (a grey printer, colour blindness)."""

from __future__ import annotations

import base64
import uuid

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.models.pact import UPDATE_STATUSES
from kaart.services import reactienota
from kaart.services.commitments import LATEST

RD_NEW = "EPSG:28992"
# status -> (colour, marker, line style); the same colours as static/js/pact.js.
STYLE = {
    "gepland": ("#4a5260", "o", ":"),
    "bezig": ("#154273", "^", "--"),
    "klaar": ("#17663a", "s", "-"),
    "vertraagd": ("#a14a00", "D", "-."),
    "vervallen": ("#8a1c1c", "X", (0, (1, 1))),
}


def map_png(session: Session, pact_id: uuid.UUID, labels: dict[str, str]) -> bytes:
    """A PNG of the area and every placed commitment. `labels`: "area" and "status.<name>"."""
    # Heavy (pandas, matplotlib): imported only by the workers that draw a report.
    import geopandas as gpd
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    area_wkb = session.execute(
        text("SELECT ST_AsBinary(geom) FROM pact WHERE id = :id"), {"id": pact_id}
    ).scalar_one()
    rows = session.execute(
        text(
            "SELECT coalesce(u.status, 'gepland') AS status, ST_AsBinary(d.geom) AS wkb "
            f"FROM commitment c {LATEST} "
            "CROSS JOIN LATERAL ST_Dump(c.geom) d WHERE c.pact_id = :id AND c.geom IS NOT NULL"
        ),
        {"id": pact_id},
    ).all()
    area = gpd.GeoSeries([shapely.from_wkb(bytes(area_wkb))], crs="EPSG:4326").to_crs(RD_NEW)
    figure = Figure(figsize=(8, 6), dpi=150)
    axes = figure.subplots()
    area.plot(ax=axes, facecolor="#f4f4f4", edgecolor="#9e9e9e", linewidth=1.5)
    handles = [Line2D([], [], color="#9e9e9e", linewidth=1.5, label=labels["area"])]
    places = gpd.GeoDataFrame(
        {"status": [r.status for r in rows]},
        geometry=[shapely.from_wkb(bytes(r.wkb)) for r in rows],
        crs="EPSG:4326",
    ).to_crs(RD_NEW)
    for status in UPDATE_STATUSES:
        part = places[places["status"] == status]
        if part.empty:
            continue
        colour, marker, line = STYLE[status]
        # Areas as their outline, so the line style shows (and nothing under them is hidden).
        shapes = part.geometry.apply(lambda g: g.boundary if g.geom_type == "Polygon" else g)
        points = shapes[shapes.geom_type == "Point"]
        lines = shapes[shapes.geom_type != "Point"]
        if not lines.empty:
            lines.plot(ax=axes, color=colour, linewidth=2.5, linestyle=line)
        if not points.empty:
            points.plot(ax=axes, color=colour, marker=marker, markersize=80, edgecolor="white")
        handles.append(
            Line2D(
                [],
                [],
                color=colour,
                marker=marker,
                linestyle=line,
                markeredgecolor="white",
                label=labels[f"status.{status}"],
            )
        )
    return reactienota.framed_png(figure, axes, tuple(area.total_bounds), handles)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
