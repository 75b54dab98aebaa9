"""GET /tiles/{layer}/{z}/{x}/{y}.pbf: vector tiles of open layers and contributions.

200 with the tile, 204 when it is empty (also outside the layer's zoom range: the tile exists in
the grid, it just holds nothing there, and clients should not log it as an error), 304 when the
client's copy is current, 404 problem+json for an unknown layer or a tile outside the grid.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from kaart.db import get_session
from kaart.errors import ApiError
from kaart.services import tiles

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"
# Open layers change only when reloaded, and the ETag lets clients revalidate cheaply after that.
LAYER_CACHE = "public, max-age=3600"
# Contributions change any minute: clients keep the tile but must ask again (ETag -> 304).
CONTRIBUTIONS_CACHE = "public, no-cache"


@bp.get("/<layer>/<z>/<x>/<y>.pbf")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    address = tiles.tile_address(z, x, y)
    session = get_session()
    source = tiles.find_layer(session, layer)
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


@bp.route("/", defaults={"_rest": ""})
@bp.route("/<path:_rest>")
def no_tile(_rest: str) -> Response:
    raise ApiError(404, "Not found", "Tiles are at /tiles/{layer}/{z}/{x}/{y}.pbf.")
