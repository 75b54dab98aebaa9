"""The coordinate reference systems Wijkkaart serves and reads (OGC API – Features Part 2, CRS
by reference), and the SQL the providers use to answer in them.

CRS84 is longitude/latitude; EPSG:4326 is the same datum with the axis order its definition
gives, latitude first; EPSG:28992 (RD New) is easting/northing in metres, as Dutch planners work.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaart.errors import BadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_28992 = "http://www.opengis.net/def/crs/EPSG/0/28992"
# Where RD New coordinates make sense, in WGS84 (the Dutch land and sea with a degree to spare).
RD_DOMAIN = (2.0, 50.0, 8.0, 56.0)


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_first: bool  # axis order latitude, longitude (EPSG:4326)
    decimals: int  # 7 decimals of a degree ~ 1 cm; 3 of a metre = 1 mm
    # Where coordinates make sense, in this CRS's x (east) / y (north) order.
    domain: tuple[float, float, float, float]


SUPPORTED = {
    CRS84: Crs(CRS84, 4326, False, 7, (-180.0, -90.0, 180.0, 90.0)),
    EPSG_4326: Crs(EPSG_4326, 4326, True, 7, (-180.0, -90.0, 180.0, 90.0)),
    # The RD New area of use (EPSG), with some sea to spare.
    EPSG_28992: Crs(EPSG_28992, 28992, False, 3, (-7000.0, 289000.0, 300000.0, 629000.0)),
}
ALIASES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84,
    "urn:ogc:def:crs:OGC::CRS84": CRS84,
    "[OGC:CRS84]": CRS84,
    "EPSG:4326": EPSG_4326,
    "urn:ogc:def:crs:EPSG::4326": EPSG_4326,
    "[EPSG:4326]": EPSG_4326,
    "EPSG:28992": EPSG_28992,
    "urn:ogc:def:crs:EPSG::28992": EPSG_28992,
    "[EPSG:28992]": EPSG_28992,
}
URIS = list(SUPPORTED)
DEFAULT = SUPPORTED[CRS84]  # what every answer is in unless a client asks otherwise
# Storage CRS of each kind of collection (open layers are loaded in RD New).
LAYER_STORAGE = EPSG_28992
CONTRIBUTION_STORAGE = CRS84


def parse(value: str | None, name: str) -> Crs:
    """A `crs` or `bbox-crs` value; CRS84 when absent, 400 when we do not serve it."""
    if value is None or value == "":
        return SUPPORTED[CRS84]
    uri = ALIASES.get(value.strip(), value.strip())
    if uri not in SUPPORTED:
        reason = f"{name} {value[:80]!r} is not supported; use one of {', '.join(URIS)}."
        raise BadRequest(reason, name, "crs_unsupported")
    return SUPPORTED[uri]


def header(crs: Crs) -> str:
    """The Content-Crs header value."""
    return f"<{crs.uri}>"


def geometry_sql(column: str, storage_srid: int, crs: Crs) -> str:
    """SQL for the GeoJSON geometry of `column` in `crs` (only constants are put together)."""
    expr = column if storage_srid == crs.srid else f"ST_Transform({column}, {crs.srid:d})"
    if crs.lat_first:
        expr = f"ST_FlipCoordinates({expr})"
    return f"ST_AsGeoJSON({expr}, {crs.decimals:d})::json"


def bbox_sql(storage_srid: int, bbox_crs: Crs) -> str:
    """SQL for the query box in the storage CRS, from :bx1 :by1 :bx2 :by2 :bseg in `bbox_crs`.
    Edges are densified first, so the box keeps its coverage once transformed."""
    envelope = f"ST_MakeEnvelope(:bx1, :by1, :bx2, :by2, {bbox_crs.srid:d})"
    if bbox_crs.srid == storage_srid:
        return envelope
    return f"ST_Transform(ST_Segmentize({envelope}, :bseg), {storage_srid:d})"


def parse_bbox(value: str | None, bbox_crs: Crs) -> tuple[float, float, float, float] | None:
    """`bbox` in `bbox_crs` (axis order of that CRS; 4 or 6 numbers) -> x/y order, clipped to the
    CRS's domain; None when absent."""
    if value is None or value == "":
        return None
    try:
        numbers = [float(p) for p in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are not used
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    order = "minLat,minLon,maxLat,maxLon" if bbox_crs.lat_first else "minX,minY,maxX,maxY"
    if len(numbers) != 4 or not all(abs(n) < float("inf") for n in numbers):
        raise _bad_bbox(f"bbox must be four numbers: {order} (in {bbox_crs.uri}).")
    if bbox_crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    x1, y1, x2, y2 = numbers
    if x1 > x2 or y1 > y2:
        raise _bad_bbox(f"bbox must be {order} with the minimum first.")
    dx1, dy1, dx2, dy2 = bbox_crs.domain
    clipped = max(x1, dx1), max(y1, dy1), min(x2, dx2), min(y2, dy2)
    if clipped[0] > clipped[2] or clipped[1] > clipped[3]:
        raise _bad_bbox(f"bbox lies outside the area where {bbox_crs.uri} is defined.")
    return clipped


def _bad_bbox(reason: str) -> BadRequest:
    return BadRequest(reason, "bbox", "bbox_invalid")
