"""The collections /ogc serves: published contributions and every loaded open layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kaart import crs
from kaart.errors import NotFound
from kaart.models.contribution import CATEGORIES
from kaart.ogc import sources
from kaart.providers import contributions, layers

CONTRIBUTIONS = contributions.TILE_LAYER
# Simple property filters on contributions (query parameters).
CONTRIBUTION_FILTERS = ("category", "status", "buurt")


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
    layer: layers.Layer | None = None  # the open layer behind it; None for contributions
    provider: sources.Source | None = None  # a provider-backed collection (kaart/ogc/sources.py)

    @property
    def filters(self) -> tuple[str, ...]:
        if self.provider is not None:
            return tuple(self.provider.filters)
        return CONTRIBUTION_FILTERS if self.table is None else self.columns

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
    return [
        _contributions(session),
        *(_sourced(session, source) for source in sources.registered().values()),
        *(_layer(layer) for layer in layers.catalogue(session)),
    ]


def find(session: Session, collection_id: str) -> Collection:
    if collection_id == CONTRIBUTIONS:
        return _contributions(session)
    if collection_id in sources.registered():
        return _sourced(session, sources.registered()[collection_id])
    try:
        return _layer(layers.find(session, collection_id))
    except NotFound as exc:
        raise NotFound(f"Collection {collection_id[:60]!r}") from exc


def _contributions(session: Session) -> Collection:
    _count, bbox, interval = contributions.extent(session)
    return Collection(
        id=CONTRIBUTIONS,
        title=contributions.TITLE,
        description=(
            f"Published contributions of residents ({', '.join(CATEGORIES)}) with their status, "
            "buurt and the municipality's response. No personal data."
        ),
        table=None,
        storage=crs.SUPPORTED[crs.CONTRIBUTION_STORAGE],
        columns=(),
        feature_count=None,
        bbox=bbox,
        interval=interval,
    )


def _sourced(session: Session, source: sources.Source) -> Collection:
    bbox, interval = source.extent(session)
    return Collection(
        id=source.id,
        title=source.title,
        description=source.description,
        table=None,
        storage=crs.SUPPORTED[crs.CONTRIBUTION_STORAGE],
        columns=(),
        feature_count=None,
        bbox=bbox,
        interval=interval,
        provider=source,
    )


def _layer(layer: layers.Layer) -> Collection:
    return Collection(
        id=layer.name,
        title=layer.title,
        description=f"{layer.title}: open data ({layer.kind or 'layer'}), from {layer.source}.",
        table=layer.table,
        storage=layers.STORAGE,
        columns=layer.columns,
        feature_count=layer.feature_count,
        bbox=layer.bbox,
        interval=None,
        licence=layer.licence,
        attribution=layer.attribution,
        source=layer.source,
        layer=layer,
    )
