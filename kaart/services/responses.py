"""Standard response texts per category, for planners to reuse when they answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import FieldError, Invalid
from kaart.models.contribution import CATEGORIES


@dataclass(frozen=True)
class StandardResponse:
    id: uuid.UUID
    category: str | None  # None: fits every category
    title: str
    body: str


def all_responses(session: Session) -> list[StandardResponse]:
    rows = session.execute(
        text("SELECT id, category, title, body FROM standard_response ORDER BY category, title")
    ).all()
    return [StandardResponse(*r) for r in rows]


def for_category(session: Session, category: str) -> list[StandardResponse]:
    rows = session.execute(
        text(
            "SELECT id, category, title, body FROM standard_response "
            "WHERE category IS NULL OR category = :category ORDER BY category NULLS LAST, title"
        ),
        {"category": category},
    ).all()
    return [StandardResponse(*r) for r in rows]


def add(session: Session, category: str | None, title: str, body: str) -> uuid.UUID:
    errors = []
    title, body = (title or "").strip(), (body or "").strip()
    if category is not None and category not in CATEGORIES:
        errors.append(FieldError("category", "Unknown category.", "category_unknown"))
    if not 1 <= len(title) <= 120:
        errors.append(FieldError("title", "Give a short title.", "standard_title_invalid"))
    if not 1 <= len(body) <= 5000:
        errors.append(FieldError("body", "Write the response text.", "standard_body_invalid"))
    if errors:
        raise Invalid(errors[0].reason, errors=errors, title="Invalid standard response")
    new_id = session.execute(
        text(
            "INSERT INTO standard_response (category, title, body) "
            "VALUES (:category, :title, :body) RETURNING id"
        ),
        {"category": category, "title": title, "body": body},
    ).scalar_one()
    return new_id


def delete(session: Session, response_id: uuid.UUID) -> None:
    session.execute(text("DELETE FROM standard_response WHERE id = :id"), {"id": response_id})
