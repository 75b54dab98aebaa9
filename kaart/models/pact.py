"""The wijkpact: agreements (afspraken) between the parties of a neighbourhood, on the map.

party              an organisation (gemeente, woningcorporatie …) with an optional logo
party_member       which staff accounts (role `partner`) act for which party
pact               a pact over an area (a buurt, a wijk or a drawn polygon)
pact_party         the parties of a pact
commitment         an afspraak: what, by whom, where, by when, with which budget
commitment_support the parties that support a commitment
commitment_contribution / _initiative / _response   the input it answers
commitment_update  its progress, append-only (a trigger of migration 0018 refuses UPDATE,
                   DELETE and TRUNCATE, except the deletion of a whole commitment)
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Text,
    true,
)

from kaart.models.base import UUID, metadata, one_of, stamp, uuid_pk

PARTY_TYPES = (
    "gemeente",
    "woningcorporatie",
    "bewonersorganisatie",
    "energiecooperatie",
    "school",
    "ondernemer",
    "overig",
)
THEMES = ("groen", "speelplek", "energie", "verkeer", "wonen", "sociaal", "overig")
UPDATE_STATUSES = ("gepland", "bezig", "klaar", "vertraagd", "vervallen")
REASON_STATUSES = ("vertraagd", "vervallen")
AREA_KINDS = ("buurt", "wijk", "polygon")
LOGO_TYPES = ("image/jpeg", "image/png", "image/webp")
LOGO_BYTES_MAX = 262144
NAME_MAX = 120
TEXT_MAX = 5000


def _ref(name: str, table: str, **kwargs) -> Column:
    return Column(name, UUID, ForeignKey(f"{table}.id", ondelete="CASCADE"), **kwargs)


party = Table(
    "party",
    metadata,
    uuid_pk(),
    Column("name", Text, nullable=False, unique=True),
    Column("type", Text, nullable=False),
    # The logo, decoded and re-encoded like a photo (kaart/services/pacts.py), at most
    # LOGO_BYTES_MAX. In the database, not the upload folder: `kaart photos prune` removes
    # every file there that is not a photo, and a logo is small.
    Column("logo", LargeBinary),
    Column("logo_media_type", Text),
    stamp(),
    CheckConstraint(f"char_length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
    CheckConstraint(f"type IN ({one_of(PARTY_TYPES)})", name="type"),
    CheckConstraint(
        f"logo_media_type IS NULL OR logo_media_type IN ({one_of(LOGO_TYPES)})", name="logo"
    ),
    CheckConstraint(
        f"(logo IS NULL) = (logo_media_type IS NULL) AND octet_length(logo) <= {LOGO_BYTES_MAX}",
        name="logo_bytes",
    ),
)

party_member = Table(
    "party_member",
    metadata,
    _ref("party_id", "party", primary_key=True),
    _ref("user_id", "app_user", primary_key=True),
    stamp(),
)
Index("ix_party_member_user_id", party_member.c.user_id)

pact = Table(
    "pact",
    metadata,
    uuid_pk(),
    Column("slug", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("area_kind", Text, nullable=False),
    Column("area_code", Text),  # the buurt or wijk code
    Column(
        "geom",
        Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
        nullable=False,
    ),
    Column("published", Boolean, nullable=False, server_default=true()),
    Column("created_by", UUID, ForeignKey("app_user.id")),
    stamp(),
    CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug"),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {NAME_MAX}", name="title_length"),
    CheckConstraint(f"char_length(description) <= {TEXT_MAX}", name="description_length"),
    CheckConstraint(f"area_kind IN ({one_of(AREA_KINDS)})", name="area_kind"),
    CheckConstraint("(area_kind = 'polygon') = (area_code IS NULL)", name="area_code"),
    CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
)

pact_party = Table(
    "pact_party",
    metadata,
    _ref("pact_id", "pact", primary_key=True),
    _ref("party_id", "party", primary_key=True),
)
Index("ix_pact_party_party_id", pact_party.c.party_id)

commitment = Table(
    "commitment",
    metadata,
    uuid_pk(),
    _ref("pact_id", "pact", nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("party_id", UUID, ForeignKey("party.id"), nullable=False),
    Column("theme", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("budget", Numeric(14, 2)),
    # One or more places: a GEOMETRYCOLLECTION of the points, lines and areas drawn (or none).
    Column("geom", Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False)),
    Column("created_by", UUID, ForeignKey("app_user.id")),
    stamp(),
    CheckConstraint(f"char_length(title) BETWEEN 1 AND {NAME_MAX}", name="title_length"),
    CheckConstraint(f"char_length(description) <= {TEXT_MAX}", name="description_length"),
    CheckConstraint(f"theme IN ({one_of(THEMES)})", name="theme"),
    CheckConstraint("budget IS NULL OR budget >= 0", name="budget"),
    CheckConstraint("geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))", name="geom"),
)
Index("ix_commitment_pact_id", commitment.c.pact_id)
Index("ix_commitment_party_id", commitment.c.party_id)
Index("ix_commitment_geom", commitment.c.geom, postgresql_using="gist")

commitment_support = Table(
    "commitment_support",
    metadata,
    _ref("commitment_id", "commitment", primary_key=True),
    _ref("party_id", "party", primary_key=True),
)

commitment_contribution = Table(
    "commitment_contribution",
    metadata,
    _ref("commitment_id", "commitment", primary_key=True),
    _ref("contribution_id", "contribution", primary_key=True),
)
Index("ix_commitment_contribution_contribution_id", commitment_contribution.c.contribution_id)

commitment_initiative = Table(
    "commitment_initiative",
    metadata,
    _ref("commitment_id", "commitment", primary_key=True),
    _ref("initiative_id", "initiative", primary_key=True),
)
Index("ix_commitment_initiative_initiative_id", commitment_initiative.c.initiative_id)

# A process response: the history event of a contribution in which staff answered it.
commitment_response = Table(
    "commitment_response",
    metadata,
    _ref("commitment_id", "commitment", primary_key=True),
    Column(
        "event_id",
        BigInteger,
        ForeignKey("contribution_event.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

commitment_update = Table(
    "commitment_update",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    _ref("commitment_id", "commitment", nullable=False),
    Column("status", Text, nullable=False),
    Column("percentage", Integer),
    Column("milestone", Text),
    Column("reason", Text),
    Column("actor_id", UUID, ForeignKey("app_user.id")),
    stamp("at"),
    CheckConstraint(f"status IN ({one_of(UPDATE_STATUSES)})", name="status"),
    CheckConstraint("percentage IS NULL OR percentage BETWEEN 0 AND 100", name="percentage"),
    CheckConstraint(
        f"status NOT IN ({one_of(REASON_STATUSES)}) OR coalesce(char_length(btrim(reason)), 0) > 0",
        name="reason",
    ),
    CheckConstraint(f"char_length(milestone) <= {NAME_MAX * 4}", name="milestone_length"),
    CheckConstraint(f"char_length(reason) <= {TEXT_MAX}", name="reason_length"),
)
Index(
    "ix_commitment_update_commitment_id",
    commitment_update.c.commitment_id,
    commitment_update.c.at,
)
