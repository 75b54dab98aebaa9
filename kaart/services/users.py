"""Staff accounts: create, authenticate (argon2id, throttled per address), change roles and
passwords. Nothing here commits: the caller's transaction does (kaart.db.transaction).

Failed logins never lock an account as a whole. They count per (account, client address) and
per client address; either limit refuses further attempts from that address for a while, and
the right password from anywhere else still works. Addresses are counted by their HMAC
(ratelimit.address_key), never stored as such in rate_event.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from kaart.auth import ROLES, User
from kaart.errors import invalid
from kaart.services import ratelimit
from kaart.services.processes import LOCAL

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
LOGIN_WINDOW = timedelta(minutes=15)
# Per address more failures are allowed than per account and address (offices share one).
ADDRESS_FACTOR = 4
PAIR_BUCKET = "login-pair"  # key: "<e-mail tried> <address key>"
ADDRESS_BUCKET = "login-address"  # key: the address key
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_hasher = PasswordHasher()
# Verified against when the e-mail address is unknown, so both cases take as long. Made at the
# first login, not at import: every command and worker would otherwise pay an argon2 hash
# (0.1 s and the 64 MiB of its memory cost) at start-up.
_dummy: dict[tuple[int, int], str] = {}


def _dummy_hash() -> str:
    cost = (_hasher.time_cost, _hasher.memory_cost)
    if cost not in _dummy:
        _dummy[cost] = _hasher.hash("not a password of anyone")
    return _dummy[cost]


def set_hash_cost(time_cost: int, memory_kib: int) -> None:
    """The argon2id cost of new hashes (KAART_PASSWORD_HASH_*). Stored hashes keep their own
    cost, and are hashed again at the next login when it differs (check_needs_rehash)."""
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class Login:
    """What came of one login attempt: `user` when it succeeded; otherwise why not, and for a
    throttled attempt (password not even checked) the seconds until one more is allowed."""

    email: str  # as tried, normalised
    user: User | None = None
    reason: str = ""  # password | unknown | inactive | throttled
    retry_after: int = 0

    @property
    def outcome(self) -> str:
        if self.user is not None:
            return "succeeded"
        return "throttled" if self.reason == "throttled" else "failed"


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise invalid("email", "Enter a valid e-mail address.", "email_invalid", 400)
    return email


def check_password(password: str) -> str:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise invalid(
            "password",
            f"A password has at least {PASSWORD_MIN} characters.",
            "password_too_short",
            400,
        )
    return password


def check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise invalid("roles", f"Unknown role {unknown[0]!r}.", "role_unknown", 400)
    return sorted(set(roles))


def _roles_param(stmt):
    return stmt.bindparams(bindparam("roles", type_=ARRAY(String)))


def create(
    session: Session, email: str, password: str, roles: list[str], display_name: str = ""
) -> uuid.UUID:
    email = normalise_email(email)
    name = (display_name or "").strip() or email.split("@")[0]
    stmt = _roles_param(
        text(
            "INSERT INTO app_user (email, display_name, password_hash, roles) "
            "VALUES (:email, :name, :hash, :roles) RETURNING id"
        )
    )
    params = {
        "email": email,
        "name": name[:120],
        "hash": _hasher.hash(check_password(password)),
        "roles": check_roles(roles),
    }
    try:
        with session.begin_nested():  # a taken address leaves the caller's transaction usable
            return session.execute(stmt, params).scalar_one()
    except IntegrityError as exc:
        raise invalid(
            "email", "There is already an account with this e-mail address.", "email_taken", 409
        ) from exc


def created_details(user_id: uuid.UUID, email: str, roles: list[str]) -> dict[str, Any]:
    """What the audit log keeps of a new account."""
    return {"user_id": str(user_id), "email": normalise_email(email), "roles": check_roles(roles)}


def pair_key(email: str, address_key: str) -> str:
    # The address key has no spaces, so the last space splits the pair again.
    return f"{email} {address_key}"


def authenticate(
    session: Session, email: str, password: str, address_key: str, limit: int
) -> Login:
    """Check e-mail and password, counting failures per (e-mail, address) and per address.
    After `limit` failures of this pair in LOGIN_WINDOW (ADDRESS_FACTOR x `limit` from the
    address over all accounts) the attempt is refused without checking the password.
    Success clears this pair's failures. The caller commits, whatever the outcome."""
    email = (email or "").strip().lower()[:254]
    pair = pair_key(email, address_key)
    checks = ((PAIR_BUCKET, pair, limit), (ADDRESS_BUCKET, address_key, limit * ADDRESS_FACTOR))
    waits = [
        ratelimit.seconds_until_free(session, bucket, key, most, LOGIN_WINDOW)
        for bucket, key, most in checks
        if ratelimit.count(session, bucket, key, LOGIN_WINDOW) >= most
    ]
    if waits:
        return Login(email, reason="throttled", retry_after=max(waits))
    row = session.execute(
        text(
            "SELECT id, email, display_name, roles, password_hash, active "
            "FROM app_user WHERE email = :email"
        ),
        {"email": email},
    ).one_or_none()
    ok = _verify(row.password_hash if row else _dummy_hash(), password or "")
    if row is None or not ok or not row.active:
        for bucket, key, most in checks:
            # Counted above under the same lock, so this records (and prunes old events).
            ratelimit.allow(session, bucket, key, most, LOGIN_WINDOW)
        reason = "unknown" if row is None else ("password" if not ok else "inactive")
        return Login(email, reason=reason)
    ratelimit.forget(session, PAIR_BUCKET, pair)
    updates: dict[str, Any] = {"id": row.id}
    sets = "last_login_at = now()"
    if _hasher.check_needs_rehash(row.password_hash):
        sets += ", password_hash = :hash"
        updates["hash"] = _hasher.hash(password)
    session.execute(text(f"UPDATE app_user SET {sets} WHERE id = :id"), updates)
    return Login(email, user=User(row.id, row.email, row.display_name, tuple(row.roles)))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def accounts(session: Session) -> list[Account]:
    rows = session.execute(
        text(
            "SELECT id, email, display_name, roles, active, created_at, last_login_at "
            "FROM app_user ORDER BY email"
        )
    ).all()
    return [
        Account(
            r.id, r.email, r.display_name, tuple(r.roles), r.active, r.created_at, r.last_login_at
        )
        for r in rows
    ]


