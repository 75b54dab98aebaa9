"""The reactienota of a participation process: what residents said and what was done with it.

A public document, so it holds only published contributions (hidden and pending ones are
counted, not shown) and no personal data. The map is drawn offline with matplotlib from the
buurt outlines, the process area and the contributions (RD New, no tiles), and embedded as a PNG
in both the HTML and the PDF (WeasyPrint, which is allowed to fetch nothing but that image).
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import not_found
from kaart.models.contribution import CATEGORIES
from kaart.services import commitments
from kaart.services.overview import (
    ADOPTED_STATUSES,
    BuurtFigure,
    Filters,
    buurt_figures,
    counts_by,
    rows,
)
from kaart.services.overview_map import CATEGORY_COLOURS

RD_NEW = "EPSG:28992"


@dataclass
class Item:
    id: str
    title: str
    description: str
    status: str
    adopted: bool
    support_count: int
    response: str | None
    responded_at: datetime | None
    created_at: datetime
    # The afspraken of wijkpacten that took it up (kaart/services/commitments.py).
    commitments: list[Any] = field(default_factory=list)


@dataclass
class Report:
    process: Any
    generated_at: datetime
    total: int
    not_published: int
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_buurt: list[BuurtFigure]
    adopted: int
    # category -> buurt name -> items, in the order of CATEGORIES and then buurt name
    groups: dict[str, dict[str, list[Item]]] = field(default_factory=dict)
    map_png: bytes = b""

    @property
    def map_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.map_png).decode("ascii")


def process_row(session: Session, process_id: uuid.UUID) -> Any:
    row = session.execute(
        text(
            "SELECT id, slug, title, question, description, starts_on, ends_on, categories, "
            "ST_AsBinary(geom) AS wkb FROM process WHERE id = :id"
        ),
        {"id": process_id},
    ).one_or_none()
    if row is None:
        raise not_found("This process")
    return row


def build(session: Session, process_id: uuid.UUID, labels: dict[str, str]) -> Report:
    """Everything the reactienota shows. `labels`: translated category names and the buurt
    fallback ("category.<name>", "no_buurt") for the map legend and the groups."""
    process = process_row(session, process_id)
    public = Filters(process=process_id, public_only=True)
    everything = Filters(process=process_id)
    selected = rows(session, public, extra=("wkb",))
    report = Report(
        process=process,
        generated_at=datetime.now().astimezone(),
        total=len(selected),
        not_published=sum(counts_by(session, everything, "category").values()) - len(selected),
        by_category=counts_by(session, public, "category"),
        by_status=counts_by(session, public, "status"),
        by_buurt=buurt_figures(session, public),
        adopted=sum(1 for r in selected if r.status in ADOPTED_STATUSES),
    )
    ordered = sorted(
        selected,
        key=lambda r: (
            CATEGORIES.index(r.category),
            (r.buurt_name or "\uffff").lower(),
            r.created_at,
        ),
    )
    for r in ordered:
        buurt = r.buurt_name or labels["no_buurt"]
        report.groups.setdefault(r.category, {}).setdefault(buurt, []).append(
            Item(
                id=str(r.id),
                title=r.title,
                description=r.description,
                status=r.status,
                adopted=r.status in ADOPTED_STATUSES,
                support_count=r.support_count,
                response=r.response,
                responded_at=r.responded_at,
                created_at=r.created_at,
            )
        )
    taken_up = commitments.for_contributions(session, [r.id for r in selected])
    for groups in report.groups.values():
        for items in groups.values():
            for item in items:
                item.commitments = taken_up.get(item.id, [])
    report.map_png = map_image(session, process, selected, labels)
    return report


def map_image(session: Session, process: Any, selected: list[Any], labels: dict[str, str]) -> bytes:
    """A PNG of the process area, the buurten around it and every contribution (RD New)."""
    # Heavy (pandas, matplotlib): imported only by the workers that draw a reactienota.
    import geopandas as gpd
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    area = gpd.GeoSeries([shapely.from_wkb(bytes(process.wkb))], crs="EPSG:4326").to_crs(RD_NEW)
    buurten = session.execute(
        text(
            "SELECT code, ST_AsBinary(geom) FROM buurt "
            "WHERE geom && ST_Expand((SELECT geom FROM process WHERE id = :id), 0.002)"
        ),
        {"id": process.id},
    ).all()
    # matplotlib's object API (no pyplot): no global state, safe in a threaded server.
    figure = Figure(figsize=(8, 6), dpi=150)
    axes = figure.subplots()
    if buurten:
        outlines = gpd.GeoSeries(
            [shapely.from_wkb(bytes(wkb)) for _code, wkb in buurten], crs="EPSG:4326"
        ).to_crs(RD_NEW)
        outlines.plot(ax=axes, facecolor="#f4f4f4", edgecolor="#9e9e9e", linewidth=0.6)
        named = {r.buurt_code: r.buurt_name for r in selected if r.buurt_name}
        for (code, _wkb), shape in zip(buurten, outlines, strict=True):
            if code in named:  # the buurten the input lies in, by name
                spot = shape.representative_point()
                axes.annotate(
                    named[code], (spot.x, spot.y), ha="center", fontsize=8, color="#4a5260"
                )
    area.plot(ax=axes, facecolor="none", edgecolor="#154273", linewidth=2, linestyle="--")
    handles = [Line2D([], [], color="#154273", linestyle="--", label=labels["area"])]
    contributions = gpd.GeoDataFrame(
        {"category": [r.category for r in selected]},
        geometry=[shapely.from_wkb(bytes(r.wkb)) for r in selected],
        crs="EPSG:4326",
    ).to_crs(RD_NEW)
    for category in CATEGORIES:
        part = contributions[contributions["category"] == category]
        if part.empty:
            continue
        colour = CATEGORY_COLOURS[category]
        part.plot(
            ax=axes,
            color=colour,
            markersize=70,
            linewidth=2,
            alpha=0.85,
            edgecolor="white",
        )
        name = labels[f"category.{category}"]
        handles.append(Line2D([], [], marker="o", color="none", markerfacecolor=colour, label=name))
    xmin, ymin, xmax, ymax = area.total_bounds
    if not contributions.empty:
        cx = contributions.total_bounds
        xmin, ymin = min(xmin, cx[0]), min(ymin, cx[1])
        xmax, ymax = max(xmax, cx[2]), max(ymax, cx[3])
    return framed_png(figure, axes, (xmin, ymin, xmax, ymax), handles)


def framed_png(figure: Any, axes: Any, bounds: tuple, handles: list) -> bytes:
    """A report map as PNG: `bounds` (RD New) with a margin, no axes, the legend bottom left.
    Also draws the wijkpact's progress report (kaart/services/pact_report.py)."""
    xmin, ymin, xmax, ymax = bounds
    margin = max(xmax - xmin, ymax - ymin) * 0.08 + 20
    axes.set_xlim(xmin - margin, xmax + margin)
    axes.set_ylim(ymin - margin, ymax + margin)
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    out = io.BytesIO()
    figure.savefig(out, format="png", bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()


def pdf(html: str) -> bytes:
    """The HTML as a PDF. WeasyPrint may fetch nothing but data: URIs (the map): no network,
    no files, whatever a template might one day contain."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    # PDF/UA-1: tagged (structure tree, reading order), with its language, title and the map's
    # alternative text, so a screen reader can read a public municipal document.
    return HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")


def summary(description: str, limit: int = 400) -> str:
    """A contribution's text, shortened at a word boundary for the report."""
    description = " ".join(description.split())
    if len(description) <= limit:
        return description
    cut = description[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def category_order(report: Report) -> list[str]:
    return [c for c in CATEGORIES if c in report.groups]
