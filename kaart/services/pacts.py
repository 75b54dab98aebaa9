"""The wijkpact: parties, their partner accounts, and pacts over an area.

    party_id = create_party(session, settings, "Gemeente Amsterdam", "gemeente", logo)
    add_member(session, party_id, user_id)        # a `partner` account acts for the party
    slug = create_pact(session, form, actor_id)   # title, area, parties (planners and admins)

Planners and admins create; partners only post progress (kaart/services/commitments.py).
Services never commit: the view or command wraps them in `kaart.db.transaction()`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.errors import ApiError, FieldError, Invalid, NotFound
from kaart.models.pact import AREA_KINDS, LOGO_BYTES_MAX, NAME_MAX, PARTY_TYPES, TEXT_MAX
from kaart.params import form_list, uuid_list
from kaart.services import photos
from kaart.services.processes import slugify

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Party:
    id: uuid.UUID
    name: str
    type: str
    logo_media_type: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "type": self.type, "logo": self.has_logo}

    @property
    def has_logo(self) -> bool:
        return self.logo_media_type is not None


@dataclass(frozen=True)
class Pact:
    id: uuid.UUID
    slug: str
    title: str
    description: str
    area_kind: str
    area_code: str | None
    published: bool
    geojson: str
    parties: tuple[Party, ...]


def _invalid(errors: list[FieldError], title: str) -> Invalid:
    return Invalid(errors[0].reason, errors=errors, title=title)


# -- Parties ------------------------------------------------------------------------------------


def create_party(
    session: Session, settings: Settings | None, name: str, kind: str, logo: bytes | None = None
) -> uuid.UUID:
    """A new party; its logo (optional) is decoded and re-encoded like a photo (no metadata,
    at most 320 px) and kept in the row."""
    name = (name or "").strip()
    errors = []
    if not 1 <= len(name) <= NAME_MAX:
        errors.append(FieldError("name", "Give the organisation's name.", "party_name_invalid"))
    elif session.execute(text("SELECT 1 FROM party WHERE name = :n"), {"n": name}).first():
        errors.append(FieldError("name", "This organisation exists already.", "party_name_taken"))
    if kind not in PARTY_TYPES:
        errors.append(FieldError("type", "Choose the kind of organisation.", "party_type_invalid"))
    encoded = None
    if logo and settings is not None:
        try:
            encoded = photos.encode(photos.decode(logo, settings))
        except ApiError as error:
            errors.append(FieldError("logo", error.detail, "party_logo_invalid"))
        else:
            if len(encoded.thumb) > LOGO_BYTES_MAX:
                reason = "The logo is too large."
                errors.append(FieldError("logo", reason, "party_logo_invalid"))
    if errors:
        raise _invalid(errors, "Invalid party")
    return session.execute(
        text(
            "INSERT INTO party (name, type, logo, logo_media_type) VALUES (:n, :t, :l, :m) "
            "RETURNING id"
        ),
        {
            "n": name,
            "t": kind,
            # The thumbnail (320 px at most) is the logo: a page shows it small.
            "l": encoded.thumb if encoded else None,
            "m": encoded.media_type if encoded else None,
        },
    ).scalar_one()


def logo(session: Session, party_id: uuid.UUID) -> tuple[bytes, str]:
    """A party's logo and its media type; 404 when it has none."""
    row = session.execute(
        text("SELECT logo, logo_media_type FROM party WHERE id = :id AND logo IS NOT NULL"),
        {"id": party_id},
    ).one_or_none()
    if row is None:
        raise NotFound("This logo")
    return bytes(row.logo), row.logo_media_type


def all_parties(session: Session) -> list[Party]:
    rows = session.execute(
        text("SELECT id, name, type, logo_media_type FROM party ORDER BY name")
    ).all()
    return [Party(*r) for r in rows]


def find_party(session: Session, party_id: uuid.UUID) -> Party:
    row = session.execute(
        text("SELECT id, name, type, logo_media_type FROM party WHERE id = :id"),
        {"id": party_id},
    ).one_or_none()
    if row is None:
        raise NotFound("This party")
    return Party(*row)


