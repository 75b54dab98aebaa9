"""The collections /ogc serves: published contributions and every loaded open layer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import ApiError
from kaart.models.contribution import CATEGORIES
from kaart.ogc import crs
from kaart.services import layer_features, tiles
from kaart.services.contributions import PUBLIC_WHERE

CONTRIBUTIONS = tiles.CONTRIBUTIONS
# Names the layer loader writes; anything else in the catalogue was edited by hand.
_IDENTIFIER = re.compile(r"[a-z0-9_]+")
# Simple property filters on contributions: query parameter -> column.
CONTRIBUTION_FILTERS = {"category": "c.category", "status": "c.status", "buurt": "c.buurt_code"}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: str | None  # in schema open_data; None for contributions
    storage: crs.Crs
    columns: tuple[str, ...]  # typed columns: each is a property filter too
    feature_count: int | None
    bbox: list[float] | None  # WGS84
    interval: list[str | None] | None  # temporal extent (contributions)
    licence: str | None = None
    attribution: str | None = None
    source: str | None = None

    @property
    def filters(self) -> tuple[str, ...]:
        return tuple(CONTRIBUTION_FILTERS) if self.table is None else self.columns

    def describe(self) -> dict[str, Any]:
        extent: dict[str, Any] = {}
        if self.bbox:
            extent["spatial"] = {"bbox": [self.bbox], "crs": crs.CRS84}
        if self.interval:
            extent["temporal"] = {
                "interval": [self.interval],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
        body: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "itemType": "feature",
            "crs": crs.URIS,
            "storageCrs": self.storage.uri,
            "extent": extent,
        }
        if self.attribution:
            body["attribution"] = self.attribution
        if self.licence:
            body["license"] = self.licence
        return body


def all_collections(session: Session) -> list[Collection]:
    rows = session.execute(
        text(
            "SELECT name, title, kind, licence, attribution, source, feature_count, bbox, "
            "columns, table_name FROM layer WHERE table_name IS NOT NULL ORDER BY name"
        )
    ).mappings()
    return [_contributions(session), *(_layer(row) for row in rows)]


def find(session: Session, collection_id: str) -> Collection:
    if collection_id == CONTRIBUTIONS:
        return _contributions(session)
    row = (
        session.execute(
            text(
                "SELECT name, title, kind, licence, attribution, source, feature_count, bbox, "
                "columns, table_name FROM layer WHERE table_name IS NOT NULL AND name = :name"
            ),
            {"name": collection_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise ApiError(404, "Not found", f"There is no collection {collection_id[:60]!r}.")
    return _layer(row)


def _contributions(session: Session) -> Collection:
    row = session.execute(
        text(
            "SELECT ST_XMin(e) AS x1, ST_YMin(e) AS y1, ST_XMax(e) AS x2, ST_YMax(e) AS y2, "
            "first, last FROM (SELECT ST_Extent(c.geom) AS e, min(c.created_at) AS first, "
            f"max(c.created_at) AS last FROM contribution c WHERE {PUBLIC_WHERE}) s"
        )
    ).one()
    bbox = None if row.x1 is None else [row.x1, row.y1, row.x2, row.y2]
    return Collection(
        id=CONTRIBUTIONS,
        title=layer_features.CONTRIBUTIONS_TITLE,
        description=(
            f"Published contributions of residents ({', '.join(CATEGORIES)}) with their status, "
            "buurt and the municipality's response. No personal data."
        ),
        table=None,
        storage=crs.SUPPORTED[crs.CONTRIBUTION_STORAGE],
        columns=(),
        feature_count=None,
        bbox=bbox,
        interval=[_iso(row.first), _iso(row.last)] if row.first else None,
    )


def _iso(stamp) -> str | None:
    return stamp.isoformat() if stamp else None


def _layer(row) -> Collection:
    columns = tuple(row["columns"] or ())
    if not all(_IDENTIFIER.fullmatch(c) for c in (row["table_name"], *columns)):
        raise ApiError(500, "Internal server error", "The layer catalogue is inconsistent.")
    return Collection(
        id=row["name"],
        title=row["title"],
        description=f"{row['title']}: open data ({row['kind'] or 'layer'}), from {row['source']}.",
        table=row["table_name"],
        storage=crs.SUPPORTED[crs.LAYER_STORAGE],
        columns=columns,
        feature_count=row["feature_count"],
        bbox=list(row["bbox"]) if row["bbox"] else None,
        interval=None,
        licence=row["licence"],
        attribution=row["attribution"],
        source=row["source"],
    )
