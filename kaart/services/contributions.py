"""Create and change contributions (reading them: kaart/providers/contributions.py; status
changes and withdrawal: kaart/services/workflow.py).

Every write returns the contribution as the provider's Feature, made by PostGIS in the same
statement, so a committed write always has its answer: the author's view, with the place as
drawn. The same statement writes what the public sees of the place (kaart/services/privacy.py).
The caller owns the transaction."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from shapely import to_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kaart.errors import ApiError, CatalogueError, Forbidden, Gone, Unauthorized, invalid, not_found
from kaart.providers.contributions import feature_sql
from kaart.services import privacy
from kaart.services.input import DETACH, ContributionInput, ObjectRef

# A row just written by a data-modifying CTE `c`, joined as the provider's Feature needs it.
WRITTEN_FROM = (
    "c LEFT JOIN buurt b ON b.code = c.buurt_code LEFT JOIN layer l ON l.name = c.object_layer"
)
# Written through the edit token or by its author: the place as drawn.
FEATURE_SQL = feature_sql(exact=True)

# The buurt a geometry belongs to: the one holding its point on surface.
AREA_CODES_SQL = """
LEFT JOIN LATERAL (
  SELECT code, wijk_code, gemeente_code FROM buurt
  WHERE ST_Intersects(buurt.geom, ST_PointOnSurface(g.geom))
  ORDER BY code LIMIT 1
) codes ON true
"""


@dataclass(frozen=True)
class Created:
    id: uuid.UUID
    feature: str
    edit_token: str


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
    rule: privacy.Rule,
) -> Created:
    """Store a new contribution and return it as a Feature with its edit token (shown only
    now), in one statement: a committed row always has its answer. `process_id`/`visibility`
    come from the process rules (kaart/services/processes.py); `edit_token` from a retry-safe
    request (kaart/services/idempotency.py), else a new random one; `rule` says where the
    public sees it. The caller commits."""
    token = edit_token or secrets.token_urlsafe(32)
    if data.object is not None:
        check_object(session, data.object)
    stmt = text(
        f"""
        WITH c AS (
          INSERT INTO contribution
            (id, category, title, description, geom, public_geom, location_generalised,
             edit_token_hash, buurt_code, wijk_code, gemeente_code, object_layer, object_id,
             process_id, visibility)
          SELECT coalesce(:id, gen_random_uuid()), :category, :title, :description, g.geom,
                 public_location.geom, public_location.generalised,
                 :token_hash, codes.code, codes.wijk_code, codes.gemeente_code,
                 :object_layer, :object_id, :process_id, :visibility
          FROM (SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom) g
          {AREA_CODES_SQL}
          {privacy.location_sql(session)}
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
        **rule.params(),
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
        raise CatalogueError(f"layer {ref.layer!r}: table name the loader never writes")
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


def authorise_edit_token(session: Session, contribution_id: uuid.UUID, token: str | None) -> None:
    """Lock the row and check the edit token; 404/410/401/403 as appropriate."""
    row = session.execute(
        text("SELECT edit_token_hash, withdrawn_at FROM contribution WHERE id = :id FOR UPDATE"),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This contribution")
    if not token:
        raise Unauthorized(
            "Send the edit token from your private link as `Authorization: Bearer <token>`.",
            title="Edit token required",
            headers={"WWW-Authenticate": 'Bearer realm="wijkkaart"'},
        )
    if not hmac.compare_digest(bytes(row[0]), hash_token(token)) and not _later_link(
        session, contribution_id, token
    ):
        raise Forbidden("This edit token does not belong to this contribution.")
    if row[1] is not None:
        raise Gone("This contribution was withdrawn by its author.")


def _later_link(session: Session, contribution_id: uuid.UUID, token: str) -> bool:
    """A private link mailed later by "Stuur mijn links" (kaart/mail/follow.py)."""
    return session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM contribution_edit_token "
            "WHERE contribution_id = :id AND token_hash = :hash)"
        ),
        {"id": contribution_id, "hash": hash_token(token)},
    ).scalar_one()


def update(
    session: Session,
    contribution_id: uuid.UUID,
    token: str | None,
    data: ContributionInput,
    *,
    rule: privacy.Rule,
) -> str:
    """Change what the author sent; a new geometry gets its buurt and its public place (`rule`)
    worked out again. Returns the changed Feature; the caller commits."""
    authorise_edit_token(session, contribution_id, token)
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
            "public_geom = public_location.geom",
            "location_generalised = public_location.generalised",
            "buurt_code = codes.code",
            "wijk_code = codes.wijk_code",
            "gemeente_code = codes.gemeente_code",
        ]
        source = (
            f"(SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS geom) g {AREA_CODES_SQL} "
            + privacy.location_sql(session)
        )
        params["wkb"] = _wkb(data.geom)
        params.update(rule.params())
    stmt = text(
        f"WITH c AS (UPDATE contribution AS c SET {', '.join(sets)} FROM {source} "
        f"WHERE c.id = :id RETURNING c.*) SELECT c.id, {FEATURE_SQL} FROM {WRITTEN_FROM}"
    )
    return _write(session, stmt, params)[1]
