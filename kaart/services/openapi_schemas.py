"""The JSON Schemas of the /api/v1 document, built from the constants the checks use
(categories, statuses, text lengths, geometry types, page sizes), so they cannot drift."""

from __future__ import annotations

from typing import Any

from kaart.config import Settings
from kaart.geo import GEOMETRY_DEPTH
from kaart.mail.follow import RADIUS_MAX_M, RADIUS_MIN_M
from kaart.models.contribution import CATEGORIES, DESCRIPTION_MAX, STATUSES, TITLE_MAX
from kaart.models.mail import ADDRESS_MAX, FREQUENCIES, LANGUAGES
from kaart.models.participant import QUESTIONS
from kaart.providers.contribution_fields import AREA_CLASSES, LINE_CLASSES
from kaart.services.input import EDITABLE, OBJECT_REF_MAX, READ_ONLY

EMAIL = {
    "type": "string",
    "format": "email",
    "maxLength": ADDRESS_MAX,
    "description": "Optional, never published: the author gets the private link and, once they "
    "confirmed the address, a message on every status change (in the request's language).",
}


def mail_schemas() -> dict[str, Any]:
    """Following by e-mail and "Stuur mijn links" (kaart/mail/)."""
    language = {"type": "string", "enum": list(LANGUAGES)}
    return {
        "Follow": {
            "type": "object",
            "required": ["email"],
            "description": "Exactly one of contribution, process, buurt, area or near.",
            "properties": {
                "email": {"type": "string", "format": "email", "maxLength": ADDRESS_MAX},
                "language": language,
                "frequency": {"type": "string", "enum": list(FREQUENCIES)},
                "contribution": {"type": "string", "format": "uuid"},
                "process": {"type": "string", "description": "The process's slug or id"},
                "buurt": {"type": "string", "description": "A CBS buurt code (BU…)"},
                "area": {"$ref": "#/components/schemas/Geometry"},
                "near": {
                    "type": "object",
                    "required": ["lon", "lat", "radius"],
                    "properties": {
                        "lon": {"type": "number"},
                        "lat": {"type": "number"},
                        "radius": {
                            "type": "number",
                            "minimum": RADIUS_MIN_M,
                            "maximum": RADIUS_MAX_M,
                        },
                    },
                },
            },
        },
        "LinksRequest": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": {"type": "string", "format": "email", "maxLength": ADDRESS_MAX},
                "language": language,
            },
        },
        "Accepted": {
            "type": "object",
            "required": ["status", "detail"],
            "properties": {"status": {"type": "string"}, "detail": {"type": "string"}},
        },
    }


def schemas(settings: Settings) -> dict[str, Any]:
    text_props = {
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "object": {
            "type": "object",
            "nullable": True,
            "required": ["layer", "id"],
            "properties": {
                key: {"type": "string", "minLength": 1, "maxLength": OBJECT_REF_MAX}
                for key in ("layer", "id")
            },
        },
    }
    # Every property the checks accept: typed where this module knows its rule, else any value.
    editable = {name: text_props.get(name, {}) for name in EDITABLE}
    read_only = {name: {"readOnly": True} for name in READ_ONLY}
    return {
        "Geometry": {
            "type": "object",
            "required": ["type", "coordinates"],
            "description": "WGS84 longitude/latitude (RFC 7946).",
            "properties": {
                "type": {"type": "string", "enum": list(GEOMETRY_DEPTH)},
                "coordinates": {"type": "array"},
            },
        },
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason", "code"],
                        "properties": {k: {"type": "string"} for k in ("field", "reason", "code")},
                    },
                },
            },
        },
        "ContributionInput": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": {"$ref": "#/components/schemas/Geometry"},
                "participant": {
                    "type": "object",
                    "nullable": True,
                    "description": "Optional, anonymous answers about who takes part, only for "
                    "a process that asks them (422 participant_not_asked otherwise). Stored "
                    "apart from the contribution and never returned; null or a left-out "
                    "answer means rather not say.",
                    "properties": {
                        name: {"type": "string", "nullable": True, "enum": [*choices, None]}
                        for name, choices in QUESTIONS.items()
                    },
                    "additionalProperties": False,
                },
                "properties": {
                    "type": "object",
                    "required": ["category", "title"],
                    "properties": editable | read_only | {"email": EMAIL},
                    "additionalProperties": False,
                },
            },
        },
        "ContributionPatch": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": {"$ref": "#/components/schemas/Geometry"},
                "properties": {
                    "type": "object",
                    "properties": editable | read_only,
                    "additionalProperties": False,
                },
            },
        },
        "Contribution": {
            "type": "object",
            "required": ["type", "id", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "string", "format": "uuid"},
                "geometry": {"$ref": "#/components/schemas/Geometry"},
                "properties": {
                    "type": "object",
                    "required": ["category", "title", "status"],
                    "properties": {
                        "category": text_props["category"],
                        "title": text_props["title"],
                        "description": text_props["description"],
                        "status": {"type": "string", "enum": list(STATUSES)},
                        "location": {
                            "type": "string",
                            "enum": ["exact", "approximate"],
                            "description": "approximate: near a home, the geometry is the "
                            "centre of its grid cell in RD New (location privacy)",
                        },
                        "size_class": {
                            "type": "string",
                            "nullable": True,
                            "enum": [label for _bound, label in LINE_CLASSES + AREA_CLASSES],
                            "description": "Instead of length_m or area_m2 when approximate",
                        },
                    },
                },
            },
        },
        "LocationCheck": {
            "type": "object",
            "required": ["approximate", "cell_m", "distance_m"],
            "properties": {
                "approximate": {"type": "boolean"},
                "cell_m": {"type": "number", "description": "Grid cell size in metres"},
                "distance_m": {"type": "number", "description": "Distance to a home in metres"},
            },
        },
        "Created": {
            "allOf": [
                {"$ref": "#/components/schemas/Contribution"},
                {
                    "type": "object",
                    "required": ["edit_token", "edit_url"],
                    "properties": {
                        "edit_token": {"type": "string"},
                        "edit_url": {"type": "string"},
                    },
                },
            ]
        },
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {
                    "type": "array",
                    "maxItems": settings.page_max,
                    "items": {"type": "object"},
                },
                "numberReturned": {"type": "integer", "minimum": 0},
                "links": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Layers": {
            "type": "object",
            "required": ["layers"],
            "properties": {
                "layers": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name", "title"]},
                }
            },
        },
    }
