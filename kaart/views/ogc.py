"""OGC API – Features under /ogc: landing page, conformance, collections, items, item.

JSON (GeoJSON for features) or HTML, by `f=json|html` or else the Accept header. Coordinates are
CRS84 unless `crs` asks for EPSG:4326 (latitude first) or EPSG:28992; `Content-Crs` says which.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for
from sqlalchemy.orm import Session

from kaart import conditional, crs
from kaart.db import get_read_session
from kaart.errors import BadRequest
from kaart.i18n import translate as _
from kaart.models.contribution import CATEGORIES
from kaart.ogc import collections, items, openapi, sources
from kaart.ogc.items import check_known, crs_param
from kaart.providers import contributions, paging, versions

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


# The HTML pages show the JSON documents; these fixed English texts of them are told in the
# page's language there (the JSON keeps them as they are, for programs).
_LINK_TEXTS = {
    "This document": "standards.ogc.link.self",
    "This document as JSON": "standards.ogc.link.json",
    "This document as HTML": "standards.ogc.link.html",
    "Features as GeoJSON": "standards.ogc.link.items_json",
    "Features as HTML": "standards.ogc.link.items_html",
    "Source": "standards.ogc.link.source",
    "The next page": "standards.ogc.link.next",
    "The prev page": "standards.ogc.link.prev",
    "The API definition": "standards.ogc.link.api",
    "The API documentation": "standards.ogc.link.api_docs",
    "Conformance classes": "standards.ogc.conformance",
    "The collections": "standards.ogc.link.collections",
    contributions.TITLE: "standards.ogc.contributions.title",
}


@bp.app_template_filter("ogc_link")
def _link_text(title: str | None) -> str | None:
    key = _LINK_TEXTS.get(title or "")
    return _(key) if key else title


@bp.app_template_global("ogc_collection_text")
def _collection_text(c: dict[str, Any], field: str) -> str:
    """A collection's title or description on an HTML page, in the page's language."""
    if c.get("id") == collections.CONTRIBUTIONS:
        if field == "title":
            return _("standards.ogc.contributions.title")
        names = ", ".join(_(f"category.{category}") for category in CATEGORIES)
        return _("standards.ogc.contributions.description", categories=names)
    if c.get("id") in sources.registered():  # initiatives, commitments: their own words
        return _(f"standards.ogc.{c['id']}.{field}")
    if field == "title":
        return c.get("title") or c.get("id", "")
    return _("standards.ogc.layer.description", title=c.get("title") or c.get("id", ""))


@bp.app_template_global("ogc_value")
def _value_text(collection_id: str, key: str, value: Any) -> Any:
    """A contribution's category or status as words, not as its code."""
    if collection_id == collections.CONTRIBUTIONS and key in ("category", "status") and value:
        return _(f"{key}.{value}")
    return value


JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


def _format(data_type: str = JSON) -> str:
    """`html` or `json`: `f` wins, else the best match of the Accept header (JSON for */*)."""
    asked = request.args.get("f")
    if asked:
        if asked not in ("json", "html"):
            raise BadRequest("f must be json or html.", "f", "format_unknown")
        return asked
    best = request.accept_mimetypes.best_match([data_type, JSON, HTML], default=data_type)
    return "html" if best == HTML else "json"


