"""Commitments (afspraken) of published wijkpacten, read: as GeoJSON built by PostGIS, as rows
for the pact page and the voortgangsrapportage, and as figures per party and per theme.

    collection(session, pact_id)        -> FeatureCollection text (/api/v1/pacts/<slug>)
    rows(session, pact_id)              -> the pact page's list
    progress_by(session, pact_id, "party" | "theme")

A feature's `contributions` are the ids of the published input it answers; nothing personal is
in it (parties are organisations; who posted an update is not shown).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart import crs as crs_mod
from kaart.errors import NotFound
from kaart.models.pact import THEMES, UPDATE_STATUSES
from kaart.ogc import sources
from kaart.providers import paging, versions
from kaart.providers.paging import Page
from kaart.services.commitments import LATEST, PUBLIC_CONTRIBUTION

TITLE = "Afspraken van wijkpacten (commitments)"
COLLECTION = "commitments"
FINAL = "('klaar', 'vervallen')"
# Dutch local date: a commitment due today is not overdue yet.
TODAY = "(now() AT TIME ZONE 'Europe/Amsterdam')::date"

PROPERTIES = f"""
  'id', c.id,
  'title', c.title,
  'description', c.description,
  'pact', p.slug,
  'pact_title', p.title,
  'status', coalesce(u.status, 'gepland'),
  'progress', u.percentage,
  'milestone', u.milestone,
  'updated_at', u.at,
  'party', y.name,
  'party_type', y.type,
  'supporting', coalesce((SELECT json_agg(s.name ORDER BY s.name) FROM commitment_support cs
                 JOIN party s ON s.id = cs.party_id WHERE cs.commitment_id = c.id), '[]'::json),
  'theme', c.theme,
  'due', c.due_on,
  'overdue', c.due_on < {TODAY} AND coalesce(u.status, 'gepland') NOT IN {FINAL},
  'budget', c.budget,
  'contributions', coalesce((SELECT json_agg(x.id ORDER BY x.created_at)
                 FROM commitment_contribution cc JOIN contribution x ON x.id = cc.contribution_id
                 WHERE cc.commitment_id = c.id AND {PUBLIC_CONTRIBUTION}), '[]'::json),
  'initiatives', coalesce((SELECT json_agg(ci.initiative_id) FROM commitment_initiative ci
                 WHERE ci.commitment_id = c.id), '[]'::json),
  'responses', (SELECT count(*) FROM commitment_response cr WHERE cr.commitment_id = c.id)
"""
FROM = (
    "FROM commitment c JOIN pact p ON p.id = c.pact_id AND p.published "
    f"JOIN party y ON y.id = c.party_id {LATEST}"
)


def feature_sql(crs: crs_mod.Crs = crs_mod.DEFAULT) -> str:
    geometry = crs_mod.geometry_sql("c.geom", 4326, crs)
    return (
        f"json_build_object('type', 'Feature', 'id', c.id, 'geometry', {geometry}, "
        f"'properties', json_build_object({PROPERTIES}))"
    )


FEATURE = feature_sql()


def collection(session: Session, pact_id: uuid.UUID | None = None) -> str:
    """A FeatureCollection of a pact's commitments (all published pacts' with None)."""
    where = "WHERE c.pact_id = :pact" if pact_id else ""
    return session.execute(
        text(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', "
            f"coalesce(json_agg({FEATURE} ORDER BY c.due_on, c.title), '[]'::json))::text "
            f"{FROM} {where}"
        ),
        {"pact": pact_id} if pact_id else {},
    ).scalar_one()


def extent(session: Session) -> list[float] | None:
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(c.geom) "
            "AS e FROM commitment c JOIN pact p ON p.id = c.pact_id AND p.published) s"
        )
    ).one()
    return None if row[0] is None else [float(v) for v in row]


@dataclass(frozen=True)
class Progress:
    key: str
    total: int
    done: int
    overdue: int
    average: int  # mean percentage, vervallen left out

    @property
    def share_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def rows(session: Session, pact_id: uuid.UUID) -> list[Any]:
    """The pact's commitments for its page and its report, by due date."""
    return session.execute(
        text(
            "SELECT c.id, c.title, c.description, c.theme, c.due_on, c.budget, y.name AS party, "
            "y.id AS party_id, coalesce(u.status, 'gepland') AS status, u.percentage, "
            "u.milestone, u.at AS updated_at, "
            f"(c.due_on < {TODAY} AND coalesce(u.status, 'gepland') NOT IN {FINAL}) AS overdue, "
            "(SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM commitment_support cs "
            " JOIN party s ON s.id = cs.party_id WHERE cs.commitment_id = c.id) AS supporting, "
            "(c.geom IS NOT NULL) AS has_place "
            f"{FROM} WHERE c.pact_id = :pact ORDER BY c.due_on, c.title"
        ),
        {"pact": pact_id},
    ).all()


