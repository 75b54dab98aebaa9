"""/api/v1/buurten and /api/v1/layers: the buurten, the catalogue of open layers and small
selections of a layer's features as GeoJSON."""

from __future__ import annotations

from flask import Response, current_app, request
from sqlalchemy.orm import Session

from kaart.db import get_read_session
from kaart.errors import NotFound
from kaart.params import Params
from kaart.providers import contributions, layers
from kaart.views.api import bp
from kaart.views.api.io import as_json, collection, cursor, geojson, limit


@bp.get("/buurten")
def list_buurten() -> Response:
    args = Params(request.args)
    bbox = args.bbox("bbox")
    args.done()
    return geojson(layers.buurten(get_read_session(), bbox))


# -- Open layers: the catalogue and small selections of features ------------------------------


@bp.get("/layers")
def list_layers() -> Response:
    entries = layers.catalogue_entries(get_read_session(), with_contributions=True)
    return as_json({"layers": entries})


@bp.get("/layers/<layer>/features")
def list_layer_features(layer: str) -> Response:
    settings = current_app.config["KAART"]
    args = Params(request.args)
    query = layers.Query(
        bbox=args.bbox("bbox"),
        limit=limit(args, settings.page_default, settings.page_max),
        cursor=cursor(args),
    )
    if query.bbox is None and not args.errors:
        args.fail("bbox", "bbox is required: minLon,minLat,maxLon,maxLat (WGS84).", "bbox_missing")
    args.done()
    session = get_read_session()
    return collection(layers.page(session, _open_layer(session, layer), query))


def _open_layer(session: Session, name: str) -> layers.Layer:
    if name == contributions.TILE_LAYER:
        raise NotFound("Layer 'contributions' (contributions are served by /api/v1/contributions)")
    return layers.find(session, name)


@bp.get("/layers/<layer>/features/<feature_id>")
def get_layer_feature(layer: str, feature_id: str) -> Response:
    """One object of an open layer, e.g. the BAG pand a contribution is about."""
    session = get_read_session()
    return geojson(layers.feature(session, _open_layer(session, layer), feature_id))
