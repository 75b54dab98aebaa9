"""The dialogue around a contribution: comments, support, reports and staff's standard responses."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    text,
)

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk
from kaart.models.contribution import CATEGORIES, TITLE_MAX, VISIBILITIES

COMMENT_MAX = 2000
AUTHOR_NAME_MAX = 80
REASON_MAX = 500
RESPONSE_MAX = 5000

# One level of replies: a reply answers a top-level comment on the same contribution. A trigger
# (migration 0005, not declared here) enforces it, reporting constraint ck_comment_one_level.
comment = Table(
    "comment",
    metadata,
    uuid_pk(),
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", UUID, ForeignKey("comment.id", ondelete="CASCADE")),
    Column("author_name", Text),
    Column("body", Text, nullable=False),
    Column("visibility", Text, nullable=False, server_default="published"),
    Column("hidden_reason", Text),
    Column("report_count", Integer, nullable=False, server_default="0"),
    stamp(),
    # When a moderator hid it (retention counts from here) and when its text was removed
    # (migration 0012).
    Column("hidden_at", DateTime(timezone=True)),
    Column("redacted_at", DateTime(timezone=True)),
    CheckConstraint(f"visibility IN ({one_of(VISIBILITIES)})", name="visibility"),
    CheckConstraint("hidden_at IS NULL OR visibility = 'hidden'", name="hidden_at"),
    CheckConstraint(f"char_length(body) BETWEEN 1 AND {COMMENT_MAX}", name="body_length"),
    CheckConstraint(f"char_length(author_name) <= {AUTHOR_NAME_MAX}", name="author_name_length"),
    CheckConstraint("parent_id IS DISTINCT FROM id", name="not_own_parent"),
)
Index("ix_comment_contribution", comment.c.contribution_id, comment.c.created_at)

# One per supporter key (a keyed hash, never the address itself).
support = Table(
    "support",
    metadata,
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("supporter", Text, primary_key=True),
    stamp(),
)

# A report about exactly one contribution or one comment, once per reporter.
report = Table(
    "report",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("contribution_id", UUID, ForeignKey("contribution.id", ondelete="CASCADE")),
    Column("comment_id", UUID, ForeignKey("comment.id", ondelete="CASCADE")),
    Column("reporter", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    stamp(),
    CheckConstraint("num_nonnulls(contribution_id, comment_id) = 1", name="one_target"),
    CheckConstraint(f"char_length(reason) <= {REASON_MAX}", name="reason_length"),
)
Index(
    "uq_report_contribution",
    report.c.contribution_id,
    report.c.reporter,
    unique=True,
    postgresql_where=text("contribution_id IS NOT NULL"),
)
Index(
    "uq_report_comment",
    report.c.comment_id,
    report.c.reporter,
    unique=True,
    postgresql_where=text("comment_id IS NOT NULL"),
)

# Staff's reusable answers; category NULL means every category.
standard_response = Table(
    "standard_response",
    metadata,
    uuid_pk(),
    Column("category", Text),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    CheckConstraint(f"category IS NULL OR category IN ({one_of(CATEGORIES)})", name="category"),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
    CheckConstraint(f"char_length(body) BETWEEN 1 AND {RESPONSE_MAX}", name="body_length"),
)
