"""The query parameters of /collections/{id}/items, checked; a wrong one is a 400 naming it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from kaart.errors import ApiError, FieldError
from kaart.ogc import crs as crs_mod

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
# Parameters every request may carry: output format and page language.
COMMON = ("f", "lang")
ITEMS = ("bbox", "bbox-crs", "crs", "limit", "datetime", "cursor")


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (`forward`) or before (`backward`) a key of the sort order."""

    forward: bool
    key: tuple[Any, ...]


@dataclass(frozen=True)
class ItemsQuery:
    crs: crs_mod.Crs
    bbox_crs: crs_mod.Crs
    bbox: tuple[float, float, float, float] | None = None
    limit: int = LIMIT_DEFAULT
    interval: tuple[datetime | None, datetime | None] | None = None
    cursor: Cursor | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.bbox or self.interval or self.filters)


def bad(name: str, reason: str, code: str) -> ApiError:
    return ApiError(400, "Bad request", reason, [FieldError(name, reason, code)])


def check_known(args: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    """OGC API – Features: an unknown query parameter is a 400, not silently ignored."""
    for name in args:
        if name not in COMMON and name not in allowed:
            shown = ", ".join((*COMMON, *allowed))
            raise bad(name, f"Unknown query parameter {name[:40]!r}; known: {shown}.", "unknown")


def items_query(args: Mapping[str, str], filter_names: tuple[str, ...]) -> ItemsQuery:
    check_known(args, (*ITEMS, *filter_names))
    bbox_crs = crs_mod.parse(args.get("bbox-crs"), "bbox-crs")
    filters = {}
    for name in filter_names:
        values = tuple(v.strip() for v in args.get(name, "").split(",") if v.strip())
        if values:
            filters[name] = values
    return ItemsQuery(
        crs=crs_mod.parse(args.get("crs"), "crs"),
        bbox_crs=bbox_crs,
        bbox=crs_mod.parse_bbox(args.get("bbox"), bbox_crs),
        limit=_limit(args.get("limit")),
        interval=parse_datetime(args.get("datetime")),
        cursor=decode_cursor(args["cursor"]) if args.get("cursor") else None,
        filters=filters,
    )


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return LIMIT_DEFAULT
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise bad("limit", f"limit must be a whole number from 1 to {LIMIT_MAX:,}.", "limit")
    # Part 1 lets a server cap a larger limit at its maximum rather than refuse it.
    return min(int(value), LIMIT_MAX)


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """RFC 3339 instant or interval (`a/b`, `../b`, `a/..`); a date means the whole day."""
    if value is None or value == "":
        return None
    parts = value.split("/")
    if len(parts) == 1:
        return _instant(parts[0], end=False), _instant(parts[0], end=True)
    if len(parts) != 2 or parts == ["..", ".."] or parts == ["", ""]:
        raise bad("datetime", "datetime must be an instant or an interval start/end.", "datetime")
    start = None if parts[0] in ("", "..") else _instant(parts[0], end=False)
    end = None if parts[1] in ("", "..") else _instant(parts[1], end=True)
    if start and end and start > end:
        raise bad("datetime", "The start of the datetime interval is after its end.", "datetime")
    return start, end


def _instant(text: str, *, end: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        stamp = datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad(
            "datetime", f"{text[:40]!r} is not an RFC 3339 date or date-time.", "datetime"
        ) from exc
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps(["n" if cursor.forward else "p", *cursor.key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        if not (isinstance(raw, list) and len(raw) >= 2 and raw[0] in ("n", "p")):
            raise ValueError("not a cursor")
    except (ValueError, RecursionError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad("cursor", "Unknown cursor; follow the next or prev link.", "cursor") from exc
    return Cursor(raw[0] == "n", tuple(raw[1:]))
