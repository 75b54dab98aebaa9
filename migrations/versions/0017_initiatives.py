"""Initiatives (bewonersinitiatieven) with needs, participants, updates and history; adoptions
of public space (zelfbeheer) with history.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

See kaart/models/initiative.py and kaart/models/adoption.py for what each table is for.
Personal data (the initiator's and joiners' addresses, joiners' names, an adopting group's
address) lives only in columns no public output selects; retention and erasure cover them.
Every change of an initiative (a join, a need ticked off, an update) moves its ``updated_at``;
the ETags of the API and /ogc are made from that (kaart/providers/initiatives.py).
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import UUID

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = UUID(as_uuid=True)
GEOMETRY_TYPES = "'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'"


def _uuid_pk() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _serial() -> sa.Column:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _stamp(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _moment(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True))


def _ref(name: str, table: str, ondelete: str = "CASCADE", **kwargs) -> sa.Column:
    return sa.Column(name, ID, sa.ForeignKey(f"{table}.id", ondelete=ondelete), **kwargs)


def _geom() -> sa.Column:
    return sa.Column(
        "geom", Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False), nullable=False
    )


def _geom_checks() -> list:
    return [
        sa.CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        sa.CheckConstraint(f"GeometryType(geom) IN ({GEOMETRY_TYPES})", name="geom_type"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    ]


def upgrade() -> None:
    _initiative()
    _initiative_children()
    _adoption()


def _initiative() -> None:
    op.create_table(
        "initiative",
        _uuid_pk(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="idee"),
        sa.Column("visibility", sa.Text, nullable=False, server_default="published"),
        sa.Column("hidden_reason", sa.Text),
        _geom(),
        sa.Column("buurt_code", sa.String(10)),
        _ref("contribution_id", "contribution", "SET NULL"),
        sa.Column("object_layer", sa.Text),
        sa.Column("object_id", sa.Text),
        sa.Column("start_date", sa.Date),
        _ref("contact_address_id", "mail_address", "SET NULL"),
        sa.Column("language", sa.String(2), nullable=False, server_default="nl"),
        sa.Column("edit_token_hash", sa.LargeBinary, nullable=False),
        _stamp(),
        _stamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('idee', 'in_voorbereiding', 'bezig', 'gerealiseerd', 'gestopt')",
            name="status",
        ),
        sa.CheckConstraint("visibility IN ('published', 'pending', 'hidden')", name="visibility"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(description) <= 5000", name="description_length"),
        sa.CheckConstraint("(object_layer IS NULL) = (object_id IS NULL)", name="object_ref"),
        sa.CheckConstraint("octet_length(edit_token_hash) = 32", name="edit_token_hash"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language"),
        *_geom_checks(),
    )
    op.create_index("ix_initiative_geom", "initiative", ["geom"], postgresql_using="gist")
    op.create_index(
        "ix_initiative_page",
        "initiative",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_initiative_contribution_id", "initiative", ["contribution_id"])
    op.create_index("ix_initiative_contact_address_id", "initiative", ["contact_address_id"])


def _initiative_children() -> None:
    op.create_table(
        "initiative_need",
        _serial(),
        _ref("initiative_id", "initiative", nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("unit", sa.Text),
        sa.Column("fulfilled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("kind IN ('hands', 'materials', 'location', 'money')", name="kind"),
        sa.CheckConstraint("char_length(description) <= 300", name="description_length"),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name="amount"),
        sa.CheckConstraint("unit IS NULL OR char_length(unit) <= 30", name="unit_length"),
    )
    op.create_index("ix_initiative_need_initiative_id", "initiative_need", ["initiative_id"])
    op.create_table(
        "initiative_participant",
        _uuid_pk(),
        _ref("initiative_id", "initiative", nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        _ref("address_id", "mail_address", "SET NULL"),
        sa.Column("language", sa.String(2), nullable=False, server_default="nl"),
        _stamp("joined_at"),
        _moment("withdrawn_at"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 60", name="name_length"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language"),
    )
    op.create_index(
        "ix_initiative_participant_initiative_id", "initiative_participant", ["initiative_id"]
    )
    op.create_index(
        "ix_initiative_participant_address_id", "initiative_participant", ["address_id"]
    )
    op.create_table(
        "initiative_update",
        _serial(),
        _ref("initiative_id", "initiative", nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("photo_id", ID),
        sa.Column("photo_media_type", sa.Text),
        sa.Column("photo_width", sa.Integer),
        sa.Column("photo_height", sa.Integer),
        _stamp(),
        sa.CheckConstraint("char_length(text) BETWEEN 1 AND 2000", name="text_length"),
        sa.CheckConstraint(
            "(photo_id IS NULL) = (photo_media_type IS NULL)", name="photo_complete"
        ),
    )
    op.create_index("ix_initiative_update_initiative_id", "initiative_update", ["initiative_id"])
    op.create_table(
        "initiative_event",
        _serial(),
        _ref("initiative_id", "initiative", nullable=False),
        _stamp("at"),
        _ref("actor_id", "app_user", "SET NULL"),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text),
        sa.Column("from_visibility", sa.Text),
        sa.Column("to_visibility", sa.Text),
        sa.Column("text", sa.Text),
        sa.CheckConstraint(
            "action IN ('created', 'status', 'hidden', 'published', 'restored')", name="action"
        ),
    )
    op.create_index("ix_initiative_event_initiative_id", "initiative_event", ["initiative_id"])


def _adoption() -> None:
    op.create_table(
        "adoption",
        _uuid_pk(),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("feature_id", sa.Text, nullable=False),
        _geom(),
        sa.Column("group_name", sa.Text, nullable=False),
        sa.Column("activities", sa.Text, nullable=False),
        sa.Column("frequency", sa.Text, nullable=False),
        _ref("contact_address_id", "mail_address", "SET NULL"),
        sa.Column("language", sa.String(2), nullable=False, server_default="nl"),
        sa.Column("status", sa.Text, nullable=False, server_default="offered"),
        sa.Column("response", sa.Text),
        _ref("decided_by", "app_user", "SET NULL"),
        _moment("decided_at"),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        _stamp(),
        _stamp("updated_at"),
        sa.CheckConstraint("status IN ('offered', 'accepted', 'declined', 'ended')", name="status"),
        sa.CheckConstraint(
            "frequency IN ('wekelijks', 'tweewekelijks', 'maandelijks', 'per_seizoen')",
            name="frequency",
        ),
        sa.CheckConstraint("char_length(group_name) BETWEEN 1 AND 80", name="group_name_length"),
        sa.CheckConstraint("char_length(activities) BETWEEN 1 AND 2000", name="activities_length"),
        sa.CheckConstraint("response IS NULL OR char_length(response) <= 2000", name="response"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language"),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
        ),
        sa.CheckConstraint("status <> 'accepted' OR start_date IS NOT NULL", name="accepted_start"),
        *_geom_checks(),
    )
    op.create_index("ix_adoption_geom", "adoption", ["geom"], postgresql_using="gist")
    op.create_index("ix_adoption_object", "adoption", ["layer", "feature_id"])
    op.create_index("ix_adoption_contact_address_id", "adoption", ["contact_address_id"])
    op.create_table(
        "adoption_event",
        _serial(),
        _ref("adoption_id", "adoption", nullable=False),
        _stamp("at"),
        _ref("actor_id", "app_user", "SET NULL"),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("text", sa.Text),
        sa.CheckConstraint("action IN ('offered', 'accepted', 'declined', 'ended')", name="action"),
    )
    op.create_index("ix_adoption_event_adoption_id", "adoption_event", ["adoption_id"])


def downgrade() -> None:
    for table in (
        "adoption_event",
        "adoption",
        "initiative_event",
        "initiative_update",
        "initiative_participant",
        "initiative_need",
        "initiative",
    ):
        op.drop_table(table)
