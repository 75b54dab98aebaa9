"""Residents' contributions, read: the one place that decides what the public and staff see of
a contribution, how it looks as a GeoJSON Feature, how it is filtered, ordered and paged.

    page(session, Query(bbox=(...), categories=("groen",), limit=100))     -> paging.Page
    feature(session, contribution_id)                                       -> Feature text
    records(session, Query(audience=STAFF, process=...), ("id", "title"))  -> rows
    collection(session, Query(process=...))                                 -> FeatureCollection

Features are built by PostGIS (json_build_object) from one list of named expressions
(EXPRESSIONS, in kaart/providers/contribution_fields.py); the JSON API, /ogc, the process page,
Open311, the exports, the reactienota and /beheer all read through here. Writes are in
kaart/services/contributions.py.

Where: every reader sees `public_geom`, which near a home is the centre of a grid cell
(kaart/services/privacy.py), with "location": "approximate" and a size class instead of exact
measurements. Only a query that asks for `exact` (staff with the right role, the author through
the edit token; never the public audience) sees `geom` as drawn.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    Date,
    Select,
    and_,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kaart import crs as crs_mod
from kaart.errors import Gone, NotFound
from kaart.models import tables as t
from kaart.providers import paging
from kaart.providers.contribution_fields import (
    FEATURE_PROPERTIES,
    PUBLIC_GEOM,
    STAFF_ONLY,
    expression,
    feature_sql,
)
from kaart.providers.paging import BBox, Cursor, Page

# What the public sees, as SQL over `c` (a contribution). The one rule: the API, /ogc, the
# tiles, Open311, the layer catalogue, photos and every export use it (or `visible` below).
PUBLIC_WHERE = "c.withdrawn_at IS NULL AND c.visibility = 'published'"
# The tables under the aliases the expressions below use.
c = t.contribution.alias("c")
b = t.buurt.alias("b")
lyr = t.layer.alias("l")
p = t.process.alias("p")
r = t.open311_request.alias("r")


class Audience(Enum):
    PUBLIC = "public"  # published and not withdrawn
    STAFF = "staff"  # every visibility, never withdrawn ones
    ALL = "all"  # withdrawn ones too: one contribution's record in /beheer


PUBLIC, STAFF, ALL = Audience.PUBLIC, Audience.STAFF, Audience.ALL
# The tables a Feature is read from (`b`: buurt_name; `l`: the object's layer title), whose
# change counters version a page of Features (kaart/providers/versions.py). A join that adds
# a table to FEATURE_PROPERTIES adds it here.
READS = ("contribution", "buurt", "layer")
NEAR_RADIUS_MAX_M = 500
TITLE = "Bijdragen"  # as a layer: Dutch, like the titles of the open layers
# As a vector tile layer (kaart/services/tiles.py): its name, attributes and zoom range.
TILE_LAYER = "contributions"
TILE_COLUMNS = ("id", "category", "title", "status")
TILE_ZOOMS = (8, 22)
TILE_READS = ("contribution",)  # the tile's attributes and place are columns of `contribution`
# Planners' dates are Dutch dates: a contribution made at 00:30 on 1 March is of 1 March.
TIME_ZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class Query:
    """Which contributions, for whom, in which order and page. Empty fields do not filter."""

    audience: Audience = PUBLIC
    # The place as drawn: staff with the right role and the author only (see the module doc).
    exact: bool = False
    ids: tuple[uuid.UUID, ...] = ()
    bbox: BBox | None = None  # in `bbox_crs`, x/y order
    bbox_crs: crs_mod.Crs = crs_mod.DEFAULT
    near: tuple[float, float] | None = None  # lon, lat: nearest first within radius_m
    radius_m: float = 50.0
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    visibilities: tuple[str, ...] = ()  # staff only
    buurten: tuple[str, ...] = ()
    process: uuid.UUID | None = None
    since: date | None = None  # Dutch dates, inclusive
    until: date | None = None
    created_from: datetime | None = None  # instants, inclusive
    created_to: datetime | None = None
    text: str = ""  # literal, in title or description
    limit: int | None = 100
    cursor: Cursor | None = None
    offset: int = 0  # only for APIs whose standard pages by number (Open311)

    @property
    def filtered(self) -> bool:
        unfiltered = Query(
            audience=self.audience, exact=self.exact, limit=self.limit, cursor=self.cursor
        )
        return self != unfiltered

    @property
    def geom(self) -> Any:
        """The geometry column this query shows and filters on."""
        return c.c.geom if self.exact else c.c.public_geom


def visible(audience: Audience) -> ColumnElement[bool]:
    """The visibility rule as a Core condition on `c`."""
    if audience is PUBLIC:
        return and_(c.c.withdrawn_at.is_(None), c.c.visibility == "published")
    if audience is STAFF:
        return c.c.withdrawn_at.is_(None)
    return true()


def _conditions(query: Query) -> list[ColumnElement[bool]]:
    where = [visible(query.audience), *_place(query), *_choices(query), *_time(query)]
    if query.ids:
        where.append(c.c.id.in_(query.ids))
    if query.process:
        where.append(c.c.process_id == query.process)
    if query.text:
        # A literal search: % and _ typed by the planner match themselves.
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.text) + "%"
        where.append(
            or_(c.c.title.ilike(pattern, escape="\\"), c.c.description.ilike(pattern, escape="\\"))
        )
    if query.cursor is not None:
        stamp, ident = paging.time_id_key(query.cursor)
        key, at = tuple_(c.c.created_at, c.c.id), tuple_(stamp, ident)
        where.append(key < at if query.cursor.forward else key > at)
    return where


def _place(query: Query) -> list[ColumnElement[bool]]:
    where = []
    if query.bbox:
        box = paging.envelope_wgs84(query.bbox, query.bbox_crs)
        where += [query.geom.op("&&")(box), func.ST_Intersects(query.geom, box)]
    if query.near:
        here = cast(func.ST_SetSRID(func.ST_MakePoint(*query.near), 4326), Geography)
        where.append(func.ST_DWithin(cast(query.geom, Geography), here, query.radius_m))
    return where


def _choices(query: Query) -> list[ColumnElement[bool]]:
    pairs = (
        (c.c.category, query.categories),
        (c.c.status, query.statuses),
        (c.c.visibility, query.visibilities),
        (c.c.buurt_code, query.buurten),
    )
    return [col.in_(values) for col, values in pairs if values]


def _time(query: Query) -> list[ColumnElement[bool]]:
    local_day = cast(func.timezone(TIME_ZONE, c.c.created_at), Date)
    bounds = (
        (local_day >= query.since) if query.since else None,
        (local_day <= query.until) if query.until else None,
        (c.c.created_at >= query.created_from) if query.created_from else None,
        (c.c.created_at <= query.created_to) if query.created_to else None,
    )
    return [bound for bound in bounds if bound is not None]


def _from(names: Sequence[str], sql: str = "") -> Any:
    """contribution c with what the asked expressions need joined."""
    needed = " ".join(expression(n) for n in names) + sql
    joined: Any = c
    if "b." in needed:
        joined = joined.outerjoin(b, b.c.code == c.c.buurt_code)
    if "l." in needed:
        joined = joined.outerjoin(lyr, lyr.c.name == c.c.object_layer)
    if "p." in needed:
        joined = joined.outerjoin(p, p.c.id == c.c.process_id)
    if "r." in needed:
        joined = joined.outerjoin(r, r.c.contribution_id == c.c.id)
    return joined


def _ordered(stmt: Select, query: Query) -> Select:
    if query.near:
        here = cast(func.ST_SetSRID(func.ST_MakePoint(*query.near), 4326), Geography)
        return stmt.order_by(func.ST_Distance(cast(query.geom, Geography), here))
    if query.cursor is not None and not query.cursor.forward:
        return stmt.order_by(c.c.created_at, c.c.id)
    return stmt.order_by(c.c.created_at.desc(), c.c.id.desc())


def _check_audience(query: Query, names: Sequence[str] = ()) -> None:
    if query.audience is PUBLIC and query.exact:
        raise ValueError("the public never sees the exact place")
    if query.audience is PUBLIC and STAFF_ONLY.intersection(names):
        raise ValueError(f"not public: {sorted(STAFF_ONLY.intersection(names))}")


def page(
    session: Session,
    query: Query,
    crs: crs_mod.Crs = crs_mod.DEFAULT,
    *,
    count_matched: bool = False,
) -> Page:
    """A page of Features, newest first (nearest first with `near`), keyset-paged. With
    `count_matched`, how many match in all when that is cheap (no filters)."""
    limit = query.limit or 100
    rows = session.execute(page_statement(query, crs)).all()
    if query.near:  # nearest first: one page, no cursor
        return Page([row[2] for row in rows[:limit]])
    matched = None
    if count_matched and not query.filtered:
        matched = count(session, Query(audience=query.audience))
    return paging.page_of(
        rows, limit, query.cursor, lambda row: (row[0].isoformat(), str(row[1])), _third, matched
    )


def page_statement(query: Query, crs: crs_mod.Crs = crs_mod.DEFAULT) -> Select:
    """The one statement a page runs: created_at, id and the Feature of up to limit + 1 rows
    (bench/contributions.py runs it directly, to compare)."""
    _check_audience(query)
    stmt = select(c.c.created_at, c.c.id, literal_column(feature_sql(crs, query.exact)))
    stmt = stmt.select_from(_from(FEATURE_PROPERTIES)).where(*_conditions(query))
    return _ordered(stmt, query).limit((query.limit or 100) + 1).offset(query.offset or None)


def _third(row: Any) -> str:
    return row[2]


def feature(
    session: Session,
    contribution_id: uuid.UUID,
    *,
    audience: Audience = PUBLIC,
    crs: crs_mod.Crs = crs_mod.DEFAULT,
    exact: bool = False,
) -> str:
    """One contribution as Feature text: 404 when unknown (or, for the public, not published:
    pending moderation or hidden), 410 when withdrawn. `exact`: the place as drawn."""
    _check_audience(Query(audience=audience, exact=exact))
    stmt = (
        select(c.c.withdrawn_at, c.c.visibility, literal_column(feature_sql(crs, exact)))
        .select_from(_from(FEATURE_PROPERTIES))
        .where(c.c.id == contribution_id)
    )
    row = session.execute(stmt).one_or_none()
    if row is None or (audience is PUBLIC and row[1] != "published" and row[0] is None):
        raise NotFound("This contribution")
    if row[0] is not None:
        raise Gone("This contribution was withdrawn by its author.")
    return row[2]


def collection(session: Session, query: Query) -> str:
    """All matching contributions as one FeatureCollection text, newest first."""
    _check_audience(query)
    inner = (
        select(
            c.c.created_at, c.c.id, literal_column(feature_sql(exact=query.exact)).label("feature")
        )
        .select_from(_from(FEATURE_PROPERTIES))
        .where(*_conditions(query))
        .subquery("f")
    )
    order = aggregate_order_by(literal_column("','"), inner.c.created_at.desc(), inner.c.id.desc())
    stmt = select(func.coalesce(func.string_agg(inner.c.feature, order), ""))
    body = session.execute(stmt).scalar_one()
    return '{"type": "FeatureCollection", "features": [' + body + "]}"


def records(session: Session, query: Query, names: Sequence[str]) -> list[Any]:
    """Rows with the named values (EXPRESSIONS), newest first; staff-only names need a staff
    query."""
    _check_audience(query, names)
    stmt = select(*(literal_column(expression(n, query.exact)).label(n) for n in names))
    stmt = stmt.select_from(_from(names)).where(*_conditions(query))
    stmt = _ordered(stmt, query)
    if query.limit:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return session.execute(stmt).all()


def stream(session: Session, query: Query, names: Sequence[str], batch: int = 500) -> Iterator[Any]:
    """`records`, read `batch` rows at a time through a server-side cursor: an export of every
    contribution never holds them all in a worker."""
    _check_audience(query, names)
    stmt = select(*(literal_column(expression(n, query.exact)).label(n) for n in names))
    stmt = _ordered(stmt.select_from(_from(names)).where(*_conditions(query)), query)
    yield from session.execute(stmt.execution_options(yield_per=batch))


def count(session: Session, query: Query) -> int:
    stmt = select(func.count()).select_from(c).where(*_conditions(query))
    return session.execute(stmt).scalar_one()


def counts_by(session: Session, query: Query, name: str) -> dict[str, int]:
    """How many matching contributions per category, status or visibility."""
    if name not in ("category", "status", "visibility"):
        raise ValueError(name)
    col = c.c[name]
    stmt = (
        select(col, func.count())
        .select_from(c)
        .where(*_conditions(query))
        .group_by(col)
        .order_by(col)
    )
    return dict(session.execute(stmt).all())


def per_buurt(session: Session, query: Query) -> list[tuple[str, str, int]]:
    """(code, name, count) per buurt holding matching contributions, most first."""
    name = func.coalesce(b.c.name, c.c.buurt_code)
    stmt = (
        select(c.c.buurt_code, name, func.count())
        .select_from(_from(("buurt_name",)))
        .where(*_conditions(query), c.c.buurt_code.is_not(None))
        .group_by(c.c.buurt_code, b.c.name)
        .order_by(func.count().desc(), c.c.buurt_code)
    )
    return [tuple(row) for row in session.execute(stmt).all()]


def bounds(session: Session, query: Query, expand: float = 0.0) -> BBox | None:
    """The WGS84 box around the matching contributions, `expand` degrees wider; None if none."""
    _check_audience(query)
    box = func.ST_Expand(cast(func.ST_Extent(query.geom), Geometry), expand)
    stmt = (
        select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box))
        .select_from(c)
        .where(*_conditions(query))
    )
    row = session.execute(stmt).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def extent(session: Session) -> tuple[int, list[float] | None, list[str] | None]:
    """How many contributions the public sees, their WGS84 bbox and first and last moment."""
    row = session.execute(
        text(
            f"SELECT count(*), ST_XMin(ST_Extent({PUBLIC_GEOM})), "
            f"ST_YMin(ST_Extent({PUBLIC_GEOM})), ST_XMax(ST_Extent({PUBLIC_GEOM})), "
            f"ST_YMax(ST_Extent({PUBLIC_GEOM})), min(c.created_at), max(c.created_at) "
            f"FROM contribution c WHERE {PUBLIC_WHERE}"
        )
    ).one()
    bbox = None if row[1] is None else [row[1], row[2], row[3], row[4]]
    interval = None if row[5] is None else [row[5].isoformat(), row[6].isoformat()]
    return row[0], bbox, interval


def per_postcode(session: Session, query: Query, table: str) -> dict[str, int]:
    """Matching contributions per PC4 area of the loaded layer table `open_data.<table>` (RD
    New), counted at the point on each shape; contributions outside every PC4 area are left out."""
    pc4 = sa_table(table, column("postcode"), column("geom"), schema="open_data")
    point = func.ST_Transform(func.ST_PointOnSurface(query.geom), 28992)
    stmt = (
        select(pc4.c.postcode, func.count())
        .select_from(c.join(pc4, func.ST_Intersects(pc4.c.geom, point)))
        .where(*_conditions(query), pc4.c.postcode.is_not(None))
        .group_by(pc4.c.postcode)
    )
    return {code: n for code, n in session.execute(stmt).all()}
