"""The planner's selection of contributions: filters, rows, counts and per-buurt figures.

One set of filters (process, category, status, buurt, period, text, visibility) selects the
contributions that the /beheer overview shows, the exports write and the reactienota reports.
Staff see every visibility (published, pending, hidden) but never withdrawn contributions.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.errors import ApiError, FieldError
from kaart.models.contribution import CATEGORIES, STATUSES

VISIBILITIES = ("published", "pending", "hidden")
# Statuses a planner filters on: everything but `ingetrokken` (withdrawn items are never shown).
OPEN_STATUSES = tuple(s for s in STATUSES if s != "ingetrokken")
# The statuses that mean "the municipality does something with it" in the reactienota.
ADOPTED_STATUSES = ("overgenomen", "gerealiseerd")
TEXT_MAX = 200
# Dates are Dutch dates: a contribution made at 00:30 on 1 March belongs to 1 March.
LOCAL_DATE = "(c.created_at AT TIME ZONE 'Europe/Amsterdam')::date"


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


def _bad(name: str, reason: str, code: str) -> ApiError:
    return ApiError(400, "Bad request", reason, [FieldError(name, reason, code)])


def _choices(values: list[str], allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    wanted = [v for value in values for v in value.split(",") if v]
    for value in wanted:
        if value not in allowed:
            reason = f"Unknown {name} {value[:40]!r}; use {', '.join(allowed)}."
            raise _bad(name, reason, f"{name}_unknown")
    return tuple(dict.fromkeys(wanted))


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _bad(name, f"{name} must be a date as YYYY-MM-DD.", f"{name}_invalid") from exc


def parse_filters(args: Any) -> Filters:
    """Filters from a query string (a MultiDict); a 400 naming the field for anything unknown."""
    process = None
    if args.get("process"):
        try:
            process = uuid.UUID(args["process"])
        except ValueError as exc:
            raise _bad("process", "process must be a process id.", "process_invalid") from exc
    buurt = (args.get("buurt") or "").strip() or None
    if buurt and not re.fullmatch(r"BU[0-9A-Z]{8}", buurt):
        raise _bad("buurt", "buurt must be a CBS buurt code such as BU0363SD03.", "buurt_invalid")
    query = (args.get("q") or "").strip()
    if len(query) > TEXT_MAX:
        raise _bad("q", f"The search text has at most {TEXT_MAX} characters.", "q_too_long")
    filters = Filters(
        process=process,
        categories=_choices(args.getlist("category"), CATEGORIES, "category"),
        statuses=_choices(args.getlist("status"), OPEN_STATUSES, "status"),
        buurt=buurt,
        since=_date(args.get("from"), "from"),
        until=_date(args.get("to"), "to"),
        text=query,
        visibilities=_choices(args.getlist("visibility"), VISIBILITIES, "visibility"),
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise _bad("to", "The period ends before it starts.", "period_reversed")
    return filters


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    arrays: list[str] = field(default_factory=list)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses)

    def bind(self, stmt):
        """Bind the list parameters as text[] (psycopg would otherwise guess)."""
        if self.arrays:
            stmt = stmt.bindparams(*(bindparam(n, type_=ARRAY(String)) for n in self.arrays))
        return stmt


def where(filters: Filters) -> Where:
    """The SQL condition (on `c`, a contribution) for these filters, with bound parameters."""
    w = Where(["c.withdrawn_at IS NULL"])
    if filters.public_only:
        w.clauses.append("c.visibility = 'published'")
    for column, values, name in (
        ("c.category", filters.categories, "categories"),
        ("c.status", filters.statuses, "statuses"),
        ("c.visibility", filters.visibilities, "visibilities"),
    ):
        if values:
            w.clauses.append(f"{column} = ANY(:{name})")
            w.params[name] = list(values)
            w.arrays.append(name)
    if filters.process:
        w.clauses.append("c.process_id = :process")
        w.params["process"] = filters.process
    if filters.buurt:
        w.clauses.append("c.buurt_code = :buurt")
        w.params["buurt"] = filters.buurt
    if filters.since:
        w.clauses.append(f"{LOCAL_DATE} >= :since")
        w.params["since"] = filters.since
    if filters.until:
        w.clauses.append(f"{LOCAL_DATE} <= :until")
        w.params["until"] = filters.until
    if filters.text:
        # A literal search: % and _ typed by the planner match themselves.
        escaped = re.sub(r"([\\%_])", r"\\\1", filters.text)
        w.clauses.append("(c.title ILIKE :text OR c.description ILIKE :text)")
        w.params["text"] = f"%{escaped}%"
    return w


# Columns of one contribution row, shared by the table, the exports and the reactienota.
# Nothing personal: no edit token hash, no supporter or reporter keys, no staff accounts.
ROW_SQL = """
c.id, c.category, c.title, c.description, c.status, c.visibility, c.hidden_reason,
c.report_count, c.process_id, p.slug AS process_slug, p.title AS process_title,
c.buurt_code, b.name AS buurt_name, c.wijk_code, c.gemeente_code,
round(c.area_m2::numeric, 1) AS area_m2, round(c.length_m::numeric, 1) AS length_m,
c.support_count, c.response, c.responded_at, c.created_at, c.updated_at,
(SELECT count(*) FROM comment k WHERE k.contribution_id = c.id
   AND k.visibility = 'published') AS comment_count,