def add_member(session: Session, party_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Let a partner account act for a party (adding twice changes nothing)."""
    find_party(session, party_id)
    roles = session.execute(
        text("SELECT roles FROM app_user WHERE id = :id AND active"), {"id": user_id}
    ).scalar_one_or_none()
    if roles is None or "partner" not in roles:
        raise Invalid(
            "Choose an active account with the partner role.", "user_id", "member_not_partner"
        )
    session.execute(
        text("INSERT INTO party_member (party_id, user_id) VALUES (:p, :u) ON CONFLICT DO NOTHING"),
        {"p": party_id, "u": user_id},
    )


def members(session: Session) -> dict[uuid.UUID, list[str]]:
    """Per party the e-mail addresses of its partner accounts (staff pages only)."""
    rows = session.execute(
        text(
            "SELECT m.party_id, u.email FROM party_member m JOIN app_user u ON u.id = m.user_id "
            "ORDER BY u.email"
        )
    ).all()
    found: dict[uuid.UUID, list[str]] = {}
    for party_id, email in rows:
        found.setdefault(party_id, []).append(email)
    return found


def partner_accounts(session: Session) -> list[Any]:
    return session.execute(
        text(
            "SELECT id, email, display_name FROM app_user "
            "WHERE active AND 'partner' = ANY(roles) ORDER BY email"
        )
    ).all()


def parties_of(session: Session, user_id: uuid.UUID) -> set[uuid.UUID]:
    """The parties a (partner) account acts for."""
    rows = session.execute(
        text("SELECT party_id FROM party_member WHERE user_id = :u"), {"u": user_id}
    ).all()
    return {r[0] for r in rows}


# -- Pacts --------------------------------------------------------------------------------------

PACT_COLUMNS = (
    "p.id, p.slug, p.title, p.description, p.area_kind, p.area_code, p.published, "
    "ST_AsGeoJSON(p.geom)::text AS geojson"
)


def _pact(session: Session, row: Any) -> Pact:
    parties = session.execute(
        text(
            "SELECT y.id, y.name, y.type, y.logo_media_type FROM pact_party pp "
            "JOIN party y ON y.id = pp.party_id WHERE pp.pact_id = :id ORDER BY y.name"
        ),
        {"id": row.id},
    ).all()
    return Pact(*row, parties=tuple(Party(*p) for p in parties))


def all_pacts(session: Session, public_only: bool = True) -> list[Pact]:
    where = "WHERE p.published" if public_only else ""
    rows = session.execute(
        text(f"SELECT {PACT_COLUMNS} FROM pact p {where} ORDER BY p.created_at DESC, p.title")
    ).all()
    return [_pact(session, r) for r in rows]


def find(session: Session, slug: str, public_only: bool = True) -> Pact:
    where = " AND p.published" if public_only else ""
    row = session.execute(
        text(f"SELECT {PACT_COLUMNS} FROM pact p WHERE p.slug = :slug{where}"), {"slug": slug}
    ).one_or_none()
    if row is None:
        raise NotFound("This wijkpact")
    return _pact(session, row)


def set_published(session: Session, pact_id: uuid.UUID, published: bool) -> bool:
    """Show a pact on the public site, or take it off: its page, /api/v1/pacts, the /ogc
    commitments, the PDF and the afspraken shown with contributions and initiatives all read
    only published pacts. True when this changed something. In the caller's transaction."""
    changed = session.execute(
        text("UPDATE pact SET published = :published WHERE id = :id AND published <> :published"),
        {"id": pact_id, "published": published},
    )
    return changed.rowcount == 1


def create_pact(session: Session, form: Any, actor_id: uuid.UUID | None) -> str:
    """A new pact from a planner's form: title, slug (optional), description, area_kind with
    area_code (buurt or wijk) or geometry (a drawn polygon, GeoJSON), and party_ids (one or
    more). Refused as a whole with field errors; returns the slug."""
    errors: list[FieldError] = []
    title = (form.get("title") or "").strip()
    if not 1 <= len(title) <= NAME_MAX:
        errors.append(FieldError("title", "Give the pact a title.", "pact_title_invalid"))
    description = (form.get("description") or "").strip()
    if len(description) > TEXT_MAX:
        errors.append(FieldError("description", "The text is too long.", "pact_text_too_long"))
    slug = (form.get("slug") or "").strip().lower() or slugify(title)
    if not SLUG.fullmatch(slug) or len(slug) > 60:
        errors.append(FieldError("slug", "Use a-z, 0-9 and dashes.", "pact_slug_invalid"))
    elif session.execute(text("SELECT 1 FROM pact WHERE slug = :s"), {"s": slug}).first():
        errors.append(FieldError("slug", "This address is taken.", "pact_slug_taken"))
    party_ids = uuid_list(form_list(form, "party_ids"))
    known = {p.id for p in all_parties(session)}
    if not party_ids or not set(party_ids) <= known:
        errors.append(FieldError("party_ids", "Choose the parties.", "pact_parties_missing"))
    area = _area(session, form, errors)
    if errors:
        raise _invalid(errors, "Invalid pact")
    kind, code, geometry_sql, params = area
    pact_id = session.execute(
        text(
            "INSERT INTO pact (slug, title, description, area_kind, area_code, geom, created_by) "
            f"VALUES (:slug, :title, :description, :kind, :code, {geometry_sql}, :actor) "
            "RETURNING id"
        ),
        {
            "slug": slug,
            "title": title,
            "description": description,
            "kind": kind,
            "code": code,
            "actor": actor_id,
            **params,
        },
    ).scalar_one()
    session.execute(
        text(
            "INSERT INTO pact_party (pact_id, party_id) SELECT :pact, unnest(:parties)"
        ).bindparams(bindparam("parties", type_=ARRAY(UUID(as_uuid=True)))),
        {"pact": pact_id, "parties": party_ids},
    )
    return slug


def _area(session: Session, form: Any, errors: list[FieldError]) -> tuple:
    kind = form.get("area_kind") or "buurt"
    if kind not in AREA_KINDS:
        errors.append(FieldError("area_kind", "Choose an area.", "pact_area_invalid"))
        return kind, None, "", {}
    if kind == "polygon":
        raw = (form.get("geometry") or "").strip()
        geometry = _polygon(raw)
        if geometry is None:
            errors.append(FieldError("geometry", "Draw the area on the map.", "pact_geometry"))
        sql = "ST_Multi(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326)))"
        return kind, None, sql, {"geometry": geometry}
    code = (form.get("area_code") or "").strip().upper()
    column = "code" if kind == "buurt" else "wijk_code"
    found = session.execute(
        text(f"SELECT count(*) FROM buurt WHERE {column} = :code"), {"code": code}
    ).scalar_one()
    if not code or not found:
        errors.append(FieldError("area_code", f"Unknown {kind} code.", "pact_area_unknown"))
    sql = f"(SELECT ST_Multi(ST_Union(geom)) FROM buurt WHERE {column} = :code)"
    return kind, code, sql, {"code": code}


def _polygon(raw: str) -> str | None:
    try:
        geometry = json.loads(raw)
    except ValueError:
        return None
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    return json.dumps(geometry)


def buurten(session: Session) -> list[Any]:
    """Buurten and wijken a pact may cover, for the form's choices."""
    return session.execute(
        text("SELECT code, name, wijk_code FROM buurt WHERE code LIKE 'BU%' ORDER BY name")
    ).all()
