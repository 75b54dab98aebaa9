"""What a contribution's values are, as SQL: every property a reader can ask for, once, and
how a contribution becomes GeoJSON Feature text. kaart/providers/contributions.py decides who
sees which rows (PUBLIC_WHERE, `visible`) and reads them with these expressions.

    expression("size_class")           # SQL over c (contribution), b, l, p, r
    feature_sql(crs, exact=False)      # one contribution as Feature text, built by PostGIS

Where: every reader sees `public_geom`, which near a home is the centre of a grid cell
(kaart/services/privacy.py), with "location": "approximate" and a size class instead of exact
measurements; only `exact` (never the public audience) sees `geom` as drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from kaart import crs as crs_mod

# Where the public sees it (the tiles use it; everything else goes through EXPRESSIONS).
PUBLIC_GEOM = "c.public_geom"

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
