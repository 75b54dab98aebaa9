"""Send one message through the SMTP server of KAART_SMTP_URL.

`Refused` is the server saying no for good (5xx): the message is dead. Anything else that goes
wrong (no connection, 4xx, a timeout, a dropped line) is `Later`: try again after a while."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 20


class Later(Exception):
    """Try this message again later."""


class Refused(Exception):
    """The server refused this message for good."""


def send(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port
    try:
        if parts.scheme == "smtps":
            context = ssl.create_default_context()
            client = smtplib.SMTP_SSL(host, port or 465, timeout=TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(host, port or 25, timeout=TIMEOUT_SECONDS)
        with client:
            _secure(client, parts.scheme, bool(parts.password))
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise _judged(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise _judged(code, reason) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise Later(f"{type(exc).__name__}: {exc}") from exc


def _secure(client: smtplib.SMTP, scheme: str, with_password: bool) -> None:
    """STARTTLS when the server offers it; a password is never sent over a plain line."""
    if scheme == "smtps":
        return
    client.ehlo()
    if client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    elif with_password:
        raise Refused("the SMTP server offers no STARTTLS; the password is not sent in the clear")


def _judged(code: int, reason: bytes | str) -> Exception:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    if 500 <= code < 600:
        return Refused(f"{code} {text}")
    return Later(f"{code} {text}")
