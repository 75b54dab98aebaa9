"""The wijkpact: parties, pacts, commitments (afspraken) and their append-only progress; the
`partner` staff role.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

See kaart/models/pact.py for what each table is for. ``commitment_update`` is history: a
trigger refuses UPDATE, DELETE and TRUNCATE, except the deletion of a whole commitment.
``app_user.roles`` may now hold ``partner``: staff of a party who update that party's
commitments only.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import UUID

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = UUID(as_uuid=True)
ROLES_BEFORE = "'moderator', 'planner', 'coop', 'admin'"
ROLES_AFTER = "'moderator', 'planner', 'coop', 'admin', 'partner'"
PARTY_TYPES = (
    "'gemeente', 'woningcorporatie', 'bewonersorganisatie', 'energiecooperatie', 'school', "
    "'ondernemer', 'overig'"
)
THEMES = "'groen', 'speelplek', 'energie', 'verkeer', 'wonen', 'sociaal', 'overig'"
STATUSES = "'gepland', 'bezig', 'klaar', 'vertraagd', 'vervallen'"
REASON_STATUSES = "'vertraagd', 'vervallen'"
COUNTED = ("pact", "party", "commitment", "commitment_update")


def _uuid_pk() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _stamp(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _ref(name: str, table: str, **kwargs) -> sa.Column:
    return sa.Column(name, ID, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), **kwargs)


def _link(name: str, left: str, right: str, right_type=ID, right_table: str | None = None) -> None:
    op.create_table(
        name,
        _ref(f"{left}_id", left, primary_key=True),
        sa.Column(
            right,
            right_type,
            sa.ForeignKey(f"{right_table}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def upgrade() -> None:
    op.drop_constraint(op.f("ck_app_user_roles"), "app_user", type_="check")
    op.create_check_constraint("roles", "app_user", f"roles <@ ARRAY[{ROLES_AFTER}]::text[]")
    op.create_table(
        "party",
        _uuid_pk(),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("logo", sa.LargeBinary),
        sa.Column("logo_media_type", sa.Text),
        _stamp(),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 120", name="name_length"),
        sa.CheckConstraint(f"type IN ({PARTY_TYPES})", name="type"),
        sa.CheckConstraint(
            "logo_media_type IS NULL OR logo_media_type IN "
            "('image/jpeg', 'image/png', 'image/webp')",
            name="logo",
        ),
        sa.CheckConstraint(
            "(logo IS NULL) = (logo_media_type IS NULL) AND octet_length(logo) <= 262144",
            name="logo_bytes",
        ),
    )
    op.create_table(
        "party_member",
        _ref("party_id", "party", primary_key=True),
        _ref("user_id", "app_user", primary_key=True),
        _stamp(),
    )
    op.create_index("ix_party_member_user_id", "party_member", ["user_id"])
    _pact()
    _commitment()
    _link("commitment_support", "commitment", "party_id", right_table="party")
    _link("commitment_contribution", "commitment", "contribution_id", right_table="contribution")
    op.create_index(
        "ix_commitment_contribution_contribution_id", "commitment_contribution", ["contribution_id"]
    )
    _link("commitment_initiative", "commitment", "initiative_id", right_table="initiative")
    op.create_index(
        "ix_commitment_initiative_initiative_id", "commitment_initiative", ["initiative_id"]
    )
    _link(
        "commitment_response",
        "commitment",
        "event_id",
        right_type=sa.BigInteger,
        right_table="contribution_event",
    )
    _updates()
    for table in COUNTED:  # their change counters (migration 0016): the /ogc items' versions
        op.execute(
            f"CREATE TRIGGER {table}_counted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION count_change()"
        )


def _pact() -> None:
    op.create_table(
        "pact",
        _uuid_pk(),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("area_kind", sa.Text, nullable=False),
        sa.Column("area_code", sa.Text),
        sa.Column(
            "geom",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", ID, sa.ForeignKey("app_user.id")),
        _stamp(),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(description) <= 5000", name="description_length"),
        sa.CheckConstraint("area_kind IN ('buurt', 'wijk', 'polygon')", name="area_kind"),
        sa.CheckConstraint("(area_kind = 'polygon') = (area_code IS NULL)", name="area_code"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
    )
    op.create_table(
        "pact_party",
        _ref("pact_id", "pact", primary_key=True),
        _ref("party_id", "party", primary_key=True),
    )
    op.create_index("ix_pact_party_party_id", "pact_party", ["party_id"])


def _commitment() -> None:
    op.create_table(
        "commitment",
        _uuid_pk(),
        _ref("pact_id", "pact", nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("party_id", ID, sa.ForeignKey("party.id"), nullable=False),
        sa.Column("theme", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("budget", sa.Numeric(14, 2)),
        sa.Column("geom", Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False)),
        sa.Column("created_by", ID, sa.ForeignKey("app_user.id")),
        _stamp(),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(description) <= 5000", name="description_length"),
        sa.CheckConstraint(f"theme IN ({THEMES})", name="theme"),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget"),
        sa.CheckConstraint(
            "geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))", name="geom"
        ),
    )
    op.create_index("ix_commitment_pact_id", "commitment", ["pact_id"])
    op.create_index("ix_commitment_party_id", "commitment", ["party_id"])
    op.create_index("ix_commitment_geom", "commitment", ["geom"], postgresql_using="gist")


def _updates() -> None:
    op.create_table(
        "commitment_update",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _ref("commitment_id", "commitment", nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("percentage", sa.Integer),
        sa.Column("milestone", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("actor_id", ID, sa.ForeignKey("app_user.id")),
        _stamp("at"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
        sa.CheckConstraint("percentage IS NULL OR percentage BETWEEN 0 AND 100", name="percentage"),
        sa.CheckConstraint(
            f"status NOT IN ({REASON_STATUSES}) OR coalesce(char_length(btrim(reason)), 0) > 0",
            name="reason",
        ),
        sa.CheckConstraint("char_length(milestone) <= 480", name="milestone_length"),
        sa.CheckConstraint("char_length(reason) <= 5000", name="reason_length"),
    )
    op.create_index(
        "ix_commitment_update_commitment_id", "commitment_update", ["commitment_id", "at"]
    )
    op.execute(
        """
        CREATE FUNCTION forbid_commitment_update_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          -- Progress goes only together with its commitment (a pact or commitment removed).
          IF TG_OP = 'DELETE' AND NOT EXISTS (
            SELECT 1 FROM commitment WHERE id = OLD.commitment_id
          ) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'commitment_update is append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER commitment_update_append_only
          BEFORE UPDATE OR DELETE ON commitment_update
          FOR EACH ROW EXECUTE FUNCTION forbid_commitment_update_change();
        CREATE TRIGGER commitment_update_no_truncate
          BEFORE TRUNCATE ON commitment_update
          FOR EACH STATEMENT EXECUTE FUNCTION forbid_commitment_update_change();
        """
    )


def downgrade() -> None:
    for table in COUNTED:
        op.execute(f"DROP TRIGGER {table}_counted ON {table}")
    op.execute("DROP TRIGGER commitment_update_no_truncate ON commitment_update")
    op.execute("DROP TRIGGER commitment_update_append_only ON commitment_update")
    op.execute("DROP FUNCTION forbid_commitment_update_change()")
    for table in (
        "commitment_update",
        "commitment_response",
        "commitment_initiative",
        "commitment_contribution",
        "commitment_support",
        "commitment",
        "pact_party",
        "pact",
        "party_member",
        "party",
    ):
        op.drop_table(table)
    op.execute("UPDATE app_user SET roles = array_remove(roles, 'partner')")
    op.drop_constraint(op.f("ck_app_user_roles"), "app_user", type_="check")
    op.create_check_constraint("roles", "app_user", f"roles <@ ARRAY[{ROLES_BEFORE}]::text[]")
