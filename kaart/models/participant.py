"""Who takes part: the optional, anonymous answers a resident gives with a contribution in a
process that asks them (age group, years in the neighbourhood, relation to it).

Stored apart from the contribution on purpose: no contribution id, no moment, a random id. Only
the process and the place the input was about (buurt, PC4) are kept, so the answers can be
counted per area but never read back per contribution (kaart/services/participation.py).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text

from kaart.models.base import UUID, metadata, one_of, uuid_pk

# The CBS age bands of the kerncijfers wijken en buurten (a_00_14 … a_65_oo).
AGE_GROUPS = ("0-14", "15-24", "25-44", "45-64", "65+")
# How long the person has lived in the neighbourhood.
RESIDENCES = ("under_2", "2_to_10", "over_10", "not_resident")
# Whether they live, work or visit here (the one that fits best).
RELATIONS = ("live", "work", "visit")
QUESTIONS = {"age_group": AGE_GROUPS, "residence": RESIDENCES, "relation": RELATIONS}

participant_answer = Table(
    "participant_answer",
    metadata,
    uuid_pk(),
    Column("process_id", UUID, ForeignKey("process.id", ondelete="CASCADE"), nullable=False),
    Column("buurt_code", String(10)),
    Column("pc4", String(4)),
    Column("age_group", Text),
    Column("residence", Text),
    Column("relation", Text),
    CheckConstraint(f"age_group IN ({one_of(AGE_GROUPS)})", name="age_group"),
    CheckConstraint(f"residence IN ({one_of(RESIDENCES)})", name="residence"),
    CheckConstraint(f"relation IN ({one_of(RELATIONS)})", name="relation"),
    # Nothing answered is nothing stored.
    CheckConstraint("num_nonnulls(age_group, residence, relation) > 0", name="something"),
)
Index("ix_participant_answer_process_id", participant_answer.c.process_id)
