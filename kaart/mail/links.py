"""Signed links in messages: /e-mail/<purpose>/<id>.<signature>.

The signature is an HMAC of purpose and id with the app's secret: nothing to store, nothing to
guess, and a link for one purpose (unsubscribe) is no key to another (manage all follows)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

PURPOSES = ("confirm", "unsubscribe", "manage", "satisfaction", "staff")


def token(secret: str, purpose: str, ident: uuid.UUID) -> str:
    return f"{ident}.{_signature(secret, purpose, ident)}"


def verify(secret: str, purpose: str, value: str) -> uuid.UUID | None:
    """The id a token was made for, or None when it is not a valid token for `purpose`."""
    ident, _, signature = value.partition(".")
    try:
        parsed = uuid.UUID(ident)
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _signature(secret, purpose, parsed)):
        return None
    return parsed


def _signature(secret: str, purpose: str, ident: uuid.UUID) -> str:
    assert purpose in PURPOSES
    digest = hmac.new(
        secret.encode("utf-8"), f"mail-{purpose}:{ident}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")
