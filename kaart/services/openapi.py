"""The OpenAPI 3 document of /api/v1, generated from the app's routes and the code's own rules.

Paths and methods come from the registered routes (a route added under /api/v1 appears by
itself); the schemas are built from the constants the checks use (categories, statuses, text
lengths, geometry types, page sizes, radius), so the document cannot drift from the validation.
Operations the code describes in OPERATIONS get parameters and typed answers; any other route
gets its path parameters and a problem+json error answer.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from kaart.config import Settings
from kaart.models.contribution import CATEGORIES
from kaart.providers.contributions import NEAR_RADIUS_MAX_M
from kaart.services import openapi_initiatives, openapi_pacts
from kaart.services.openapi_schemas import mail_schemas, schemas
from kaart.solar.estimate import AREA_MAX_M2

PREFIX = "/api/v1"
GEOJSON = "application/geo+json"
JSON = "application/json"
PROBLEM = "application/problem+json"
_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")

# The endpoints of the description itself (kaart/views/api/openapi.py).
SELF_ENDPOINTS = ("api.openapi_document", "api.docs")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _ok(status: str, media: str, schema: str, description: str) -> dict[str, Any]:
    return {status: {"description": description, "content": {media: {"schema": _ref(schema)}}}}


def operations(settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """What the code knows about each endpoint of the JSON API, by (endpoint, method)."""
    limit = _query(
        "limit",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": settings.page_max,
            "default": settings.page_default,
        },
        "Features per page.",
    )
    bbox = _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat (WGS84).")
    cursor = _query("cursor", {"type": "string"}, "Where the page starts: from a `next` link.")
    bearer = [{"editToken": []}]
    feature_body = {"required": True, "content": {GEOJSON: {"schema": _ref("ContributionInput")}}}
    return {
        ("api.create_contribution", "post"): {
            "summary": "Add a contribution",
            "requestBody": feature_body,
            "responses": _ok("201", GEOJSON, "Created", "Stored; the edit token is shown only now"),
        },
        ("api.list_contributions", "get"): {
            "summary": "Public contributions, newest first (or nearest first with near)",
            "parameters": [
                bbox,
                _query(
                    "category",
                    {"type": "string"},
                    f"Comma-separated categories: {', '.join(CATEGORIES)}.",
                ),
                _query("near", {"type": "string"}, "lon,lat (WGS84): contributions nearby."),
                _query(
                    "radius",
                    {"type": "number", "minimum": 1, "maximum": NEAR_RADIUS_MAX_M, "default": 50},
                    "Metres around near.",
                ),
                limit,
                cursor,
            ],
            "responses": _ok("200", GEOJSON, "FeatureCollection", "A page of contributions"),
        },
        ("api.get_contribution", "get"): {
            "summary": "One public contribution",
            "responses": _ok("200", GEOJSON, "Contribution", "The contribution"),
        },
        ("api.patch_contribution", "patch"): {
            "summary": "Change a contribution (with its edit token)",
            "security": bearer,
            "requestBody": {
                "required": True,
                "content": {GEOJSON: {"schema": _ref("ContributionPatch")}},
            },
            "responses": _ok("200", GEOJSON, "Contribution", "The changed contribution"),
        },
        ("api.delete_contribution", "delete"): {
            "summary": "Withdraw a contribution (with its edit token)",
            "security": bearer,
            "responses": {"204": {"description": "Withdrawn"}},
        },
        ("api.list_buurten", "get"): {
            "summary": "Buurt boundaries",
            "parameters": [bbox],
            "responses": _ok("200", GEOJSON, "FeatureCollection", "Buurten"),
        },
        ("api.list_layers", "get"): {
            "summary": "The catalogue of open layers",
            "responses": _ok("200", JSON, "Layers", "The catalogue"),
        },
        ("api.list_layer_features", "get"): {
            "summary": "A selection of a layer's features in a bbox",
            "parameters": [{**bbox, "required": True}, limit, cursor],
            "responses": _ok("200", GEOJSON, "FeatureCollection", "A page of features"),
        },
        ("api.get_layer_feature", "get"): {
            "summary": "One object of an open layer by its id (e.g. a BAG pand id)",
            "responses": {"200": {"description": "The object", "content": {GEOJSON: {}}}},
        },
        ("api.solar_estimate", "get"): {
            "summary": "Solar yield of one roof plane (pvlib model)",
            "parameters": [
                _number("lon", -180, 180, "Longitude (WGS84), in the Netherlands."),
                _number("lat", -90, 90, "Latitude (WGS84), in the Netherlands."),
                _number("tilt", 0, 90, "Roof slope in degrees (0 = flat)."),
                _number("azimuth", 0, 360, "Compass direction the plane faces (180 = south)."),
                _number("area_m2", 0.1, AREA_MAX_M2, "Area of the roof plane in m²."),
            ],
            "responses": {"200": {"description": "Irradiation, kWp, kWh per year, kWh/kWp"}},
        },
        ("api.solar_shortlist", "get"): {
            "summary": "Roofs in a buurt, PC4 or drawn polygon, best first, with totals",
            "parameters": [
                _query("buurt", {"type": "string"}, "A buurt code, e.g. BU0363SD03."),
                _query("pc4", {"type": "string", "pattern": "^[0-9]{4}$"}, "A PC4 area."),
                _query("polygon", {"type": "string"}, "A GeoJSON Polygon (WGS84)."),
                _query(
                    "format", {"type": "string", "enum": ["json", "csv", "gpkg"]}, "Answer format."
                ),
            ],
            "responses": _success("get"),
        },
        ("api.location_check", "get"): {
            "summary": "Whether a place drawn here is shown approximately (near a home)",
            "parameters": [
                _number("lon", -180, 180, "Longitude (WGS84), in the map's area."),
                _number("lat", -90, 90, "Latitude (WGS84), in the map's area."),
                _query(
                    "geometry",
                    {"type": "string"},
                    "A line or area as a GeoJSON geometry (WGS84), instead of lon and lat.",
                ),
            ],
            "responses": _ok("200", JSON, "LocationCheck", "How the public map would show it"),
        },
        ("api.search_addresses", "get"): {
            "summary": "Find an address or street in the loaded BAG addresses (best first)",
            "parameters": [
                _query(
                    "q",
                    {"type": "string", "minLength": 1, "maxLength": 100},
                    'A street with a number and place, a postcode with a number ("1381 AB 12"), '
                    "or the start of a street name.",
                    required=True,
                ),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 20, "default": 8},
                    "Answers at most.",
                ),
            ],
            "responses": {"200": {"description": "Addresses or streets as GeoJSON Features"}},
        },
        ("api.list_comments", "get"): {"summary": "The published comments of a contribution"},
        ("api.add_comment", "post"): {"summary": "Comment on a contribution (or reply)"},
        ("api.support", "post"): {"summary": "Support a contribution (once per person)"},
        ("api.report_contribution", "post"): {"summary": "Report a contribution to a moderator"},
        ("api.report_comment", "post"): {"summary": "Report a comment to a moderator"},
        ("api.history", "get"): {"summary": "The public history of a contribution"},
        ("api.private", "get"): {
            "summary": "The author's view of a contribution (with its edit token)",
            "security": bearer,
        },
        ("api.list_processes", "get"): {"summary": "Participation processes (trajecten)"},
        ("api.create_subscription", "post"): {
            "summary": "Follow a contribution, process, buurt or area by e-mail (double opt-in)",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Follow")}}},
            "responses": _ok("202", JSON, "Accepted", "A confirmation message is on its way"),
        },
        ("api.send_links", "post"): {
            "summary": "Mail the private links of an address's contributions (last 12 months)",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("LinksRequest")}}},
            "responses": _ok("202", JSON, "Accepted", "The same answer for any address"),
        },
        ("api.get_process", "get"): {"summary": "One participation process by its slug"},
        ("api.upload_photo", "post"): {"summary": "Add a photo to a contribution (edit token)"},
        ("api.list_photos", "get"): {"summary": "The public photos of a contribution"},
        ("api.delete_photo", "delete"): {"summary": "Remove a photo (with the edit token)"},
        ("api.solar_building", "get"): {
            "summary": "A building's stored solar potential, roof parts and offers"
        },
        ("api.get_postcoderoos", "get"): {
            "summary": "The PC4 area of a point (or pc4) and every adjacent PC4 area",
            "parameters": [
                _query("lon", {"type": "number"}, "Longitude (WGS84); with lat."),
                _query("lat", {"type": "number"}, "Latitude (WGS84); with lon."),
                _query("pc4", {"type": "string"}, "A PC4 code instead of a point."),
            ],
            "responses": {"200": {"description": "The PC4 areas", "content": {GEOJSON: {}}}},
        },
    }


def _number(name: str, low: float, high: float, description: str) -> dict[str, Any]:
    schema = {"type": "number", "minimum": low, "maximum": high}
    return _query(name, schema, description, required=True)


def _path_params(rule: str) -> list[dict[str, Any]]:
    params = []
    for name in _CONVERTER.findall(rule):
        schema: dict[str, Any] = {"type": "string"}
        if name.endswith("_id") and name != "feature_id":
            schema["format"] = "uuid"
        if name == "layer":
            schema["pattern"] = "^[a-z0-9][a-z0-9-]*$"  # layer names as the loader writes them
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _success(verb: str) -> dict[str, Any]:
    """Answers of a route the code does not describe further (its body is not specified)."""
    codes = {"post": ("200", "201", "204"), "delete": ("200", "204")}.get(verb, ("200", "204"))
    return {code: {"description": "Success"} for code in codes}


def document(app: Flask, settings: Settings) -> dict[str, Any]:
    known = operations(settings) | openapi_pacts.operations()
    known |= openapi_initiatives.operations(settings.page_max, settings.page_default)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX + "/") or rule.endpoint in SELF_ENDPOINTS:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule[len(PREFIX) :])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            verb = method.lower()
            described = known.get((rule.endpoint, verb), {})
            operation = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + verb,
                "summary": described.get("summary", rule.endpoint),
                "parameters": [*_path_params(rule.rule), *described.get("parameters", [])],
                "responses": {
                    **described.get("responses", _success(verb)),
                    "default": {
                        "description": "An error (RFC 9457 problem)",
                        "content": {PROBLEM: {"schema": _ref("Problem")}},
                    },
                },
            }
            for key in ("requestBody", "security"):
                if key in described:
                    operation[key] = described[key]
            paths.setdefault(path, {})[verb] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Wijkkaart JSON API",
            "version": "1",
            "description": "Contributions as GeoJSON Features, buurten and open layers. "
            "Errors are application/problem+json (RFC 9457).",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {
            "schemas": schemas(settings)
            | mail_schemas()
            | openapi_pacts.schemas()
            | openapi_initiatives.schemas(),
            "securitySchemes": {
                "editToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The private edit token",
                }
            },
        },
    }
