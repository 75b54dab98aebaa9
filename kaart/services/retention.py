"""The retention policy: how long each kind of personal data is kept, and the purge that applies it.

    report = purge(session, settings)     # in the caller's transaction; returns what went
    ...commit...
    photos.discard(report.files)          # the photo files, once the rows are gone for good

KINDS is the one table of the policy. The purge, the privacy statement (/privacy), the processing
register in the README (`kaart privacy register`) and the erasure of kaart/services/rights.py all
read it, so they cannot tell different stories. Each kind's texts (what, why, how long, who sees
it, what the default is based on) are in kaart/translations/*.retention.json under
`retention.kind.<name>.*`.

Removing personal text keeps the record: a withdrawn or long-hidden contribution keeps its
category, place, status and history (the participation process stays complete), but its title
becomes MARKER, its description empty, its photos go from the table and the disk, its Open311
contact fields are cleared, and the comments on it and the reasons given when reporting it are
emptied too (nobody reads them any more). What still holds personal data is decided from the
data itself (PERSONAL), so the purge is idempotent and catches text an author edited in after an
earlier purge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.services import audit, idempotency, initiative_privacy, ratelimit
from kaart.services.open311 import CONTACT_FIELDS, OPEN_STATUSES
from kaart.services.photos import photo_paths

# What replaces removed text (a title may not be empty). Dutch, like the data it replaces.
MARKER = "[tekst verwijderd]"
HOUR = timedelta(hours=1)

_CONTACT = ", ".join(f"r.{name}" for name in CONTACT_FIELDS)
# A contribution `c` that still holds personal text, photos or Open311 details.
PERSONAL = f"""(
  c.title <> :marker OR c.description <> ''
  OR EXISTS (SELECT 1 FROM photo f WHERE f.contribution_id = c.id)
  OR EXISTS (SELECT 1 FROM open311_request r WHERE r.contribution_id = c.id
             AND num_nonnulls(r.media_url, r.address_string, {_CONTACT}) > 0)
  OR EXISTS (SELECT 1 FROM comment k WHERE k.contribution_id = c.id
             AND (k.body <> :marker OR k.author_name IS NOT NULL))
)"""
# The moment of the latest event on `c` that set `column` (to_status, to_visibility).
LAST_EVENT = (
    "(SELECT max(e.at) FROM contribution_event e "
    "WHERE e.contribution_id = c.id AND e.{column} IS NOT NULL)"
)


@dataclass(frozen=True)
class Kind:
    """One kind of personal data. Its age is a setting (`setting`, in `unit`s), fixed by the
    code that relies on it (`fixed`), or absent: kept as long as what it belongs to."""

    name: str
    setting: str | None = None
    unit: str = "days"
    fixed: int | None = None

    @property
    def variable(self) -> str | None:
        """The KAART_* variable that sets the age."""
        return f"KAART_{self.setting.upper()}" if self.setting else None

    def age(self, settings: Settings) -> int | None:
        return getattr(settings, self.setting) if self.setting else self.fixed

    def delta(self, settings: Settings) -> timedelta | None:
        age = self.age(settings)
        return None if age is None else timedelta(**{self.unit: age})


KINDS = (
    Kind("contributions"),
    Kind("withdrawn", "retain_withdrawn_days"),
    Kind("hidden", "retain_hidden_days"),
    Kind("comments"),
    Kind("open311_contact", "retain_open311_contact_days"),
    Kind("supporters"),
    Kind("mail_addresses", unit="days", fixed=365),
    Kind("outbox", unit="days", fixed=30),
    Kind("participants", "retain_participant_days"),
    Kind("initiatives", unit="days", fixed=365),
    Kind("rate_events", unit="hours", fixed=int(ratelimit.KEEP / HOUR)),
    Kind("idempotency", unit="hours", fixed=int(idempotency.KEEP / HOUR)),
    Kind("audit", "audit_retention_days"),
    Kind("staff_accounts"),
    Kind("cookies"),
    Kind("server_logs"),
)


def kind(name: str) -> Kind:
    return next(k for k in KINDS if k.name == name)


# -- Removing personal text ---------------------------------------------------------------------


@dataclass
class Redacted:
    """What `redact` removed; `files` are to be deleted once the caller has committed."""

    contributions: int = 0
    photos: int = 0
    comments: int = 0
    requests: int = 0  # Open311 requests whose contact details went
    files: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "contributions": self.contributions,
            "photos": self.photos,
            "comments": self.comments,
            "requests": self.requests,
        }


def redact(
    session: Session, upload_dir: Path, ids: Sequence[uuid.UUID], *, comments: bool
) -> Redacted:
    """Remove the personal text of these contributions, keeping their records and history:
    title -> MARKER, description empty, photos (rows; files returned), Open311 details, the
    stored answers of their Idempotency-Keys (which repeat the text), and with `comments` the
    comments on them. In the caller's transaction."""
    ids = list(ids)
    if not ids:
        return Redacted()
    marker = {"ids": ids, "marker": MARKER}
    session.execute(
        text(
            "UPDATE contribution SET title = :marker, description = '', redacted_at = now(), "
            "updated_at = now() WHERE id = ANY(:ids)"
        ),
        marker,
    )
    gone = session.execute(
        text("DELETE FROM photo WHERE contribution_id = ANY(:ids) RETURNING id, media_type"),
        {"ids": ids},
    ).all()
    fields = ("media_url", "address_string", *CONTACT_FIELDS)
    cleared = ", ".join(f"{name} = NULL" for name in fields)
    requests = session.execute(
        text(
            f"UPDATE open311_request r SET {cleared} WHERE r.contribution_id = ANY(:ids) "
            f"AND num_nonnulls(r.media_url, r.address_string, {_CONTACT}) > 0"
        ),
        {"ids": ids},
    ).rowcount
    session.execute(text("DELETE FROM idempotency_key WHERE resource_id = ANY(:ids)"), {"ids": ids})
    emptied = 0
    if comments:
        emptied = session.execute(
            text(
                "UPDATE comment SET body = :marker, author_name = NULL, redacted_at = now() "
                "WHERE contribution_id = ANY(:ids) AND (body <> :marker OR author_name IS NOT NULL)"
            ),
            marker,
        ).rowcount
        # The reasons residents gave when reporting it or its comments go with them.
        session.execute(
            text(
                "UPDATE report SET reason = '' WHERE reason <> '' AND (contribution_id = ANY(:ids) "
                "OR comment_id IN (SELECT id FROM comment WHERE contribution_id = ANY(:ids)))"
            ),
            {"ids": ids},
        )
    files = [path for row in gone for path in photo_paths(upload_dir, row.id, row.media_type)]
    return Redacted(len(ids), len(gone), emptied, requests, files)


