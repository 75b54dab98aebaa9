"""Resident initiatives, read: what the public and staff see of an initiative, as GeoJSON
Features built by PostGIS, filtered and keyset-paged (kaart/providers/paging.py).

    page(session, Query(statuses=("bezig",), limit=50))   -> paging.Page
    feature(session, initiative_id)                        -> Feature text
    collection(session, Query())                           -> FeatureCollection text

Public properties never include the initiator's address or joiners' names or addresses:
`participants` is a count. Writes are in kaart/services/initiatives.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kaart import crs as crs_mod
from kaart.errors import NotFound
from kaart.models import tables as t
from kaart.models.initiative import NEED_KINDS, STATUSES
from kaart.ogc import sources
from kaart.providers import paging, versions
from kaart.providers.paging import BBox, Cursor, Page

i = t.initiative.alias("i")
PUBLIC_WHERE = "i.visibility = 'published'"
# The change counters (migration 0019) of what a Feature shows: the initiative, its needs and
# how many joined, and whether its contribution is public.
READS = ("initiative", "initiative_need", "initiative_participant", "contribution")
COLLECTION = "initiatives"
TITLE = "Initiatieven van bewoners"  # a dataset title: Dutch, like the open layers'

PARTICIPANTS_SQL = (
    "(SELECT count(*) FROM initiative_participant ip "
    "WHERE ip.initiative_id = i.id AND ip.withdrawn_at IS NULL)"
)
NEEDS_SQL = (
    "COALESCE((SELECT json_agg(json_build_object('kind', n.kind, 'description', n.description, "
    "'amount', n.amount, 'unit', n.unit, 'fulfilled', n.fulfilled) ORDER BY n.id) "
    "FROM initiative_need n WHERE n.initiative_id = i.id), '[]'::json)"
)
# The contribution it grew from, only while the public sees that contribution.
CONTRIBUTION_SQL = (
    "(SELECT c.id FROM contribution c WHERE c.id = i.contribution_id "
    "AND c.withdrawn_at IS NULL AND c.visibility = 'published')"
)
PROPERTIES = {
    "title": "i.title",
    "description": "i.description",
    "status": "i.status",
    "buurt": "i.buurt_code",
    "start_date": "i.start_date",
    "created_at": "i.created_at",
    "updated_at": "i.updated_at",
    "participants": PARTICIPANTS_SQL,
    "needs": NEEDS_SQL,
    "contribution": CONTRIBUTION_SQL,
    "object_layer": "i.object_layer",
    "object_id": "i.object_id",
}
STAFF_PROPERTIES = {"visibility": "i.visibility", "hidden_reason": "i.hidden_reason"}


def feature_sql(crs: crs_mod.Crs = crs_mod.DEFAULT, staff: bool = False) -> str:
    names = PROPERTIES | (STAFF_PROPERTIES if staff else {})
    pairs = ", ".join(f"'{name}', {sql}" for name, sql in names.items())
    geometry = crs_mod.geometry_sql("i.geom", 4326, crs)
    return (
        f"json_build_object('type', 'Feature', 'id', i.id, 'geometry', {geometry}, "
        f"'properties', json_build_object({pairs}))::text"
    )


@dataclass(frozen=True)
class Query:
    """Which initiatives, for whom, in which page. Empty fields do not filter."""

    staff: bool = False  # every visibility (moderation); the public sees published ones
    ids: tuple[uuid.UUID, ...] = ()
    statuses: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # has an open need of one of these kinds
    buurten: tuple[str, ...] = ()
    visibilities: tuple[str, ...] = ()  # staff only
    contribution: uuid.UUID | None = None
    bbox: BBox | None = None
    bbox_crs: crs_mod.Crs = crs_mod.DEFAULT
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int | None = 100
    cursor: Cursor | None = None


def _conditions(query: Query) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if not query.staff:
        where.append(i.c.visibility == "published")
    pairs = (
        (i.c.id, query.ids),
        (i.c.status, query.statuses),
        (i.c.buurt_code, query.buurten),
        (i.c.visibility, query.visibilities if query.staff else ()),
    )
    where += [col.in_(values) for col, values in pairs if values]
    if query.needs:
        n = t.initiative_need.alias("n")
        open_need = select(n.c.id).where(
            n.c.initiative_id == i.c.id, n.c.kind.in_(query.needs), n.c.fulfilled.is_(False)
        )
        where.append(open_need.exists())
    if query.contribution is not None:
        where.append(i.c.contribution_id == query.contribution)
    if query.bbox:
        box = paging.envelope_wgs84(query.bbox, query.bbox_crs)
        where += [i.c.geom.op("&&")(box), func.ST_Intersects(i.c.geom, box)]
    if query.created_from:
        where.append(i.c.created_at >= query.created_from)
    if query.created_to:
        where.append(i.c.created_at <= query.created_to)
    if query.cursor is not None:
        stamp, ident = paging.time_id_key(query.cursor)
        key, at = tuple_(i.c.created_at, i.c.id), tuple_(stamp, ident)
        where.append(key < at if query.cursor.forward else key > at)
    return where


def page_statement(query: Query, crs: crs_mod.Crs = crs_mod.DEFAULT) -> Select:
    stmt = select(i.c.created_at, i.c.id, literal_column(feature_sql(crs, query.staff)))
    stmt = stmt.select_from(i).where(*_conditions(query))
    if query.cursor is not None and not query.cursor.forward:
        stmt = stmt.order_by(i.c.created_at, i.c.id)
    else:
        stmt = stmt.order_by(i.c.created_at.desc(), i.c.id.desc())
    return stmt.limit((query.limit or 100) + 1)


def page(session: Session, query: Query, crs: crs_mod.Crs = crs_mod.DEFAULT) -> Page:
    """A page of Features, newest first, keyset-paged."""
    rows = session.execute(page_statement(query, crs)).all()
    return paging.page_of(
        rows,
        query.limit or 100,
        query.cursor,
        lambda row: (row[0].isoformat(), str(row[1])),
        lambda row: row[2],
    )


def feature(
    session: Session, initiative_id: uuid.UUID, crs: crs_mod.Crs = crs_mod.DEFAULT, staff=False
) -> str:
    """One initiative as Feature text; 404 when unknown or (for the public) not published."""
    stmt = select(literal_column(feature_sql(crs, staff))).select_from(i)
    stmt = stmt.where(*_conditions(Query(staff=staff, ids=(initiative_id,))))
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("This initiative")
    return found


def collection(session: Session, query: Query) -> str:
    """All matching initiatives as one FeatureCollection text, newest first."""
    inner = (
        select(i.c.created_at, i.c.id, literal_column(feature_sql(staff=query.staff)).label("f"))
        .select_from(i)
        .where(*_conditions(query))
        .subquery("f")
    )
    order = aggregate_order_by(literal_column("','"), inner.c.created_at.desc(), inner.c.id.desc())
    body = session.execute(select(func.coalesce(func.string_agg(inner.c.f, order), ""))).scalar()
    return '{"type": "FeatureCollection", "features": [' + body + "]}"


def extent(session: Session) -> tuple[list[float] | None, list[str] | None]:
    row = session.execute(
        text(
            "SELECT ST_XMin(ST_Extent(i.geom)), ST_YMin(ST_Extent(i.geom)), "
            "ST_XMax(ST_Extent(i.geom)), ST_YMax(ST_Extent(i.geom)), min(i.created_at), "
            f"max(i.created_at) FROM initiative i WHERE {PUBLIC_WHERE}"
        )
    ).one()
    bbox = None if row[0] is None else [row[0], row[1], row[2], row[3]]
    interval = None if row[4] is None else [row[4].isoformat(), row[5].isoformat()]
    return bbox, interval


def version(session: Session) -> str:
    """What the items are as of now, read before them (see kaart/providers/versions.py)."""
    return versions.current(session, READS)


def _ogc_page(session: Session, q: sources.SourceQuery, crs: crs_mod.Crs) -> Page:
    start, end = q.interval or (None, None)
    query = Query(
        statuses=q.filters.get("status", ()),
        needs=q.filters.get("need", ()),
        buurten=q.filters.get("buurt", ()),
        bbox=q.bbox,
        bbox_crs=q.bbox_crs,
        created_from=start,
        created_to=end,
        limit=q.limit,
        cursor=q.cursor,
    )
    return page(session, query, crs)


def _ogc_feature(session: Session, feature_id: str, crs: crs_mod.Crs) -> str:
    return feature(session, uuid.UUID(feature_id), crs)


OGC_SOURCE = sources.Source(
    id=COLLECTION,
    title=TITLE,
    description=(
        "Published resident initiatives with their status, what they still need and how many "
        "residents joined (a number). No personal data."
    ),
    filters={"status": STATUSES, "need": NEED_KINDS, "buurt": None},
    extent=extent,
    page=_ogc_page,
    feature=_ogc_feature,
    version=version,
)


def counts(session: Session, initiative_id: uuid.UUID) -> dict[str, int]:
    """How many joined (not withdrawn) and how many needs are still open."""
    row = session.execute(
        text(
            f"SELECT {PARTICIPANTS_SQL}, (SELECT count(*) FROM initiative_need n "
            "WHERE n.initiative_id = i.id AND NOT n.fulfilled) FROM initiative i WHERE i.id = :id"
        ),
        {"id": initiative_id},
    ).one_or_none()
    return {"participants": row[0], "open_needs": row[1]} if row else {}


__all__ = ["OGC_SOURCE", "Query", "collection", "counts", "feature", "page"]
