"""Who takes part: a process may ask optional, anonymous questions; their answers are stored apart.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10

- ``process.participant_questions``: the contribution form of the process asks age group, years
  in the neighbourhood and relation to it (all optional).
- ``participant_answer``: one row per resident who answered at least one question: the process,
  the buurt and PC4 the input was about, and the answers. Deliberately no contribution id and no
  moment (either would tie the answers to a contribution), and a random id, so the rows can only
  be counted (kaart/services/participation.py).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "process",
        sa.Column("participant_questions", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "participant_answer",
        sa.Column(
            "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
        ),
        sa.Column(
            "process_id",
            UUID(as_uuid=True),
            sa.ForeignKey("process.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("buurt_code", sa.String(10)),
        sa.Column("pc4", sa.String(4)),
        sa.Column("age_group", sa.Text),
        sa.Column("residence", sa.Text),
        sa.Column("relation", sa.Text),
        sa.CheckConstraint(
            "age_group IN ('0-14', '15-24', '25-44', '45-64', '65+')", name="age_group"
        ),
        sa.CheckConstraint(
            "residence IN ('under_2', '2_to_10', 'over_10', 'not_resident')", name="residence"
        ),
        sa.CheckConstraint("relation IN ('live', 'work', 'visit')", name="relation"),
        sa.CheckConstraint("num_nonnulls(age_group, residence, relation) > 0", name="something"),
    )
    op.create_index("ix_participant_answer_process_id", "participant_answer", ["process_id"])


def downgrade() -> None:
    op.drop_table("participant_answer")
    op.drop_column("process", "participant_questions")
