"""Items of a collection: keyset-paged GeoJSON Features, built in PostGIS, in the asked CRS.

Pages continue from the last key of the sort order (open layers: fid; contributions: newest
first, created_at and id), never with OFFSET, so page 50 costs what page 1 costs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.errors import ApiError
from kaart.models.contribution import CATEGORIES, STATUSES
from kaart.ogc import crs
from kaart.ogc.collections import CONTRIBUTION_FILTERS, Collection
from kaart.ogc.params import Cursor, ItemsQuery, bad
from kaart.services import tiles
from kaart.services.contributions import FEATURE_FROM, FEATURE_SQL, PUBLIC_WHERE

# The public properties of a contribution are exactly those of the JSON API (one definition).
CONTRIBUTION_PROPERTIES = f"(({FEATURE_SQL})::json -> 'properties')"
ALLOWED_VALUES = {"category": CATEGORIES, "status": STATUSES}


@dataclass(frozen=True)
class ItemsPage:
    features: list[str]  # GeoJSON Feature texts made by PostGIS
    next: Cursor | None
    prev: Cursor | None
    number_matched: int | None


def items(session: Session, collection: Collection, query: ItemsQuery) -> ItemsPage:
    if collection.table is None:
        stmt, params = _contributions_sql(query)
    else:
        if query.interval:
            raise bad(
                "datetime", f"Collection {collection.id!r} has no time dimension.", "datetime"
            )
        built = _layer_sql(collection, query)
        if built is None:  # the box lies nowhere near the Netherlands
            return ItemsPage([], None, None, 0)
        stmt, params = built
    # A page is at most 10,000 rows read in key order: starting parallel workers costs more
    # than they save (bench S4: 130-300 ms with them, 30 ms without, for 1,000 of 300,000).
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    rows = session.execute(stmt, params).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    forward = query.cursor is None or query.cursor.forward
    if not forward:
        rows.reverse()
    keys = [_key(r) for r in rows]
    next_cursor = prev_cursor = None
    if rows:
        if more or not forward:
            next_cursor = Cursor(True, keys[-1])
        if query.cursor is not None and (forward or more):
            prev_cursor = Cursor(False, keys[0])
    elif query.cursor is not None and forward:
        prev_cursor = Cursor(False, query.cursor.key)
    return ItemsPage(
        [r[-1] for r in rows], next_cursor, prev_cursor, _matched(session, collection, query)
    )


def _key(row: Any) -> tuple[Any, ...]:
    if len(row) == 3:  # contributions: created_at, id, feature
        return (row[0].isoformat(), str(row[1]))
    return (row[0],)


def _matched(session: Session, collection: Collection, query: ItemsQuery) -> int | None:
    """Only when it is cheap: the catalogue's count of an open layer, a count of the (small)
    contributions table; never a count over a filtered large layer."""
    if query.filtered:
        return None
    if collection.table is not None:
        return collection.feature_count
    return session.execute(
        text(f"SELECT count(*) FROM contribution c WHERE {PUBLIC_WHERE}")
    ).scalar_one()


def _layer_sql(collection: Collection, query: ItemsQuery):
    table = sql.Identifier("open_data", collection.table).as_string(None)
    typed = ", ".join(
        f"t.{sql.Identifier(c).as_string(None)}" for c in ("feature_id", *collection.columns)
    )
    geometry = crs.geometry_sql("t.geom", crs.SUPPORTED[crs.LAYER_STORAGE].srid, query.crs)
    where: list[str] = []
    params: dict[str, Any] = {"limit": query.limit + 1}
    box = ""
    if query.bbox:
        bbox = query.bbox
        if query.bbox_crs.srid == 4326:  # transforming a world-sized box to RD New is nonsense
            bbox = _clip(bbox, tiles.RD_DOMAIN)
            if bbox is None:
                return None
        params.update(_box_params(bbox))
        box = f"CROSS JOIN (SELECT {crs.bbox_sql(28992, query.bbox_crs)} AS area) box"
        where += ["t.geom && box.area", "ST_Intersects(t.geom, box.area)"]
    arrays = []
    for i, (name, values) in enumerate(query.filters.items()):
        column = sql.Identifier(name).as_string(None)
        where.append(f"t.{column}::text = ANY(:f{i})")
        params[f"f{i}"] = list(values)
        arrays.append(f"f{i}")
    order = "t.fid"
    if query.cursor is not None:
        key = query.cursor.key
        if len(key) != 1 or not isinstance(key[0], int) or isinstance(key[0], bool):
            raise bad("cursor", "Unknown cursor; follow the next or prev link.", "cursor")
        where.append("t.fid > :after" if query.cursor.forward else "t.fid < :after")
        order = "t.fid" if query.cursor.forward else "t.fid DESC"
        params["after"] = key[0]
    stmt = text(
        f"""
        SELECT t.fid, json_build_object(
          'type', 'Feature',
          'id', t.feature_id,
          'geometry', {geometry},
          'properties', t.properties || to_jsonb(a)
        )::text
        FROM {table} AS t {box}
          CROSS JOIN LATERAL (SELECT {typed}) AS a
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY {order}
        LIMIT :limit
        """
    )
    for name in arrays:
        stmt = stmt.bindparams(bindparam(name, type_=ARRAY(String)))
    return stmt, params


def _box_params(bbox: tuple[float, float, float, float]) -> dict[str, float]:
    x1, y1, x2, y2 = bbox
    return {
        "bx1": x1,
        "by1": y1,
        "bx2": x2,
        "by2": y2,
        "bseg": max(max(x2 - x1, y2 - y1) / 16, 1e-9),
    }


def _clip(bbox, domain):
    x1, y1 = max(bbox[0], domain[0]), max(bbox[1], domain[1])
    x2, y2 = min(bbox[2], domain[2]), min(bbox[3], domain[3])
    return (x1, y1, x2, y2) if x1 <= x2 and y1 <= y2 else None


def _contributions_sql(query: ItemsQuery):
    geometry = crs.geometry_sql("c.geom", 4326, query.crs)
    where = [PUBLIC_WHERE]
    params: dict[str, Any] = {"limit": query.limit + 1}
    if query.bbox:
        params.update(_box_params(query.bbox))
        box = crs.bbox_sql(4326, query.bbox_crs)
        where += [f"c.geom && {box}", f"ST_Intersects(c.geom, {box})"]
    arrays = []
    for name, values in query.filters.items():
        allowed = ALLOWED_VALUES.get(name)
        unknown = [v for v in values if allowed is not None and v not in allowed]
        if unknown:
            reason = f"Unknown {name} {unknown[0][:40]!r}; use {', '.join(allowed or ())}."
            raise bad(name, reason, f"{name}_unknown")
        where.append(f"{CONTRIBUTION_FILTERS[name]} = ANY(:{name})")
        params[name] = list(values)
        arrays.append(name)
    if query.interval:
        start, end = query.interval
        if start:
            where.append("c.created_at >= :start")
            params["start"] = start
        if end:
            where.append("c.created_at <= :end")
            params["end"] = end
    order = "c.created_at DESC, c.id DESC"
    if query.cursor is not None:
        stamp, ident = _contribution_key(query.cursor)
        forward = query.cursor.forward
        where.append(f"(c.created_at, c.id) {'<' if forward else '>'} (:key_ts, :key_id)")
        order = order if forward else "c.created_at, c.id"
        params.update(key_ts=stamp, key_id=ident)
    stmt = text(
        f"""
        SELECT c.created_at, c.id, json_build_object(
          'type', 'Feature',
          'id', c.id,
          'geometry', {geometry},
          'properties', {CONTRIBUTION_PROPERTIES}
        )::text
        FROM {FEATURE_FROM}
        WHERE {" AND ".join(where)}
        ORDER BY {order}
        LIMIT :limit
        """
    )
    for name in arrays:
        stmt = stmt.bindparams(bindparam(name, type_=ARRAY(String)))
    return stmt, params


def _contribution_key(cursor: Cursor) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, ident = cursor.key
        parsed = datetime.fromisoformat(stamp), uuid.UUID(ident)
        if parsed[0].tzinfo is None:
            raise ValueError("time without zone")
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad("cursor", "Unknown cursor; follow the next or prev link.", "cursor") from exc
    return parsed


def item(session: Session, collection: Collection, feature_id: str, query_crs: crs.Crs) -> str:
    """One feature as GeoJSON text; 404 when the collection has no such (public) feature."""
    if collection.table is None:
        try:
            ident = uuid.UUID(feature_id)
        except ValueError:
            ident = None
        found = None
        if ident is not None:
            geometry = crs.geometry_sql("c.geom", 4326, query_crs)
            found = session.execute(
                text(
                    f"SELECT json_build_object('type', 'Feature', 'id', c.id, "
                    f"'geometry', {geometry}, 'properties', {CONTRIBUTION_PROPERTIES})::text "
                    f"FROM {FEATURE_FROM} WHERE c.id = :id AND {PUBLIC_WHERE}"
                ),
                {"id": ident},
            ).scalar_one_or_none()
    else:
        table = sql.Identifier("open_data", collection.table).as_string(None)
        typed = ", ".join(
            f"t.{sql.Identifier(c).as_string(None)}" for c in ("feature_id", *collection.columns)
        )
        geometry = crs.geometry_sql("t.geom", 28992, query_crs)
        found = session.execute(
            text(
                f"SELECT json_build_object('type', 'Feature', 'id', t.feature_id, "
                f"'geometry', {geometry}, 'properties', t.properties || to_jsonb(a))::text "
                f"FROM {table} AS t CROSS JOIN LATERAL (SELECT {typed}) AS a "
                "WHERE t.feature_id = :id ORDER BY t.fid LIMIT 1"
            ),
            {"id": feature_id},
        ).scalar_one_or_none()
    if found is None:
        raise ApiError(
            404, "Not found", f"Collection {collection.id!r} has no feature {feature_id[:60]!r}."
        )
    return found
