"""Adopting public space (zelfbeheer): a resident or group offers to look after a BGT green
area, a tree or a playground object; a planner or beheerder accepts or declines.

- ``adoption``: the object (layer name + feature id) and its geometry copied at offer time, the
  group's chosen (public) name, what they do and how often, a contact address (never public),
  the decision with its response, and the start/end dates of an accepted adoption.
- ``adoption_event``: append-only history (offered, accepted, declined, ended).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Table,
    Text,
)

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk
from kaart.models.contribution import GEOMETRY_TYPES

STATUSES = ("offered", "accepted", "declined", "ended")
FREQUENCIES = ("wekelijks", "tweewekelijks", "maandelijks", "per_seizoen")
EVENT_ACTIONS = STATUSES
LANGUAGES = ("nl", "en")
GROUP_NAME_MAX = 80
ACTIVITIES_MAX = 2000
RESPONSE_MAX = 2000

adoption = Table(
    "adoption",
    metadata,
    uuid_pk(),
    Column("layer", Text, nullable=False),
    Column("feature_id", Text, nullable=False),
    Column(
        "geom",
        Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("group_name", Text, nullable=False),
    Column("activities", Text, nullable=False),
    Column("frequency", Text, nullable=False),
    Column("contact_address_id", UUID, ForeignKey("mail_address.id", ondelete="SET NULL")),
    Column("language", String(2), nullable=False, server_default="nl"),
    Column("status", Text, nullable=False, server_default="offered"),
    Column("response", Text),
    Column("decided_by", UUID, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("decided_at", DateTime(timezone=True)),
    Column("start_date", Date),
    Column("end_date", Date),
    stamp(),
    stamp("updated_at"),
    CheckConstraint(f"status IN ({one_of(STATUSES)})", name="status"),
    CheckConstraint(f"frequency IN ({one_of(FREQUENCIES)})", name="frequency"),
    CheckConstraint(
        f"char_length(group_name) BETWEEN 1 AND {GROUP_NAME_MAX}", name="group_name_length"
    ),
    CheckConstraint(
        f"char_length(activities) BETWEEN 1 AND {ACTIVITIES_MAX}", name="activities_length"
    ),
    CheckConstraint(
        f"response IS NULL OR char_length(response) <= {RESPONSE_MAX}", name="response"
    ),
    CheckConstraint(f"language IN ({one_of(LANGUAGES)})", name="language"),
    CheckConstraint(
        "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
    ),
    CheckConstraint("status <> 'accepted' OR start_date IS NOT NULL", name="accepted_start"),
    CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
    CheckConstraint(f"GeometryType(geom) IN ({one_of(GEOMETRY_TYPES)})", name="geom_type"),
    CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
)
Index("ix_adoption_geom", adoption.c.geom, postgresql_using="gist")
Index("ix_adoption_object", adoption.c.layer, adoption.c.feature_id)
Index("ix_adoption_contact_address_id", adoption.c.contact_address_id)

adoption_event = Table(
    "adoption_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("adoption_id", UUID, ForeignKey("adoption.id", ondelete="CASCADE"), nullable=False),
    stamp("at"),
    Column("actor_id", UUID, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("action", Text, nullable=False),
    Column("text", Text),
    CheckConstraint(f"action IN ({one_of(EVENT_ACTIONS)})", name="action"),
)
Index("ix_adoption_event_adoption_id", adoption_event.c.adoption_id)
