"""The rights of residents: access (AVG/GDPR art. 15) and erasure (art. 17).

    subject = parse_subject("bewoner@example.org")   # an e-mail address, phone number or id
    held = find(session, subject, settings)          # everything held, as plain data
    write_zip(held, settings.upload_dir, out)        # data.json and the photo files
    erased = erase(session, subject, admin, settings.upload_dir, keep_on_map=True)

Residents need no account, so what ties data to a person is what an Open311 client sent with a
request (e-mail address, phone number) or the id of a contribution (the resident has it from
the private link). Comments carry at most a free name and cannot be tied to anyone; the
comments on a person's contribution are other people's words, so they are counted, not
exported. The `kaart privacy` commands and /beheer/privacy both call these functions; the
caller takes the transaction and writes the audit entry (`audit_details`).
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.errors import BadRequest
from kaart.providers import contributions as provider
from kaart.services import initiative_privacy, photos, statement, workflow
from kaart.services.open311 import CONTACT_FIELDS
from kaart.services.retention import Redacted, redact

KINDS = ("email", "phone", "contribution")
QUERY_MAX = 254
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[\d\s().-]{6,40}")
PHONE_DIGITS_MIN = 6
# A stored phone number in the form parse_subject gives: digits only, "+" as "00", and the
# Dutch country code as the trunk prefix (+31 6 …, 0031 6 … and 06-… are one number).
PHONE_SQL = (
    r"regexp_replace(regexp_replace(regexp_replace(r.phone, '^\s*\+', '00'), '\D', '', 'g'), "
    r"'^0031', '0')"
)
# What a contribution's record holds, read through the one provider of contributions.
RECORD = (
    "id",
    "category",
    "title",
    "description",
    "status",
    "visibility",
    "hidden_reason",
    "created_at",
    "updated_at",
    "withdrawn_at",
    "redacted_at",
    "buurt_code",
    "buurt_name",
    "process_slug",
    "process_title",
    "response",
    "responded_at",
    "support_count",
    "address_string",
    "media_url",
    "geojson",
)


@dataclass(frozen=True)
class Subject:
    kind: str  # one of KINDS
    value: str  # normalised: lower-case e-mail, phone digits, contribution id

    def masked(self) -> str:
        """How the audit log names the subject: enough to recognise, not to contact."""
        if self.kind == "email":
            local, _, domain = self.value.partition("@")
            return f"{local[:1]}…@{domain}"
        if self.kind == "phone":
            return f"{self.value[:2]}…{self.value[-2:]}"
        return self.value


def parse_subject(raw: str | None) -> Subject:
    """An e-mail address, a phone number or a contribution id; a 400 on field `q` otherwise."""
    value = (raw or "").strip()
    if not value:
        raise BadRequest(
            "Give an e-mail address, a phone number or a contribution id.", "q", "q_missing"
        )
    if len(value) <= QUERY_MAX:
        try:
            return Subject("contribution", str(uuid.UUID(value)))
        except ValueError:
            pass
        if "@" in value and EMAIL.fullmatch(value):
            return Subject("email", value.lower())
        if "@" not in value and PHONE.fullmatch(value):
            digits = normalise_phone(value)
            if len(digits) >= PHONE_DIGITS_MIN:
                return Subject("phone", digits)
    raise BadRequest(
        "This is not an e-mail address, a phone number or a contribution id.", "q", "q_invalid"
    )


def normalise_phone(value: str) -> str:
    """The same rule as PHONE_SQL."""
    digits = re.sub(r"\D", "", re.sub(r"^\s*\+", "00", value))
    return re.sub(r"^0031", "0", digits)


# -- Access -------------------------------------------------------------------------------------


@dataclass
class HeldContribution:
    record: dict[str, Any]
    request: dict[str, Any] | None  # the Open311 fields, when it came in as a request
    photos: list[dict[str, Any]]
    history: list[dict[str, Any]]
    comments_by_others: int


@dataclass
class Held:
    subject: Subject
    contributions: list[HeldContribution] = field(default_factory=list)
    register: list[dict[str, Any]] = field(default_factory=list)  # what, why, how long, who
    following: list[dict[str, Any]] = field(default_factory=list)  # by e-mail (kaart/mail/)
    # Initiatives started or joined, adoptions offered, with this address (by e-mail only).
    initiatives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [item.record["id"] for item in self.contributions]


def matching_ids(session: Session, subject: Subject) -> list[uuid.UUID]:
    """The contributions tied to the subject, oldest first."""
    where = {
        "contribution": "c.id = CAST(:value AS uuid)",
        "email": "(lower(r.email) = :value OR c.author_address_id = "
        "(SELECT a.id FROM mail_address a WHERE a.address = :value))",
        "phone": f"{PHONE_SQL} = :value",
    }[subject.kind]
    rows = session.execute(
        text(
            "SELECT c.id FROM contribution c "
            "LEFT JOIN open311_request r ON r.contribution_id = c.id "
            f"WHERE {where} ORDER BY c.created_at, c.id"
        ),
        {"value": subject.value},
    )
    return list(rows.scalars())


def find(session: Session, subject: Subject, settings: Settings, lang: str = "nl") -> Held:
    """Everything held about the subject, with the register (why, how long, who sees it)."""
    ids = matching_ids(session, subject)
    register = [asdict(entry) for entry in statement.register(settings, lang)]
    held = Held(subject, register=register, following=_following(session, subject))
    if subject.kind == "email":
        held.initiatives = initiative_privacy.held(session, subject.value)
    if not ids:
        return held
    query = provider.Query(audience=provider.ALL, ids=tuple(ids), limit=None)
    rows = {row.id: row for row in provider.records(session, query, RECORD)}
    requests = _requests(session, ids)
    for ident in ids:
        held.contributions.append(
            HeldContribution(
                record=_record(rows[ident]),
                request=requests.get(ident),
                photos=_photos(session, ident),
                history=_history(session, ident, settings),
                comments_by_others=_comment_count(session, ident),
            )
        )
    return held


def _following(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """What the address follows by e-mail (kaart/mail/), as plain data."""
    if subject.kind != "email":
        return []
    rows = session.execute(
        text(
            "SELECT s.kind, s.contribution_id, p.slug AS process, s.buurt_code, "
            "ST_AsGeoJSON(s.area) AS area, s.language, s.frequency, s.confirmed_at, s.created_at "
            "FROM subscription s JOIN mail_address a ON a.id = s.address_id "
            "LEFT JOIN process p ON p.id = s.process_id WHERE a.address = :value "
            "ORDER BY s.created_at"
        ),
        {"value": subject.value},
    ).all()
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]


def _record(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["geometry"] = json.loads(values.pop("geojson"))
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _requests(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    names = ("media_url", "address_string", *CONTACT_FIELDS)
    rows = session.execute(
        text(
            f"SELECT contribution_id, {', '.join(names)} FROM open311_request "
            "WHERE contribution_id = ANY(:ids)"
        ),
        {"ids": ids},
    ).all()
    return {row.contribution_id: {name: getattr(row, name) for name in names} for row in rows}


def _photos(session: Session, contribution_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            f"SELECT {photos.PHOTO_COLUMNS} FROM photo p WHERE p.contribution_id = :id "
            "ORDER BY p.created_at, p.id"
        ),
        {"id": contribution_id},
    ).all()
    described = []
    for row in rows:
        item = photos.describe(row)
        item["file"] = f"photos/{row.id}.{photos.EXTENSIONS[row.media_type]}"
        described.append(item)
    return described


def _history(session: Session, contribution_id: uuid.UUID, settings: Settings) -> list[dict]:
    # What the author sees through the private link: the same history, the same staff names.
    events = workflow.history(
        session,
        contribution_id,
        public=True,
        show_staff=settings.history_show_staff,
        author=True,
    )
    return [{name: _plain(value) for name, value in asdict(event).items()} for event in events]


def _comment_count(session: Session, contribution_id: uuid.UUID) -> int:
    return session.execute(
        text("SELECT count(*) FROM comment WHERE contribution_id = :id"), {"id": contribution_id}
    ).scalar_one()


def write_zip(held: Held, upload_dir: Path, out: IO[bytes]) -> None:
    """data.json (the subject, every contribution with its request, photos and history, and
    the register) and the photo files under photos/. A photo whose file is missing on disk
    is marked `file_missing`."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in held.contributions:
            for photo in item.photos:
                ident = uuid.UUID(photo["id"])
                path, _thumb = photos.photo_paths(upload_dir, ident, photo["media_type"])
                if path.is_file():
                    archive.write(path, photo["file"])
                else:
                    photo["file_missing"] = True
        data = {
            "generated_at": datetime.now(UTC).isoformat(),
            "subject": asdict(held.subject),
            "contributions": [asdict(item) for item in held.contributions],
            "following": held.following,
            "register": held.register,
        }
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))


