"""The planner's selection of contributions: filters, rows, counts and per-buurt figures.

One set of filters (process, category, status, buurt, period, text, visibility) selects the
contributions that the /beheer overview shows, the exports write and the reactienota reports.
Staff see every visibility (published, pending, hidden) but never withdrawn contributions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.models.contribution import CATEGORIES, STATUSES, VISIBILITIES
from kaart.params import Params
from kaart.providers import contributions

# Statuses a planner filters on: everything but `ingetrokken` (withdrawn items are never shown).
OPEN_STATUSES = tuple(s for s in STATUSES if s != "ingetrokken")
# The statuses that mean "the municipality does something with it" in the reactienota.
ADOPTED_STATUSES = ("overgenomen", "gerealiseerd")
TEXT_MAX = 200


@dataclass(frozen=True)
class Filters:
    process: uuid.UUID | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    buurt: str | None = None
    since: date | None = None
    until: date | None = None
    text: str = ""
    visibilities: tuple[str, ...] = ()
    # Only what the public sees (published); set for the reactienota, which is public.
    public_only: bool = False
    # The place as drawn, not as published: staff who may see it (User.sees_exact_location).
    exact: bool = False

    def query(self, limit: int | None = None) -> contributions.Query:
        """These filters as the contribution provider's query (staff see every visibility)."""
        return contributions.Query(
            audience=contributions.PUBLIC if self.public_only else contributions.STAFF,
            exact=self.exact and not self.public_only,
            categories=self.categories,
            statuses=self.statuses,
            visibilities=self.visibilities,
            buurten=(self.buurt,) if self.buurt else (),
            process=self.process,
            since=self.since,
            until=self.until,
            text=self.text,
            limit=limit,
        )

    def query_args(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs, to hand on to the map, exports and links."""
        pairs: list[tuple[str, str]] = []
        if self.process:
            pairs.append(("process", str(self.process)))
        pairs += [("category", c) for c in self.categories]
        pairs += [("status", s) for s in self.statuses]
        pairs += [("visibility", v) for v in self.visibilities]
        if self.buurt:
            pairs.append(("buurt", self.buurt))
        if self.since:
            pairs.append(("from", self.since.isoformat()))
        if self.until:
            pairs.append(("to", self.until.isoformat()))
        if self.text:
            pairs.append(("q", self.text))
        return pairs


def parse_filters(args: Any) -> Filters:
    """Filters from a query string (a MultiDict); a 400 naming every field that is wrong."""
    params = Params(args)
    filters = Filters(
        process=params.uuid("process"),
        categories=params.choices("category", CATEGORIES),
        statuses=params.choices("status", OPEN_STATUSES),
        buurt=params.text("buurt", 10, r"BU[0-9A-Z]{8}"),
        since=params.date("from"),
        until=params.date("to"),
        text=params.text("q", TEXT_MAX) or "",
        visibilities=params.choices("visibility", VISIBILITIES),
    )
    if filters.since and filters.until and filters.since > filters.until:
        params.fail("to", "The period ends before it starts.", "period_reversed")
    params.done()
    return filters


# The columns of one row of the table, the exports and the reactienota (see the provider's
# EXPRESSIONS). Nothing personal: no edit token hash, no supporter or reporter keys.
ROW = (
    "id",
    "category",
    "title",
    "description",
    "status",
    "visibility",
    "hidden_reason",
    "report_count",
    "process_id",
    "process_slug",
    "process_title",
    "buurt_code",
    "buurt_name",
    "wijk_code",
    "gemeente_code",
    "area_m2",
    "length_m",
    "size_class",
    "location",
    "support_count",
    "response",
    "responded_at",
    "created_at",
    "updated_at",
    "comment_count",
    "photo_count",
    "lon",
    "lat",
)
# What the public may see of a row (the reactienota).
PUBLIC_ROW = tuple(name for name in ROW if name not in contributions.STAFF_ONLY)


def rows(
    session: Session, filters: Filters, limit: int | None = None, extra: tuple[str, ...] = ()
) -> list[Any]:
    """The selected contributions, newest first (`extra`: more of the provider's values)."""
    names = (*(PUBLIC_ROW if filters.public_only else ROW), *extra)
    return contributions.records(session, filters.query(limit=limit), names)


def stream_rows(session: Session, filters: Filters, extra: tuple[str, ...] = ()) -> Iterator[Any]:
    """`rows`, a batch at a time (for exports of any size)."""
    names = (*(PUBLIC_ROW if filters.public_only else ROW), *extra)
    return contributions.stream(session, filters.query(), names)


def count(session: Session, filters: Filters) -> int:
    return contributions.count(session, filters.query())


def counts_by(session: Session, filters: Filters, column: str) -> dict[str, int]:
    """How many selected contributions per category, status or visibility."""
    return contributions.counts_by(session, filters.query(), column)


@dataclass(frozen=True)
class BuurtFigure:
    code: str
    name: str
    count: int
    inhabitants: int | None

    @property
    def per_1000(self) -> float | None:
        if not self.inhabitants:
            return None
        return self.count * 1000 / self.inhabitants


def buurt_figures(session: Session, filters: Filters) -> list[BuurtFigure]:
    """Selected contributions per buurt (only buurten that have some), most first."""
    found = contributions.per_buurt(session, filters.query())
    people = inhabitants(session, [code for code, _name, _n in found])
    return [BuurtFigure(code, name, n, people.get(code)) for code, name, n in found]


def inhabitants(session: Session, codes: list[str]) -> dict[str, int]:
    """Inhabitants per buurt code from any loaded area layer that carries them (CBS wijken en
    buurten has `inhabitants`); CBS's own layer first, then the newest load."""
    if not codes:
        return {}
    tables = session.execute(
        text(
            "SELECT table_name FROM layer WHERE table_name IS NOT NULL "
            "AND columns @> ARRAY['code', 'inhabitants']::text[] "
            "ORDER BY (name = 'cbs-buurten') DESC, loaded_at DESC"
        )
    ).scalars()
    found: dict[str, int] = {}
    for table in tables:
        if not re.fullmatch(r"[a-z0-9_]+", table):  # written by geodata.load, checked anyway
            continue
        stmt = text(
            f'SELECT code, max(inhabitants)::bigint FROM open_data."{table}" '
            "WHERE code = ANY(:codes) AND inhabitants > 0 GROUP BY code"
        ).bindparams(bindparam("codes", type_=ARRAY(String)))
        for code, people in session.execute(stmt, {"codes": codes}):
            found.setdefault(code, int(people))
    return found


def processes(session: Session) -> list[Any]:
    """Every process, newest first, for the filter and the reactienota."""
    return session.execute(
        text(
            "SELECT id, slug, title, question, description, starts_on, ends_on, categories, "
            "reactienota_published_at FROM process ORDER BY starts_on DESC, title"
        )
    ).all()


def buurten_with_contributions(session: Session) -> list[Any]:
    """Buurten that hold at least one (not withdrawn) contribution, for the buurt filter."""
    return session.execute(
        text(
            "SELECT b.code, b.name FROM buurt b WHERE EXISTS (SELECT 1 FROM contribution c "
            "WHERE c.buurt_code = b.code AND c.withdrawn_at IS NULL) ORDER BY b.name"
        )
    ).all()
