"""A BGT green area and a tree in Weesp Centrum as open layers (in the test's transaction) for
the adoption tests."""

from __future__ import annotations

from pyproj import Transformer
from shapely.geometry import Point, Polygon
from sqlalchemy import Connection

from tests.layers_fixture import make_layer
from tests.places import OUDE_CONVENT, SINGEL_GRASVELD

GREEN_LAYER = "bgt-groen"
GREEN_ID = "G0457.0a1b2c3d4e5f4a5b"  # shaped like a BGT lokaal id
TREE_LAYER = "bomen"
TREE_ID = "boom-4711"
_TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)


def make_green(connection: Connection) -> None:
    ring = [_TO_RD.transform(x, y) for x, y in SINGEL_GRASVELD]
    make_layer(
        connection,
        GREEN_LAYER,
        [{"feature_id": GREEN_ID, "geom": Polygon(ring), "properties": {"fysiek": "gras"}}],
        kind="green",
        title="BGT begroeid terreindeel",
    )
    make_layer(
        connection,
        TREE_LAYER,
        [{"feature_id": TREE_ID, "geom": Point(*_TO_RD.transform(*OUDE_CONVENT))}],
        kind="tree",
        family="point",
        title="Bomen",
    )
