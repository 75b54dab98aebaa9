"""Rate limits kept in PostgreSQL (table rate_event): no extra service to run.

    limit(session, "contribute", address_key(secret, ip), limit=100, window=timedelta(hours=1))

`limit` counts this request if it is within the limit and otherwise raises TooManyRequests with
the real number of seconds until the window frees up. Call it inside the write's transaction,
after the request has been checked: a refused or failed request then counts for nothing (its
event is rolled back with it). Each check takes a transaction-scoped advisory lock on
(bucket, key), so two requests at the same moment cannot both slip under the limit.

Keys for client addresses are an HMAC of the address (`address_key`): the table never holds an
IP address, yet one address always maps to the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.errors import TooManyRequests

# Old events are removed now and then; nothing looks further back than a day.
KEEP = timedelta(days=1)


def address_key(secret: str, address: str) -> str:
    """A stable pseudonym for a client address (HMAC-SHA256 with the app's secret)."""
    digest = hmac.new(secret.encode("utf-8"), address.encode("utf-8"), hashlib.sha256)
    return "a:" + digest.hexdigest()[:32]


def _lock(session: Session, bucket: str, key: str) -> None:
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:bucket), hashtext(:key))"),
        {"bucket": bucket, "key": key},
    )


def count(session: Session, bucket: str, key: str, window: timedelta) -> int:
    """Events in `bucket` for `key` within the last `window` (locks the pair until commit)."""
    _lock(session, bucket, key)
    return session.execute(
        text(
            "SELECT count(*) FROM rate_event "
            "WHERE bucket = :bucket AND key = :key AND at > now() - :window"
        ),
        {"bucket": bucket, "key": key, "window": window},
    ).scalar_one()


def seconds_until_free(
    session: Session, bucket: str, key: str, limit: int, window: timedelta
) -> int:
    """How long until one more event fits: when the oldest event that keeps the count at the
    limit leaves the window."""
    remaining = session.execute(
        text(
            "SELECT extract(epoch FROM at + :window - now()) FROM rate_event "
            "WHERE bucket = :bucket AND key = :key AND at > now() - :window "
            "ORDER BY at DESC OFFSET :offset LIMIT 1"
        ),
        {"bucket": bucket, "key": key, "window": window, "offset": max(limit - 1, 0)},
    ).scalar_one_or_none()
    return max(1, math.ceil(remaining)) if remaining is not None else 1


def record(session: Session, bucket: str, key: str) -> None:
    session.execute(
        text("INSERT INTO rate_event (bucket, key) VALUES (:bucket, :key)"),
        {"bucket": bucket, "key": key},
    )


def forget(session: Session, bucket: str, key: str) -> None:
    session.execute(
        text("DELETE FROM rate_event WHERE bucket = :bucket AND key = :key"),
        {"bucket": bucket, "key": key},
    )


def allow(session: Session, bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Count this attempt if it is within the limit; False (and nothing recorded) if not."""
    if count(session, bucket, key, window) >= limit:
        return False
    record(session, bucket, key)
    session.execute(
        text("DELETE FROM rate_event WHERE bucket = :bucket AND key = :key AND at < now() - :keep"),
        {"bucket": bucket, "key": key, "keep": KEEP},
    )
    return True


def limit(
    session: Session, bucket: str, key: str, limit: int, window: timedelta, what: str = "requests"
) -> None:
    """Count this request, or raise TooManyRequests (429) with the real Retry-After."""
    if not allow(session, bucket, key, limit, window):
        wait = seconds_until_free(session, bucket, key, limit, window)
        raise TooManyRequests(what, retry_after=wait)


def too_many(what: str = "requests", retry_after: int = 900) -> TooManyRequests:
    return TooManyRequests(what, retry_after=retry_after)
