"""Following without an account, and what the links in messages do.

    target = parse_target(body)                          # what to follow, checked
    follow(session, address, language, frequency, target)   # a confirmation message
    confirm(session, subscription_id)                    # the link in it
    unsubscribe(session, subscription_id)                # one click (RFC 8058)
    send_links(session, address)                         # "Stuur mijn links"
    answer_satisfaction(session, contribution_id, yes)   # the question after four weeks

Every answer the resident sees is the same whether or not an address is known."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import Conflict, invalid, not_found
from kaart.geo import Limits, parse_geometry
from kaart.mail import addresses, links
from kaart.mail.notify import secret, unsubscribe_url
from kaart.mail.outbox import Message, public_base, write
from kaart.models.mail import FREQUENCIES
from kaart.services import ratelimit
from kaart.services.contributions import hash_token

RADIUS_MIN_M, RADIUS_MAX_M = 50.0, 5_000.0
LINKS_MONTHS = 12
# Messages one address gets at most per day on someone's request (a follow to confirm, its
# links): the per-client rate limit stops one sender, this stops many senders aiming at one
# mailbox. Beyond it the request is answered alike and nothing is sent.
ASKED_PER_DAY = {"confirm_follow": 5, "links": 3}
DAY = timedelta(days=1)  # ratelimit.KEEP: its events are kept this long


def _asked_too_often(session: Session, address: str, kind: str) -> bool:
    """Counted like every other limit (kaart/services/ratelimit.py), keyed by a pseudonym of
    the mailbox; True when this mailbox had its share of `kind` today."""
    key = ratelimit.address_key(secret(), address)
    return not ratelimit.allow(session, f"mailbox-{kind}", key, ASKED_PER_DAY[kind], DAY)


@dataclass(frozen=True)
class Target:
    kind: str  # contribution, process, buurt or area
    contribution_id: uuid.UUID | None = None
    process_id: uuid.UUID | None = None
    buurt_code: str | None = None
    area_wkt: str | None = None  # WGS84 (multi)polygon, or a circle made by PostGIS from:
    near: tuple[float, float, float] | None = None  # lon, lat, radius in metres


def parse_frequency(value: Any) -> str:
    value = value or "immediate"
    if value not in FREQUENCIES:
        raise invalid("frequency", "How often: immediate, daily or weekly.", "frequency_invalid")
    return value


def parse_target(session: Session, body: dict[str, Any], limits: Limits) -> Target:
    """One of `contribution` (id), `process` (slug or id), `buurt` (CBS code), `area` (a GeoJSON
    Polygon) or `near` ({lon, lat, radius} in metres)."""
    given = [k for k in ("contribution", "process", "buurt", "area", "near") if body.get(k)]
    if len(given) != 1:
        raise invalid(
            "target",
            "Say what to follow: one of contribution, process, buurt, area or near.",
            "target_missing" if not given else "target_ambiguous",
        )
    name = given[0]
    value = body[name]
    return {
        "contribution": _contribution,
        "process": _process,
        "buurt": _buurt,
        "area": _area,
        "near": _near,
    }[name](session, value, limits)


def _contribution(session: Session, value: Any, _limits: Limits) -> Target:
    ident = _uuid(value, "contribution")
    public = session.execute(
        text(
            "SELECT 1 FROM contribution WHERE id = :id AND visibility = 'published' "
            "AND withdrawn_at IS NULL"
        ),
        {"id": ident},
    ).scalar_one_or_none()
    if public is None:
        raise not_found("This contribution")
    return Target("contribution", contribution_id=ident)


def _process(session: Session, value: Any, _limits: Limits) -> Target:
    from kaart.services import processes

    found = processes.find(session, str(value)) if isinstance(value, str) else None
    if found is None:
        raise not_found("This process")
    return Target("process", process_id=found.id)


def _buurt(session: Session, value: Any, _limits: Limits) -> Target:
    code = str(value).strip().upper()
    known = session.execute(
        text("SELECT 1 FROM buurt WHERE code = :code"), {"code": code}
    ).scalar_one_or_none()
    if known is None:
        raise invalid("buurt", "No buurt has this CBS code (e.g. BU0363SD03).", "buurt_unknown")
    return Target("buurt", buurt_code=code)


def _area(_session: Session, value: Any, limits: Limits) -> Target:
    geom = parse_geometry(value, limits, path="area")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise invalid("area", "An area to follow is a Polygon.", "area_not_polygon")
    return Target("area", area_wkt=geom.wkt)


def _near(_session: Session, value: Any, limits: Limits) -> Target:
    if not isinstance(value, dict):
        raise invalid("near", "near is {lon, lat, radius}.", "near_invalid")
    try:
        lon, lat, radius = (float(value[k]) for k in ("lon", "lat", "radius"))
    except (KeyError, TypeError, ValueError):
        raise invalid(
            "near", "near is {lon, lat, radius} in degrees and metres.", "near_invalid"
        ) from None
    if not RADIUS_MIN_M <= radius <= RADIUS_MAX_M:
        reason = f"The radius is {RADIUS_MIN_M:.0f} to {RADIUS_MAX_M:.0f} metres."
        raise invalid("near.radius", reason, "radius_out_of_range")
    parse_geometry({"type": "Point", "coordinates": [lon, lat]}, limits, path="near")
    return Target("area", near=(lon, lat, radius))


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise invalid(field, "This is not an id (a UUID).", "id_invalid") from None


AREA_SQL = """CASE
  WHEN CAST(:wkt AS text) IS NOT NULL THEN ST_Multi(ST_GeomFromText(:wkt, 4326))
  WHEN CAST(:lon AS float8) IS NOT NULL THEN ST_Multi(ST_Transform(ST_Buffer(
    ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 28992), :radius, 16), 4326))
