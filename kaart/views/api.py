"""JSON API for contributions: GeoJSON in and out under /api/v1."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for

from kaart.db import get_session, transaction
from kaart.errors import ApiError, FieldError, NotFound
from kaart.geo import Limits, limits_for
from kaart.models.contribution import CATEGORIES
from kaart.params import Params
from kaart.providers import contributions, layers, paging
from kaart.services import contributions as service
from kaart.services import idempotency, processes
from kaart.services.idempotency import edit_token
from kaart.services.input import bad_json, parse_feature
from kaart.textcheck import request_json
from kaart.web import bearer_token, idempotency_key, limit_client

bp = Blueprint("api", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"
JSON_TYPES = ("application/json", "application/geo+json")


def _limits() -> Limits:
    return limits_for(current_app.config["KAART"])


def read_json() -> Any:
    """The request body as JSON, or a 4xx saying exactly what is wrong with it."""
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES:
        raise ApiError(
            status=415,
            title="Unsupported media type",
            detail="Send the body as application/json or application/geo+json.",
            errors=[
                FieldError("Content-Type", f"got {mimetype or 'nothing'}", "unsupported_media_type")
            ],
        )
    raw = request.get_data(cache=True)  # werkzeug enforces MAX_CONTENT_LENGTH here -> 413
    if not raw.strip():
        raise bad_json("The request body is empty; send a GeoJSON Feature.")
    return request_json()  # RFC 8259: JSON between systems is UTF-8; kaart/textcheck.py


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ApiError(
            status=404, title="Not found", detail="This contribution does not exist"
        ) from exc


def _geojson(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, mimetype=GEOJSON, headers=headers or {})


@bp.post("/contributions")
def create_contribution() -> Response:
    body = read_json()
    data = parse_feature(body, _limits())
    key = idempotency_key()
    digest = idempotency.request_digest(request.method, request.path, request.get_data())
    secret = current_app.config["SECRET_KEY"]
    with transaction() as session:
        if key and (answer := idempotency.find(session, "contribution", key, digest)):
            return _created(answer.body, answer.resource_id, edit_token(secret, key), True)
        limit_client(session, "contribute")
        # Within a participation process: its area, period and categories (dialogue part).
        process_id, visibility = None, "published"
        if body["properties"].get("process") is not None:
            process_id, visibility = processes.admit(session, body["properties"]["process"], data)
        created = service.create(
            session,
            data,
            process_id=process_id,
            visibility=visibility,
            edit_token=edit_token(secret, key) if key else None,
        )
        response = _created(created.feature, created.id, created.edit_token)
        if key:
            answer = idempotency.Answer(201, response.location, created.feature, created.id)
            idempotency.remember(session, "contribution", key, digest, answer)
    return response


def _created(feature: str, ident, token: str, replayed: bool = False) -> Response:
    """201 with the Feature plus its edit token and private link (shown only in this answer;
    we keep just the token's hash)."""
    location = url_for("api.get_contribution", contribution_id=ident)
    edit_url = url_for("public.edit", contribution_id=ident) + f"#token={token}"
    body = (
        feature[:-1] + f', "edit_token": {json.dumps(token)}, "edit_url": {json.dumps(edit_url)}}}'
    )
    headers = {"Location": location, "Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _geojson(body, 201, headers)


@bp.get("/contributions")
def list_contributions() -> Response:
    settings = current_app.config["KAART"]
    args = Params(request.args)
    query = contributions.Query(
        bbox=args.bbox("bbox"),
        categories=args.choices("category", CATEGORIES),
        near=args.lonlat("near"),
        radius_m=args.number("radius", 1, contributions.NEAR_RADIUS_MAX_M, 50.0),
        limit=_limit(args, settings.page_default, settings.page_max),
        cursor=_cursor(args),
    )
    args.done()
    return _collection(contributions.page(get_session(), query))


def _limit(args: Params, default: int, high: int) -> int:
    return args.integer("limit", 1, high, default, range_code="limit_invalid")


def _cursor(args: Params) -> paging.Cursor | None:
    raw = args.raw("cursor")
    return paging.decode(raw) if raw else None


def _collection(page: paging.Page) -> Response:
    """A page of Features (JSON texts made by PostGIS) with self/next links and a Link header."""
    links = [{"rel": "self", "type": GEOJSON, "href": request.full_path.rstrip("?")}]
    headers = {}
    if page.next:
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        href = f"{request.path}?{urlencode([*params, ('cursor', paging.encode(page.next))])}"
        links.append({"rel": "next", "type": GEOJSON, "href": href})
        headers["Link"] = f'<{href}>; rel="next"'
    body = (
        '{"type": "FeatureCollection", "features": ['
        + ",".join(page.features)
        + f'], "numberReturned": {len(page.features)}, "links": {json.dumps(links)}}}'
    )
    return _geojson(body, headers=headers)


@bp.get("/contributions/<contribution_id>")
def get_contribution(contribution_id: str) -> Response:
    return _geojson(contributions.feature(get_session(), _uuid(contribution_id)))


@bp.patch("/contributions/<contribution_id>")
def patch_contribution(contribution_id: str) -> Response:
    ident = _uuid(contribution_id)
    data = parse_feature(read_json(), _limits(), partial=True)
    with transaction() as session:
        changed = service.update(session, ident, bearer_token(), data)
        limit_client(session, "edit")
    return _geojson(changed)


@bp.delete("/contributions/<contribution_id>")
def delete_contribution(contribution_id: str) -> Response:
    with transaction() as session:
        service.withdraw(session, _uuid(contribution_id), bearer_token())
        limit_client(session, "edit")
    return Response(status=204)


@bp.get("/buurten")
def list_buurten() -> Response:
    args = Params(request.args)
    bbox = args.bbox("bbox")
    args.done()
    return _geojson(layers.buurten(get_session(), bbox))


# -- Open layers: the catalogue and small selections of features ------------------------------


@bp.get("/layers")
def list_layers() -> Response:
    entries = layers.catalogue_entries(get_session(), with_contributions=True)
    return Response(
        json.dumps({"layers": entries}, ensure_ascii=False), mimetype="application/json"
    )


@bp.get("/layers/<layer>/features")
def list_layer_features(layer: str) -> Response:
    settings = current_app.config["KAART"]
    args = Params(request.args)
    query = layers.Query(
        bbox=args.bbox("bbox"),
        limit=_limit(args, settings.page_default, settings.page_max),
        cursor=_cursor(args),
    )
    if query.bbox is None and not args.errors:
        args.fail("bbox", "bbox is required: minLon,minLat,maxLon,maxLat (WGS84).", "bbox_missing")
    args.done()
    session = get_session()
    return _collection(layers.page(session, _open_layer(session, layer), query))


def _open_layer(session, name: str) -> layers.Layer:
    if name == contributions.TILE_LAYER:
        raise NotFound("Layer 'contributions' (contributions are served by /api/v1/contributions)")
    return layers.find(session, name)


@bp.get("/layers/<layer>/features/<feature_id>")
def get_layer_feature(layer: str, feature_id: str) -> Response:
    """One object of an open layer, e.g. the BAG pand a contribution is about."""
    session = get_session()
    return _geojson(layers.feature(session, _open_layer(session, layer), feature_id))