def update(
    session: Session,
    user_id: uuid.UUID,
    *,
    roles: list[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Set what is given; 404 for an unknown account. Returns what really changed, as audit
    entries: (action, details)."""
    before = session.execute(
        text("SELECT email, roles, active FROM app_user WHERE id = :id FOR UPDATE"),
        {"id": user_id},
    ).one_or_none()
    if before is None:
        raise invalid("user", "There is no such account.", "user_unknown", 404)
    changes: list[tuple[str, dict[str, Any]]] = []
    about = {"user_id": str(user_id), "email": before.email}
    sets, params = [], {"id": user_id}
    if roles is not None and check_roles(roles) != sorted(before.roles):
        sets.append("roles = :roles")
        params["roles"] = check_roles(roles)
        details = {**about, "from": sorted(before.roles), "to": params["roles"]}
        changes.append(("user.roles_changed", details))
    if active is not None and active != before.active:
        sets.append("active = :active")
        params["active"] = active
        changes.append(("user.activated" if active else "user.deactivated", about))
    if password is not None:
        sets.append("password_hash = :hash")
        params["hash"] = _hasher.hash(check_password(password))
        changes.append(("user.password_reset", about))
    if sets:
        stmt = text(f"UPDATE app_user SET {', '.join(sets)} WHERE id = :id")
        session.execute(_roles_param(stmt) if "roles" in params else stmt, params)
    return changes


# -- Failed logins, for admins ----------------------------------------------------------------


@dataclass(frozen=True)
class FailedLogins:
    """An account's failed logins within LOGIN_WINDOW; `throttled` when some address may not
    try again yet."""

    user_id: uuid.UUID
    email: str
    display_name: str
    failures: int
    addresses: int
    throttled: bool
    last: datetime  # Dutch time


def _pairs(session: Session) -> dict[str, list[tuple[str, int, datetime]]]:
    """Recent failures per e-mail tried: [(address key, count, latest)]."""
    found: dict[str, list[tuple[str, int, datetime]]] = {}
    for key, (count, last) in ratelimit.recent(session, PAIR_BUCKET, LOGIN_WINDOW).items():
        email, address = key.rsplit(" ", 1)
        found.setdefault(email, []).append((address, count, last))
    return found


def failed_logins(session: Session, limit: int) -> list[FailedLogins]:
    """Accounts with recent failed logins, those refused at the moment first."""
    pairs = _pairs(session)
    if not pairs:
        return []
    stmt = text(
        "SELECT id, email, display_name FROM app_user WHERE email = ANY(:emails) ORDER BY email"
    ).bindparams(bindparam("emails", type_=ARRAY(String)))
    found = [
        FailedLogins(
            row.id,
            row.email,
            row.display_name,
            sum(count for _a, count, _l in pairs[row.email]),
            len(pairs[row.email]),
            any(count >= limit for _a, count, _l in pairs[row.email]),
            max(last for _a, _c, last in pairs[row.email]).astimezone(LOCAL),
        )
        for row in session.execute(stmt, {"emails": list(pairs)})
    ]
    return sorted(found, key=lambda f: not f.throttled)


def unlock(session: Session, user_id: uuid.UUID) -> dict[str, Any]:
    """Clear an account's failed logins from every address, and those addresses' own counts
    (else an address blocked as a whole would still keep the owner out). Returns the audit
    details; 404 for an unknown account."""
    email = session.execute(
        text("SELECT email FROM app_user WHERE id = :id"), {"id": user_id}
    ).scalar_one_or_none()
    if email is None:
        raise invalid("user", "There is no such account.", "user_unknown", 404)
    pairs = _pairs(session).get(email, [])
    for address, _count, _last in pairs:
        ratelimit.forget(session, PAIR_BUCKET, pair_key(email, address))
        ratelimit.forget(session, ADDRESS_BUCKET, address)
    return {
        "user_id": str(user_id),
        "email": email,
        "addresses": len(pairs),
        "failures": sum(count for _a, count, _l in pairs),
    }


def find_by_email(session: Session, email: str) -> uuid.UUID | None:
    return session.execute(
        text("SELECT id FROM app_user WHERE email = :email"), {"email": email.strip().lower()}
    ).scalar_one_or_none()
