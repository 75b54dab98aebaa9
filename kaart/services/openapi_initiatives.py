"""The OpenAPI operations and schemas of /api/v1/initiatives and /api/v1/adoptions, built from
the models' constants so the description follows the code."""

from __future__ import annotations

from typing import Any

from kaart.models.adoption import FREQUENCIES
from kaart.models.initiative import (
    DESCRIPTION_MAX,
    NAME_MAX,
    NEED_DESCRIPTION_MAX,
    NEED_KINDS,
    STATUSES,
    TITLE_MAX,
    UNIT_MAX,
)
from kaart.services.initiative_input import NEEDS_MAX

JSON = "application/json"
GEOJSON = "application/geo+json"
_UUID = {"type": "string", "format": "uuid"}
_DATE = {"type": "string", "format": "date"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _ok(status: str, media: str, schema: str, description: str) -> dict[str, Any]:
    return {status: {"description": description, "content": {media: {"schema": _ref(schema)}}}}


def operations(page_max: int = 1000, page_default: int = 100) -> dict[tuple[str, str], Any]:
    limit = _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": page_max, "default": page_default},
        "Features per page.",
    )
    return {
        ("api.list_initiatives", "get"): {
            "summary": "Public resident initiatives, newest first (status, needs, how many joined)",
            "parameters": [
                _query("status", {"type": "string"}, f"Comma-separated: {', '.join(STATUSES)}."),
                _query("need", {"type": "string"}, f"Has an open need: {', '.join(NEED_KINDS)}."),
                _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat (WGS84)."),
                limit,
                _query("cursor", {"type": "string"}, "Where the page starts: from a next link."),
            ],
            "responses": _ok("200", GEOJSON, "InitiativeCollection", "A page of initiatives"),
        },
        ("api.get_initiative", "get"): {
            "summary": "One public initiative",
            "responses": _ok("200", GEOJSON, "Initiative", "The initiative"),
        },
        ("api.create_initiative", "post"): {
            "summary": "Start an initiative (the private link is shown only now)",
            "requestBody": {
                "required": True,
                "content": {
                    GEOJSON: {"schema": _ref("InitiativeInput")},
                    JSON: {"schema": _ref("InitiativeInput")},
                },
            },
            "responses": _ok("201", GEOJSON, "Initiative", "Started"),
        },
        ("api.join_initiative", "post"): {
            "summary": "Join an initiative (a first name or alias; an address for news)",
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": _ref("JoinInput")}},
            },
            "responses": _ok("201", JSON, "Joined", "Joined: how many take part now"),
        },
        ("api.list_adoptions", "get"): {
            "summary": "Current accepted adoptions of public space (group name, start, end)",
            "responses": _ok("200", GEOJSON, "AdoptionCollection", "The adoptions"),
        },
    }


def schemas() -> dict[str, Any]:
    need = {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": list(NEED_KINDS)},
            "description": {"type": "string", "maxLength": NEED_DESCRIPTION_MAX},
            "amount": {
                "type": "number",
                "exclusiveMinimum": True,
                "minimum": 0,
                "maximum": 999_999_999,
                "nullable": True,
            },
            "unit": {"type": "string", "maxLength": UNIT_MAX, "nullable": True},
        },
    }
    public_need = {**need, "required": ["kind", "fulfilled"], "additionalProperties": True}
    properties = {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "buurt": {"type": "string", "nullable": True},
        "start_date": {**_DATE, "nullable": True},
        "participants": {"type": "integer", "minimum": 0, "description": "How many joined"},
        "needs": {"type": "array", "items": _ref("Need")},
        "contribution": {**_UUID, "nullable": True},
        "object_layer": {"type": "string", "nullable": True},
        "object_id": {"type": "string", "nullable": True},
    }
    initiative = {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _UUID,
            "geometry": {"type": "object"},
            "properties": {
                "type": "object",
                "required": ["title", "status", "participants", "needs"],
                "properties": properties,
            },
        },
    }
    initiative_input = {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {
                "type": "object",
                "nullable": True,
                "description": "Null when contribution or object gives the place",
            },
            "properties": {
                "type": "object",
                "required": ["title"],
                "additionalProperties": False,
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
                    "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
                    "needs": {"type": "array", "maxItems": NEEDS_MAX, "items": _ref("NeedInput")},
                    "email": {"type": "string", "format": "email", "writeOnly": True},
                    "start_date": _DATE,
                    "contribution": _UUID,
                    "object": {
                        "type": "object",
                        "required": ["layer", "id"],
                        "properties": {"layer": {"type": "string"}, "id": {"type": "string"}},
                    },
                },
            },
        },
    }
    adoption = {
        "type": "object",
        "properties": {
            "group_name": {"type": "string"},
            "activities": {"type": "string"},
            "frequency": {"type": "string", "enum": list(FREQUENCIES)},
            "start_date": _DATE,
            "end_date": {**_DATE, "nullable": True},
            "layer": {"type": "string"},
            "feature_id": {"type": "string"},
        },
    }
    return {
        "NeedInput": need,
        "Need": public_need,
        "Initiative": initiative,
        "InitiativeInput": initiative_input,
        "InitiativeCollection": {
            "type": "object",
            "required": ["type", "features"],
            "example": {"type": "FeatureCollection", "features": []},
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": _ref("Initiative")},
                "numberReturned": {"type": "integer", "minimum": 0},
                "links": {"type": "array", "items": {"type": "object"}},
            },
        },
        "JoinInput": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
                "email": {"type": "string", "format": "email", "writeOnly": True},
            },
        },
        "Joined": {
            "type": "object",
            "required": ["status", "participants"],
            "properties": {
                "status": {"type": "string", "enum": ["joined"]},
                "participants": {"type": "integer", "minimum": 1},
            },
        },
        "AdoptionCollection": {
            "type": "object",
            "required": ["type", "features"],
            # Short, so the documentation's example fits a phone's width.
            "example": {"type": "FeatureCollection", "features": []},
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"properties": adoption}},
                },
            },
        },
    }
