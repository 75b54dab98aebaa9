"""Residents' contributions, read: the one place that decides what the public and staff see of
a contribution, how it looks as a GeoJSON Feature, how it is filtered, ordered and paged.

    page(session, Query(bbox=(...), categories=("groen",), limit=100))     -> paging.Page
    feature(session, contribution_id)                                       -> Feature text
    records(session, Query(audience=STAFF, process=...), ("id", "title"))  -> rows
    collection(session, Query(process=...))                                 -> FeatureCollection

Features are built by PostGIS (json_build_object) from one list of named expressions
(EXPRESSIONS); the JSON API, /ogc, the process page, Open311, the exports, the reactienota and
/beheer all read through here. Writes are in kaart/services/contributions.py.

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
from kaart.providers.paging import BBox, Cursor, Page

# What the public sees, as SQL over `c` (a contribution). The one rule: the API, /ogc, the
# tiles, Open311, the layer catalogue, photos and every export use it (or `visible` below).
PUBLIC_WHERE = "c.withdrawn_at IS NULL AND c.visibility = 'published'"
# Where the public sees it (the tiles use it; everything else goes through EXPRESSIONS).
PUBLIC_GEOM = "c.public_geom"

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
# A linked address, building or point object (a tree) would name the place a generalised
# location hides, so whoever sees it approximately does not see that link. Areas (a buurt, a
# green space, a playground) are shown: they say no more than the cell does.
_PINPOINTS = "(l.kind IN ('address', 'building') OR l.geometry_family = 'point' OR l.name IS NULL)"
_OBJECT = (
    "CASE WHEN c.object_layer IS NOT NULL AND NOT ({approximate} AND "
    + _PINPOINTS
    + ") THEN json_build_object("
    "'layer', c.object_layer, 'id', c.object_id, 'layer_title', l.title) END"
)
_LAST_ACTOR = (
    "(SELECT u.{field} FROM contribution_event e JOIN app_user u ON u.id = e.actor_id "
    "WHERE e.contribution_id = c.id AND e.action IN ('status', 'response') "
    "ORDER BY e.at DESC, e.id DESC LIMIT 1)"
)
# What a generalised line or area tells instead of its exact length or area: its size class.
# The last bound of each is where generalising stops (kaart/services/privacy.py).
LINE_CLASSES = ((10.0, "< 10 m"), (25.0, "10–25 m"), (50.0, "25–50 m"))
AREA_CLASSES = ((100.0, "< 100 m²"), (500.0, "100–500 m²"), (1000.0, "500–1.000 m²"))


def _size_class(column: str, classes: tuple[tuple[float, str], ...]) -> str:
    whens = " ".join(f"WHEN {column} < {bound} THEN '{label}'" for bound, label in classes)
    return f"CASE {whens} END"


# Every value a reader can ask for, as SQL over c (contribution), b (buurt), l (layer of the
# object), p (process) and r (Open311 request); one definition each. Where the place shows,
# `{geom}` is the geometry the reader sees and `{approximate}` whether it is generalised
# (see `expression`).
EXPRESSIONS = {
    "id": "c.id",
    "category": "c.category",
    "title": "c.title",
    "description": "c.description",
    "status": "c.status",
    # Exact measurements would give a generalised shape away: its size class instead.
    "area_m2": "CASE WHEN NOT {approximate} THEN round(c.area_m2::numeric, 1) END",
    "length_m": "CASE WHEN NOT {approximate} THEN round(c.length_m::numeric, 1) END",
    "size_class": (
        "CASE WHEN {approximate} THEN coalesce("
        f"{_size_class('c.length_m', LINE_CLASSES)}, {_size_class('c.area_m2', AREA_CLASSES)}"
        ") END"
    ),
    # How this reader sees the place, and how the public map shows it.
    "location": "CASE WHEN {approximate} THEN 'approximate' ELSE 'exact' END",
    "public_location": "CASE WHEN c.location_generalised THEN 'approximate' ELSE 'exact' END",
    "buurt_code": "c.buurt_code",
    "buurt_name": "b.name",
    "wijk_code": "c.wijk_code",
    "gemeente_code": "c.gemeente_code",
    "created_at": "c.created_at",
    "updated_at": "c.updated_at",
    "url": "'/bijdragen/' || c.id",
    "process": "c.process_id",
    "response": "c.response",
    "responded_at": "c.responded_at",
    "support_count": "c.support_count",
    "object": _OBJECT,
    "process_id": "c.process_id",
    "process_slug": "p.slug",
    "process_title": "p.title",
    "comment_count": (
        "(SELECT count(*) FROM comment k WHERE k.contribution_id = c.id "
        "AND k.visibility = 'published')"
    ),
    "photo_count": "(SELECT count(*) FROM photo f WHERE f.contribution_id = c.id)",
    # A point on the shape (for a line or area too), 7 decimals of a degree ~ 1 cm.
    "lon": "round(ST_X(ST_PointOnSurface({geom}))::numeric, 7)",
    "lat": "round(ST_Y(ST_PointOnSurface({geom}))::numeric, 7)",
    "wkb": "ST_AsBinary({geom})",
    "geojson": "ST_AsGeoJSON({geom}, 7)",
    # An address the reporter typed (Open311) names the home a generalised place hides.
    "address_string": "CASE WHEN NOT {approximate} THEN r.address_string END",
    "media_url": "r.media_url",
    # Staff only (see STAFF_ONLY).
    "visibility": "c.visibility",
    "hidden_reason": "c.hidden_reason",
    "report_count": "c.report_count",
    "responded_by": _LAST_ACTOR.format(field="display_name"),
    "responded_by_email": _LAST_ACTOR.format(field="email"),
    "withdrawn_at": "c.withdrawn_at",
    "redacted_at": "c.redacted_at",
}
STAFF_ONLY = frozenset(
    {
        "visibility",
        "hidden_reason",
        "report_count",
        "responded_by",
        "responded_by_email",
        "withdrawn_at",
        "redacted_at",
    }
)
# The properties of a contribution as a GeoJSON Feature, for everyone.
FEATURE_PROPERTIES = (
    "category",
    "title",
    "description",
    "status",
    "area_m2",
    "length_m",
    "size_class",
    "location",
    "buurt_code",
    "buurt_name",
    "wijk_code",
    "gemeente_code",
    "created_at",
    "updated_at",
    "url",
    "process",
    "response",
    "responded_at",
    "support_count",
    "object",
)
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


def geom_sql(exact: bool = False) -> str:
    """The geometry a reader sees: as drawn (`exact`), or as published."""
    return "c.geom" if exact else PUBLIC_GEOM


def expression(name: str, exact: bool = False) -> str:
    """The SQL of one of EXPRESSIONS, for a reader who sees the exact place or not."""
    approximate = "false" if exact else "c.location_generalised"
    return EXPRESSIONS[name].format(geom=geom_sql(exact), approximate=approximate)


def properties_sql(names: Sequence[str] = FEATURE_PROPERTIES, exact: bool = False) -> str:
    pairs = ", ".join(f"'{name}', {expression(name, exact)}" for name in names)
    return f"json_build_object({pairs})"


def feature_sql(crs: crs_mod.Crs = crs_mod.DEFAULT, exact: bool = False) -> str:
    """One contribution (`c`, with `b` and `l` joined) as GeoJSON Feature text, in `crs`;
    where it is as published, or as drawn when `exact`."""
    geometry = crs_mod.geometry_sql(geom_sql(exact), 4326, crs)
    return (
        f"json_build_object('type', 'Feature', 'id', c.id, 'geometry', {geometry}, "
        f"'properties', {properties_sql(exact=exact)})::text"
    )


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
