"""Keyset paging shared by every provider: one cursor format, one page shape.

A cursor says "after" (forward) or "before" (backward) a key of the sort order; in a URL it is
base64url of the JSON list ``["n" | "p", *key]``. Pages never use OFFSET, so page 50 costs
what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func

from kaart.errors import BadRequest

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (`forward`) or before (backward) `key`."""

    forward: bool
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    features: list[str]  # GeoJSON Feature texts, made by PostGIS
    next: Cursor | None = None
    prev: Cursor | None = None
    matched: int | None = None  # only when it is cheap to know


def encode(cursor: Cursor) -> str:
    raw = json.dumps(["n" if cursor.forward else "p", *cursor.key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(value: str) -> Cursor:
    """A cursor from a `next`/`prev` link; anything else is a 400 naming `cursor`."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        if not (isinstance(raw, list) and len(raw) >= 2 and raw[0] in ("n", "p")):
            raise ValueError("not a cursor")
    except (ValueError, RecursionError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    return Cursor(raw[0] == "n", tuple(raw[1:]))


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "cursor is not one this server gave out; follow the next or prev link.",
        "cursor",
        "cursor_invalid",
    )


def time_id_key(cursor: Cursor) -> tuple[datetime, uuid.UUID]:
    """The (created time, id) key of a cursor over a `created_at DESC, id DESC` order (the
    contributions, initiatives and commitments); 400 for anything this server did not give."""
    try:
        stamp, ident = cursor.key
        parsed = datetime.fromisoformat(stamp), uuid.UUID(ident)
        if parsed[0].tzinfo is None:
            raise ValueError("time without zone")
    except (ValueError, TypeError, AttributeError) as exc:
        raise invalid_cursor() from exc
    return parsed


def envelope_wgs84(bbox: BBox, bbox_crs: Any) -> Any:
    """A bbox in `bbox_crs` (kaart.crs.Crs) as a WGS84 geometry expression (the storage CRS of
    what residents make); edges densified before transforming."""
    box = func.ST_MakeEnvelope(*bbox, bbox_crs.srid)
    if bbox_crs.srid == 4326:
        return box
    segment = max(max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 16, 1e-9)
    return func.ST_Transform(func.ST_Segmentize(box, segment), 4326)


def page_of(
    rows: Sequence[Any],
    limit: int,
    cursor: Cursor | None,
    key: Callable[[Any], tuple[Any, ...]],
    feature: Callable[[Any], str],
    matched: int | None = None,
) -> Page:
    """A page from up to `limit + 1` rows read in the cursor's direction (backward pages are
    read in reverse order), with next/prev cursors where there is more to see."""
    more = len(rows) > limit
    rows = list(rows[:limit])
    forward = cursor is None or cursor.forward
    if not forward:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if more or not forward:
            next_cursor = Cursor(True, key(rows[-1]))
        if cursor is not None and (forward or more):
            prev_cursor = Cursor(False, key(rows[0]))
    elif cursor is not None and forward:
        prev_cursor = Cursor(False, cursor.key)
    return Page([feature(r) for r in rows], next_cursor, prev_cursor, matched)


def clip(bbox: BBox, domain: BBox) -> BBox | None:
    """The part of `bbox` inside `domain`, or None when they do not overlap. A box of zero
    width or height (a point or a line) is a valid box."""
    west, south = max(bbox[0], domain[0]), max(bbox[1], domain[1])
    east, north = min(bbox[2], domain[2]), min(bbox[3], domain[3])
    return (west, south, east, north) if west <= east and south <= north else None
