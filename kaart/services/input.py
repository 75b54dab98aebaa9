"""Turn a parsed GeoJSON Feature into checked contribution fields, or refuse it with the reason."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from shapely.geometry.base import BaseGeometry

from kaart.errors import ApiError, invalid
from kaart.geo import Limits, check_crs, parse_geometry
from kaart.models.contribution import CATEGORIES, DESCRIPTION_MAX, TITLE_MAX
from kaart.providers.contributions import FEATURE_PROPERTIES
from kaart.textcheck import CONTROL

EDITABLE = ("category", "title", "description", "object")
# Returned by the API; a client may send them back unchanged in a PATCH, and they are ignored.
READ_ONLY = tuple(name for name in FEATURE_PROPERTIES if name not in EDITABLE)
# Sent with a new contribution only, never returned (kaart/mail/: the author's address).
WRITE_ONCE = ("email",)
# C0 control characters other than tab, newline and carriage return, DEL and C1 (textcheck.py).
_CONTROL = CONTROL


OBJECT_REF_MAX = 100


@dataclass(frozen=True)
class ObjectRef:
    """The open-data object a contribution is about: a layer name and the feature's id there."""

    layer: str
    id: str


# In a PATCH, `"object": null` detaches the contribution from its object.
DETACH = ObjectRef("", "")


@dataclass(frozen=True)
class ContributionInput:
    """Checked fields; None means "not given" (only allowed when patching)."""

    category: str | None = None
    title: str | None = None
    description: str | None = None
    geom: BaseGeometry | None = None
    object: ObjectRef | None = None

    def is_empty(self) -> bool:
        values = (self.category, self.title, self.description, self.geom, self.object)
        return all(v is None for v in values)


def parse_feature(body: Any, limits: Limits, *, partial: bool = False) -> ContributionInput:
    """Check a Feature for a new contribution, or (``partial``) the parts of one being changed."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise invalid(
            "type",
            "The body must be a GeoJSON Feature: "
            '{"type": "Feature", "geometry": …, "properties": …}.',
            "not_a_feature",
        )
    check_crs(body, "")
    props = body.get("properties")
    if props is None and partial:
        props = {}
    if not isinstance(props, dict):
        raise invalid("properties", "properties must be an object.", "properties_not_object")
    if partial and "email" in props:
        reason = "An e-mail address can only be given with a new contribution."
        raise invalid("properties.email", reason, "email_not_editable")
    known = (*EDITABLE, *READ_ONLY, *WRITE_ONCE)
    unknown = sorted(k for k in props if k not in known)
    if unknown:
        raise invalid(
            f"properties.{unknown[0][:40]}",
            f"Unknown property {unknown[0][:40]!r}; a contribution has {', '.join(EDITABLE)}.",
            "unknown_property",
        )
    geom = None
    if not partial or body.get("geometry") is not None:
        geom = parse_geometry(body.get("geometry"), limits)
    fields = ContributionInput(
        category=_category(props, partial),
        title=_text(props, "title", TITLE_MAX, required=not partial, single_line=True),
        description=_text(props, "description", DESCRIPTION_MAX, required=False, single_line=False),
        geom=geom,
        object=_object(props, partial),
    )
    if partial and fields.is_empty():
        raise invalid(
            "body", "Nothing to change: send geometry and/or properties.", "nothing_to_change"
        )
    if not partial and fields.description is None:
        fields = replace(fields, description="")
    return fields


def _object(props: dict[str, Any], partial: bool) -> ObjectRef | None:
    if "object" not in props:
        return None
    value = props["object"]
    if value is None:
        return DETACH if partial else None
    if not isinstance(value, dict):
        raise invalid(
            "properties.object",
            'object must be {"layer": "<layer name>", "id": "<feature id>"} or null.',
            "object_invalid",
        )
    parts = {}
    for key in ("layer", "id"):
        part = value.get(key)
        if not isinstance(part, str) or not part.strip() or len(part) > OBJECT_REF_MAX:
            raise invalid(
                f"properties.object.{key}",
                f"object.{key} must be text of 1 to {OBJECT_REF_MAX} characters.",
                "object_invalid",
            )
        parts[key] = part.strip()
    return ObjectRef(parts["layer"], parts["id"])


def _category(props: dict[str, Any], partial: bool) -> str | None:
    value = props.get("category")
    if value is None and partial:
        return None
    if value not in CATEGORIES:
        shown = "missing" if value is None else repr(str(value)[:40])
        raise invalid(
            "properties.category",
            f"Category is {shown}; choose one of {', '.join(CATEGORIES)}.",
            "category_unknown" if value is not None else "category_missing",
        )
    return value


def _text(
    props: dict[str, Any], name: str, max_length: int, *, required: bool, single_line: bool
) -> str | None:
    field = f"properties.{name}"
    value = props.get(name)
    if value is None:
        if required:
            raise invalid(field, f"{name.capitalize()} is required.", f"{name}_missing")
        return None
    if not isinstance(value, str):
        raise invalid(field, f"{name.capitalize()} must be text.", f"{name}_not_text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid(
            field, f"{name.capitalize()} is not valid Unicode text.", "text_not_unicode"
        ) from exc
    if _CONTROL.search(value) or (single_line and ("\n" in value or "\r" in value)):
        raise invalid(
            field, f"{name.capitalize()} contains control characters.", "text_control_chars"
        )
    if single_line:
        value = value.strip()
        if required and not value:
            raise invalid(field, f"{name.capitalize()} is required.", f"{name}_missing")
    if len(value) > max_length:
        raise invalid(
            field,
            f"{name.capitalize()} is {len(value):,} characters; the maximum is {max_length:,}.",
            f"{name}_too_long",
        )
    if name == "title" and not value:
        raise invalid(field, "Title must not be empty.", "title_missing")
    return value


def bad_json(detail: str) -> ApiError:
    return invalid("body", detail, "malformed_json", status=400)
