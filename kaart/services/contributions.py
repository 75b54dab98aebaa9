"""Create, list, read, change and withdraw contributions. SQL builds the GeoJSON in PostGIS."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from shapely import to_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.errors import ApiError, FieldError, invalid, not_found
from kaart.services.input import DETACH, ContributionInput, ObjectRef

# One Feature as JSON text, made by PostGIS. `c` is contribution, `b` its buurt.
FEATURE_SQL = """
json_build_object(
  'type', 'Feature',
  'id', c.id,
  'geometry', ST_AsGeoJSON(c.geom)::json,
  'properties', json_build_object(
    'category', c.category,
    'title', c.title,
    'description', c.description,
    'status', c.status,
    'area_m2', round(c.area_m2::numeric, 1),
    'length_m', round(c.length_m::numeric, 1),
    'buurt_code', c.buurt_code,
    'buurt_name', b.name,
    'wijk_code', c.wijk_code,
    'gemeente_code', c.gemeente_code,
    'created_at', c.created_at,
    'updated_at', c.updated_at,
    'url', '/bijdragen/' || c.id,
    'process', c.process_id,
    'response', c.response,
    'responded_at', c.responded_at,
    'support_count', c.support_count,
    'object', CASE WHEN c.object_layer IS NOT NULL THEN json_build_object(
      'layer', c.object_layer, 'id', c.object_id, 'layer_title', l.title) END
  )
)::text
"""
# Which contributions the public sees (`c` is contribution). The one place that decides it: the
# API, the tiles, the layer catalogue and every export use this predicate.
PUBLIC_WHERE = "c.withdrawn_at IS NULL AND c.visibility = 'published'"

# What FEATURE_SQL selects from.
FEATURE_FROM = (
    "contribution c LEFT JOIN buurt b ON b.code = c.buurt_code "
    "LEFT JOIN layer l ON l.name = c.object_layer"
)

# The same, over the rows a data-modifying CTE `c` wrote.
WRITTEN_FROM = (
    "c LEFT JOIN buurt b ON b.code = c.buurt_code LEFT JOIN layer l ON l.name = c.object_layer"
)

# The buurt a geometry belongs to: the one holding its point on surface.
AREA_CODES_SQL = """
LEFT JOIN LATERAL (
  SELECT code, wijk_code, gemeente_code FROM buurt
  WHERE ST_Intersects(buurt.geom, ST_PointOnSurface(g.geom))
  ORDER BY code LIMIT 1
) codes ON true
"""

NEAR_RADIUS_MAX_M = 500


@dataclass(frozen=True)
class Created:
    id: uuid.UUID
    feature: str
    edit_token: str


@dataclass(frozen=True)
class Page:
    features: list[str]
    next_cursor: str | None


@dataclass(frozen=True)
class Query:
    bbox: tuple[float, float, float, float] | None = None
    categories: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    radius_m: float = 50.0
    limit: int = 100
    cursor: tuple[datetime, uuid.UUID] | None = None


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _wkb(geom: BaseGeometry) -> bytes:
    return to_wkb(geom, hex=False, output_dimension=2, include_srid=False)


def create(
    session: Session,
    data: ContributionInput,
    contribution_id: uuid.UUID | None = None,
    *,
    process_id: uuid.UUID | None = None,
    visibility: str = "published",
    edit_token: str | None = None,
) -> Created:
    """Store a new contribution and return it as a Feature with its edit token (shown only
    now), in one statement: a committed row always has its answer. `process_id`/`visibility`
    come from the process rules (kaart/services/processes.py); `edit_token` from a retry-safe
    request (kaart/services/idempotency.py), else a new random one. The caller commits."""
    token = edit_token or secrets.token_urlsafe(32)
    if data.object is not None:
        check_object(session, data.object)
    stmt = text(
        f"""
        WITH c AS (
          INSERT INTO contribution
            (id, category, title, description, geom, edit_token_hash,
             buurt_code, wijk_code, gemeente_code, object_layer, object_id, process_id, visibility)
          SELECT coalesce(:id, gen_random_uuid()), :category, :title, :description, g.geom,
                 :token_hash, codes.code, codes.wijk_code, codes.gemeente_code,
                 :object_layer, :object_id, :process_id, :visibility
          FROM (SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom) g
          {AREA_CODES_SQL}
          RETURNING *
        )
        SELECT c.id, {FEATURE_SQL} FROM {WRITTEN_FROM}
        """
    )
    params = {
        "id": contribution_id,
        "category": data.category,
        "title": data.title,
        "description": data.description or "",
        "wkb": _wkb(data.geom),
        "token_hash": hash_token(token),
        "object_layer": data.object.layer if data.object else None,
        "object_id": data.object.id if data.object else None,
        "process_id": process_id,
        "visibility": visibility,
    }
    new_id, feature_text = _write(session, stmt, params)
    return Created(id=new_id, feature=feature_text, edit_token=token)


def check_object(session: Session, ref: ObjectRef) -> None:
    """The object must be a feature of a loaded open layer."""
    table = session.execute(
        text("SELECT table_name FROM layer WHERE name = :name AND table_name IS NOT NULL"),
        {"name": ref.layer},
    ).scalar_one_or_none()
    if table is None:
        raise invalid(
            "properties.object.layer",
            f"There is no loaded layer {ref.layer[:40]!r} to attach a contribution to.",
            "object_layer_unknown",
        )
    if not re.fullmatch(r"[a-z0-9_]+", table):  # written by geodata.load, checked anyway
        raise ApiError(500, "Internal server error", "The layer catalogue is inconsistent.")
    found = session.execute(
        text(f'SELECT 1 FROM open_data."{table}" WHERE feature_id = :id LIMIT 1'), {"id": ref.id}
    ).first()
    if found is None:
        raise invalid(
            "properties.object.id",
            f"Layer {ref.layer!r} has no object with id {ref.id[:40]!r}.",
            "object_not_found",
        )


def _write(session: Session, stmt, params: dict) -> tuple[uuid.UUID, str]:
    """Run one write returning (id, Feature); a constraint the checks above missed becomes a
    422 (the caller's transaction rolls back)."""
    try:
        row = session.execute(stmt, params).one()
    except IntegrityError as exc:
        raise _constraint_error(exc) from exc
    return row[0], row[1]


def _constraint_error(exc: IntegrityError) -> ApiError:
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or ""
    field = {
        "ck_contribution_geom_valid": "geometry",
        "ck_contribution_geom_type": "geometry.type",
        "ck_contribution_category": "properties.category",
        "ck_contribution_title_length": "properties.title",
        "ck_contribution_description_length": "properties.description",
    }.get(name)
    if field is None:
        raise exc
    return invalid(field, f"The database refused this value ({name}).", "constraint_violation")


def feature(session: Session, contribution_id: uuid.UUID, *, public: bool = True) -> str:
    """One contribution as a GeoJSON Feature (text); 404 if unknown (or, when `public`, not
    published: pending moderation or hidden), 410 if withdrawn."""
    row = session.execute(
        text(
            f"SELECT c.withdrawn_at, c.visibility, {FEATURE_SQL} FROM {FEATURE_FROM} "
            "WHERE c.id = :id"
        ),
        {"id": contribution_id},
    ).one_or_none()
    if row is None or (public and row[1] != "published" and row[0] is None):
        raise not_found("This contribution")
    if row[0] is not None:
        raise ApiError(
            status=410, title="Gone", detail="This contribution was withdrawn by its author."
        )
    return row[2]


def search(session: Session, query: Query) -> Page:
    """A page of public contributions, newest first (or nearest first around `near`)."""
    where = [PUBLIC_WHERE]
    params: dict[str, object] = {"limit": query.limit + 1}
    order = "c.created_at DESC, c.id DESC"
    if query.bbox:
        where.append("c.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        where.append("ST_Intersects(c.geom, ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326))")
        params.update(zip(("x1", "y1", "x2", "y2"), query.bbox, strict=True))
    if query.categories:
        where.append("c.category = ANY(:categories)")
        params["categories"] = list(query.categories)
    if query.near:
        where.append(
            "ST_DWithin(c.geom::geography, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r)"
        )
        order = (
            "ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"
        )
        params.update(lon=query.near[0], lat=query.near[1], r=query.radius_m)
    elif query.cursor:
        where.append("(c.created_at, c.id) < (:cursor_ts, :cursor_id)")
        params.update(cursor_ts=query.cursor[0], cursor_id=query.cursor[1])
    stmt = text(
        f"SELECT c.created_at, c.id, {FEATURE_SQL} FROM {FEATURE_FROM} "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT :limit"
    )
    if query.categories:
        stmt = stmt.bindparams(bindparam("categories", type_=ARRAY(String)))
    rows = session.execute(stmt, params).all()
    next_cursor = None
    if len(rows) > query.limit and not query.near:
        last = rows[query.limit - 1]
        next_cursor = encode_cursor(last[0], last[1])
    return Page(features=[r[2] for r in rows[: query.limit]], next_cursor=next_cursor)


def encode_cursor(created_at: datetime, contribution_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{contribution_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, uuid.UUID]:
    """The position a `next` link points at; anything else is a 400 naming `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, ident = raw.split("|")
        parsed = datetime.fromisoformat(stamp), uuid.UUID(ident)
        if parsed[0].tzinfo is None:
            raise ValueError("cursor time without zone")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(
            status=400,
            title="Bad request",
            detail="cursor is not one this server gave out; follow the `next` link.",
            errors=[FieldError("cursor", "Unknown cursor.", "cursor_invalid")],
        ) from exc
    return parsed


def _authorise(session: Session, contribution_id: uuid.UUID, token: str | None) -> None:
    """Lock the row and check the edit token; 404/410/401/403 as appropriate."""
    row = session.execute(
        text("SELECT edit_token_hash, withdrawn_at FROM contribution WHERE id = :id FOR UPDATE"),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This contribution")
    if not token:
        raise ApiError(
            status=401,
            title="Edit token required",
            detail="Send the edit token from your private link as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="wijkkaart"'},
        )
    if not hmac.compare_digest(bytes(row[0]), hash_token(token)):
        raise ApiError(
            status=403,
            title="Forbidden",
            detail="This edit token does not belong to this contribution.",
        )
    if row[1] is not None:
        raise ApiError(
            status=410, title="Gone", detail="This contribution was withdrawn by its author."
        )


def update(
    session: Session, contribution_id: uuid.UUID, token: str | None, data: ContributionInput
) -> str:
    """Change what the author sent; a new geometry gets its buurt looked up again. Returns
    the changed Feature; the caller commits."""
    _authorise(session, contribution_id, token)
    sets = ["updated_at = now()"]
    params: dict[str, object] = {"id": contribution_id}
    for name in ("category", "title", "description"):
        value = getattr(data, name)
        if value is not None:
            sets.append(f"{name} = :{name}")
            params[name] = value
    if data.object is not None:
        if data.object != DETACH:
            check_object(session, data.object)
        sets += ["object_layer = :object_layer", "object_id = :object_id"]
        params["object_layer"] = data.object.layer or None
        params["object_id"] = data.object.id or None
    source = "(SELECT NULL::geometry AS geom) g"
    if data.geom is not None:
        sets += [
            "geom = g.geom",
            "buurt_code = codes.code",
            "wijk_code = codes.wijk_code",
            "gemeente_code = codes.gemeente_code",
        ]
        source = f"(SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom) g {AREA_CODES_SQL}"
        params["wkb"] = _wkb(data.geom)
    stmt = text(
        f"WITH c AS (UPDATE contribution AS c SET {', '.join(sets)} FROM {source} "
        f"WHERE c.id = :id RETURNING c.*) SELECT c.id, {FEATURE_SQL} FROM {WRITTEN_FROM}"
    )
    return _write(session, stmt, params)[1]


def withdraw(session: Session, contribution_id: uuid.UUID, token: str | None) -> None:
    """The author takes their contribution back: it leaves the public map; the record remains.
    The caller commits."""
    _authorise(session, contribution_id, token)
    session.execute(
        text(
            "UPDATE contribution SET status = 'ingetrokken', withdrawn_at = now(), "
            "updated_at = now() "
            "WHERE id = :id"
        ),
        {"id": contribution_id},
    )
