"""Dialogue: accounts, participation processes, moderation, status history, comments, support.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Tables and columns (names are stable; other parts build on them):

- ``app_user(id uuid, email text unique lower-case, display_name, password_hash, roles text[]
  ⊆ {moderator, planner, coop, admin}, active, created_at, last_login_at)``
- ``process(id uuid, slug unique, title, question, description, geom MultiPolygon 4326 valid,
  starts_on, ends_on >= starts_on, categories text[] non-empty ⊆ the 5 categories,
  premoderation bool, created_by -> app_user, created_at, updated_at)``
- ``contribution`` gains ``process_id -> process``, ``visibility`` ('published' | 'pending' |
  'hidden', default 'published'), ``hidden_reason``, ``response`` (the latest public response),
  ``responded_at``, ``support_count``, ``report_count``.
- ``contribution_event(id bigserial, contribution_id, at, actor_id -> app_user NULL, action,
  from_status, to_status, from_visibility, to_visibility, text)``: append-only, a trigger refuses
  UPDATE and DELETE. ``action`` is one of created, status, hidden, published, restored,
  reported, response. A trigger writes the ``created`` event of every new contribution; events
  are deleted only together with their contribution (erasure), never on their own.
- ``comment(id uuid, contribution_id, parent_id -> comment NULL (one level of replies: a reply's
  parent has no parent, enforced by a trigger), author_name, body, visibility, hidden_reason,
  report_count, created_at)``
- ``support(contribution_id, supporter text, created_at, PK both)``: one per supporter key.
- ``report(id bigserial, contribution_id NULL, comment_id NULL, reporter text, reason,
  created_at)``: exactly one target; unique per reporter and target.
- ``standard_response(id uuid, category NULL (= every category), title, body)``
- ``rate_event(bucket text, key text, at)``: rate-limit bookkeeping (login, support, comments).
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CATEGORIES = "'groen', 'speelplek', 'energie', 'knelpunt', 'idee'"
ROLES = "'moderator', 'planner', 'coop', 'admin'"
VISIBILITIES = "'published', 'pending', 'hidden'"
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.func.now()


def _id() -> sa.Column:
    return sa.Column("id", UUID, primary_key=True, server_default=sa.func.gen_random_uuid())


def _stamp(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=NOW)


def upgrade() -> None:
    op.create_table(
        "app_user",
        _id(),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _stamp(),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email"),
        sa.CheckConstraint(f"roles <@ ARRAY[{ROLES}]::text[]", name="roles"),
        sa.CheckConstraint("char_length(display_name) BETWEEN 1 AND 120", name="display_name"),
    )
    op.create_table(
        "process",
        _id(),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "geom",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("premoderation", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", UUID, sa.ForeignKey("app_user.id")),
        _stamp(),
        _stamp("updated_at"),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(question) BETWEEN 1 AND 500", name="question_length"),
        sa.CheckConstraint("char_length(description) <= 5000", name="description_length"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        sa.CheckConstraint("ends_on >= starts_on", name="period"),
        sa.CheckConstraint(
            f"cardinality(categories) > 0 AND categories <@ ARRAY[{CATEGORIES}]::text[]",
            name="categories",
        ),
    )
    op.create_index("ix_process_geom", "process", ["geom"], postgresql_using="gist")

    op.add_column(
        "contribution",
        sa.Column("process_id", UUID, sa.ForeignKey("process.id", ondelete="SET NULL")),
    )
    op.add_column(
        "contribution",
        sa.Column("visibility", sa.Text, nullable=False, server_default="published"),
    )
    op.add_column("contribution", sa.Column("hidden_reason", sa.Text))
    op.add_column("contribution", sa.Column("response", sa.Text))
    op.add_column("contribution", sa.Column("responded_at", sa.DateTime(timezone=True)))
    for name in ("support_count", "report_count"):
        op.add_column(
            "contribution", sa.Column(name, sa.Integer, nullable=False, server_default="0")
        )
    op.create_check_constraint("visibility", "contribution", f"visibility IN ({VISIBILITIES})")
    op.create_index("ix_contribution_process", "contribution", ["process_id"])
    op.create_index(
        "ix_contribution_moderation",
        "contribution",
        ["visibility", "created_at"],
        postgresql_where=sa.text("visibility <> 'published'"),
    )

    op.create_table(
        "contribution_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "contribution_id",
            UUID,
            sa.ForeignKey("contribution.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _stamp("at"),
        sa.Column("actor_id", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text),
        sa.Column("from_visibility", sa.Text),
        sa.Column("to_visibility", sa.Text),
        sa.Column("text", sa.Text),
        sa.CheckConstraint(
            "action IN ('created', 'status', 'hidden', 'published', 'restored', 'reported', "
            "'response')",
            name="action",
        ),
    )
    op.create_index("ix_contribution_event_contribution", "contribution_event", ["contribution_id"])
    op.execute(
        """
        CREATE FUNCTION forbid_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          -- History goes only together with its contribution (erasure of a whole record).
          IF TG_OP = 'DELETE' AND NOT EXISTS (
            SELECT 1 FROM contribution WHERE id = OLD.contribution_id
          ) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'contribution_event is append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER contribution_event_append_only
          BEFORE UPDATE OR DELETE ON contribution_event
          FOR EACH ROW EXECUTE FUNCTION forbid_history_change();
        CREATE FUNCTION record_contribution_created() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO contribution_event (contribution_id, action, to_status, to_visibility)
          VALUES (NEW.id, 'created', NEW.status, NEW.visibility);
          RETURN NULL;
        END $$;
        CREATE TRIGGER contribution_created AFTER INSERT ON contribution
          FOR EACH ROW EXECUTE FUNCTION record_contribution_created();
        CREATE TRIGGER contribution_event_no_truncate
          BEFORE TRUNCATE ON contribution_event
          FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_change();
        """
    )

    op.create_table(
        "comment",
        _id(),
        sa.Column(
            "contribution_id",
            UUID,
            sa.ForeignKey("contribution.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("parent_id", UUID, sa.ForeignKey("comment.id", ondelete="CASCADE")),
        sa.Column("author_name", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("visibility", sa.Text, nullable=False, server_default="published"),
        sa.Column("hidden_reason", sa.Text),
        sa.Column("report_count", sa.Integer, nullable=False, server_default="0"),
        _stamp(),
        sa.CheckConstraint(f"visibility IN ({VISIBILITIES})", name="visibility"),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 2000", name="body_length"),
        sa.CheckConstraint("char_length(author_name) <= 80", name="author_name_length"),
        sa.CheckConstraint("parent_id IS DISTINCT FROM id", name="not_own_parent"),
    )
    op.create_index("ix_comment_contribution", "comment", ["contribution_id", "created_at"])
    op.execute(
        """
        CREATE FUNCTION comment_one_level() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.parent_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM comment p WHERE p.id = NEW.parent_id
              AND (p.parent_id IS NOT NULL OR p.contribution_id <> NEW.contribution_id)
          ) THEN
            RAISE EXCEPTION 'a reply must answer a top-level comment on the same contribution'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_comment_one_level';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER comment_one_level BEFORE INSERT OR UPDATE OF parent_id ON comment
          FOR EACH ROW EXECUTE FUNCTION comment_one_level();
        """
    )

    op.create_table(
        "support",
        sa.Column(
            "contribution_id",
            UUID,
            sa.ForeignKey("contribution.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("supporter", sa.Text, primary_key=True),
        _stamp(),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("contribution_id", UUID, sa.ForeignKey("contribution.id", ondelete="CASCADE")),
        sa.Column("comment_id", UUID, sa.ForeignKey("comment.id", ondelete="CASCADE")),
        sa.Column("reporter", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        _stamp(),
        sa.CheckConstraint("num_nonnulls(contribution_id, comment_id) = 1", name="one_target"),
        sa.CheckConstraint("char_length(reason) <= 500", name="reason_length"),
    )
    op.create_index(
        "uq_report_contribution",
        "report",
        ["contribution_id", "reporter"],
        unique=True,
        postgresql_where=sa.text("contribution_id IS NOT NULL"),
    )
    op.create_index(
        "uq_report_comment",
        "report",
        ["comment_id", "reporter"],
        unique=True,
        postgresql_where=sa.text("comment_id IS NOT NULL"),
    )
    op.create_table(
        "standard_response",
        _id(),
        sa.Column("category", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.CheckConstraint(f"category IS NULL OR category IN ({CATEGORIES})", name="category"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 120", name="title_length"),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 5000", name="body_length"),
    )
    op.create_table(
        "rate_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        _stamp("at"),
    )
    op.create_index("ix_rate_event_lookup", "rate_event", ["bucket", "key", "at"])


def downgrade() -> None:
    op.drop_table("rate_event")
    op.drop_table("standard_response")
    op.drop_table("report")
    op.drop_table("support")
    op.drop_table("comment")
    op.execute("DROP FUNCTION comment_one_level()")
    op.drop_table("contribution_event")
    op.execute("DROP TRIGGER contribution_created ON contribution")
    op.execute("DROP FUNCTION record_contribution_created()")
    op.execute("DROP FUNCTION forbid_history_change()")
    op.drop_index("ix_contribution_moderation", "contribution")
    op.drop_index("ix_contribution_process", "contribution")
    op.drop_constraint("ck_contribution_visibility", "contribution")
    for name in (
        "report_count",
        "support_count",
        "responded_at",
        "response",
        "hidden_reason",
        "visibility",
        "process_id",
    ):
        op.drop_column("contribution", name)
    op.drop_table("process")
    op.drop_table("app_user")
