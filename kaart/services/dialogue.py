"""The wijkdialoog: comments with one level of replies, and support (steun) once per person."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import invalid, not_found
from kaart.providers import contributions
from kaart.services import workflow
from kaart.services.contributions import authorise_edit_token

BODY_MAX = 2000
NAME_MAX = 80
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Comment:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    author_name: str | None
    body: str
    visibility: str
    hidden_reason: str | None
    created_at: datetime
    replies: list[Comment] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "id": str(self.id),
            "parent": str(self.parent_id) if self.parent_id else None,
            "author_name": self.author_name,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
            "replies": [r.as_json() for r in self.replies],
        }


def _open_contribution(session: Session, contribution_id: uuid.UUID, lock: bool = False):
    """The contribution, if the public may talk about it (published, not withdrawn)."""
    row = session.execute(
        text(
            "SELECT c.id, p.premoderation FROM contribution c "
            "LEFT JOIN process p ON p.id = c.process_id "
            "WHERE c.id = :id AND c.visibility = 'published' AND c.withdrawn_at IS NULL"
            + (" FOR UPDATE OF c" if lock else "")
        ),
        {"id": contribution_id},
    ).one_or_none()
    if row is None:
        raise not_found("This contribution")
    return row


def _text(value: object, name: str, limit: int, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid(name, f"{name} is required.", f"comment_{name}_missing")
        return None
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be text.", f"comment_{name}_invalid")
    value = value.strip()
    if required and not value:
        raise invalid(name, f"{name} is required.", f"comment_{name}_missing")
    if len(value) > limit:
        raise invalid(
            name, f"{name} is longer than {limit} characters.", f"comment_{name}_too_long"
        )
    if _CONTROL.search(value):
        raise invalid(name, f"{name} contains control characters.", "text_control_chars")
    return value or None


def add_comment(
    session: Session,
    contribution_id: uuid.UUID,
    body: object,
    author_name: object = None,
    parent: object = None,
) -> Comment:
    """A comment on a published contribution, or a reply to one of its top-level comments.
    In a process with moderation beforehand it waits (visibility pending)."""
    body_text = _text(body, "body", BODY_MAX, required=True)
    name = _text(author_name, "author_name", NAME_MAX, required=False)
    contribution = _open_contribution(session, contribution_id)
    parent_id = None
    if parent is not None:
        try:
            parent_id = uuid.UUID(str(parent))
        except ValueError:
            parent_id = None
        top = (
            session.execute(
                text(
                    "SELECT parent_id FROM comment WHERE id = :id AND contribution_id = :cid "
                    "AND visibility = 'published'"
                ),
                {"id": parent_id, "cid": contribution_id},
            ).one_or_none()
            if parent_id
            else None
        )
        if top is None:
            raise invalid(
                "parent", "There is no such comment to reply to.", "comment_parent_unknown"
            )
        if top.parent_id is not None:
            raise invalid(
                "parent",
                "Reply to the comment itself: replies go one level deep.",
                "comment_reply_depth",
            )
    visibility = "pending" if contribution.premoderation else "published"
    row = session.execute(
        text(
            "INSERT INTO comment (contribution_id, parent_id, author_name, body, visibility) "
            "VALUES (:cid, :parent, :name, :body, :visibility) RETURNING id, created_at"
        ),
        {
            "cid": contribution_id,
            "parent": parent_id,
            "name": name,
            "body": body_text,
            "visibility": visibility,
        },
    ).one()
    return Comment(row.id, parent_id, name, body_text, visibility, None, row.created_at)


def comments(session: Session, contribution_id: uuid.UUID, *, public: bool = True) -> list[Comment]:
    """Top-level comments, oldest first, each with its replies. The public sees published
    comments only (a reply to a hidden comment is hidden with it)."""
    where = "contribution_id = :id"
    if public:
        where += " AND visibility = 'published'"
    rows = session.execute(
        text(
            "SELECT id, parent_id, author_name, body, visibility, hidden_reason, created_at "
            f"FROM comment WHERE {where} ORDER BY created_at, id"
        ),
        {"id": contribution_id},
    ).all()
    top: dict[uuid.UUID, Comment] = {}
    replies: list[Comment] = []
    for r in rows:
        item = Comment(*r)
        if item.parent_id is None:
            top[item.id] = item
        else:
            replies.append(item)
    for reply in replies:
        if reply.parent_id in top:
            top[reply.parent_id].replies.append(reply)
    return list(top.values())


@dataclass(frozen=True)
class Supported:
    support_count: int
    added: bool  # False: this supporter had supported it already


def support(session: Session, contribution_id: uuid.UUID, supporter: str) -> Supported:
    """One supporter's steun, counted once however often it is sent."""
    _open_contribution(session, contribution_id, lock=True)
    added = (
        session.execute(
            text(
                "INSERT INTO support (contribution_id, supporter) VALUES (:id, :supporter) "
                "ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"id": contribution_id, "supporter": supporter},
        ).first()
        is not None
    )
    if added:
        count = session.execute(
            text(
                "UPDATE contribution SET support_count = support_count + 1 WHERE id = :id "
                "RETURNING support_count"
            ),
            {"id": contribution_id},
        ).scalar_one()
    else:
        count = session.execute(
            text("SELECT support_count FROM contribution WHERE id = :id"), {"id": contribution_id}
        ).scalar_one()
    return Supported(count, added)


def supported(session: Session, contribution_id: uuid.UUID, supporter: str | None) -> bool:
    if not supporter:
        return False
    return (
        session.execute(
            text("SELECT 1 FROM support WHERE contribution_id = :id AND supporter = :s"),
            {"id": contribution_id, "s": supporter},
        ).first()
        is not None
    )


@dataclass(frozen=True)
class PageView:
    """What a contribution's public page shows of the dialogue."""

    support_count: int
    process: dict[str, str] | None  # slug and title of its participation process
    supported: bool  # by this browser
    comments: list[Comment]
    history: list[workflow.Event]


def page_view(
    session: Session, contribution_id: uuid.UUID, supporter: str | None, show_staff: bool
) -> PageView:
    row = session.execute(
        text(
            "SELECT c.support_count, p.slug, p.title FROM contribution c "
            "LEFT JOIN process p ON p.id = c.process_id WHERE c.id = :id"
        ),
        {"id": contribution_id},
    ).one()
    return PageView(
        support_count=row.support_count,
        process={"slug": row.slug, "title": row.title} if row.slug else None,
        supported=supported(session, contribution_id, supporter),
        comments=comments(session, contribution_id),
        history=workflow.history(session, contribution_id, public=True, show_staff=show_staff),
    )


@dataclass(frozen=True)
class PrivateView:
    """What the author sees through the private link."""

    status: str
    visibility: str
    hidden_reason: str | None
    response: str | None
    responded_at: datetime | None
    support_count: int
    geometry: str  # GeoJSON, the place as drawn
    public_location: str  # how the public map shows it: "exact" or "approximate"
    history: list[workflow.Event]


# The author's values of the contribution (kaart/providers/contributions.py EXPRESSIONS).
PRIVATE_VALUES = (
    "status",
    "visibility",
    "hidden_reason",
    "response",
    "responded_at",
    "support_count",
    "geojson",
    "public_location",
)


def private_view(
    session: Session, contribution_id: uuid.UUID, token: str | None, show_staff: bool
) -> PrivateView:
    """Status, response, moderation, the place as drawn and the history for the holder of the
    edit token."""
    authorise_edit_token(session, contribution_id, token)
    query = contributions.Query(audience=contributions.ALL, exact=True, ids=(contribution_id,))
    (row,) = contributions.records(session, query, PRIVATE_VALUES)
    events = workflow.history(
        session, contribution_id, public=True, show_staff=show_staff, author=True
    )
    return PrivateView(*row, history=events)
