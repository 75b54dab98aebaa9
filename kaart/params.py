"""Request parameters, read one way everywhere: each problem becomes a field error naming the
parameter; all of them are collected and raised together as one 400.

    args = Params(request.args)
    limit = args.integer("limit", 1, 1000, default=100)
    bbox = args.bbox("bbox")
    categories = args.choices("category", CATEGORIES)
    args.done()                       # BadRequest with every field error, or nothing

Codes: `<name>_missing`, `<name>_invalid` (cannot be read), `<name>_out_of_range`,
`<name>_unknown` (not one of the allowed values). Text that may never be stored is refused
before any view runs (kaart/textcheck.py). Ids in paths use Flask's `<uuid:…>` converter.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from kaart import crs as crs_mod
from kaart.errors import BadRequest, FieldError

BBox = tuple[float, float, float, float]


class Params:
    """The query string (or form) of one request, read parameter by parameter."""

    def __init__(self, args: Any) -> None:
        self.args = args
        self.errors: list[FieldError] = []

    def fail(self, name: str, reason: str, code: str) -> None:
        self.errors.append(FieldError(name, reason, code))

    def done(self) -> None:
        """Raise every problem found so far as one 400."""
        if self.errors:
            raise BadRequest(self.errors[0].reason, errors=list(self.errors))

    def raw(self, name: str) -> str:
        return (self.args.get(name) or "").strip()

    def number(
        self,
        name: str,
        low: float,
        high: float,
        default: float | None = None,
        *,
        required: bool = False,
        integer: bool = False,
        range_code: str | None = None,
    ) -> Any:
        """A number from `low` to `high` (whole with `integer`); `default` when absent."""
        raw = self.raw(name)
        if raw == "":
            if required:
                self.fail(name, f"{name} is required.", f"{name}_missing")
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.fail(name, f"{name} must be {kind} from {low:g} to {high:g}.", f"{name}_invalid")
            return default
        if not (math.isfinite(value) and low <= value <= high):
            code = range_code or f"{name}_out_of_range"
            self.fail(name, f"{name} must be from {low:g} to {high:g}.", code)
            return default
        return value

    def integer(self, name: str, low: int, high: int, default: int | None = None, **kw: Any):
        return self.number(name, low, high, default, integer=True, **kw)

    def values(self, name: str) -> tuple[str, ...]:
        """Comma-separated and repeated values (`category=groen,idee&category=energie`)."""
        getlist = getattr(self.args, "getlist", None)
        raw = getlist(name) if getlist else [self.args.get(name) or ""]
        found = [v.strip() for value in raw for v in value.split(",") if v.strip()]
        return tuple(dict.fromkeys(found))

    def choices(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        """Any of `allowed`; an unknown value is `<name>_unknown`."""
        found = self.values(name)
        for value in found:
            if value not in allowed:
                reason = f"Unknown {name} {value[:40]!r}; use {', '.join(allowed)}."
                self.fail(name, reason, f"{name}_unknown")
                return ()
        return found

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> Any:
        """One of `allowed`."""
        raw = self.raw(name)
        if raw == "":
            return default
        if raw not in allowed:
            self.fail(name, f"{name} must be one of {', '.join(allowed)}.", f"{name}_unknown")
            return default
        return raw

    def text(self, name: str, max_length: int, pattern: str | None = None) -> str | None:
        """Free text of at most `max_length` characters (matching `pattern` when given)."""
        raw = self.raw(name)
        if raw == "":
            return None
        if len(raw) > max_length:
            self.fail(name, f"{name} has at most {max_length} characters.", f"{name}_too_long")
            return None
        if pattern is not None and not re.fullmatch(pattern, raw):
            self.fail(name, f"{name} is not valid here.", f"{name}_invalid")
            return None
        return raw

    def date(self, name: str) -> date | None:
        raw = self.raw(name)
        if raw == "":
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(name, f"{name} must be a date as YYYY-MM-DD.", f"{name}_invalid")
            return None

    def uuid(self, name: str) -> uuid.UUID | None:
        raw = self.raw(name)
        if raw == "":
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            self.fail(name, f"{name} must be an id such as {uuid.UUID(int=0)}.", f"{name}_invalid")
            return None

    def uuids(self, name: str) -> tuple[uuid.UUID, ...]:
        found = []
        for value in self.values(name):
            try:
                found.append(uuid.UUID(value))
            except ValueError:
                self.fail(name, f"{value[:40]!r} is not an id.", f"{name}_invalid")
        return tuple(found)

    def lonlat(self, name: str) -> tuple[float, float] | None:
        """`lon,lat` in WGS84."""
        raw = self.raw(name)
        if raw == "":
            return None
        try:
            lon, lat = (float(part) for part in raw.split(","))
        except ValueError:
            self.fail(name, f"{name} must be lon,lat.", f"{name}_invalid")
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # also refuses NaN
            self.fail(name, f"{name} must be a WGS84 lon,lat.", f"{name}_invalid")
            return None
        return lon, lat

    def crs(self, name: str) -> crs_mod.Crs:
        try:
            return crs_mod.parse(self.args.get(name), name)
        except BadRequest as error:
            self.errors += error.errors
            return crs_mod.DEFAULT

    def bbox(self, name: str = "bbox", in_crs: crs_mod.Crs = crs_mod.DEFAULT) -> BBox | None:
        """minX,minY,maxX,maxY in `in_crs` (latitude first for EPSG:4326), as x/y."""
        try:
            return crs_mod.parse_bbox(self.args.get(name), in_crs)
        except BadRequest as error:
            self.errors += error.errors
            return None

    def moment(self, name: str) -> datetime | None:
        """A W3C / RFC 3339 date-time (UTC when it names no zone)."""
        raw = self.raw(name)
        if raw == "":
            return None
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            reason = f"{name} must be a W3C date-time, e.g. 2026-11-24T10:00:00Z."
            self.fail(name, reason, f"{name}_invalid")
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)

    def interval(self, name: str) -> tuple[datetime | None, datetime | None] | None:
        """An RFC 3339 instant or interval (`a/b`, `../b`, `a/..`); a date means the whole day."""
        raw = self.raw(name)
        if raw == "":
            return None
        parts = raw.split("/")
        try:
            if len(parts) == 1:
                return _instant(parts[0], end=False), _instant(parts[0], end=True)
            if len(parts) != 2 or parts in (["..", ".."], ["", ""]):
                raise ValueError("not an instant or an interval start/end")
            start = None if parts[0] in ("", "..") else _instant(parts[0], end=False)
            end = None if parts[1] in ("", "..") else _instant(parts[1], end=True)
        except ValueError:
            reason = f"{name} must be an RFC 3339 date, date-time or interval start/end."
            self.fail(name, reason, f"{name}_invalid")
            return None
        if start and end and start > end:
            self.fail(
                name, f"The start of the {name} interval is after its end.", f"{name}_invalid"
            )
            return None
        return start, end

    def known(self, allowed: tuple[str, ...]) -> None:
        """An unknown parameter is an error, not silently ignored (OGC API – Features)."""
        for name in self.args:
            if name not in allowed:
                shown = ", ".join(allowed)
                reason = f"Unknown query parameter {name[:40]!r}; known: {shown}."
                self.fail(name[:40], reason, "unknown")


def _instant(text: str, *, end: bool) -> datetime:
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def form_list(form: Any, name: str) -> list[str]:
    """Every value of a form field: a request's MultiDict, or a dict from JSON or a test whose
    value is one value or a list."""
    if hasattr(form, "getlist"):
        return form.getlist(name)
    value = form.get(name) or []
    return [value] if isinstance(value, str) else list(value)


def uuid_list(values: list[Any]) -> list[uuid.UUID]:
    """The values that are UUIDs, each once, in their order (others are left out)."""
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return list(dict.fromkeys(found))
