"""The audit log: who did what in the staff area and on the command line (table audit_event).

    audit.record(session, "user.created", actor=current_user(), address=client_key(),
                 details={"user_id": str(new_id), "email": email})

`record` writes in the caller's transaction, so an action and its entry are committed together
or not at all. Moderation and status decisions are not written here: they already are
append-only rows of contribution_event, and `page` and `csv_chunks` read them alongside (as
actions `contribution.<its action>`), so nothing is written twice.

The table refuses UPDATE and TRUNCATE; DELETE only through `purge`, for rows older than the
retention (migration 0010). Entries hold the client's address as a keyed hash (`kaart.web.
client_key`, the rate limits' pseudonym: one address gives one value, which an admin can
recompute for a suspected address with the secret, but never the address itself) and the e-mail
addresses tried at login; that is why they are purged after KAART_AUDIT_RETENTION_DAYS.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kaart.config import TIME_ZONE
from kaart.db import transaction
from kaart.params import Params
from kaart.providers import paging

if TYPE_CHECKING:
    from kaart.auth import User

CLI = "cli"  # the actor of `kaart …` commands
ANONYMOUS = "anonymous"  # a failed login: nobody is known yet
SYSTEM = "system"  # a decision nobody made by hand (hidden after reports)
# What audit_event records.
ACTIONS = (
    "login.succeeded",
    "login.failed",
    "login.throttled",
    "logout",
    "user.created",
    "user.roles_changed",
    "user.activated",
    "user.deactivated",
    "user.password_reset",
    "user.unlocked",
    "comment.published",
    "comment.hidden",
    "export.downloaded",
    "reactienota.downloaded",
    "reactienota.published",
    "pact.published",
    "pact.unpublished",
    "participation.downloaded",
    "audit.downloaded",
    "audit.purged",
    "layer.loaded",
    "privacy.purged",
    "privacy.found",
    "privacy.exported",
    "privacy.erased",
)
# The decisions read from contribution_event (its 'created' rows are residents, not decisions).
DECISIONS = ("status", "response", "hidden", "published", "restored", "reported")
ALL_ACTIONS = ACTIONS + tuple(f"contribution.{action}" for action in DECISIONS)
PAGE_SIZE = 50
WHO_MAX = 254
CSV_COLUMNS = ("at", "actor", "actor_id", "action", "address", "details")

# One log over both tables, in one order: newest first, then by source and id (a unique key).
# A decision without a staff member (hidden after reports) is the system's (SYSTEM).
_LOG = """
    SELECT a.at, 'a' AS source, a.id, a.actor_id, a.actor, a.action, a.address, a.details
    FROM audit_event a
    UNION ALL
    SELECT e.at, 'c', e.id, e.actor_id, coalesce(u.email, 'system'), 'contribution.' || e.action,
           NULL, jsonb_strip_nulls(jsonb_build_object(
             'contribution_id', e.contribution_id, 'from_status', e.from_status,
             'to_status', e.to_status, 'from_visibility', e.from_visibility,
             'to_visibility', e.to_visibility, 'text', e.text))
    FROM contribution_event e LEFT JOIN app_user u ON u.id = e.actor_id
    WHERE e.action <> 'created'
"""
_ORDER = "ORDER BY at DESC, source DESC, id DESC"


def record(
    session: Session,
    action: str,
    *,
    actor: User | str | None,
    address: str | None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """One entry in the caller's transaction. `actor`: the signed-in user, CLI, or None (a
    login attempt by someone not yet known)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None or isinstance(actor, str):
        actor_id, label = None, actor or ANONYMOUS
    else:  # a signed-in User
        actor_id, label = actor.id, actor.email
    clean = {key: value for key, value in (details or {}).items() if value is not None}
    session.execute(
        text(
            "INSERT INTO audit_event (actor_id, actor, action, address, details) "
            "VALUES (:actor_id, :actor, :action, :address, CAST(:details AS jsonb))"
        ),
        {
            "actor_id": actor_id,
            "actor": label[:WHO_MAX],
            "action": action,
            "address": address,
            "details": json.dumps(clean, default=str, ensure_ascii=False),
        },
    )


def record_command(engine: Engine, action: str, details: Mapping[str, Any]) -> None:
    """An entry for a `kaart …` command, in its own transaction (actor "cli")."""
    with Session(engine) as session, transaction(session):
        record(session, action, actor=CLI, address=None, details=details)


