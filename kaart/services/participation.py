"""Who takes part ("Wie doet er mee?"): the monitor of a process's optional questions.

    found = monitor(session, process_id, public_only=False, labels=...)

The answers themselves are parsed and stored by kaart/services/participant_answers.py, apart
from the contribution (kaart/models/participant.py: no contribution id, no moment); they only
ever leave the database as counts of at least MIN_CELL people. A count below
that is shown as "< 10"; when a row's total would let a reader work out one hidden count by
subtraction, the smallest other count in that row is hidden too ("onderdrukt").

Participation is the input about an area per 1,000 of its inhabitants (CBS buurten and PC4
layers). The age mix of respondents is set against the residents' when the buurt layer carries
the CBS kerncijfers age columns. UNDER names what is under-represented: a buurt whose rate is
below half the whole area's, and an age group whose share of respondents is below half its
share of residents (only where the count is shown, or where even the largest hidden count would
be below that half).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.models.participant import AGE_GROUPS, QUESTIONS
from kaart.providers import contributions
from kaart.services.overview import Filters, inhabitants
from kaart.services.participant_answers import PC4_LAYER, asks, layer_table

MIN_CELL = 10
UNDER = 0.5
# Of an area layer: the CBS age bands' columns as the loader names them (geodata cbs_buurten).
AGE_COLUMNS = {
    "0-14": "age_00_14",
    "15-24": "age_15_24",
    "25-44": "age_25_44",
    "45-64": "age_45_64",
    "65+": "age_65_plus",
}
# Which buurten and PC4 areas belong to a process: at least this share of the smaller of the
# two areas overlaps (a buurt that only touches the border is not in it), or input lies there.
OVERLAP = 0.25
SMALL = "small"  # below MIN_CELL: "< 10"
SECONDARY = "secondary"  # hidden so a small count cannot be worked out: "onderdrukt"


# -- Counting without showing anyone ------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    count: int | None  # None when hidden
    hidden: str | None = None  # SMALL or SECONDARY
    share: float | None = None  # of the row's respondents
    residents: float | None = None  # the share of residents in this group, when known


def protect(parts: list[int]) -> list[tuple[int, str | None]]:
    """One row of counts and its total (last): each (count, None) when shown, else (count,
    SMALL or SECONDARY).

    Primary: every count below MIN_CELL. Secondary: when the total is shown and exactly one
    count is hidden, that count would follow by subtraction, so the smallest other count is
    hidden too (not needed when the hidden count is 0: "nobody" discloses no one). Tables are
    never summed into totals across rows, so rows cannot be subtracted from each other."""
    row = [*parts, sum(parts)]
    status: list[str | None] = [SMALL if v < MIN_CELL else None for v in row]
    hidden = [k for k in range(len(parts)) if status[k]]
    shown = [k for k in range(len(parts)) if not status[k]]
    if status[-1] is None and len(hidden) == 1 and row[hidden[0]] > 0 and shown:
        status[min(shown, key=lambda k: (row[k], k))] = SECONDARY
    return list(zip(row, status, strict=True))


# -- The monitor --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    code: str
    name: str
    count: int
    inhabitants: int | None
    under: bool = False

    @property
    def per_1000(self) -> float | None:
        return self.count * 1000 / self.inhabitants if self.inhabitants else None


@dataclass(frozen=True)
class Row:
    code: str | None  # None: the whole area, or "elsewhere" (see name)
    name: str
    total: Cell
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Table:
    question: str
    choices: tuple[str, ...]
    rows: list[Row]


@dataclass(frozen=True)
class Finding:
    """An under-represented buurt (group None) or age group in an area."""

    area: str
    group: str | None = None
    per_1000: float | None = None  # buurt: its rate, and the whole area's
    area_per_1000: float | None = None
    share: float | None = None  # group: of respondents (an upper bound when below)
    below: bool = False  # the share is "less than"
    residents: float | None = None


@dataclass
class Monitor:
    process_id: uuid.UUID
    asks: bool
    contributions: int
    respondents: int
    overall: Rate | None
    buurten: list[Rate]
    postcodes: list[Rate]
    ages: Table | None
    tables: list[Table] = field(default_factory=list)  # residence, relation
    age_mix: bool = False  # residents' age shares known
    findings: list[Finding] = field(default_factory=list)


def monitor(
    session: Session, process_id: uuid.UUID, *, public_only: bool, labels: dict[str, str]
) -> Monitor:
    """Everything the "Wie doet er mee?" section shows for one process: the published input
    (`public_only`, the reactienota) or all but withdrawn (the staff overview). `labels`:
    "whole" and "elsewhere" row names."""
    query = Filters(process=process_id, public_only=public_only).query()
    area, buurten, overall = buurt_rates(session, process_id, query, labels["whole"])
    postcodes = [_flag(r, overall) for r in _postcodes(session, process_id, query)]
    result = Monitor(
        process_id=process_id,
        asks=asks(session, process_id),
        contributions=contributions.count(session, query),
        respondents=_respondents(session, process_id),
        overall=overall,
        buurten=buurten,
        postcodes=postcodes,
        ages=None,
    )
    result.findings = [
        Finding(r.name, per_1000=r.per_1000, area_per_1000=overall.per_1000)
        for r in buurten
        if r.under and overall
    ]
    if result.respondents:
        residents = _resident_ages(session, [code for code, _ in area])
        result.age_mix = bool(residents)
        result.ages = _age_table(session, process_id, area, residents, labels)
        result.findings += _group_findings(result.ages)
        result.tables = [
            _overall_table(session, process_id, name, QUESTIONS[name], labels)
            for name in ("residence", "relation")
        ]
    return result


def buurt_rates(
    session: Session, process_id: uuid.UUID, query: contributions.Query, whole: str
) -> tuple[list[tuple[str, str]], list[Rate], Rate | None]:
    """The buurten of the process (code, name), their rates (flagged when under-represented)
    and the whole area's rate over the buurten with known inhabitants (None without any)."""
    found = {code: n for code, _name, n in contributions.per_buurt(session, query)}
    area = _area_buurten(session, process_id, list(found))
    people = inhabitants(session, [code for code, _ in area])
    buurten = [Rate(code, name, found.get(code, 0), people.get(code)) for code, name in area]
    counted = [r for r in buurten if r.inhabitants]
    overall = None
    if counted:
        total = sum(r.inhabitants or 0 for r in counted)
        overall = Rate("", whole, sum(r.count for r in counted), total)
    return area, [_flag(r, overall) for r in buurten], overall


