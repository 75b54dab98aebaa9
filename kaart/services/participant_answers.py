"""Who takes part: the optional answers a resident gives with a new contribution in a process
that asks them (age group, years in the neighbourhood, relation to it), checked and stored.

    answers = parse_answers(body)                      # the `participant` object of a POST
    record(session, process_id, contribution_id, answers)

Stored apart from the contribution (kaart/models/participant.py: no contribution id, no moment),
so they cannot be read back, changed or withdrawn per contribution; kaart/services/
participation.py counts them for the monitor.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import invalid
from kaart.models.participant import QUESTIONS

PC4_LAYER = "cbs-pc4"  # the postcode areas an answer is counted in


@dataclass(frozen=True)
class Answers:
    age_group: str | None = None
    residence: str | None = None
    relation: str | None = None

    def is_empty(self) -> bool:
        return self.age_group is None and self.residence is None and self.relation is None


def parse_answers(body: Any) -> Answers | None:
    """The optional `participant` member of a new contribution's Feature; None when absent,
    null or all answers left out. Each answer is one of its choices or null (rather not say)."""
    value = body.get("participant") if isinstance(body, dict) else None
    if value is None:
        return None
    names = ", ".join(QUESTIONS)
    if not isinstance(value, dict):
        raise invalid(
            "participant",
            f"participant must be an object with {names} (each optional).",
            "participant_not_object",
        )
    unknown = sorted(str(k)[:40] for k in value if k not in QUESTIONS)
    if unknown:
        raise invalid(
            f"participant.{unknown[0]}",
            f"Unknown question {unknown[0]!r}; participant has {names}.",
            "participant_unknown_question",
        )
    found: dict[str, str | None] = {}
    for name, choices in QUESTIONS.items():
        answer = value.get(name)
        if answer is not None and (not isinstance(answer, str) or answer not in choices):
            raise invalid(
                f"participant.{name}",
                f"{name} must be one of {', '.join(choices)}, or null (rather not say).",
                "participant_answer_invalid",
            )
        found[name] = answer
    answers = Answers(**found)
    return None if answers.is_empty() else answers


def refuse_later(body: Any) -> None:
    """A change to a contribution cannot carry answers: they are not tied to it."""
    if isinstance(body, dict) and body.get("participant") is not None:
        raise invalid(
            "participant",
            "Answers about who takes part are given only with a new contribution.",
            "participant_not_asked",
        )


def asks(session: Session, process_id: uuid.UUID | None) -> bool:
    if process_id is None:
        return False
    return bool(
        session.execute(
            text("SELECT participant_questions FROM process WHERE id = :id"), {"id": process_id}
        ).scalar_one_or_none()
    )


def record(
    session: Session,
    process_id: uuid.UUID | None,
    contribution_id: uuid.UUID,
    answers: Answers | None,
) -> None:
    """Store the answers given with a new contribution, apart from it: the process and the buurt
    and PC4 of the input, never the contribution's id. Answers to a process that does not ask
    them (or without a process) are refused. In the caller's transaction."""
    if answers is None:
        return
    if not asks(session, process_id):
        raise invalid(
            "participant",
            "These questions are asked only within a process that asks them (properties.process).",
            "participant_not_asked",
        )
    pc4 = layer_table(session, PC4_LAYER)
    pc4_sql = "NULL"
    if pc4:
        pc4_sql = (
            f'(SELECT p.postcode FROM open_data."{pc4}" p WHERE NOT ST_IsEmpty(p.geom) '
            "AND ST_Intersects(p.geom, ST_Transform(ST_PointOnSurface(c.geom), 28992)) "
            "ORDER BY p.postcode LIMIT 1)"
        )
    session.execute(
        text(
            f"""
            INSERT INTO participant_answer
              (process_id, buurt_code, pc4, age_group, residence, relation)
            SELECT c.process_id, c.buurt_code, {pc4_sql}, :age_group, :residence, :relation
            FROM contribution c WHERE c.id = :id AND c.process_id = :process
            """
        ),
        {
            "id": contribution_id,
            "process": process_id,
            "age_group": answers.age_group,
            "residence": answers.residence,
            "relation": answers.relation,
        },
    )


def layer_table(session: Session, name: str) -> str | None:
    """The table an open layer is loaded into, or None when it is not loaded."""
    table = session.execute(
        text("SELECT table_name FROM layer WHERE name = :n AND table_name IS NOT NULL"),
        {"n": name},
    ).scalar_one_or_none()
    # Written by geodata.load; checked anyway, since it goes into SQL as a name.
    return table if table and re.fullmatch(r"[a-z0-9_]+", table) else None
