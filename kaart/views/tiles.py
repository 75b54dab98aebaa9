"""GET /tiles/{layer}/{z}/{x}/{y}.pbf: vector tiles of open layers and contributions.

200 with the tile, 204 when it is empty (also outside the layer's zoom range: the tile exists in
the grid, it just holds nothing there, and clients should not log it as an error), 304 when the
client's copy is current, 404 problem+json for an unknown layer or a tile outside the grid.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from kaart.db import get_read_session
from kaart.errors import NotFound
from kaart.services import tiles
from kaart.solar import queries

bp = Blueprint("tiles", __name__)

MVT = "application/vnd.mapbox-vector-tile"
# Open layers change only when reloaded, and the ETag lets clients revalidate cheaply after that.
LAYER_CACHE = "public, max-age=3600"
# Contributions change any minute: clients keep the tile but must ask again (ETag -> 304).
CONTRIBUTIONS_CACHE = "public, no-cache"


# How long a worker trusts its copy of a layer's catalogue row. A reload keeps the table's name
# and columns (they follow from the source), so a copy only lags in its version: for up to this
# long after a reload, tiles still carry the previous ETag.
CATALOGUE_TTL_SECONDS = 5.0


@bp.get("/tiles/<layer>/<z>/<x>/<y>.pbf")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    address = tiles.tile_address(z, x, y)
    session = get_read_session()
    source = _layer(session, layer)
    cache = CONTRIBUTIONS_CACHE if source.table is None else LAYER_CACHE
    data = None
    if source.version is None:  # only the bytes tell whether the client's copy is current
        data = tiles.render(session, source, address)
    tag = tiles.etag(source, address, data)
    headers = {"ETag": f'"{tag}"', "Cache-Control": cache}
    if request.if_none_match.contains_weak(tag):  # open layers answer this before building
        return Response(status=304, headers=headers)
    if data is None:
        data = tiles.render(session, source, address)
    if not data:
        return Response(status=204, headers=headers)
    return Response(data, mimetype=MVT, headers=headers)


def _layer(session: Session, name: str) -> tiles.TileLayer:
    """The layer's catalogue row, from this worker's short-lived copy when it has one (the
    catalogue changes only when a layer is reloaded). Tests, bound to one connection, always
    read it afresh."""
    if current_app.extensions["kaart.db"]["bind"] is not None:
        return tiles.find_layer(session, name)
    copies = current_app.extensions.setdefault("kaart.tile_layers", {})
    now = time.monotonic()
    copy = copies.get(name)
    if copy is not None and copy[0] > now:
        return copy[1]
    layer = tiles.find_layer(session, name)
    copies[name] = (now + CATALOGUE_TTL_SECONDS, layer)
    return layer


@bp.route("/tiles/", defaults={"_rest": ""})
@bp.route("/tiles/<path:_rest>")
def no_tile(_rest: str) -> Response:
    raise NotFound(reason="Tiles are at /tiles/{layer}/{z}/{x}/{y}.pbf.")


@bp.get("/coop/tiles/<z>/<x>/<y>.pbf")
def solar_tile(z: str, x: str, y: str) -> Response:
    """The rooftop potentials (kaart/solar/queries.py) for the co-operatives' map."""
    address = tiles.tile_address(z, x, y)
    data = queries.tile(get_read_session(), address)
    # Offers change any minute: the client keeps the tile but revalidates it (ETag -> 304).
    tag = hashlib.sha256(data).hexdigest()[:32]
    headers = {"ETag": f'"{tag}"', "Cache-Control": "public, no-cache"}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    if not data:
        return Response(status=204, headers=headers)
    return Response(data, mimetype=MVT, headers=headers)
