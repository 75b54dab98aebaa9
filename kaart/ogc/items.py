"""Items of a collection for /ogc: the query parameters read into a provider query, and the
provider's keyset page (kaart/providers: contributions, layers) in the asked CRS."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from kaart import crs as crs_mod
from kaart.errors import Gone, NotFound
from kaart.models.contribution import CATEGORIES, STATUSES
from kaart.ogc import collections, sources
from kaart.ogc.collections import Collection
from kaart.params import Params
from kaart.providers import contributions, layers, paging, versions

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
# Parameters every request may carry: output format and page language.
COMMON = ("f", "lang")
ITEMS = ("bbox", "bbox-crs", "crs", "limit", "datetime", "cursor")
ALLOWED_VALUES = {"category": CATEGORIES, "status": STATUSES}


def check_known(args: Any, allowed: tuple[str, ...]) -> None:
    """OGC API – Features: an unknown query parameter is a 400, not silently ignored."""
    params = Params(args)
    params.known((*COMMON, *allowed))
    params.done()


def version(session: Session, collection_id: str) -> str:
    """What the collection's items are as of now, known before they are read (and before the
    contributions' extent is): the change counters of what a contribution is read from
    (kaart/providers/versions.py), or the open layer's load. 404 for an unknown collection."""
    if collection_id in sources.registered():
        return sources.registered()[collection_id].version(session)
    if collection_id != collections.CONTRIBUTIONS:
        found = collections.find(session, collection_id)
        if found.layer is not None:  # every collection but the contributions is an open layer
            return found.layer.version
    return versions.current(session, contributions.READS)


def items(session: Session, collection: Collection, args: Any) -> tuple[paging.Page, crs_mod.Crs]:
    """The page of items the query string asks for, and the CRS it is in."""
    params = Params(args)
    params.known((*COMMON, *ITEMS, *collection.filters))
    out = params.crs("crs")
    bbox_crs = params.crs("bbox-crs")
    bbox = params.bbox("bbox", bbox_crs)
    limit = _limit(params)
    interval = params.interval("datetime")
    raw_cursor = params.raw("cursor")
    filters = {name: params.values(name) for name in collection.filters if params.values(name)}
    for name, values in filters.items():
        allowed = ALLOWED_VALUES.get(name) if collection.layer is None else None
        if collection.provider is not None:
            allowed = collection.provider.filters[name]
        unknown = [v for v in values if allowed is not None and v not in allowed]
        if unknown:
            reason = f"Unknown {name} {unknown[0][:40]!r}; use {', '.join(allowed or ())}."
            params.fail(name, reason, f"{name}_unknown")
    timeless = collection.provider is not None and not collection.provider.temporal
    if interval and (collection.layer is not None or timeless):
        params.fail("datetime", f"Collection {collection.id!r} has no time dimension.", "datetime")
    params.done()
    cursor = paging.decode(raw_cursor) if raw_cursor else None
    if collection.provider is not None:
        found = sources.SourceQuery(bbox, bbox_crs, filters, limit, cursor, interval)
        return collection.provider.page(session, found, out), out
    if collection.layer is not None:
        query = layers.Query(bbox, bbox_crs, filters, limit, cursor)
        return layers.page(session, collection.layer, query, out), out
    start, end = interval or (None, None)
    query = contributions.Query(
        bbox=bbox,
        bbox_crs=bbox_crs,
        categories=filters.get("category", ()),
        statuses=filters.get("status", ()),
        buurten=filters.get("buurt", ()),
        created_from=start,
        created_to=end,
        limit=limit,
        cursor=cursor,
    )
    return contributions.page(session, query, out, count_matched=True), out


def _limit(params: Params) -> int:
    raw = params.raw("limit")
    if raw == "":
        return LIMIT_DEFAULT
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        reason = f"limit must be a whole number from 1 to {LIMIT_MAX:,}."
        params.fail("limit", reason, "limit_invalid")
        return LIMIT_DEFAULT
    # Part 1 lets a server cap a larger limit at its maximum rather than refuse it.
    return min(int(raw), LIMIT_MAX)


def item(session: Session, collection: Collection, feature_id: str, out: crs_mod.Crs) -> str:
    """One feature as GeoJSON text; 404 when the collection has no such (public) feature."""
    missing = NotFound(f"Feature {feature_id[:60]!r} in collection {collection.id!r}")
    if collection.provider is not None:
        try:
            return collection.provider.feature(session, feature_id, out)
        except (ValueError, NotFound, Gone) as exc:
            raise missing from exc
    if collection.layer is not None:
        try:
            return layers.feature(session, collection.layer, feature_id, out)
        except NotFound as exc:
            raise missing from exc
    try:
        return contributions.feature(session, uuid.UUID(feature_id), crs=out)
    except (ValueError, NotFound, Gone) as exc:
        raise missing from exc


def crs_param(args: Any) -> crs_mod.Crs:
    params = Params(args)
    found = params.crs("crs")
    params.done()
    return found
