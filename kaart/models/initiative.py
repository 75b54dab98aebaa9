"""Resident initiatives (bewonersinitiatieven): what a resident starts and others join.

- ``initiative``: title, aim, place, status (``idee → in_voorbereiding → bezig → gerealiseerd |
  gestopt``) and moderation like a contribution; optionally started from a contribution and/or
  about an open-data object. The initiator's address and edit-token hash are never public.
- ``initiative_need``: what is needed (hands, materials, a location, money) with an amount.
- ``initiative_participant``: who joined ("Ik doe mee"): a first name or alias and optionally an
  address for updates. Only the initiator (private link) and staff see names; the public sees
  the count.
- ``initiative_update``: the initiator's public timeline (text + optional photo).
- ``initiative_event``: append-only history of status and moderation changes.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    false,
)

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk
from kaart.models.contribution import GEOMETRY_TYPES, VISIBILITIES

STATUSES = ("idee", "in_voorbereiding", "bezig", "gerealiseerd", "gestopt")
NEED_KINDS = ("hands", "materials", "location", "money")
EVENT_ACTIONS = ("created", "status", "hidden", "published", "restored")
LANGUAGES = ("nl", "en")
TITLE_MAX = 120
DESCRIPTION_MAX = 5000
NEED_DESCRIPTION_MAX = 300
UNIT_MAX = 30
NAME_MAX = 60
UPDATE_MAX = 2000


def _geom_checks() -> list[CheckConstraint]:
    return [
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        CheckConstraint(f"GeometryType(geom) IN ({one_of(GEOMETRY_TYPES)})", name="geom_type"),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    ]


def _ref(name: str, table: str, ondelete: str = "CASCADE", **kwargs) -> Column:
    return Column(name, UUID, ForeignKey(f"{table}.id", ondelete=ondelete), **kwargs)


initiative = Table(
    "initiative",
    metadata,
    uuid_pk(),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default="idee"),
    Column("visibility", Text, nullable=False, server_default="published"),
    Column("hidden_reason", Text),
    Column(
        "geom",
        Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("buurt_code", String(10)),
    _ref("contribution_id", "contribution", "SET NULL"),
    Column("object_layer", Text),
    Column("object_id", Text),
    Column("start_date", Date),
    _ref("contact_address_id", "mail_address", "SET NULL"),
    Column("language", String(2), nullable=False, server_default="nl"),
    Column("edit_token_hash", LargeBinary, nullable=False),
    stamp(),
    stamp("updated_at"),
    CheckConstraint(f"status IN ({one_of(STATUSES)})", name="status"),
    CheckConstraint(f"visibility IN ({one_of(VISIBILITIES)})", name="visibility"),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
    CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description_length"),
    CheckConstraint("(object_layer IS NULL) = (object_id IS NULL)", name="object_ref"),
    CheckConstraint("octet_length(edit_token_hash) = 32", name="edit_token_hash"),
    CheckConstraint(f"language IN ({one_of(LANGUAGES)})", name="language"),
    *_geom_checks(),
)
Index("ix_initiative_geom", initiative.c.geom, postgresql_using="gist")
Index("ix_initiative_page", initiative.c.created_at.desc(), initiative.c.id.desc())
Index("ix_initiative_contribution_id", initiative.c.contribution_id)
Index("ix_initiative_contact_address_id", initiative.c.contact_address_id)

initiative_need = Table(
    "initiative_need",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _ref("initiative_id", "initiative", nullable=False),
    Column("kind", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("amount", Numeric(12, 2)),
    Column("unit", Text),
    Column("fulfilled", Boolean, nullable=False, server_default=false()),
    CheckConstraint(f"kind IN ({one_of(NEED_KINDS)})", name="kind"),
    CheckConstraint(
        f"char_length(description) <= {NEED_DESCRIPTION_MAX}", name="description_length"
    ),
    CheckConstraint("amount IS NULL OR amount > 0", name="amount"),
    CheckConstraint(f"unit IS NULL OR char_length(unit) <= {UNIT_MAX}", name="unit_length"),
)
Index("ix_initiative_need_initiative_id", initiative_need.c.initiative_id)

initiative_participant = Table(
    "initiative_participant",
    metadata,
    uuid_pk(),
    _ref("initiative_id", "initiative", nullable=False),
    Column("name", Text, nullable=False),
    _ref("address_id", "mail_address", "SET NULL"),
    Column("language", String(2), nullable=False, server_default="nl"),
    stamp("joined_at"),
    Column("withdrawn_at", DateTime(timezone=True)),
    CheckConstraint(f"char_length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
    CheckConstraint(f"language IN ({one_of(LANGUAGES)})", name="language"),
)
Index("ix_initiative_participant_initiative_id", initiative_participant.c.initiative_id)
Index("ix_initiative_participant_address_id", initiative_participant.c.address_id)

initiative_update = Table(
    "initiative_update",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _ref("initiative_id", "initiative", nullable=False),
    Column("text", Text, nullable=False),
    # A photo stored by kaart/services/photos.py's encoder under the upload dir's initiatives/.
    Column("photo_id", UUID),
    Column("photo_media_type", Text),
    Column("photo_width", Integer),
    Column("photo_height", Integer),
    stamp(),
    CheckConstraint(f"char_length(text) BETWEEN 1 AND {UPDATE_MAX}", name="text_length"),
    CheckConstraint("(photo_id IS NULL) = (photo_media_type IS NULL)", name="photo_complete"),
)
Index("ix_initiative_update_initiative_id", initiative_update.c.initiative_id)

initiative_event = Table(
    "initiative_event",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _ref("initiative_id", "initiative", nullable=False),
    stamp("at"),
    _ref("actor_id", "app_user", "SET NULL"),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("from_visibility", Text),
    Column("to_visibility", Text),
    Column("text", Text),
    CheckConstraint(f"action IN ({one_of(EVENT_ACTIONS)})", name="action"),
)
Index("ix_initiative_event_initiative_id", initiative_event.c.initiative_id)
