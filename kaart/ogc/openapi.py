"""The OpenAPI 3.0 definition of /ogc, made from the collections and parameters the code serves."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kaart import crs
from kaart.ogc import collections
from kaart.ogc.items import LIMIT_DEFAULT, LIMIT_MAX

JSON_BODY = {"schema": {"type": "object"}}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict:
    return (
        {
            "name": name,
            "in": where,
            "required": where == "path",
            "description": description,
            "schema": schema,
            "style": "form",
            "explode": False,
        }
        if where == "query"
        else {
            "name": name,
            "in": where,
            "required": True,
            "description": description,
            "schema": schema,
        }
    )


F = _param(
    "f",
    "Output format (else the Accept header decides).",
    {"type": "string", "enum": ["json", "html"]},
)
CRS = _param("crs", "CRS of the coordinates in the answer.", {"type": "string", "enum": crs.URIS})


def _responses(media: str, description: str) -> dict[str, Any]:
    problem = {"application/problem+json": JSON_BODY, "text/html": {}}  # HTML with f=html
    return {
        "200": {"description": description, "content": {media: JSON_BODY, "text/html": {}}},
        "400": {"description": "A query parameter is wrong.", "content": problem},
        "404": {"description": "No such collection or feature.", "content": problem},
    }


# Shared parameters by reference, as the OGC API – Features OpenAPI fragments define them
# (clients such as GDAL read the page size they may ask for from components/parameters/limit).
LIMIT = _param(
    "limit",
    "Features per page.",
    {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
)


def document(session: Session, base_url: str) -> dict[str, Any]:
    found = collections.all_collections(session)
    ids = [c.id for c in found]
    filters = sorted({name for c in found for name in c.filters})
    collection_id = _param("collectionId", "A collection.", {"type": "string", "enum": ids}, "path")
    items_params = [
        collection_id,
        F,
        CRS,
        _param(
            "bbox",
            "minX,minY,maxX,maxY in bbox-crs (EPSG:4326: minLat,minLon,maxLat,maxLon).",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        _param("bbox-crs", "CRS of bbox (default CRS84).", {"type": "string", "enum": crs.URIS}),
        {"$ref": "#/components/parameters/limit"},
        _param(
            "datetime",
            "RFC 3339 instant or interval (contributions: created_at).",
            {"type": "string"},
        ),
        _param(
            "cursor", "Where a page starts; take it from a next or prev link.", {"type": "string"}
        ),
        *(
            _param(
                name,
                f"Only features whose {name} is one of these (comma-separated).",
                {"type": "string"},
            )
            for name in filters
        ),
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Wijkkaart – OGC API Features",
            "version": "1.0.0",
            "description": "Contributions and open data layers (Part 1 Core, Part 2 CRS).",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": base_url}],
        "components": {"parameters": {"limit": LIMIT}},
        "paths": {
            "/": {
                "get": {
                    "summary": "Landing page",
                    "operationId": "getLandingPage",
                    "parameters": [F],
                    "responses": _responses("application/json", "Links"),
                }
            },
            "/conformance": {
                "get": {
                    "summary": "Conformance classes",
                    "operationId": "getConformance",
                    "parameters": [F],
                    "responses": _responses("application/json", "Classes"),
                }
            },
            "/collections": {
                "get": {
                    "summary": "The collections",
                    "operationId": "getCollections",
                    "parameters": [F],
                    "responses": _responses("application/json", "Collections"),
                }
            },
            "/collections/{collectionId}": {
                "get": {
                    "summary": "One collection",
                    "operationId": "describeCollection",
                    "parameters": [collection_id, F],
                    "responses": _responses("application/json", "The collection"),
                }
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "summary": "Features of a collection, keyset-paged",
                    "operationId": "getFeatures",
                    "parameters": items_params,
                    "responses": _responses("application/geo+json", "A FeatureCollection"),
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "One feature",
                    "operationId": "getFeature",
                    "parameters": [
                        collection_id,
                        _param("featureId", "The feature's id.", {"type": "string"}, "path"),
                        F,
                        CRS,
                    ],
                    "responses": _responses("application/geo+json", "A Feature"),
                }
            },
        },
    }