END"""


def follow(session: Session, address: str, language: str, frequency: str, target: Target) -> None:
    """Ask the address to confirm that it wants to follow `target`."""
    if _asked_too_often(session, address, "confirm_follow"):
        return
    address_id, _ = addresses.remember(session, address)
    lon, lat, radius = target.near or (None, None, None)
    subscription_id = session.execute(
        text(
            "INSERT INTO subscription (address_id, kind, contribution_id, process_id, buurt_code, "
            f"area, language, frequency) VALUES (:a, :kind, :c, :p, :b, {AREA_SQL}, :lang, :freq) "
            "RETURNING id"
        ),
        {
            "a": address_id,
            "kind": target.kind,
            "c": target.contribution_id,
            "p": target.process_id,
            "b": target.buurt_code,
            "wkt": target.area_wkt,
            "lon": lon,
            "lat": lat,
            "radius": radius,
            "lang": language,
            "freq": frequency,
        },
    ).scalar_one()
    what = describe(session, subscription_id)
    message = Message(address, "confirm_follow", language, unsubscribe_url(subscription_id))
    write(
        session,
        message,
        what=what,
        frequency=frequency,
        confirm=links.token(secret(), "confirm", subscription_id),
    )


def describe(session: Session, subscription_id: uuid.UUID) -> dict[str, Any]:
    """What a subscription follows, for messages and the manage page."""
    return dict(
        session.execute(
            text(
                "SELECT s.id, s.kind, s.frequency, s.language, s.confirmed_at, s.created_at, "
                "c.id AS contribution_id, c.title AS contribution_title, p.slug AS process_slug, "
                "p.title AS process_title, s.buurt_code, b.name AS buurt_name, "
                "round(ST_Area(ST_Transform(s.area, 28992)) / 10000.0) AS area_ha "
                "FROM subscription s LEFT JOIN contribution c ON c.id = s.contribution_id "
                "LEFT JOIN process p ON p.id = s.process_id "
                "LEFT JOIN buurt b ON b.code = s.buurt_code WHERE s.id = :id"
            ),
            {"id": subscription_id},
        )
        .one()
        ._mapping
    )


def confirm(session: Session, subscription_id: uuid.UUID) -> dict[str, Any] | None:
    """The confirmation link was followed: the subscription and its address are confirmed."""
    address_id = session.execute(
        text(
            "UPDATE subscription SET confirmed_at = coalesce(confirmed_at, now()) WHERE id = :id "
            "RETURNING address_id"
        ),
        {"id": subscription_id},
    ).scalar_one_or_none()
    if address_id is None:
        return None
    addresses.confirm(session, address_id)
    return describe(session, subscription_id)


def unsubscribe(session: Session, subscription_id: uuid.UUID) -> bool:
    """Stop this subscription (the author's too); True when there was one to stop."""
    gone = session.execute(
        text("DELETE FROM subscription WHERE id = :id RETURNING id"), {"id": subscription_id}
    ).scalar_one_or_none()
    return gone is not None


def address_of_subscription(session: Session, subscription_id: uuid.UUID) -> uuid.UUID | None:
    return session.execute(
        text("SELECT address_id FROM subscription WHERE id = :id"), {"id": subscription_id}
    ).scalar_one_or_none()


def following(session: Session, address_id: uuid.UUID) -> list[dict[str, Any]]:
    ids = session.execute(
        text("SELECT id FROM subscription WHERE address_id = :a ORDER BY created_at, id"),
        {"a": address_id},
    ).scalars()
    return [describe(session, ident) for ident in ids]


def stop_all(session: Session, address_id: uuid.UUID) -> int:
    return session.execute(
        text("DELETE FROM subscription WHERE address_id = :a"), {"a": address_id}
    ).rowcount


def send_links(session: Session, address: str, language: str) -> None:
    """Mail every private link of the address's contributions of the last twelve months (new
    links: only a hash of each is kept). Nothing is sent to an unknown address, and nothing
    tells the requester which it was."""
    if _asked_too_often(session, address, "links"):
        return
    address_id = addresses.find(session, address)
    if address_id is None:
        return
    rows = session.execute(
        text(
            "SELECT id, title, created_at FROM contribution WHERE author_address_id = :a "
            f"AND withdrawn_at IS NULL AND created_at > now() - interval '{LINKS_MONTHS} months' "
            "ORDER BY created_at DESC"
        ),
        {"a": address_id},
    ).all()
    if not rows:
        return
    items = []
    for row in rows:
        token = secrets.token_urlsafe(32)
        session.execute(
            text(
                "INSERT INTO contribution_edit_token (token_hash, contribution_id) "
                "VALUES (:hash, :id)"
            ),
            {"hash": hash_token(token), "id": row.id},
        )
        items.append(
            {"id": row.id, "title": row.title, "created_at": row.created_at, "token": token}
        )
    manage = links.token(secret(), "manage", address_id)
    stop_all = f"{public_base()}/e-mail/volgen/{manage}"  # a POST there stops everything
    write(session, Message(address, "links", language, stop_all), items=items, manage=manage)


def answer_satisfaction(session: Session, contribution_id: uuid.UUID, satisfied: bool) -> datetime:
    """The author's one answer to "are you satisfied?"; 404 when they were never asked, 409
    when they answered already."""
    row = session.execute(
        text("SELECT answered_at FROM satisfaction WHERE contribution_id = :id FOR UPDATE"),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This question")
    if row.answered_at is not None:
        raise Conflict("This question was answered already.", "answer", "answered_already")
    return session.execute(
        text(
            "UPDATE satisfaction SET satisfied = :yes, answered_at = now() "
            "WHERE contribution_id = :id RETURNING answered_at"
        ),
        {"yes": satisfied, "id": contribution_id},
    ).scalar_one()


def buurten(session: Session) -> list[Any]:
    """The buurten one can follow, by name."""
    return session.execute(text("SELECT code, name FROM buurt ORDER BY name, code")).all()


def target_title(session: Session, target: Target) -> dict[str, Any]:
    """What a contribution or process target is called, for the follow form."""
    if target.contribution_id is not None:
        title = session.execute(
            text("SELECT title FROM contribution WHERE id = :id"), {"id": target.contribution_id}
        ).scalar_one()
        return {"kind": "contribution", "title": title, "id": target.contribution_id}
    row = session.execute(
        text("SELECT title, slug FROM process WHERE id = :id"), {"id": target.process_id}
    ).one()
    return {"kind": "process", "title": row.title, "slug": row.slug}


def satisfaction_of(session: Session, contribution_id: uuid.UUID) -> Any:
    """The satisfaction question of a contribution (asked_at, answered_at, satisfied), if asked."""
    return session.execute(
        text(
            "SELECT asked_at, answered_at, satisfied FROM satisfaction WHERE contribution_id = :id"
        ),
        {"id": contribution_id},
    ).one_or_none()


def set_staff_digest(session: Session, user_id: uuid.UUID, on: bool) -> None:
    session.execute(
        text("UPDATE app_user SET mail_digest = :on WHERE id = :id"), {"on": on, "id": user_id}
    )
