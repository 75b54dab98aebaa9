"""Participation processes (participatietrajecten): an area, a period, categories and a question.

Planners create and edit them (`save`); residents contribute within one, and `admit` decides
whether a contribution fits the process and whether it is published at once or after moderation.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from shapely import to_wkb
from shapely.geometry import MultiPolygon
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.config import TIME_ZONE
from kaart.errors import ApiError, FieldError, NotFound, invalid
from kaart.geo import Limits, parse_geometry
from kaart.models.contribution import CATEGORIES
from kaart.params import form_list
from kaart.providers import contributions
from kaart.services.input import ContributionInput
from kaart.textcheck import load_json

LOCAL = TIME_ZONE
TITLE_MAX = 120
QUESTION_MAX = 500
DESCRIPTION_MAX = 5000
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

PROCESS_COLUMNS = """
  p.id, p.slug, p.title, p.question, p.description, p.starts_on, p.ends_on, p.categories,
  p.premoderation, p.participant_questions, p.created_at, p.updated_at,
  p.reactienota_published_at,
  ST_AsGeoJSON(p.geom)::text AS geojson,
  (SELECT count(*) FROM contribution c
   WHERE c.process_id = p.id AND c.withdrawn_at IS NULL AND c.visibility = 'published')
   AS published_count
"""


@dataclass(frozen=True)
class Process:
    id: uuid.UUID
    slug: str
    title: str
    question: str
    description: str
    starts_on: date
    ends_on: date
    categories: tuple[str, ...]
    premoderation: bool
    geojson: str
    published_count: int
    # The form asks the optional questions of who takes part (kaart/services/participation.py).
    participant_questions: bool = False
    # When the reactienota was made public on the process page (None: not yet).
    reactienota_published_at: datetime | None = None

    def state(self, today: date | None = None) -> str:
        """ "planned", "open" or "closed" on `today` (Dutch local date)."""
        today = today or local_today()
        if today < self.starts_on:
            return "planned"
        return "open" if today <= self.ends_on else "closed"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "slug": self.slug,
            "title": self.title,
            "question": self.question,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "categories": list(self.categories),
            "premoderation": self.premoderation,
            "participant_questions": self.participant_questions,
            "state": self.state(),
            "geometry": json.loads(self.geojson),
        }


@dataclass(frozen=True)
class ProcessInput:
    slug: str
    title: str
    question: str
    description: str
    geom: MultiPolygon
    starts_on: date
    ends_on: date
    categories: tuple[str, ...]
    premoderation: bool
    participant_questions: bool = False


class FormErrors(Exception):
    """Every problem with a submitted process form, as field errors."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.reason for e in errors))
        self.errors = errors


def publish_reactienota(session: Session, process_id: uuid.UUID) -> None:
    """Make the reactienota public on the process page; the mail worker then tells who follows
    the process, or a buurt or area it covers (kaart/mail/scheduled.py). Publishing twice keeps
    the first moment."""
    session.execute(
        text(
            "UPDATE process SET reactienota_published_at = coalesce(reactienota_published_at, "
            "now()) WHERE id = :id"
        ),
        {"id": process_id},
    )


def local_today() -> date:
    return datetime.now(LOCAL).date()


