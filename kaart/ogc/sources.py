"""Provider-backed /ogc collections besides contributions and open layers (initiatives,
commitments ...): each provider module in MODULES defines ``OGC_SOURCE = Source(...)``;
kaart/ogc/collections.py lists them and kaart/ogc/items.py pages them through it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session

from kaart import crs as crs_mod
from kaart.providers.paging import BBox, Cursor, Page

# Modules with an OGC_SOURCE, in the order the collections are listed.
MODULES = ("kaart.providers.initiatives", "kaart.providers.commitments")


@dataclass(frozen=True)
class SourceQuery:
    """The /ogc items parameters, read and checked, for a provider."""

    bbox: BBox | None
    bbox_crs: crs_mod.Crs
    filters: dict[str, tuple[str, ...]]
    limit: int
    cursor: Cursor | None
    interval: tuple[datetime | None, datetime | None] | None


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    description: str
    # Property filters (query parameters): the allowed values, or None for any value.
    filters: dict[str, tuple[str, ...] | None]
    # The public features' WGS84 bbox and temporal interval (or None).
    extent: Callable[[Session], tuple[list[float] | None, list[str] | None]]
    page: Callable[[Session, SourceQuery, crs_mod.Crs], Page]
    # One public feature as GeoJSON text; NotFound (or ValueError for a malformed id) if none.
    feature: Callable[[Session, str, crs_mod.Crs], str]
    # The items' version (kaart/providers/versions.py), read before the items.
    version: Callable[[Session], str]
    temporal: bool = True  # whether `datetime` filters it


@cache
def registered() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for name in MODULES:
        source = importlib.import_module(name).OGC_SOURCE
        found[source.id] = source
    return found