def _flag(rate: Rate, overall: Rate | None) -> Rate:
    if overall is None or not overall.per_1000 or rate.per_1000 is None:
        return rate
    under = rate.per_1000 < UNDER * overall.per_1000
    return Rate(rate.code, rate.name, rate.count, rate.inhabitants, under)


def _area_buurten(
    session: Session, process_id: uuid.UUID, with_input: list[str]
) -> list[tuple[str, str]]:
    stmt = text(
        """
        SELECT b.code, b.name FROM buurt b, process p
        WHERE p.id = :process AND (b.code = ANY(:codes) OR (ST_Intersects(b.geom, p.geom)
          AND ST_Area(ST_Transform(ST_Intersection(b.geom, p.geom), 28992)) >= :overlap
              * least(ST_Area(ST_Transform(b.geom, 28992)), ST_Area(ST_Transform(p.geom, 28992)))))
        ORDER BY b.name, b.code
        """
    ).bindparams(bindparam("codes", type_=ARRAY(String)))
    rows = session.execute(stmt, {"process": process_id, "codes": with_input, "overlap": OVERLAP})
    return [(code, name) for code, name in rows]


def _postcodes(session: Session, process_id: uuid.UUID, query: contributions.Query) -> list[Rate]:
    table = layer_table(session, PC4_LAYER)
    if table is None:
        return []
    counts = contributions.per_postcode(session, query, table)
    columns = session.execute(
        text("SELECT columns FROM layer WHERE name = :n"), {"n": PC4_LAYER}
    ).scalar_one()
    people = "CAST(CAST(q.inhabitants AS text) AS numeric)" if "inhabitants" in columns else "NULL"
    stmt = text(
        f"""
        SELECT q.postcode, max({people})::bigint AS inhabitants
        FROM open_data."{table}" q, process p
        WHERE p.id = :process AND NOT ST_IsEmpty(q.geom) AND (q.postcode = ANY(:codes) OR (
          ST_Intersects(q.geom, ST_Transform(p.geom, 28992))
          AND ST_Area(ST_Intersection(q.geom, ST_Transform(p.geom, 28992))) >= :overlap
              * least(ST_Area(q.geom), ST_Area(ST_Transform(p.geom, 28992)))))
        GROUP BY q.postcode ORDER BY q.postcode
        """
    ).bindparams(bindparam("codes", type_=ARRAY(String)))
    rows = session.execute(
        stmt, {"process": process_id, "codes": list(counts), "overlap": OVERLAP}
    ).all()
    return [
        Rate(code, code, counts.get(code, 0), int(n) if n and n > 0 else None) for code, n in rows
    ]


def _respondents(session: Session, process_id: uuid.UUID) -> int:
    return session.execute(
        text("SELECT count(*) FROM participant_answer WHERE process_id = :p"), {"p": process_id}
    ).scalar_one()


