"""A resident's contribution (bijdrage): one pin, line or polygon with its text, and its history."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
    text,
)

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk

CATEGORIES = ("groen", "speelplek", "energie", "knelpunt", "idee")
# `ingetrokken` (withdrawn by the author) is set only through the private edit link.
STATUSES = (
    "ontvangen",
    "in_behandeling",
    "beantwoord",
    "overgenomen",
    "niet_overgenomen",
    "gerealiseerd",
    "ingetrokken",
)
# Moderation: what the public sees (contributions and comments).
VISIBILITIES = ("published", "pending", "hidden")
GEOMETRY_TYPES = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
)
TITLE_MAX = 120
DESCRIPTION_MAX = 5000
# What a history event records.
EVENT_ACTIONS = ("created", "status", "hidden", "published", "restored", "reported", "response")

# Measured in RD New, computed by PostgreSQL so no writer can get them wrong.
AREA_SQL = "CASE WHEN ST_Dimension(geom) = 2 THEN ST_Area(ST_Transform(geom, 28992)) END"
LENGTH_SQL = "CASE WHEN ST_Dimension(geom) = 1 THEN ST_Length(ST_Transform(geom, 28992)) END"

contribution = Table(
    "contribution",
    metadata,
    uuid_pk(),
    Column("category", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column(
        "geom",
        Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
        nullable=False,
    ),
    # What the public sees of the place (kaart/services/privacy.py): `geom`, or near a home the
    # centre of its grid cell; written in the same statement as `geom`.
    Column(
        "public_geom",
        Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("location_generalised", Boolean, nullable=False, server_default=false()),
    Column("area_m2", Float, Computed(AREA_SQL, persisted=True)),
    Column("length_m", Float, Computed(LENGTH_SQL, persisted=True)),
    Column("buurt_code", String(10)),
    Column("wijk_code", String(8)),
    Column("gemeente_code", String(6)),
    Column("status", String(20), nullable=False, server_default="ontvangen"),
    Column("edit_token_hash", LargeBinary, nullable=False),
    stamp("created_at"),
    stamp("updated_at"),
    Column("withdrawn_at", DateTime(timezone=True)),
    # When the retention purge or an erasure removed its text and photos (migration 0012).
    Column("redacted_at", DateTime(timezone=True)),
    # The open-data object this is about: a layer name and the feature's id in that layer.
    Column("object_layer", Text),
    Column("object_id", Text),
    Column("process_id", UUID, ForeignKey("process.id", ondelete="SET NULL")),
    Column("visibility", Text, nullable=False, server_default="published"),
    Column("hidden_reason", Text),
    # The latest public response; the history keeps every one.
    Column("response", Text),
    Column("responded_at", DateTime(timezone=True)),
    Column("support_count", Integer, nullable=False, server_default="0"),
    # Who to write to (kaart/mail/, migration 0015): never public, cleared by retention.
    Column("author_address_id", UUID, ForeignKey("mail_address.id", ondelete="SET NULL")),
    Column("report_count", Integer, nullable=False, server_default="0"),
    CheckConstraint(f"category IN ({one_of(CATEGORIES)})", name="category"),
    CheckConstraint(f"status IN ({one_of(STATUSES)})", name="status"),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
    CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description_length"),
    CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
    CheckConstraint(f"GeometryType(geom) IN ({one_of(GEOMETRY_TYPES)})", name="geom_type"),
    CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    CheckConstraint("octet_length(edit_token_hash) = 32", name="edit_token_hash"),
    CheckConstraint(
        "(status = 'ingetrokken') = (withdrawn_at IS NOT NULL)", name="withdrawn_status"
    ),
    CheckConstraint("(object_layer IS NULL) = (object_id IS NULL)", name="object_ref"),
    CheckConstraint(f"visibility IN ({one_of(VISIBILITIES)})", name="visibility"),
)
Index("ix_contribution_geom", contribution.c.geom, postgresql_using="gist")
Index("ix_contribution_public_geom", contribution.c.public_geom, postgresql_using="gist")
# Keyset paging: newest first, among what is public.
Index(
    "ix_contribution_page",
    contribution.c.created_at.desc(),
    contribution.c.id.desc(),
    postgresql_where=text("withdrawn_at IS NULL"),
)
Index(
    "ix_contribution_object",
    contribution.c.object_layer,
    contribution.c.object_id,
    postgresql_where=text("object_layer IS NOT NULL"),
)
Index("ix_contribution_process", contribution.c.process_id)
Index("ix_contribution_author_address_id", contribution.c.author_address_id)
Index(
    "ix_contribution_moderation",
    contribution.c.visibility,
    contribution.c.created_at,
    postgresql_where=text("visibility <> 'published'"),
)

# Append-only history. Triggers (migration 0005, not declared here) write the `created` event of
# every new contribution and refuse UPDATE, DELETE and TRUNCATE, except the deletion of a whole
# contribution (erasure).
contribution_event = Table(
    "contribution_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "contribution_id",
        UUID,
        ForeignKey("contribution.id", ondelete="CASCADE"),
        nullable=False,
    ),
    stamp("at"),
    Column("actor_id", UUID, ForeignKey("app_user.id")),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("from_visibility", Text),
    Column("to_visibility", Text),
    Column("text", Text),
    CheckConstraint(f"action IN ({one_of(EVENT_ACTIONS)})", name="action"),
)
Index("ix_contribution_event_contribution", contribution_event.c.contribution_id)
Index("ix_contribution_event_at", contribution_event.c.at)  # the audit log's newest-first pages