def _check_metadata_args() -> None:
    """Clients such as GDAL repeat the `crs` a user gave on every request, metadata included:
    accept a valid one there; anything else unknown is a 400 (Part 1)."""
    check_known(request.args, ("crs",))
    crs_param(request.args)


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _self_links(endpoint: str, data_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    fmt = _format(data_type)
    own, other = (HTML, data_type) if fmt == "html" else (data_type, HTML)
    return [
        _link(
            _url(endpoint, f="html" if own == HTML else "json", **values),
            "self",
            own,
            "This document",
        ),
        _link(
            _url(endpoint, f="html" if other == HTML else "json", **values),
            "alternate",
            other,
            "This document as " + ("HTML" if other == HTML else "JSON"),
        ),
    ]


def _respond(body: dict[str, Any], page: str) -> Response:
    if _format() == "html":
        return Response(render_template(f"ogc/{page}.html", doc=body), mimetype=HTML)
    return Response(json.dumps(body, ensure_ascii=False), mimetype=JSON)


@bp.get("/")
def landing() -> Response:
    _check_metadata_args()
    links = [
        *_self_links("ogc.landing"),
        _link(_url("ogc.api_definition", f="json"), "service-desc", OPENAPI, "The API definition"),
        _link(_url("ogc.api_definition", f="html"), "service-doc", HTML, "The API documentation"),
        _link(_url("ogc.conformance"), "conformance", JSON, "Conformance classes"),
        _link(_url("ogc.list_collections"), "data", JSON, "The collections"),
    ]
    body = {
        "title": "Wijkkaart – OGC API Features",
        "description": (
            "Published contributions of residents and the open data layers of this Wijkkaart, "
            "in CRS84, EPSG:4326 or EPSG:28992 (RD New)."
        ),
        "links": links,
    }
    return _respond(body, "landing")


@bp.get("/api")
def api_definition() -> Response:
    _check_metadata_args()
    if _format(OPENAPI) == "html":
        return Response(
            render_template(
                "apidocs.html",
                spec_url=_url("ogc.api_definition", f="json"),
                title=_("standards.ogc.name"),
            ),
            mimetype=HTML,
        )
    document = openapi.document(get_read_session(), _url("ogc.landing").rstrip("/"))
    return Response(json.dumps(document, ensure_ascii=False), mimetype=OPENAPI)


@bp.get("/conformance")
def conformance() -> Response:
    _check_metadata_args()
    return _respond(
        {"conformsTo": CONFORMANCE, "links": _self_links("ogc.conformance")}, "conformance"
    )


def _collection_body(collection: collections.Collection) -> dict[str, Any]:
    ident = collection.id
    body = collection.describe()
    body["links"] = [
        _link(
            _url("ogc.collection", collection_id=ident, f="json"), "self", JSON, collection.title
        ),
        _link(
            _url("ogc.collection", collection_id=ident, f="html"),
            "alternate",
            HTML,
            collection.title,
        ),
        _link(
            _url("ogc.list_items", collection_id=ident, f="json"),
            "items",
            GEOJSON,
            "Features as GeoJSON",
        ),
        _link(
            _url("ogc.list_items", collection_id=ident, f="html"), "items", HTML, "Features as HTML"
        ),
    ]
    if collection.licence:
        body["links"].append(_link(collection.source or "", "describedby", HTML, "Source"))
    return body


@bp.get("/collections")
def list_collections() -> Response:
    _check_metadata_args()
    found = collections.all_collections(get_read_session())
    body = {
        "links": _self_links("ogc.list_collections"),
        "collections": [_collection_body(c) for c in found],
        "crs": crs.URIS,
    }
    return _respond(body, "collections")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    _check_metadata_args()
    return _respond(
        _collection_body(collections.find(get_read_session(), collection_id)), "collection"
    )


@bp.get("/collections/<collection_id>/items")
def list_items(collection_id: str) -> Response:
    session = get_read_session()
    if _format(GEOJSON) == "html":  # a page for people, in their language: built every time
        return _items(session, collection_id)
    # Weak: the same items under another timeStamp. The links name the scheme and host asked
    # for (in request.url); without `f`, the Accept header chose JSON.
    tag = versions.etag(items.version(session, collection_id), request.url)
    return conditional.answer(
        tag,
        conditional.REVALIDATE,
        lambda: _items(session, collection_id),
        weak=True,
        vary="Accept",
    )


def _items(session: Session, collection_id: str) -> Response:
    """A page of the collection's items as GeoJSON or as an HTML page (`f` or Accept)."""
    found = collections.find(session, collection_id)
    page, out = items.items(session, found, request.args)
    links = _self_links("ogc.list_items", GEOJSON, collection_id=collection_id, **_kept_args())
    media = HTML if _format(GEOJSON) == "html" else GEOJSON
    for rel, cursor in (("next", page.next), ("prev", page.prev)):
        if cursor is not None:
            query_args = [*_kept_args(True).items(), ("cursor", paging.encode(cursor))]
            href = f"{request.base_url}?{urlencode(query_args)}"
            links.append(_link(href, rel, media, f"The {rel} page"))
    links.append(
        _link(_url("ogc.collection", collection_id=collection_id), "collection", JSON, found.title)
    )
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "numberReturned": len(page.features),
            **({"numberMatched": page.matched} if page.matched is not None else {}),
            "links": links,
        },
        ensure_ascii=False,
    )
    headers = {"Content-Crs": crs.header(out)}
    if media == HTML:
        doc = json.loads(head) | {
            "features": [json.loads(f) for f in page.features],
            "collection": found.describe(),
            "lonlat": out.uri == crs.CRS84,  # the page's map draws longitude/latitude
        }
        return Response(render_template("ogc/items.html", doc=doc), mimetype=HTML, headers=headers)
    body = head[:-1] + ', "features": [' + ",".join(page.features) + "]}"
    return Response(body, mimetype=GEOJSON, headers=headers)


def _kept_args(with_f: bool = False) -> dict[str, str]:
    """The request's parameters a self/next/prev link keeps (not the cursor; `f` only if asked)."""
    kept = {k: v for k, v in request.args.items() if k not in ("cursor", "f")}
    if with_f and request.args.get("f"):
        kept["f"] = request.args["f"]
    return kept


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def get_item(collection_id: str, feature_id: str) -> Response:
    check_known(request.args, ("crs",))
    session = get_read_session()
    found = collections.find(session, collection_id)
    query_crs = crs_param(request.args)
    feature = items.item(session, found, feature_id, query_crs)
    crs_args = {"crs": request.args["crs"]} if request.args.get("crs") else {}
    links = [
        *_self_links(
            "ogc.get_item", GEOJSON, collection_id=collection_id, feature_id=feature_id, **crs_args
        ),
        _link(_url("ogc.collection", collection_id=collection_id), "collection", JSON, found.title),
    ]
    headers = {"Content-Crs": crs.header(query_crs)}
    if _format(GEOJSON) == "html":
        doc = json.loads(feature) | {
            "links": links,
            "collection": found.describe(),
            "lonlat": query_crs.uri == crs.CRS84,
        }
        return Response(render_template("ogc/item.html", doc=doc), mimetype=HTML, headers=headers)
    body = feature[:-1] + f', "links": {json.dumps(links, ensure_ascii=False)}}}'
    return Response(body, mimetype=GEOJSON, headers=headers)