# -- The purge ----------------------------------------------------------------------------------


@dataclass
class Report:
    removed: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> what -> count
    files: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for counts in self.removed.values() for n in counts.values())


def purge(session: Session, settings: Settings) -> Report:
    """Apply every kind's age (in the caller's transaction). Idempotent: what was removed is
    not found again. The caller commits (or rolls back, for a dry run), records the report in
    the audit log and then removes `files`."""
    report = Report()
    for k in KINDS:
        remove = PURGES.get(k.name)
        age = k.delta(settings)
        if remove is None or age is None:
            continue
        counts, files = remove(session, settings, age)
        report.removed[k.name] = counts
        report.files += files
    return report


def _locked_ids(session: Session, where: str, age: timedelta) -> list[uuid.UUID]:
    rows = session.execute(
        text(f"SELECT c.id FROM contribution c WHERE {where} AND {PERSONAL} FOR UPDATE OF c"),
        {"age": age, "marker": MARKER},
    )
    return list(rows.scalars())


def _withdrawn(session: Session, settings: Settings, age: timedelta) -> tuple[dict, list[Path]]:
    ids = _locked_ids(session, "c.withdrawn_at < now() - :age", age)
    done = redact(session, settings.upload_dir, ids, comments=True)
    return done.counts(), done.files


def _hidden(session: Session, settings: Settings, age: timedelta) -> tuple[dict, list[Path]]:
    """Contributions hidden by a moderator (their history says when) and hidden comments."""
    since = LAST_EVENT.format(column="to_visibility")
    ids = _locked_ids(session, f"c.visibility = 'hidden' AND {since} < now() - :age", age)
    done = redact(session, settings.upload_dir, ids, comments=True)
    done.comments += session.execute(
        text(
            "WITH gone AS (UPDATE comment SET body = :marker, author_name = NULL, "
            "redacted_at = now() WHERE visibility = 'hidden' AND hidden_at < now() - :age "
            "AND (body <> :marker OR author_name IS NOT NULL) RETURNING id), "
            "reasons AS (UPDATE report SET reason = '' WHERE comment_id IN (SELECT id FROM gone) "
            "AND reason <> '') SELECT count(*) FROM gone"
        ),
        {"age": age, "marker": MARKER},
    ).scalar_one()
    return done.counts(), done.files