def progress_by(session: Session, pact_id: uuid.UUID, by: str) -> list[Progress]:
    """Per party (its name) or per theme: how many, how many done, overdue, mean progress."""
    key = {"party": "y.name", "theme": "c.theme"}[by]
    found = session.execute(
        text(
            f"SELECT {key} AS key, count(*) AS total, "
            "count(*) FILTER (WHERE u.status = 'klaar') AS done, "
            f"count(*) FILTER (WHERE c.due_on < {TODAY} "
            f"  AND coalesce(u.status, 'gepland') NOT IN {FINAL}) AS overdue, "
            "coalesce(round(avg(CASE WHEN u.status = 'klaar' THEN 100 "
            "  ELSE coalesce(u.percentage, 0) END) "
            "  FILTER (WHERE coalesce(u.status, '') <> 'vervallen')), 0)::int AS average "
            f"{FROM} WHERE c.pact_id = :pact GROUP BY {key} ORDER BY {key}"
        ),
        {"pact": pact_id},
    ).all()
    return [Progress(*r) for r in found]


# -- /ogc ---------------------------------------------------------------------------------------

READS = ("contribution", "pact", "commitment", "commitment_update", "party")
OGC_FILTERS = {
    "status": "coalesce(u.status, 'gepland')",
    "theme": "c.theme",
    "party": "y.name",
    "pact": "p.slug",
}


def version(session: Session) -> str:
    return versions.current(session, READS)


def _ogc_page(session: Session, q: sources.SourceQuery, crs: crs_mod.Crs) -> Page:
    where, params = [], {"limit": q.limit + 1}
    for name, values in q.filters.items():
        if values and name in OGC_FILTERS:
            where.append(f"{OGC_FILTERS[name]} = ANY(:f_{name})")
            params[f"f_{name}"] = list(values)
    if q.bbox:
        where.append(f"c.geom && {crs_mod.bbox_sql(4326, q.bbox_crs)}")
        where.append(f"ST_Intersects(c.geom, {crs_mod.bbox_sql(4326, q.bbox_crs)})")
        x1, y1, x2, y2 = q.bbox
        params |= {
            "bx1": x1,
            "by1": y1,
            "bx2": x2,
            "by2": y2,
            "bseg": max(max(x2 - x1, y2 - y1) / 16, 1e-9),
        }
    forward = q.cursor is None or q.cursor.forward
    if q.cursor is not None:
        stamp, ident = paging.time_id_key(q.cursor)
        where.append(f"(c.created_at, c.id) {'>' if forward else '<'} (:k_at, :k_id)")
        params |= {"k_at": stamp, "k_id": ident}
    order = "ASC" if forward else "DESC"
    rows = session.execute(
        text(
            f"SELECT c.created_at, c.id, {feature_sql(crs)}::text {FROM} "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY c.created_at {order}, c.id {order} LIMIT :limit"
        ),
        params,
    ).all()
    return paging.page_of(
        rows, q.limit, q.cursor, lambda r: (r[0].isoformat(), str(r[1])), lambda r: r[2]
    )


def _ogc_feature(session: Session, feature_id: str, crs: crs_mod.Crs) -> str:
    found = session.execute(
        text(f"SELECT {feature_sql(crs)}::text {FROM} WHERE c.id = :id"),
        {"id": uuid.UUID(feature_id)},
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("This commitment")
    return found


def _ogc_extent(session: Session) -> tuple[list[float] | None, list[str] | None]:
    return extent(session), None


OGC_SOURCE = sources.Source(
    id=COLLECTION,
    title=TITLE,
    description=(
        "Commitments (afspraken) of the published wijkpacten: what was agreed, which party is "
        "responsible, where, by when, the latest progress and the ids of the contributions "
        "they answer. No personal data."
    ),
    filters={"status": UPDATE_STATUSES, "theme": THEMES, "party": None, "pact": None},
    extent=_ogc_extent,
    page=_ogc_page,
    feature=_ogc_feature,
    version=version,
    temporal=False,
)