def slugify(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _row(row: Any) -> Process:
    return Process(
        id=row.id,
        slug=row.slug,
        title=row.title,
        question=row.question,
        description=row.description,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        categories=tuple(row.categories),
        premoderation=row.premoderation,
        geojson=row.geojson,
        published_count=row.published_count,
        participant_questions=row.participant_questions,
        reactienota_published_at=row.reactienota_published_at,
    )


def all_processes(session: Session) -> list[Process]:
    rows = session.execute(
        text(f"SELECT {PROCESS_COLUMNS} FROM process p ORDER BY p.starts_on DESC, p.title")
    ).all()
    return [_row(r) for r in rows]


def find(session: Session, ref: str | uuid.UUID) -> Process | None:
    """A process by slug or id."""
    where, value = "p.slug = :ref", ref
    if isinstance(ref, uuid.UUID):
        where = "p.id = :ref"
    else:
        try:
            value = uuid.UUID(str(ref))
            where = "p.id = :ref"
        except ValueError:
            value = str(ref)
    row = session.execute(
        text(f"SELECT {PROCESS_COLUMNS} FROM process p WHERE {where}"), {"ref": value}
    ).one_or_none()
    return _row(row) if row else None


def parse_form(form: Any, limits: Limits) -> ProcessInput:
    """A planner's form (a mapping of strings, `categories` a list) checked as a whole."""
    errors: list[FieldError] = []

    def need(name: str, limit: int, required: bool = True) -> str:
        value = (form.get(name) or "").strip()
        if required and not value:
            errors.append(FieldError(name, f"{name} is required.", f"process_{name}_missing"))
        elif len(value) > limit:
            errors.append(FieldError(name, f"{name} is too long.", f"process_{name}_too_long"))
        return value

    title = need("title", TITLE_MAX)
    question = need("question", QUESTION_MAX)
    description = need("description", DESCRIPTION_MAX, required=False)
    slug = (form.get("slug") or "").strip().lower() or slugify(title)
    if not _SLUG.fullmatch(slug) or len(slug) > 60:
        errors.append(FieldError("slug", "Use a-z, 0-9 and dashes.", "process_slug_invalid"))
    categories = tuple(c for c in CATEGORIES if c in form_list(form, "categories"))
    if not categories:
        errors.append(
            FieldError("categories", "Choose at least one category.", "process_categories_missing")
        )
    starts_on = _date(form.get("starts_on"), "starts_on", errors)
    ends_on = _date(form.get("ends_on"), "ends_on", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors.append(
            FieldError("ends_on", "The end is before the start.", "process_period_invalid")
        )
    geom = _area(form.get("geometry"), limits, errors)
    if errors:
        raise FormErrors(errors)
    return ProcessInput(
        slug=slug,
        title=title,
        question=question,
        description=description,
        geom=geom,
        starts_on=starts_on,
        ends_on=ends_on,
        categories=categories,
        premoderation=form.get("premoderation") in ("1", "on", "true", True),
        participant_questions=form.get("participant_questions") in ("1", "on", "true", True),
    )


def _date(value: Any, name: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        errors.append(FieldError(name, "Enter a date (YYYY-MM-DD).", "process_date_invalid"))
        return None


def _area(value: Any, limits: Limits, errors: list[FieldError]) -> MultiPolygon | None:
    """The area drawn on the map: GeoJSON (Multi)Polygon, with the contribution guard rails
    except the size limit (a process may cover a whole wijk)."""
    missing = FieldError("geometry", "Draw the area on the map.", "process_area_missing")
    if not isinstance(value, str) or not value.strip():
        errors.append(missing)
        return None
    try:
        raw = load_json(value, "geometry")  # the same checks as any JSON (depth, text)
    except ApiError as exc:
        errors.extend([missing] if "malformed_json" in exc.codes else exc.errors)
        return None
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        raw = raw.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        errors.append(FieldError("geometry", "The area must be a polygon.", "process_area_type"))
        return None
    try:
        geom = parse_geometry(raw, replace(limits, max_area_m2=float("inf")))
    except ApiError as exc:
        errors.extend(exc.errors or [FieldError("geometry", exc.detail, "geometry_invalid")])
        return None
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def save(
    session: Session, data: ProcessInput, actor_id: uuid.UUID, process_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Create (no `process_id`) or change a process; a taken slug is a field error."""
    params = {
        "id": process_id,
        "slug": data.slug,
        "title": data.title,
        "question": data.question,
        "description": data.description,
        "wkb": to_wkb(data.geom, output_dimension=2),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "categories": list(data.categories),
        "premoderation": data.premoderation,
        "participant_questions": data.participant_questions,
        "actor": actor_id,
    }
    if process_id is None:
        sql = """
            INSERT INTO process (slug, title, question, description, geom, starts_on, ends_on,
                                 categories, premoderation, participant_questions, created_by)
            VALUES (:slug, :title, :question, :description,
                    ST_SetSRID(ST_GeomFromWKB(:wkb), 4326), :starts_on, :ends_on, :categories,
                    :premoderation, :participant_questions, :actor)
            RETURNING id"""
    else:
        sql = """
            UPDATE process SET slug = :slug, title = :title, question = :question,
              description = :description, geom = ST_SetSRID(ST_GeomFromWKB(:wkb), 4326),
              starts_on = :starts_on, ends_on = :ends_on, categories = :categories,
              premoderation = :premoderation,
              participant_questions = :participant_questions, updated_at = now()
            WHERE id = :id RETURNING id"""
    stmt = text(sql).bindparams(bindparam("categories", type_=ARRAY(String)))
    try:
        saved = session.execute(stmt, params).scalar_one_or_none()
    except IntegrityError as exc:
        raise FormErrors(
            [FieldError("slug", "This address is already in use.", "process_slug_taken")]
        ) from exc
    if saved is None:
        raise NotFound("This process")
    return saved


# -- Contributing within a process ---------------------------------------------------------------


def admit(
    session: Session, ref: Any, data: ContributionInput, today: date | None = None
) -> tuple[uuid.UUID, str]:
    """Check a new contribution against process `ref` (slug or id): its area, period and
    categories. Returns the process id and the visibility the contribution starts with."""
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 100:
        raise invalid(
            "properties.process", "process must be a process's slug or id.", "process_unknown"
        )
    process = find(session, ref.strip())
    if process is None:
        raise invalid("properties.process", f"There is no process {ref[:40]!r}.", "process_unknown")
    state = process.state(today)
    if state != "open":
        when = f"{process.starts_on:%d-%m-%Y} to {process.ends_on:%d-%m-%Y}"
        reason = f"This process takes contributions from {when}; it is {state} now."
        raise invalid("properties.process", reason, f"process_{state}")
    if data.category not in process.categories:
        reason = f"This process takes {', '.join(process.categories)}, not {data.category}."
        raise invalid("properties.category", reason, "process_category_disabled")
    inside = session.execute(
        text(
            "SELECT ST_CoveredBy(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326), geom) "
            "FROM process WHERE id = :id"
        ),
        {"wkb": to_wkb(data.geom, output_dimension=2), "id": process.id},
    ).scalar_one()
    if not inside:
        raise invalid(
            "geometry", "This lies (partly) outside the process's area.", "process_outside_area"
        )
    return process.id, "pending" if process.premoderation else "published"


def contributions_geojson(session: Session, process_id: uuid.UUID) -> str:
    """The process's published contributions as a FeatureCollection (built in PostGIS)."""
    return contributions.collection(session, contributions.Query(process=process_id, limit=None))


DEMO_SLUG = "grote-plein-weesp"


def load_demo(session: Session, buurt_code: str = "BU0363SD03") -> bool:
    """The demo's process over the buurt Weesp Centrum, open for 90 days from today (kept when
    it exists). False when the buurt is not loaded or the process was there already."""
    today = local_today()
    created = session.execute(
        text(
            """
            INSERT INTO process (slug, title, question, description, geom, starts_on, ends_on,
                                 categories, premoderation)
            SELECT :slug, 'Het Grote Plein en omgeving',
                   'Wat maakt het centrum van Weesp groener, veiliger en fijner om te spelen?',
                   'Voorbeeldtraject: zet uw idee of knelpunt binnen de buurt op de kaart.',
                   ST_Multi(geom), :today, :today + 90,
                   ARRAY['groen', 'speelplek', 'knelpunt', 'idee'], false
            FROM buurt WHERE code = :code
            ON CONFLICT (slug) DO NOTHING
            RETURNING id
            """
        ),
        {"slug": DEMO_SLUG, "today": today, "code": buurt_code},
    ).first()
    return created is not None
