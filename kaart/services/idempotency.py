"""Safe retries: a write sent again with the same Idempotency-Key gets the first answer.

    stored = find(session, "contribution", key, digest)    # inside the write's transaction
    if stored: return replay(stored)
    ... write ...
    remember(session, "contribution", key, digest, Answer(201, location, body, new_id))

`find` takes a transaction-scoped advisory lock on the key, so a retry that arrives while the
first attempt is still running waits for it and then sees its answer. The answer is stored in
the same transaction as the write: either both are committed or neither is. Keys are kept
KEEP (24 hours); only their SHA-256 is stored. A key sent again with a different request is 422.

Answers never hold a secret. A contribution created with a key gets an edit token derived from
the key and the app's secret (`edit_token`), so a replay can hand out the same edit link again
without the token ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import Invalid

KEEP = timedelta(hours=24)
PURGE_BATCH = 200


@dataclass(frozen=True)
class Answer:
    status: int
    location: str | None
    body: str
    resource_id: uuid.UUID | None = None


def _key_hash(scope: str, key: str) -> bytes:
    return hashlib.sha256(f"{scope}\0{key}".encode()).digest()


def request_digest(*parts: bytes | str) -> bytes:
    """What makes two requests "the same request" (method, path and body, say)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


def find(session: Session, scope: str, key: str, digest: bytes) -> Answer | None:
    """The stored answer for this key, or None (then the caller writes and `remember`s)."""
    key_hash = _key_hash(scope, key)
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('idempotency'), hashtext(:k))"),
        {"k": key_hash.hex()},
    )
    row = session.execute(
        text(
            "SELECT request_hash, status, location, body, resource_id FROM idempotency_key "
            "WHERE scope = :scope AND key_hash = :key_hash AND created_at > now() - :keep"
        ),
        {"scope": scope, "key_hash": key_hash, "keep": KEEP},
    ).one_or_none()
    if row is None:
        return None
    if not hmac.compare_digest(bytes(row.request_hash), digest):
        raise Invalid(
            "This Idempotency-Key was used for a different request; use a new key for a new "
            "request.",
            "Idempotency-Key",
            "idempotency_key_reused",
        )
    return Answer(row.status, row.location, row.body, row.resource_id)


def remember(session: Session, scope: str, key: str, digest: bytes, answer: Answer) -> None:
    """Keep `answer` for this key (in the caller's transaction); drop some expired keys."""
    session.execute(
        text(
            "INSERT INTO idempotency_key "
            "(scope, key_hash, request_hash, status, location, body, resource_id) "
            "VALUES (:scope, :key_hash, :digest, :status, :location, :body, :resource_id) "
            "ON CONFLICT (scope, key_hash) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
            "status = EXCLUDED.status, location = EXCLUDED.location, body = EXCLUDED.body, "
            "resource_id = EXCLUDED.resource_id, created_at = now()"
        ),
        {
            "scope": scope,
            "key_hash": _key_hash(scope, key),
            "digest": digest,
            "status": answer.status,
            "location": answer.location,
            "body": answer.body,
            "resource_id": answer.resource_id,
        },
    )
    purge(session, limit=PURGE_BATCH)


def purge(session: Session, limit: int | None = None) -> int:
    """Remove expired keys (at most `limit` of them); how many went."""
    batch = "LIMIT :limit" if limit else ""
    return session.execute(
        text(
            "DELETE FROM idempotency_key WHERE ctid IN (SELECT ctid FROM idempotency_key "
            f"WHERE created_at < now() - :keep {batch})"
        ),
        {"keep": KEEP, "limit": limit},
    ).rowcount


def edit_token(secret: str, key: str) -> str:
    """The edit token of a contribution created with Idempotency-Key `key`: the same for every
    replay, unguessable without the app's secret, never stored (only its hash, as always)."""
    mac = hmac.new(secret.encode(), f"edit-token\0{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
