"""A participation process (traject): a question about an area, open for a period."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import ARRAY

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk
from kaart.models.contribution import CATEGORIES, DESCRIPTION_MAX, TITLE_MAX

QUESTION_MAX = 500
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"

process = Table(
    "process",
    metadata,
    uuid_pk(),
    Column("slug", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column(
        "geom",
        Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("categories", ARRAY(Text), nullable=False),
    # New contributions wait for a moderator before the public sees them.
    Column("premoderation", Boolean, nullable=False, server_default=false()),
    # The contribution form asks the optional questions of who takes part (migration 0013).
    Column("participant_questions", Boolean, nullable=False, server_default=false()),
    Column("created_by", UUID, ForeignKey("app_user.id")),
    # When the reactienota was made public on the process page (migration 0015).
    Column("reactienota_published_at", DateTime(timezone=True)),
    stamp(),
    stamp("updated_at"),
    CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
    CheckConstraint(f"char_length(question) BETWEEN 1 AND {QUESTION_MAX}", name="question_length"),
    CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description_length"),
    CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    CheckConstraint("ends_on >= starts_on", name="period"),
    CheckConstraint(
        f"cardinality(categories) > 0 AND categories <@ ARRAY[{one_of(CATEGORIES)}]::text[]",
        name="categories",
    ),
)
Index("ix_process_geom", process.c.geom, postgresql_using="gist")
