"""Reading request bodies and writing answers, the same way for every /api/v1 route."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from kaart import conditional
from kaart.errors import BadRequest, FieldError, UnsupportedMediaType
from kaart.params import Params
from kaart.providers import paging, versions
from kaart.services.input import bad_json
from kaart.textcheck import request_json

GEOJSON = "application/geo+json"
JSON_TYPES = ("application/json", "application/geo+json")


def read_json() -> Any:
    """The request body as JSON, or a 4xx saying exactly what is wrong with it."""
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            "Send the body as application/json or application/geo+json.",
            errors=[
                FieldError("Content-Type", f"got {mimetype or 'nothing'}", "unsupported_media_type")
            ],
        )
    raw = request.get_data(cache=True)  # werkzeug enforces MAX_CONTENT_LENGTH here -> 413
    if not raw.strip():
        raise bad_json("The request body is empty; send a GeoJSON Feature.")
    return request_json()  # RFC 8259: JSON between systems is UTF-8; kaart/textcheck.py


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    body = read_json()
    if not isinstance(body, dict):
        reason = "Send a JSON object."
        raise BadRequest(reason, "body", "not_an_object")
    return body


def as_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, status=status, mimetype="application/json", headers=headers or {})


def geojson(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, mimetype=GEOJSON, headers=headers or {})


def limit(args: Params, default: int, high: int) -> int:
    return args.integer("limit", 1, high, default, range_code="limit_invalid")


def cursor(args: Params) -> paging.Cursor | None:
    raw = args.raw("cursor")
    return paging.decode(raw) if raw else None


def collection(page: paging.Page) -> Response:
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
    return geojson(body, headers=headers)


def versioned(version: str, build: Callable[[], Response]) -> Response:
    """`build()` with an ETag from `version` (read before the data, see
    kaart/providers/versions.py) and this request's path and query; 304 without `build()` when
    the client's copy is current."""
    tag = versions.etag(version, request.full_path)
    return conditional.answer(tag, conditional.REVALIDATE, build)
