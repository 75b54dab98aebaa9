"""Named real places for tests (WGS84 lon/lat), in and around the demo buurt Weesp Centrum."""

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
DAM_AMSTERDAM = (4.89290, 52.37310)  # Amsterdam Burgwallen, another loaded buurt
VAALSERBERG = (6.02083, 50.75452)  # the Netherlands' highest point, far from the demo area
BRUSSEL = (4.35171, 50.85034)  # Belgium: outside the Netherlands
NORTH_SEA = (2.5, 52.5)


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
