"""The e-mail settings from KAART_* variables (the fields themselves live on kaart.config.Settings).

KAART_SMTP_URL   smtp://user:password@host:587 (STARTTLS when offered, required with a
                 password), smtps://user:password@host:465 (TLS), smtp://localhost:25
KAART_MAIL_FROM  "Wijkkaart Weesp <wijkkaart@weesp.nl>"
KAART_PUBLIC_URL https://wijkkaart.weesp.nl — the address links in messages start with
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from kaart.errors import ConfigError

SCHEMES = ("smtp", "smtps")


def mail_settings(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if smtp := env.get("KAART_SMTP_URL", "").strip():
        check_smtp_url(smtp)
        values["smtp_url"] = smtp
    if sender := env.get("KAART_MAIL_FROM", "").strip():
        if "@" not in parseaddr(sender)[1] or any(ord(ch) < 32 for ch in sender):
            raise ConfigError("KAART_MAIL_FROM must be an address, e.g. 'Wijkkaart <kaart@x.nl>'")
        values["mail_from"] = sender
    if public := env.get("KAART_PUBLIC_URL", "").strip():
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError("KAART_PUBLIC_URL must be http(s)://host[/path], e.g. https://x.nl")
        values["public_url"] = public.rstrip("/")
    elif smtp and env.get("KAART_ENV") == "production":
        raise ConfigError("KAART_PUBLIC_URL is needed for the links in e-mail messages")
    return values


def check_smtp_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError("KAART_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ConfigError("KAART_SMTP_URL has a port that is not a number") from exc