# -- Erasure ------------------------------------------------------------------------------------


@dataclass
class Erased:
    ids: list[uuid.UUID]
    withdrawn: int  # of them withdrawn by this erasure
    redacted: Redacted


def erase(
    session: Session, subject: Subject, actor: Any, upload_dir: Path, *, keep_on_map: bool
) -> Erased:
    """Remove the subject's personal data (in the caller's transaction): contact details, text
    and photos of their contributions. With `keep_on_map` the contributions stay public without
    text; otherwise they are withdrawn on the author's behalf (the history names `actor`) and
    their comments are emptied as with any withdrawn contribution. The caller removes
    `redacted.files` after committing."""
    ids = matching_ids(session, subject)
    withdrawn = 0
    if not keep_on_map:
        live = session.execute(
            text("SELECT id FROM contribution WHERE id = ANY(:ids) AND withdrawn_at IS NULL"),
            {"ids": ids},
        ).scalars()
        for ident in list(live):
            workflow.withdraw_on_request(session, ident, actor)
            withdrawn += 1
    done = redact(session, upload_dir, ids, comments=not keep_on_map)
    if subject.kind == "email":  # the address itself, and all it follows
        initiative_privacy.erase(session, subject.value)  # the names it joined with
        session.execute(
            text("DELETE FROM mail_address WHERE address = :value"), {"value": subject.value}
        )
    return Erased(ids, withdrawn, done)


def audit_details(subject: Subject, ids: list[Any], **extra: Any) -> dict[str, Any]:
    """An audit entry's details: the subject masked, the contributions by id (`extra` counts
    cannot replace them)."""
    found = {"subject": subject.masked(), "kind": subject.kind, "contributions": ids}
    return {**extra, **found, "count": len(ids)}
