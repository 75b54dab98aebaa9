"""Reading a planner's commitment form: ids, dates, a budget in euros and the drawn places."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from kaart.errors import FieldError
from kaart.params import form_list


def ids_of(form: Any, name: str) -> list[str]:
    values = form_list(form, name)
    # A form field may hold several ids separated by commas or spaces.
    return [v for value in values for v in str(value).replace(",", " ").split()]


def one_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def one_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def budget(value: Any, errors: list[FieldError]) -> Decimal | None:
    raw = str(value or "").strip().replace("€", "").replace(" ", "")
    if not raw:
        return None
    try:
        amount = Decimal(raw.replace(".", "").replace(",", ".") if "," in raw else raw)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        errors.append(FieldError("budget", "Give an amount in euros.", "commitment_budget"))
        return None
    return amount.quantize(Decimal("0.01"))


def places(raw: Any, errors: list[FieldError]) -> list[dict] | None:
    """The drawn places as a list of GeoJSON geometries, or None when nothing was drawn."""
    raw = str(raw or "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    geometries: list[dict] = []
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        geometries = [f.get("geometry") for f in value.get("features") or []]
    elif isinstance(value, dict) and value.get("type") == "Feature":
        geometries = [value.get("geometry")]
    elif isinstance(value, dict) and value.get("type") == "GeometryCollection":
        geometries = value.get("geometries") or []
    elif isinstance(value, dict):
        geometries = [value]
    kinds = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")
    if not geometries or any(
        not isinstance(g, dict) or g.get("type") not in kinds for g in geometries
    ):
        errors.append(FieldError("geometry", "Draw the places on the map.", "commitment_places"))
        return None
    return geometries
