"""What every write at the edge of a request needs: who the client is (as a rate-limit key),
the per-address limits, the bearer edit token and the Idempotency-Key header.

    with transaction() as session:
        limit_client(session, "contribute")        # 429 with Retry-After when over the limit
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, request
from sqlalchemy.orm import Session

from kaart.errors import BadRequest
from kaart.security import client_address
from kaart.services import ratelimit

HOUR = timedelta(hours=1)
# bucket -> (setting with the number per address per hour, what the 429 says is too many)
BUCKETS = {
    "contribute": ("contributions_per_hour", "contributions"),
    "edit": ("edits_per_hour", "changes"),
    "public": ("public_actions_per_hour", "actions"),
}
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A key the client made up for one request: 16 to 255 visible ASCII characters (a UUID is ideal).
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{16,255}")


def client_key() -> str:
    """This client's address as a rate-limit key (an HMAC, never the address itself)."""
    return ratelimit.address_key(current_app.config["SECRET_KEY"], client_address())


def limit_client(session: Session, bucket: str) -> None:
    """Count this request against the client's hourly limit for `bucket`, or raise 429."""
    setting, what = BUCKETS[bucket]
    per_hour = getattr(current_app.config["KAART"], setting)
    ratelimit.limit(session, bucket, client_key(), per_hour, HOUR, what)


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer <token>` (a contribution's edit token), if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header, checked; None when the client sent none."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip().strip('"')  # the IETF draft sends it as a quoted string
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        reason = "Idempotency-Key must be 16 to 255 visible ASCII characters; use a new UUID."
        raise BadRequest(reason, IDEMPOTENCY_HEADER, "idempotency_key_invalid")
    return key
