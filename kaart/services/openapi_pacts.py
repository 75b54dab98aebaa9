"""The OpenAPI schemas and operations of /api/v1/pacts (the wijkpact), built from the model's
constants so the description follows the code."""

from __future__ import annotations

from typing import Any

from kaart.models.pact import NAME_MAX, PARTY_TYPES, THEMES, UPDATE_STATUSES

JSON = "application/json"
GEOJSON = "application/geo+json"
_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": "string", "nullable": True}
_UUID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("api.list_pacts", "get"): {
            "summary": "The published wijkpacten (neighbourhood pacts) with their parties",
            "responses": {
                "200": {
                    "description": "The pacts",
                    "content": {JSON: {"schema": _ref("PactList")}},
                }
            },
        },
        ("api.pact_commitments", "get"): {
            "summary": "A pact's commitments (afspraken) with status, party, due date, progress "
            "and the ids of the contributions they answer",
            "responses": {
                "200": {
                    "description": "The commitments as GeoJSON Features",
                    "content": {GEOJSON: {"schema": _ref("CommitmentCollection")}},
                }
            },
        },
    }


def schemas() -> dict[str, Any]:
    party = {
        "type": "object",
        "required": ["id", "name", "type", "logo"],
        "properties": {
            "id": _UUID,
            "name": {"type": "string", "maxLength": NAME_MAX},
            "type": {"type": "string", "enum": list(PARTY_TYPES)},
            "logo": {"type": "boolean", "description": "Whether /wijkpact/logo/{id} has a logo"},
        },
    }
    pact = {
        "type": "object",
        "required": ["slug", "title", "parties", "url", "commitments"],
        "properties": {
            "slug": _STRING,
            "title": _STRING,
            "description": _STRING,
            "area": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["buurt", "wijk", "polygon"]},
                    "code": _NULLABLE_STRING,
                },
            },
            "parties": {"type": "array", "items": _ref("Party")},
            "url": {"type": "string", "format": "uri"},
            "commitments": {"type": "string", "format": "uri"},
        },
    }
    properties = {
        "id": _UUID,
        "title": _STRING,
        "description": _STRING,
        "pact": _STRING,
        "pact_title": _STRING,
        "status": {"type": "string", "enum": list(UPDATE_STATUSES)},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True},
        "milestone": _NULLABLE_STRING,
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        "party": _STRING,
        "party_type": {"type": "string", "enum": list(PARTY_TYPES)},
        "supporting": {"type": "array", "items": _STRING},
        "theme": {"type": "string", "enum": list(THEMES)},
        "due": {"type": "string", "format": "date"},
        "overdue": {"type": "boolean"},
        "budget": {"type": "number", "nullable": True, "description": "Euros"},
        "contributions": {"type": "array", "items": _UUID},
        "initiatives": {"type": "array", "items": _UUID},
        "responses": {"type": "integer", "minimum": 0},
    }
    feature = {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _UUID,
            "geometry": {
                "type": "object",
                "nullable": True,
                "description": "The places: a GeometryCollection, or null when none",
            },
            "properties": {
                "type": "object",
                "required": ["status", "party", "due", "progress", "contributions"],
                "properties": properties,
            },
        },
    }
    return {
        "Party": party,
        "Pact": pact,
        "PactList": {
            "type": "object",
            "required": ["pacts"],
            "properties": {"pacts": {"type": "array", "items": _ref("Pact")}},
        },
        "Commitment": feature,
        "CommitmentCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": _ref("Commitment")},
            },
        },
    }
