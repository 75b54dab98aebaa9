"""/api/v1/buurten, /api/v1/layers and /api/v1/search: the buurten, the catalogue of open layers,
small selections of a layer's features as GeoJSON, and the address search."""

from __future__ import annotations

import json

from flask import Response, current_app, request
from sqlalchemy.orm import Session

from kaart.archives import store
from kaart.db import get_read_session
from kaart.errors import NotFound
from kaart.params import Params
from kaart.providers import addresses, contributions, layers, versions
from kaart.views.api import bp
from kaart.views.api.io import as_json, collection, cursor, geojson, limit, versioned

SEARCH_MAX = 100  # characters of a search text


@bp.get("/buurten")
def list_buurten() -> Response:
    args = Params(request.args)
    bbox = args.bbox("bbox")
    args.done()
    session = get_read_session()
    version = versions.current(session, layers.BUURTEN_READS)
    return versioned(version, lambda: geojson(layers.buurten(session, bbox)))


@bp.get("/search")
def search_addresses() -> Response:
    """Addresses and streets of the loaded BAG addresses that fit `q`, best first."""
    args = Params(request.args)
    q = args.raw("q")
    if not q:
        args.fail("q", "Give something to search for: a street, a postcode, a place.", "q_missing")
    elif len(q) > SEARCH_MAX:
        args.fail("q", f"Search for at most {SEARCH_MAX} characters.", "q_too_long")
    count = args.integer("limit", 1, addresses.LIMIT_MAX, 8, range_code="limit_invalid")
    args.done()
    features, layer = addresses.search(get_read_session(), q, count)
    body = (
        '{"type": "FeatureCollection", "features": ['
        + ",".join(features)
        + f'], "numberReturned": {len(features)}, "layer": {json.dumps(layer)}}}'
    )
    return geojson(body)


# -- Open layers: the catalogue and small selections of features ------------------------------


@bp.get("/layers")
def list_layers() -> Response:
    directory = current_app.config["KAART"].tiles_dir
    session = get_read_session()
    # Read before the catalogue (kaart/providers/versions.py): loads, contributions, archives.
    version = versions.current(session, layers.CATALOGUE_READS)
    version += f"|archives={store.manifest_version(directory)}"

    def build() -> Response:
        archives = store.catalogue_fields(directory)
        entries = layers.catalogue_entries(session, with_contributions=True, archives=archives)
        return as_json({"layers": entries})

    return versioned(version, build)


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
    found = _open_layer(session, layer)
    return versioned(found.version, lambda: collection(layers.page(session, found, query)))


def _open_layer(session: Session, name: str) -> layers.Layer:
    if name == contributions.TILE_LAYER:
        raise NotFound("Layer 'contributions' (contributions are served by /api/v1/contributions)")
    return layers.find(session, name)


@bp.get("/layers/<layer>/features/<feature_id>")
def get_layer_feature(layer: str, feature_id: str) -> Response:
    """One object of an open layer, e.g. the BAG pand a contribution is about."""
    session = get_read_session()
    return geojson(layers.feature(session, _open_layer(session, layer), feature_id))
