"""Named real places for tests (WGS84 lon/lat), in and around the demo buurt Weesp Centrum."""

import math

from pyproj import Transformer

_TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
_TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)

HET_GROTE_PLEIN = (5.04234, 52.30658)  # square in Weesp Centrum, BU0363SD03
OUDE_CONVENT = (5.04376, 52.30589)
NIEUWSTRAAT = [(5.04205, 52.30712), (5.04283, 52.30679), (5.04358, 52.30650)]
# A 40 m x 40 m-ish block on the Singel, Weesp Centrum.
SINGEL_GRASVELD = [
    (5.03760, 52.30650),
    (5.03820, 52.30650),
    (5.03820, 52.30685),
    (5.03760, 52.30685),
    (5.03760, 52.30650),
]
# Location privacy (BAG addresses of the demo extract): a home's front door, the door of a
# building with no home in it (25 m from the nearest home), and the water of the Smal Weesp, 25 m
# from any address.
FRONT_DOOR = (5.0422049, 52.3066142)  # Het Grote Plein 4, woonfunctie; RD 131470.5, 479905.6
VENUE_DOOR = (5.0424498, 52.3064569)  # Het Grote Plein 5, bijeenkomstfunctie
SMAL_WEESP = (5.04197, 52.30644)
DAM_AMSTERDAM = (4.89290, 52.37310)  # Amsterdam Burgwallen, another loaded buurt
VAALSERBERG = (6.02083, 50.75452)  # the Netherlands' highest point, far from the demo area
BRUSSEL = (4.35171, 50.85034)  # Belgium: outside the Netherlands
NORTH_SEA = (2.5, 52.5)


def cell_centre(lonlat, cell: float = 50.0) -> tuple[float, float]:
    """Where the public map shows a point near a home (location privacy): the centre of its cell
    in an RD New grid, in WGS84, worked out here with pyproj independently of the app's SQL."""
    x, y = _TO_RD.transform(*lonlat)
    centre = (math.floor(x / cell) * cell + cell / 2, math.floor(y / cell) * cell + cell / 2)
    return _TO_WGS84.transform(*centre)


def point(lonlat=HET_GROTE_PLEIN) -> dict:
    return {"type": "Point", "coordinates": list(lonlat)}


def line(coords=NIEUWSTRAAT) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def polygon(ring=SINGEL_GRASVELD) -> dict:
    return {"type": "Polygon", "coordinates": [[list(c) for c in ring]]}


def feature(geometry=None, **props) -> dict:
    properties = {"category": "idee", "title": "Bankjes op Het Grote Plein", "description": ""}
    properties.update(props)
    return {"type": "Feature", "geometry": geometry or point(), "properties": properties}
