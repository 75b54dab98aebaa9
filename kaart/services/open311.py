"""Open311 GeoReport v2 over contributions: services are categories, requests are contributions.

    create_request(session, fields, limits)      -> contribution id (same checks as the JSON API)
    find_requests(session, RequestQuery(...))    -> list of GeoReport request dicts
    get_request(session, contribution_id)        -> one request dict

Statuses: `ontvangen` and `in_behandeling` are "open", every answered or finished status is
"closed". Contact fields are stored privately (table open311_request) and never returned.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import ApiError, BadRequest, FieldError, NotFound
from kaart.geo import Limits
from kaart.mail import addresses, notify
from kaart.models.contribution import CATEGORIES, STATUSES
from kaart.providers import contributions
from kaart.services import contributions as writes
from kaart.services import privacy
from kaart.services.input import parse_feature

OPEN_STATUSES = ("ontvangen", "in_behandeling")
# Problem spots are what municipal meldingen systems deal in; they come first.
SERVICE_CODES = ("knelpunt", *(c for c in CATEGORIES if c != "knelpunt"))
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
CONTACT_MAX = 200
MEDIA_URL_MAX = 2000
TITLE_FROM_DESCRIPTION = 80
DEFAULT_WINDOW = timedelta(days=90)  # GeoReport v2: without dates, the last 90 days
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
# Field paths of the JSON API's checks -> the GeoReport v2 parameter they come from.
FIELD_NAMES = {
    "properties.category": "service_code",
    "properties.title": "description",
    "properties.description": "description",
    "geometry": "lat/long",
}
_ADDRESS = re.compile(
    r"^\s*(?P<street>[^\d,]+?)\s+(?P<number>\d{1,5})\s*(?P<letter>[A-Za-z])?"
    r"(?:\s*[-\s]\s*(?P<suffix>[A-Za-z0-9]{1,4}))?\s*(?:,\s*(?P<rest>.*))?$"
)
_POSTCODE = re.compile(r"(\d{4})\s?([A-Za-z]{2})\b")


def bad(field: str, reason: str) -> BadRequest:
    return BadRequest(reason, field, "open311")


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[uuid.UUID, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # open / closed
    page: int = 1
    page_size: int = PAGE_SIZE_DEFAULT


# What a GeoReport request is made of: the contribution provider's public values.
REQUEST_VALUES = (
    "id",
    "status",
    "response",
    "category",
    "title",
    "description",
    "created_at",
    "updated_at",
    "address_string",
    "buurt_name",
    "lat",
    "lon",
    "media_url",
)


def find_requests(session: Session, query: RequestQuery) -> list[dict[str, Any]]:
    """Public service requests, newest first (GeoReport v2 pages by number)."""
    if query.ids:  # GeoReport v2: with ids, the other filters do not apply
        wanted = contributions.Query(ids=query.ids, limit=query.page_size)
    else:
        start, end = query.start, query.end
        if start is None and end is None:
            start = datetime.now(UTC) - DEFAULT_WINDOW
        statuses: tuple[str, ...] = ()
        if len(set(query.statuses)) == 1:
            closed = tuple(s for s in STATUSES if s not in OPEN_STATUSES)
            statuses = OPEN_STATUSES if query.statuses[0] == "open" else closed
        wanted = contributions.Query(
            categories=query.service_codes,
            statuses=statuses,
            created_from=start,
            created_to=end,
            limit=query.page_size,
            offset=(query.page - 1) * query.page_size,
        )
    return [_request(row) for row in contributions.records(session, wanted, REQUEST_VALUES)]


def _request(row: Any) -> dict[str, Any]:
    return {
        "service_request_id": str(row.id),
        "status": "open" if row.status in OPEN_STATUSES else "closed",
        "status_notes": row.response,
        "service_code": row.category,
        "description": row.description or row.title,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": _utc(row.created_at),
        "updated_datetime": _utc(row.updated_at),
        "expected_datetime": None,
        "address": row.address_string or row.buurt_name,
        "address_id": None,
        "zipcode": None,
        "lat": float(row.lat),
        "long": float(row.lon),
        "media_url": row.media_url,
    }


def _utc(stamp: datetime) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_request(session: Session, contribution_id: uuid.UUID) -> dict[str, Any]:
    found = find_requests(session, RequestQuery(ids=(contribution_id,), page_size=1))
    if not found:
        raise NotFound(f"Public service request {contribution_id}")
    return found[0]


# -- POST requests ------------------------------------------------------------------------------


def create_request(
    session: Session,
    form: Mapping[str, str],
    limits: Limits,
    title: str,
    rule: privacy.Rule,
    language: str = "nl",
) -> uuid.UUID:
    """Check a GeoReport v2 POST like the JSON API checks a Feature, then store the contribution
    and its request row (in the caller's transaction). `title` is used when there is no
    description; `rule` says where the public sees it. With an `email`, its owner gets the
    private link and updates in `language` (kaart/mail/)."""
    description = (form.get("description") or "").strip()
    lon, lat, address = _location(session, form)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "category": form.get("service_code") or None,
            "title": _title(description) or title,
            "description": description,
        },
    }
    try:
        data = parse_feature(feature, limits)
    except ApiError as exc:
        raise _renamed(exc) from exc
    extras = _extras(form)
    created = writes.create(session, data, rule=rule)
    session.execute(
        text(
            "INSERT INTO open311_request (contribution_id, media_url, address_string, "
            f"{', '.join(CONTACT_FIELDS)}) VALUES (:id, :media_url, :address, "
            f"{', '.join(':' + f for f in CONTACT_FIELDS)})"
        ),
        {"id": created.id, "address": address, **extras},
    )
    email = addresses.parse(extras["email"]) if extras["email"] else None
    notify.after_create(session, created.id, "published", email, language, created.edit_token)
    return created.id


def _renamed(error: ApiError) -> ApiError:
    """The JSON API's field paths, named as the GeoReport v2 parameters the client sent."""
    errors = []
    for e in error.errors:
        name = FIELD_NAMES.get(e.field)
        if name is None and e.field.startswith("geometry"):
            name = "lat/long"
        errors.append(FieldError(name or e.field, e.reason, e.code))
    return BadRequest(error.detail, errors=errors)


def _title(description: str) -> str:
    first = description.splitlines()[0].strip() if description else ""
    if len(first) <= TITLE_FROM_DESCRIPTION:
        return first
    cut = first[:TITLE_FROM_DESCRIPTION].rsplit(" ", 1)[0] or first[:TITLE_FROM_DESCRIPTION]
    return cut.rstrip(" ,.;:") + "…"


def _extras(form: Mapping[str, str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    media = (form.get("media_url") or "").strip() or None
    if media is not None and (
        len(media) > MEDIA_URL_MAX or not re.fullmatch(r"https?://[^\s<>\"']+", media)
    ):
        raise bad(
            "media_url", f"media_url must be an http(s) URL of at most {MEDIA_URL_MAX} characters."
        )
    values["media_url"] = media
    for name in CONTACT_FIELDS:
        value = (form.get(name) or "").strip() or None
        if value is not None and (len(value) > CONTACT_MAX or re.search(r"[\x00-\x1f\x7f]", value)):
            raise bad(name, f"{name} must be one line of at most {CONTACT_MAX} characters.")
        values[name] = value
    if values["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        raise bad("email", "email is not an e-mail address.")
    return values


def _location(session: Session, form: Mapping[str, str]) -> tuple[float, float, str | None]:
    """lat/long, or else address_id / address_string looked up in the loaded BAG addresses."""
    lat, lon = form.get("lat"), form.get("long")
    if lat or lon:
        try:
            return float(lon or ""), float(lat or ""), None
        except ValueError as exc:
            raise bad("lat/long", "lat and long must both be WGS84 decimal degrees.") from exc
    if not form.get("address_id") and not form.get("address_string"):
        raise bad("lat/long", "Send lat and long, address_string or address_id.")
    table = _address_table(session)
    if form.get("address_id"):
        row = session.execute(
            text(
                f"SELECT ST_X(p), ST_Y(p), label FROM ({_ADDRESS_SELECT.format(table=table)} "
                "WHERE t.feature_id = :id ORDER BY t.fid LIMIT 1) a"
            ),
            {"id": form["address_id"].strip()},
        ).one_or_none()
        if row is None:
            raise bad("address_id", "There is no BAG address with this address_id.")
        return row[0], row[1], row[2]
    return _resolve(session, table, form["address_string"])


_ADDRESS_SELECT = (
    "SELECT ST_Transform(ST_PointOnSurface(t.geom), 4326) AS p, "
    "concat_ws(' ', t.street, t.house_number::text || coalesce(t.house_letter, '') || "
    "coalesce('-' || t.house_number_suffix, '')) || ', ' || concat_ws(' ', t.postcode, t.city) "
    "AS label, t.city FROM {table} AS t"
)


def _address_table(session: Session) -> str:
    table = session.execute(
        text(
            "SELECT table_name FROM layer WHERE kind = 'address' AND table_name IS NOT NULL "
            "ORDER BY name = 'bag-adressen' DESC, name LIMIT 1"
        )
    ).scalar_one_or_none()
    if table is None or not re.fullmatch(r"[a-z0-9_]+", table):
        raise bad(
            "address_string",
            "No address layer is loaded here; send lat and long instead.",
        )
    return f'open_data."{table}"'


def _resolve(session: Session, table: str, address: str) -> tuple[float, float, str]:
    match = _ADDRESS.match(address[:300])
    if match is None:
        raise bad("address_string", "address_string must be like 'Nieuwstraat 12, Weesp'.")
    where = ["lower(t.street) = lower(:street)", "t.house_number = :number"]
    params: dict[str, Any] = {"street": match["street"].strip(), "number": int(match["number"])}
    if match["letter"]:
        where.append("upper(t.house_letter) = upper(:letter)")
        params["letter"] = match["letter"]
    else:
        where.append("coalesce(t.house_letter, '') = ''")
    if match["suffix"]:
        where.append("upper(t.house_number_suffix) = upper(:suffix)")
        params["suffix"] = match["suffix"]
    rest = match["rest"] or ""
    postcode = _POSTCODE.search(rest)
    if postcode:
        where.append("replace(upper(t.postcode), ' ', '') = :postcode")
        params["postcode"] = (postcode[1] + postcode[2]).upper()
        rest = rest.replace(postcode[0], "")
    if rest.strip(" ,"):
        where.append("lower(t.city) = lower(:city)")
        params["city"] = rest.strip(" ,")
    rows = session.execute(
        text(
            f"SELECT ST_X(p), ST_Y(p), label, city FROM ({_ADDRESS_SELECT.format(table=table)} "
            f"WHERE {' AND '.join(where)} ORDER BY t.fid LIMIT 20) a"
        ),
        params,
    ).all()
    if not rows:
        raise bad("address_string", f"No BAG address matches {address[:100]!r}.")
    if len({r[3] for r in rows}) > 1:
        raise bad("address_string", "This address exists in more than one place; add the city.")
    return rows[0][0], rows[0][1], rows[0][2]