def _open311_contact(
    session: Session, _settings: Settings, age: timedelta
) -> tuple[dict, list[Path]]:
    """Contact details of requests closed (any status but the open ones, withdrawn too) for
    longer than `age`; the status events say since when."""
    cleared = ", ".join(f"{name} = NULL" for name in CONTACT_FIELDS)
    closed = LAST_EVENT.format(column="to_status")
    requests = session.execute(
        text(
            f"UPDATE open311_request r SET {cleared} FROM contribution c "
            "WHERE c.id = r.contribution_id AND NOT (c.status = ANY(:open)) "
            f"AND num_nonnulls({_CONTACT}) > 0 AND {closed} < now() - :age"
        ),
        {"open": list(OPEN_STATUSES), "age": age},
    ).rowcount
    return {"requests": requests}, []


def _participants(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    """The answers about who took part, once their process ended longer ago than `age` (they
    carry no moment of their own: kaart/models/participant.py)."""
    rows = session.execute(
        text(
            "DELETE FROM participant_answer a USING process p WHERE p.id = a.process_id "
            "AND p.ends_on < CAST(now() - :age AS date)"
        ),
        {"age": age},
    ).rowcount
    return {"rows": rows}, []


def _rate_events(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    rows = session.execute(
        text("DELETE FROM rate_event WHERE at < now() - :age"), {"age": age}
    ).rowcount
    return {"rows": rows}, []


def _idempotency(session: Session, _settings: Settings, _age: timedelta) -> tuple[dict, list]:
    return {"rows": idempotency.purge(session)}, []


def _audit(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    return {"entries": audit.expire(session, age).total}, []


# A follow nobody confirmed is dropped after this long (the confirmation link stops working).
UNCONFIRMED = timedelta(days=7)


def _mail_addresses(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    """E-mail addresses (kaart/mail/): a contribution forgets its author's address `age` after
    it was made, or when its text was removed; follows never confirmed go after a week; an
    address nothing uses any more goes with them."""
    # Initiatives and adoptions let go of theirs first (their own age, kind "initiatives").
    ended = initiative_privacy.purge(session, _settings, kind("initiatives").delta(_settings))[0]
    links = session.execute(
        text(
            "UPDATE contribution SET author_address_id = NULL WHERE author_address_id IS NOT NULL "
            "AND (created_at < now() - :age OR redacted_at IS NOT NULL)"
        ),
        {"age": age},
    ).rowcount
    follows = session.execute(
        text(
            "DELETE FROM subscription s WHERE (s.confirmed_at IS NULL AND s.created_at < "
            "now() - :unconfirmed) OR s.contribution_id IN "
            "(SELECT id FROM contribution WHERE redacted_at IS NOT NULL)"
        ),
        {"unconfirmed": UNCONFIRMED},
    ).rowcount
    addresses = session.execute(
        text(
            "DELETE FROM mail_address a WHERE a.last_used_at < now() - :unconfirmed "
            "AND NOT EXISTS (SELECT 1 FROM contribution c WHERE c.author_address_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.address_id = a.id) "
            f"AND NOT ({initiative_privacy.ADDRESS_IN_USE})"
        ),
        {"unconfirmed": UNCONFIRMED},
    ).rowcount
    return {"links": links, "follows": follows, "addresses": addresses, **ended}, []


def _outbox(session: Session, _settings: Settings, age: timedelta) -> tuple[dict, list]:
    """Messages, sent or not: the address they went to, and a dead one's body."""
    rows = session.execute(
        text("DELETE FROM outbox WHERE created_at < now() - :age"), {"age": age}
    ).rowcount
    return {"rows": rows}, []


Purger = Callable[[Session, Settings, timedelta], tuple[dict[str, int], list[Path]]]
PURGES: dict[str, Purger] = {
    "withdrawn": _withdrawn,
    "hidden": _hidden,
    "open311_contact": _open311_contact,
    "participants": _participants,
    "mail_addresses": _mail_addresses,
    "outbox": _outbox,
    "rate_events": _rate_events,
    "idempotency": _idempotency,
    "audit": _audit,
}


def audit_details(report: Report, settings: Settings) -> dict[str, Any]:
    """The one audit entry of a purge: what went per kind, and the ages that applied."""
    ages = {k.name: f"{k.age(settings)} {k.unit}" for k in KINDS if k.name in report.removed}
    return {"removed": report.removed, "ages": ages}
