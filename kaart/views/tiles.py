"""GET /tiles/{layer}/{z}/{x}/{y}.pbf: vector tiles of open layers and contributions.

200 with the tile, 204 when it is empty (also outside the layer's zoom range: the tile exists in
the grid, it just holds nothing there, and clients should not log it as an error), 304 when the
client's copy is current, 404 problem+json for an unknown layer or a tile outside the grid.

In a serving worker most tiles of open layers are answered before Flask sees them, by the same
functions and with the same answers (kaart/views/tiles_direct.py); the rest come here.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app

from kaart import conditional
from kaart.db import get_read_session, prepared_row
from kaart.errors import NotFound
from kaart.services import tiles
from kaart.solar import queries

bp = Blueprint("tiles", __name__)

MVT = "application/vnd.mapbox-vector-tile"
# Open layers change only when reloaded, and the ETag lets clients revalidate cheaply after that.
LAYER_CACHE = "public, max-age=3600"
# Contributions and potentials change any minute. A browser keeps the tile but asks again on
# every use (max-age=0), and since the ETag comes from change counters (providers/versions.py)
# that question is answered without building the tile. A shared proxy may answer on its own
# for 30 s (s-maxage): on a busy map that turns every client's revalidations into one per tile
# per 30 s, and 30 s is the most a map behind such a proxy lags (the app's own map draws
# contributions from /api/v1, not from these tiles). must-revalidate: once those 30 s are over,
# no cache may hand out the tile unchecked, not even when the app cannot be reached. Nothing in
# these tiles depends on who asks (public contributions only), so all of it may be shared.
DYNAMIC_CACHE = "public, max-age=0, s-maxage=30, must-revalidate"


# How long a worker trusts its copy of a layer's catalogue row. A reload keeps the table's name
# and columns (they follow from the source), so a copy only lags in its version: for up to this
# long after a reload, tiles still carry the previous ETag.
CATALOGUE_TTL_SECONDS = 5.0
LAYER_COPIES = "kaart.tile_layers"


@bp.get("/tiles/<layer>/<z>/<x>/<y>.pbf")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    address = tiles.tile_address(z, x, y)
    source = _layer(layer)
    cache = DYNAMIC_CACHE if source.table is None else LAYER_CACHE
    tag = tiles.etag(source, address)
    return conditional.answer(
        tag, cache, lambda: _mvt(tiles.render_with(prepared_row, source, address))
    )


def _mvt(data: bytes) -> Response:
    """The tile, or 204 when nothing lies in it."""
    if data:
        return Response(data, mimetype=MVT)
    empty = Response(status=204)
    del empty.headers["Content-Type"]  # there is no content to have a type
    return empty


def _layer(name: str) -> tiles.TileLayer:
    """The layer's catalogue row, from this worker's short-lived copy when it has one (the
    catalogue changes only when a layer is reloaded). The contributions' version is a change
    counter, read afresh for every tile; tests, bound to one connection, read everything afresh.
    Only a read of the catalogue or the counter opens the request's read session."""
    if current_app.extensions["kaart.db"]["bind"] is not None or name == tiles.CONTRIBUTIONS:
        return tiles.find_layer(get_read_session(), name)
    layer = held_layer(current_app, name)
    if layer is None:
        layer = tiles.find_layer(get_read_session(), name)
        copies = current_app.extensions.setdefault(LAYER_COPIES, {})
        copies[name] = (time.monotonic() + CATALOGUE_TTL_SECONDS, layer)
    return layer


def held_layer(app: Flask, name: str) -> tiles.TileLayer | None:
    """This worker's copy of an open layer's catalogue row, while it is fresh."""
    copy = app.extensions.get(LAYER_COPIES, {}).get(name)
    if copy is not None and copy[0] > time.monotonic():
        return copy[1]
    return None


@bp.route("/tiles/", defaults={"_rest": ""})
@bp.route("/tiles/<path:_rest>")
def no_tile(_rest: str) -> Response:
    raise NotFound(reason="Tiles are at /tiles/{layer}/{z}/{x}/{y}.pbf.")


@bp.get("/coop/tiles/<z>/<x>/<y>.pbf")
def solar_tile(z: str, x: str, y: str) -> Response:
    """The rooftop potentials (kaart/solar/queries.py) for the co-operatives' map."""
    address = tiles.tile_address(z, x, y)
    session = get_read_session()
    tag = queries.tile_etag(session, address)
    return conditional.answer(
        tag, DYNAMIC_CACHE, lambda: _mvt(queries.tile(session, prepared_row, address))
    )