def _resident_ages(session: Session, codes: list[str]) -> dict[str, dict[str, int]]:
    """Residents per age group per buurt from an area layer with the CBS age columns (CBS's
    buurten first, then the newest load); only buurten with every band known."""
    if not codes:
        return {}
    wanted = ["code", *AGE_COLUMNS.values()]
    tables = session.execute(
        text(
            "SELECT table_name FROM layer WHERE table_name IS NOT NULL "
            "AND columns @> CAST(:wanted AS text[]) "
            "ORDER BY (name = 'cbs-buurten') DESC, loaded_at DESC"
        ).bindparams(bindparam("wanted", type_=ARRAY(String))),
        {"wanted": wanted},
    ).scalars()
    found: dict[str, dict[str, int]] = {}
    for table in tables:
        if not re.fullmatch(r"[a-z0-9_]+", table):
            continue
        # The columns may be text when a load found no numbers in them: read them as numbers.
        sums = ", ".join(
            f"max(CAST(CAST({column} AS text) AS numeric))::bigint"
            for column in AGE_COLUMNS.values()
        )
        stmt = text(
            f'SELECT code, {sums} FROM open_data."{table}" WHERE code = ANY(:codes) GROUP BY code'
        ).bindparams(bindparam("codes", type_=ARRAY(String)))
        for code, *values in session.execute(stmt, {"codes": codes}):
            if code in found or any(v is None or v < 0 for v in values) or not sum(values):
                continue
            found[code] = dict(zip(AGE_COLUMNS, (int(v) for v in values), strict=True))
    return found


def _answer_counts(
    session: Session, process_id: uuid.UUID, question: str
) -> dict[str | None, dict[str, int]]:
    """Respondents per buurt code (None: no buurt) and answer to one question."""
    rows = session.execute(
        text(
            f"SELECT buurt_code, {question}, count(*) FROM participant_answer "
            f"WHERE process_id = :p AND {question} IS NOT NULL GROUP BY 1, 2"
        ),
        {"p": process_id},
    )
    found: dict[str | None, dict[str, int]] = {}
    for code, answer, n in rows:
        found.setdefault(code, {})[answer] = n
    return found


def _cells(
    counts: list[tuple[int, str | None]],
    choices: tuple[str, ...],
    residents: dict[str, int] | None,
) -> tuple[Cell, dict[str, Cell]]:
    total, total_hidden = counts[-1]
    people = sum(residents.values()) if residents else 0
    cells = {}
    for choice, (n, hidden) in zip(choices, counts[:-1], strict=True):
        share = n / total if not hidden and not total_hidden and total else None
        resident_share = residents[choice] / people if residents and people else None
        cells[choice] = Cell(None if hidden else n, hidden, share, resident_share)
    return Cell(None if total_hidden else total, total_hidden), cells


def _age_table(
    session: Session,
    process_id: uuid.UUID,
    area: list[tuple[str, str]],
    residents: dict[str, dict[str, int]],
    labels: dict[str, str],
) -> Table:
    """Age groups of respondents per buurt of the area (plus "elsewhere" when some input lay
    outside it), each against its residents' mix. No row of totals over the buurten: with one,
    a hidden count could be worked out from the other rows."""
    counts = _answer_counts(session, process_id, "age_group")
    names = dict(area)
    rows = []
    for code, name in area:
        line = [counts.get(code, {}).get(age, 0) for age in AGE_GROUPS]
        total, cells = _cells(protect(line), AGE_GROUPS, residents.get(code))
        rows.append(Row(code, name, total, cells))
    outside = [by for code, by in counts.items() if code not in names]
    if outside:
        line = [sum(by.get(age, 0) for by in outside) for age in AGE_GROUPS]
        total, cells = _cells(protect(line), AGE_GROUPS, None)
        rows.append(Row(None, labels["elsewhere"], total, cells))
    return Table("age_group", AGE_GROUPS, rows)


def _overall_table(
    session: Session,
    process_id: uuid.UUID,
    question: str,
    choices: tuple[str, ...],
    labels: dict[str, str],
) -> Table:
    counts = _answer_counts(session, process_id, question)
    line = [sum(by.get(choice, 0) for by in counts.values()) for choice in choices]
    total, cells = _cells(protect(line), choices, None)
    return Table(question, choices, [Row(None, labels["whole"], total, cells)])


def _group_findings(table: Table) -> list[Finding]:
    found = []
    for row in table.rows:
        total = row.total.count
        if not total:
            continue
        for group, cell in row.cells.items():
            if not cell.residents:
                continue
            limit = UNDER * cell.residents
            if cell.share is not None and cell.share < limit:
                found.append(Finding(row.name, group, share=cell.share, residents=cell.residents))
            elif cell.hidden == SMALL and (MIN_CELL - 1) / total < limit:
                bound = MIN_CELL / total
                found.append(
                    Finding(row.name, group, share=bound, below=True, residents=cell.residents)
                )
    return found
