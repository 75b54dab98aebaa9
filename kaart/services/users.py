"""Staff accounts: create, authenticate (argon2id, rate-limited), change roles and passwords."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

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

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
LOGIN_WINDOW = timedelta(minutes=15)
# Per IP address more failures are allowed than per account (offices share an address).
IP_FACTOR = 4
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_hasher = PasswordHasher()
# Verified against when the e-mail address is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class LoginThrottled(Exception):
    """Too many failed logins for this account or from this address."""


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
        new_id = session.execute(stmt, params).scalar_one()
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise invalid(
            "email", "There is already an account with this e-mail address.", "email_taken", 409
        ) from exc
    return new_id


def authenticate(session: Session, email: str, password: str, ip: str, limit: int) -> User | None:
    """The user when e-mail and password match an active account; None otherwise.
    Raises LoginThrottled after `limit` failures per account (IP_FACTOR x per address)."""
    email = (email or "").strip().lower()[:254]
    if (
        ratelimit.count(session, "login-account", email, LOGIN_WINDOW) >= limit
        or ratelimit.count(session, "login-ip", ip, LOGIN_WINDOW) >= limit * IP_FACTOR
    ):
        session.commit()
        raise LoginThrottled
    row = session.execute(
        text(
            "SELECT id, email, display_name, roles, password_hash, active "
            "FROM app_user WHERE email = :email"
        ),
        {"email": email},
    ).one_or_none()
    ok = _verify(row.password_hash if row else _DUMMY_HASH, password or "")
    if row is None or not ok or not row.active:
        ratelimit.record(session, "login-account", email)
        ratelimit.record(session, "login-ip", ip)
        session.commit()
        return None
    ratelimit.forget(session, "login-account", email)
    updates = {"id": row.id}
    sets = "last_login_at = now()"
    if _hasher.check_needs_rehash(row.password_hash):
        sets += ", password_hash = :hash"
        updates["hash"] = _hasher.hash(password)
    session.execute(text(f"UPDATE app_user SET {sets} WHERE id = :id"), updates)
    session.commit()
    return User(row.id, row.email, row.display_name, tuple(row.roles))


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
) -> None:
    sets, params = [], {"id": user_id}
    if roles is not None:
        sets.append("roles = :roles")
        params["roles"] = check_roles(roles)
    if active is not None:
        sets.append("active = :active")
        params["active"] = active
    if password is not None:
        sets.append("password_hash = :hash")
        params["hash"] = _hasher.hash(check_password(password))
    if not sets:
        return
    stmt = text(f"UPDATE app_user SET {', '.join(sets)} WHERE id = :id RETURNING id")
    if roles is not None:
        stmt = _roles_param(stmt)
    found = session.execute(stmt, params).scalar_one_or_none()
    if found is None:
        session.rollback()
        raise invalid("user", "There is no such account.", "user_unknown", 404)
    session.commit()


def find_by_email(session: Session, email: str) -> uuid.UUID | None:
    return session.execute(
        text("SELECT id FROM app_user WHERE email = :email"), {"email": email.strip().lower()}
    ).scalar_one_or_none()
