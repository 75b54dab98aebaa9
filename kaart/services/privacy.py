"""Location privacy: where the public sees a contribution (retention and erasure are in
kaart/services/retention.py).

A contribution near a home is published generalised: a point, a line shorter than 50 m or an
area under 1,000 m² within KAART_PRIVACY_DISTANCE_M (15 m) of an address whose BAG use
(gebruiksdoel) includes woonfunctie, or whose use is unknown, is shown to the public as the
centre of its cell in a fixed grid of KAART_PRIVACY_CELL_M (50 m) in RD New. The grid is fixed,
so the answer is deterministic (asking again reveals nothing) and the same for every home in a
cell. Longer lines and larger areas are not the place of one home and stay as drawn.

Without any address layer loaded the map cannot tell where homes are, so every point and every
small line or area is generalised (privacy by default). Load the BAG addresses (`kaart layers
load bag-adressen`) to publish places away from homes exactly.

The writes (kaart/services/contributions.py) put `location_sql` into their INSERT/UPDATE so
`public_geom` is written in the same statement as `geom`; `refresh` recomputes every
contribution after an address layer is (re)loaded or the settings change; `check` answers the
add flow's question "will this point be shown approximately?". Who sees which geometry is
decided in one place, the contribution provider (kaart/providers/contributions.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.errors import CatalogueError
from kaart.providers.contribution_fields import AREA_CLASSES, LINE_CLASSES

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

# Shapes at least this large are not the place of one home: they are published as drawn.
SMALL_LINE_M = LINE_CLASSES[-1][0]
SMALL_AREA_M2 = AREA_CLASSES[-1][0]
# The BAG gebruiksdoel of a dwelling; an address may have several ("woonfunctie,winkelfunctie").
RESIDENTIAL = "woonfunctie"


@dataclass(frozen=True)
class Rule:
    """How near is near a home, and the grid a generalised place is shown in (metres)."""

    distance_m: float = 15.0
    cell_m: float = 50.0

    def sizes(self) -> dict[str, float]:
        """The cell size and distance as people are told them (50, not 50.0)."""
        return {"cell_m": _whole(self.cell_m), "distance_m": _whole(self.distance_m)}

    def params(self) -> dict[str, Any]:
        """The bound parameters `location_sql` uses."""
        return {
            "privacy_distance_m": self.distance_m,
            "privacy_cell_m": self.cell_m,
            "privacy_line_m": SMALL_LINE_M,
            "privacy_area_m2": SMALL_AREA_M2,
            "privacy_residential": f"%{RESIDENTIAL}%",
        }


def _whole(value: float) -> float:
    return int(value) if float(value).is_integer() else value


def rule_for(settings: Settings) -> Rule:
    return Rule(distance_m=settings.privacy_distance_m, cell_m=settings.privacy_cell_m)


@dataclass(frozen=True)
class AddressTable:
    table: str  # open_data."<name>", checked
    has_usage: bool


def address_tables(session: Session | Connection) -> list[AddressTable]:
    """Every loaded address layer (kind `address`), with whether it knows each address's use."""
    rows = session.execute(
        text(
            "SELECT table_name, coalesce('usage' = ANY(columns), false) FROM layer "
            "WHERE kind = 'address' AND table_name IS NOT NULL ORDER BY name"
        )
    ).all()
    found = []
    for table, has_usage in rows:
        if not re.fullmatch(r"[a-z0-9_]+", table):  # written by geodata.load, checked anyway
            raise CatalogueError(f"address layer table {table!r}: a name the loader never writes")
        found.append(AddressTable(f'open_data."{table}"', bool(has_usage)))
    return found


def _near_home(tables: list[AddressTable]) -> str:
    """SQL true when `privacy_rd.geom` (RD New) lies within the distance of a home."""
    if not tables:
        return "true"  # no addresses known: assume a home everywhere
    tests = []
    for found in tables:
        # An unknown use may be a home; the BAG lists every use of a verblijfsobject.
        usage = (
            " AND (coalesce(a.usage, '') = '' OR a.usage LIKE :privacy_residential)"
            if found.has_usage
            else ""
        )
        tests.append(
            f"EXISTS (SELECT 1 FROM {found.table} AS a "
            f"WHERE ST_DWithin(a.geom, privacy_rd.geom, :privacy_distance_m){usage})"
        )
    return " OR ".join(tests)


def location_sql(session: Session | Connection, geom: str = "g.geom") -> str:
    """LATERAL joins to put after a FROM that has `geom` (WGS84): they give
    `public_location.geom` (what the public sees) and `public_location.generalised`. Needs the
    bound parameters of `Rule.params()`. The address layers are read now: the statement holds
    their table names."""
    near = _near_home(address_tables(session))
    return f"""
    CROSS JOIN LATERAL (SELECT ST_Transform({geom}, 28992) AS geom) AS privacy_rd
    CROSS JOIN LATERAL (
      SELECT CASE ST_Dimension(privacy_rd.geom)
               WHEN 0 THEN true
               WHEN 1 THEN ST_Length(privacy_rd.geom) < :privacy_line_m
               ELSE ST_Area(privacy_rd.geom) < :privacy_area_m2
             END AS small,
             ST_PointOnSurface(privacy_rd.geom) AS spot
    ) AS privacy_shape
    CROSS JOIN LATERAL (
      SELECT generalised,
             CASE WHEN generalised THEN ST_Transform(ST_SetSRID(ST_MakePoint(
                 floor(ST_X(privacy_shape.spot) / :privacy_cell_m) * :privacy_cell_m
                   + :privacy_cell_m / 2,
                 floor(ST_Y(privacy_shape.spot) / :privacy_cell_m) * :privacy_cell_m
                   + :privacy_cell_m / 2), 28992), 4326)
               ELSE {geom} END AS geom
      FROM (SELECT CASE WHEN privacy_shape.small THEN ({near}) ELSE false END AS generalised) s
    ) AS public_location
    """


def refresh(session: Session | Connection, rule: Rule) -> int:
    """Recompute what the public sees of every contribution (after an address layer is loaded
    or the settings change); returns how many changed. The caller commits."""
    result = session.execute(
        text(
            f"""
            UPDATE contribution AS c
            SET public_geom = public_location.geom,
                location_generalised = public_location.generalised
            FROM contribution AS g {location_sql(session)}
            WHERE g.id = c.id
              AND (c.public_geom, c.location_generalised)
                  IS DISTINCT FROM (public_location.geom, public_location.generalised)
            """
        ),
        rule.params(),
    )
    return result.rowcount


def check(session: Session, rule: Rule, geom: BaseGeometry) -> bool:
    """Whether a place drawn like this (WGS84) would be published approximately."""
    return session.execute(
        text(
            "SELECT public_location.generalised "
            "FROM (SELECT ST_GeomFromText(:wkt, 4326) AS geom) AS g " + location_sql(session)
        ),
        {"wkt": geom.wkt, **rule.params()},
    ).scalar_one()
