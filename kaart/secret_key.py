"""The key that signs cookies and links: KAART_SECRET_KEY, checked in production; elsewhere
made once and kept in the state folder (KAART_STATE_DIR), so every worker and every restart of
an installation signs with the same key."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kaart.errors import ConfigError

# Secrets that have been published (in this repository or its documentation): never accepted.
KNOWN_PLACEHOLDERS = frozenset(
    {
        "change-me-to-64-random-hex-characters",
        "change-me",
        "changeme",
        "secret",
        "test-secret",
        "development",
    }
)
SECRET_MIN_BYTES = 32
SIGNING_KEY_FILE = "secret_key"


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The signing secret. Production: KAART_SECRET_KEY, at least 32 bytes, not a placeholder.
    Elsewhere without one: a secret made once and kept in the state folder, so every worker
    and every restart signs cookies with the same key."""
    given = env.get("KAART_SECRET_KEY", "").strip()
    production = env.get("KAART_ENV", "").strip() == "production"
    if given:
        if production:
            check_production_secret(given)
        return {"secret_key": given}
    if production:
        raise ConfigError(
            "KAART_SECRET_KEY must be set when KAART_ENV=production "
            "(make one with: python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return {"secret_key": stored_secret(state_dir(env))}


def check_production_secret(secret: str) -> None:
    if secret.lower() in KNOWN_PLACEHOLDERS or "change-me" in secret.lower():
        raise ConfigError("KAART_SECRET_KEY is a published placeholder; set a random secret")
    if len(secret.encode("utf-8")) < SECRET_MIN_BYTES:
        raise ConfigError(f"KAART_SECRET_KEY must be at least {SECRET_MIN_BYTES} bytes long")
    if len(set(secret)) < 8:
        raise ConfigError("KAART_SECRET_KEY is not random enough; set a random secret")


def state_dir(env: Mapping[str, str]) -> Path:
    """Where this installation keeps what it makes for itself (untracked): KAART_STATE_DIR."""
    raw = env.get("KAART_STATE_DIR", "").strip()
    return Path(raw) if raw else Path(__file__).resolve().parent.parent / "var"


def stored_secret(folder: Path) -> str:
    """The secret in `folder`/secret_key, created (mode 0600) by whichever process comes first."""
    path = folder / SIGNING_KEY_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the secret key file {path}: {exc}") from exc
    partial = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(partial + "\n")
    return partial


def _read_secret(path: Path) -> str:
    # Another process may have created the file a moment ago and not yet written it.
    for _attempt in range(50):
        try:
            value = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the secret key file {path}: {exc}") from exc
        if len(value) >= SECRET_MIN_BYTES:
            return value
        time.sleep(0.02)
    raise ConfigError(f"the secret key file {path} is empty or too short; remove it to renew")