(SELECT count(*) FROM photo f WHERE f.contribution_id = c.id) AS photo_count,
ST_X(ST_PointOnSurface(c.geom)) AS lon, ST_Y(ST_PointOnSurface(c.geom)) AS lat
"""
ROW_FROM = (
    "contribution c LEFT JOIN buurt b ON b.code = c.buurt_code "
    "LEFT JOIN process p ON p.id = c.process_id"
)


def rows(
    session: Session, filters: Filters, limit: int | None = None, extra: str = ""
) -> list[Any]:
    """The selected contributions, newest first (`extra`: more columns, constant SQL)."""
    w = where(filters)
    params = dict(w.params)
    tail = ""
    if limit is not None:
        tail = " LIMIT :limit"
        params["limit"] = limit
    stmt = text(
        f"SELECT {ROW_SQL}{extra} FROM {ROW_FROM} WHERE {w.sql} "
        f"ORDER BY c.created_at DESC, c.id DESC{tail}"
    )
    return session.execute(w.bind(stmt), params).all()


def count(session: Session, filters: Filters) -> int:
    w = where(filters)
    stmt = text(f"SELECT count(*) FROM contribution c WHERE {w.sql}")
    return session.execute(w.bind(stmt), w.params).scalar_one()


def counts_by(session: Session, filters: Filters, column: str) -> dict[str, int]:
    """How many selected contributions per category, status or visibility."""
    if column not in ("category", "status", "visibility"):
        raise ValueError(column)
    w = where(filters)
    stmt = text(
        f"SELECT c.{column}, count(*) FROM contribution c WHERE {w.sql} "
        f"GROUP BY c.{column} ORDER BY c.{column}"
    )
    return dict(session.execute(w.bind(stmt), w.params).all())


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
    w = where(filters)
    stmt = text(
        f"SELECT c.buurt_code, coalesce(b.name, c.buurt_code), count(*) "
        f"FROM contribution c LEFT JOIN buurt b ON b.code = c.buurt_code "
        f"WHERE {w.sql} AND c.buurt_code IS NOT NULL "
        f"GROUP BY c.buurt_code, b.name ORDER BY count(*) DESC, c.buurt_code"
    )
    found = session.execute(w.bind(stmt), w.params).all()
    people = inhabitants(session, [r[0] for r in found])
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
            "SELECT id, slug, title, question, description, starts_on, ends_on, categories "
            "FROM process ORDER BY starts_on DESC, title"
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
