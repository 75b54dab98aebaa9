"""Check what a resident sends to start or join an initiative (JSON or a form made into the
same shape), or refuse it with the field and the reason (422, problem+json)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shapely.geometry.base import BaseGeometry

from kaart.errors import invalid
from kaart.geo import Limits, check_crs, parse_geometry
from kaart.mail import addresses
from kaart.models.initiative import (
    DESCRIPTION_MAX,
    NAME_MAX,
    NEED_DESCRIPTION_MAX,
    NEED_KINDS,
    TITLE_MAX,
    UNIT_MAX,
    UPDATE_MAX,
)
from kaart.textcheck import CONTROL

NEEDS_MAX = 10
PROPERTIES = ("title", "description", "needs", "email", "start_date", "contribution", "object")


@dataclass(frozen=True)
class Need:
    kind: str
    description: str
    amount: Decimal | None
    unit: str | None


@dataclass(frozen=True)
class InitiativeInput:
    title: str
    description: str
    geom: BaseGeometry | None  # None: the place of `contribution` or `object`
    needs: tuple[Need, ...]
    email: str | None
    start_date: date | None
    contribution: uuid.UUID | None
    object_layer: str | None
    object_id: str | None


def text_value(
    value: Any, field: str, max_length: int, *, required: bool, single_line: bool = True
) -> str:
    """Checked text ("" when not given and not required)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise invalid(field, "This field is required.", "initiative_field_required")
        return ""
    if not isinstance(value, str):
        raise invalid(field, "This must be text.", "initiative_field_not_text")
    if CONTROL.search(value) or (single_line and ("\n" in value or "\r" in value)):
        raise invalid(field, "This contains control characters.", "text_control_chars")
    value = value.strip()
    if len(value) > max_length:
        reason = f"This is {len(value):,} characters; the maximum is {max_length:,}."
        raise invalid(field, reason, "initiative_field_too_long")
    return value


def parse_initiative(body: Any, limits: Limits) -> InitiativeInput:
    """A GeoJSON Feature (geometry may be null when `contribution` or `object` gives the place)."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        reason = 'The body must be a GeoJSON Feature: {"type": "Feature", "geometry": …, ...}.'
        raise invalid("type", reason, "not_a_feature")
    check_crs(body, "")
    props = body.get("properties")
    if not isinstance(props, dict):
        raise invalid("properties", "properties must be an object.", "properties_not_object")
    unknown = sorted(k for k in props if k not in PROPERTIES)
    if unknown:
        reason = f"Unknown property {unknown[0][:40]!r}; an initiative has {', '.join(PROPERTIES)}."
        raise invalid(f"properties.{unknown[0][:40]}", reason, "unknown_property")
    contribution = _uuid(props.get("contribution"), "properties.contribution")
    layer, object_id = _object(props.get("object"))
    geom = None
    if body.get("geometry") is not None or (contribution is None and layer is None):
        geom = parse_geometry(body.get("geometry"), limits)
    return InitiativeInput(
        title=text_value(props.get("title"), "properties.title", TITLE_MAX, required=True),
        description=text_value(
            props.get("description"),
            "properties.description",
            DESCRIPTION_MAX,
            required=False,
            single_line=False,
        ),
        geom=geom,
        needs=parse_needs(props.get("needs")),
        email=addresses.parse(props.get("email"), "properties.email"),
        start_date=parse_date(props.get("start_date"), "properties.start_date"),
        contribution=contribution,
        object_layer=layer,
        object_id=object_id,
    )


def parse_needs(value: Any) -> tuple[Need, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > NEEDS_MAX:
        reason = f"needs must be a list of at most {NEEDS_MAX} needs."
        raise invalid("properties.needs", reason, "initiative_needs_invalid")
    return tuple(_need(item, f"properties.needs.{n}") for n, item in enumerate(value))


def _need(item: Any, path: str) -> Need:
    if not isinstance(item, dict):
        raise invalid(
            path, 'A need is {"kind": …, "description": …, "amount": …}.', "initiative_need_invalid"
        )
    if item.get("kind") not in NEED_KINDS:
        reason = f"kind must be one of {', '.join(NEED_KINDS)}."
        raise invalid(f"{path}.kind", reason, "initiative_need_kind_unknown")
    description = text_value(
        item.get("description"), f"{path}.description", NEED_DESCRIPTION_MAX, required=False
    )
    unit = text_value(item.get("unit"), f"{path}.unit", UNIT_MAX, required=False) or None
    return Need(item["kind"], description, parse_amount(item.get("amount"), path), unit)


def parse_amount(value: Any, path: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", ".")) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        raise invalid(
            f"{path}.amount", "amount must be a positive number.", "initiative_amount_invalid"
        )
    return amount.quantize(Decimal("0.01"))


def parse_date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    raise invalid(field, "A date is YYYY-MM-DD.", "initiative_date_invalid")


def _uuid(value: Any, field: str) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise invalid(
            field, "This is not a contribution id.", "initiative_contribution_invalid"
        ) from None


def _object(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        reason = 'object must be {"layer": "<layer name>", "id": "<feature id>"}.'
        raise invalid("properties.object", reason, "object_invalid")
    layer = text_value(value.get("layer"), "properties.object.layer", 100, required=True)
    ident = text_value(value.get("id"), "properties.object.id", 100, required=True)
    return layer, ident


@dataclass(frozen=True)
class JoinInput:
    name: str
    email: str | None


def parse_join(body: Any) -> JoinInput:
    if not isinstance(body, dict):
        raise invalid("body", 'The body is {"name": …, "email": …}.', "body_invalid")
    unknown = sorted(k for k in body if k not in ("name", "email"))
    if unknown:
        raise invalid(unknown[0][:40], "Unknown field; send name and email.", "unknown_property")
    return JoinInput(
        name=text_value(body.get("name"), "name", NAME_MAX, required=True),
        email=addresses.parse(body.get("email"), "email"),
    )


def parse_update_text(value: Any) -> str:
    return text_value(value, "text", UPDATE_MAX, required=True, single_line=False)