# -- Reading the log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    action: str | None = None
    who: str = ""  # part of the actor, or of the account an entry is about (details.email)
    since: date | None = None
    until: date | None = None  # inclusive, Dutch dates

    def query_args(self) -> list[tuple[str, str]]:
        pairs = [("action", self.action)] if self.action else []
        if self.who:
            pairs.append(("who", self.who))
        if self.since:
            pairs.append(("from", self.since.isoformat()))
        if self.until:
            pairs.append(("to", self.until.isoformat()))
        return pairs


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from a query string; one 400 naming every field that is wrong."""
    params = Params(args)
    filters = Filters(
        params.choice("action", ALL_ACTIONS),
        params.text("who", WHO_MAX) or "",
        params.date("from"),
        params.date("to"),
    )
    if filters.since and filters.until and filters.since > filters.until:
        params.fail("to", "The period ends before it starts.", "period_reversed")
    params.done()
    return filters


def _where(filters: Filters) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.action:
        clauses.append("action = :action")
        params["action"] = filters.action
    if filters.who:
        clauses.append(
            "(strpos(lower(actor), lower(:who)) > 0 "
            "OR strpos(lower(coalesce(details ->> 'email', '')), lower(:who)) > 0)"
        )
        params["who"] = filters.who
    # Local midnight as a moment, so the index on `at` serves the period.
    if filters.since:
        clauses.append("at >= CAST(:since AS timestamp) AT TIME ZONE 'Europe/Amsterdam'")
        params["since"] = filters.since
    if filters.until:
        clauses.append(
            "at < (CAST(:until AS timestamp) + interval '1 day') AT TIME ZONE 'Europe/Amsterdam'"
        )
        params["until"] = filters.until
    return clauses, params


@dataclass(frozen=True)
class Entry:
    at: datetime  # in Dutch time
    source: str  # "a": audit_event, "c": contribution_event
    id: int
    actor_id: uuid.UUID | None
    actor: str
    action: str
    address: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_cursor: str | None


def page(
    session: Session, filters: Filters, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """One page of the log, newest first; `next_cursor` continues after its last entry."""
    clauses, params = _where(filters)
    if cursor:
        at, source, ident = _position(cursor)
        clauses.append("(at, source, id) < (:c_at, :c_source, :c_id)")
        params.update(c_at=at, c_source=source, c_id=ident)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = session.execute(
        text(f"SELECT * FROM ({_LOG}) log {where} {_ORDER} LIMIT :size"),
        {**params, "size": size + 1},
    ).all()
    entries = [_entry(row) for row in rows[:size]]
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = paging.encode(
            paging.Cursor(True, (last.at.isoformat(), last.source, last.id))
        )
    return Page(entries, next_cursor)


def _position(value: str) -> tuple[datetime, str, int]:
    cursor = paging.decode(value)
    try:
        at, source, ident = cursor.key
        if not cursor.forward or source not in ("a", "c") or not isinstance(ident, int):
            raise ValueError("not an audit cursor")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("cursor time without zone")
    except (TypeError, ValueError) as exc:
        raise paging.invalid_cursor() from exc
    return moment, source, ident


def _entry(row: Any) -> Entry:
    return Entry(
        row.at.astimezone(TIME_ZONE),
        row.source,
        row.id,
        row.actor_id,
        row.actor,
        row.action,
        row.address,
        dict(row.details),
    )


def csv_chunks(session: Session, filters: Filters) -> Iterator[bytes]:
    """Every entry the filters select, newest first, as CSV in pieces (UTF-8 with a byte order
    mark, cells that a spreadsheet would run as a formula prefixed with ')."""
    # The exports' formula-safe cell; imported here, as `kaart layers load` and the other
    # commands that record an entry never need the exports (shapely, the contribution queries).
    from kaart.services.exports import _cell as csv_cell

    clauses, params = _where(filters)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    result = session.execute(
        text(f"SELECT * FROM ({_LOG}) log {where} {_ORDER}").execution_options(yield_per=1000),
        params,
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for rows in result.partitions():
        for row in rows:
            entry = _entry(row)
            details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
            values = (entry.at, entry.actor, entry.actor_id, entry.action, entry.address, details)
            writer.writerow([csv_cell(value) for value in values])
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    yield out.getvalue().encode("utf-8")


# -- Retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    before: datetime
    removed: dict[str, int]  # per action

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def purge(session: Session, retention: timedelta, *, actor: str = SYSTEM) -> Purged:
    """Remove entries older than `retention` (in the caller's transaction) and say what went;
    a purge that removed something is itself an entry. contribution_event rows are a
    contribution's history and stay with it."""
    purged = expire(session, retention)
    if purged.total:
        details = {"before": purged.before.isoformat(), "removed": purged.removed}
        record(session, "audit.purged", actor=actor, address=None, details=details)
    return purged


def expire(session: Session, retention: timedelta) -> Purged:
    """Remove entries older than `retention` without an entry of its own: for a caller that
    reports the removal itself (`kaart privacy purge`, kaart/services/retention.py)."""
    before = session.execute(text("SELECT now() - :keep"), {"keep": retention}).scalar_one()
    # The trigger lets DELETE through only for rows older than this transaction-local moment.
    session.execute(
        text("SELECT set_config('kaart.audit_purge_before', :before, true)"),
        {"before": before.isoformat()},
    )
    rows = session.execute(
        text(
            "WITH gone AS (DELETE FROM audit_event WHERE at < :before RETURNING action) "
            "SELECT action, count(*) AS n FROM gone GROUP BY action ORDER BY action"
        ),
        {"before": before},
    ).all()
    session.execute(text("SELECT set_config('kaart.audit_purge_before', '', true)"))
    return Purged(before, {row.action: row.n for row in rows})
