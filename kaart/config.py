"""Configuration from KAART_* environment variables, validated once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from kaart import secret_key
from kaart.errors import ConfigError
from kaart.mail.settings import mail_settings

# Dates and times are shown, and dates in filters meant, in Dutch time.
TIME_ZONE = ZoneInfo("Europe/Amsterdam")

# Bounding box of the European Netherlands with a small margin (WGS84: lon, lat).
NETHERLANDS_BBOX = (3.0, 50.6, 7.4, 53.8)
# Weesp Centrum, the demo neighbourhood.
DEMO_CENTER = (5.0425, 52.3067)

ROOT = Path(__file__).resolve().parent.parent
NETHERLANDS_OUTLINE = ROOT / "data" / "netherlands.geojson"

PDOK_BRT_URL = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
)


def _floats(text: str, count: int, name: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise ConfigError(f"{name} must be {count} comma-separated numbers, got {text!r}") from exc
    if len(values) != count:
        raise ConfigError(f"{name} must be {count} comma-separated numbers, got {text!r}")
    return values


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads, with its KAART_* variable name and default."""

    database_url: str = field(repr=False)  # may hold the password
    # A streaming replica for public reads (kaart/db.py: get_read_session); None: the primary.
    database_read_url: str | None = field(default=None, repr=False)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    env: str = ""  # KAART_ENV: "production", "development" or unset
    # Proxy hops in front of the app whose X-Forwarded-* headers are trusted (0: none).
    trusted_proxies: int = 0
    area_bbox: tuple[float, ...] = NETHERLANDS_BBOX
    # Contributions must lie inside this outline too (GeoJSON, WGS84); None = the bbox alone.
    area_file: Path | None = field(default=NETHERLANDS_OUTLINE)
    map_center: tuple[float, ...] = DEMO_CENTER
    map_zoom: int = 16
    max_area_m2: float = 5_000_000.0
    max_vertices: int = 10_000
    max_body_bytes: int = 1_000_000
    # Location privacy (kaart/services/privacy.py): near a home (within privacy_distance_m), a
    # point is published as the centre of its privacy_cell_m grid cell in RD New.
    privacy_distance_m: float = 15.0
    privacy_cell_m: float = 50.0
    page_default: int = 100
    page_max: int = 1_000
    basemap_url: str = PDOK_BRT_URL
    default_language: str = "nl"
    # Dialogue part: accounts, moderation and anonymous participation.
    session_cookie_secure: bool = True  # off by default only when KAART_ENV=development
    report_threshold: int = 3  # reports that hide a contribution or comment pending review
    history_show_staff: bool = True  # staff names in the public history
    login_max_attempts: int = 5  # failed logins per account and address per 15 min (address: 4x)
    public_actions_per_hour: int = 60  # support, comments and reports per address per hour
    contributions_per_hour: int = 100  # new contributions (API, Open311) per address per hour
    edits_per_hour: int = 300  # changes, withdrawals and photo uploads per address per hour
    audit_retention_days: int = 365  # audit log entries older than this are purged
    # Retention of personal data (kaart/services/retention.py, `kaart privacy purge`): days
    # after withdrawal, after hiding, and after an Open311 request was closed.
    retain_withdrawn_days: int = 30
    retain_hidden_days: int = 365
    retain_open311_contact_days: int = 90
    # Days after a process ended before the answers about who took part are deleted.
    retain_participant_days: int = 365
    # Who residents write to about their data (the privacy statement names it); one line.
    privacy_contact: str = ""
    # argon2id cost of staff passwords (argon2-cffi's defaults; tests lower them for speed).
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65_536
    # Photos on contributions (outputs part): where they are stored and what is accepted.
    upload_dir: Path = field(default=ROOT / "var" / "uploads")
    photo_max_bytes: int = 10_000_000
    photo_max_pixels: int = 40_000_000
    photo_max_count: int = 6
    # Prebuilt PMTiles archives of the open layers (`kaart tiles build`, kaart/archives/).
    tiles_dir: Path = field(default=ROOT / "var" / "tiles")
    # Open311 GeoReport v2 (standards part): the jurisdiction served; a key POST must carry.
    open311_jurisdiction: str = "wijkkaart"
    open311_api_key: str = field(default="", repr=False)  # empty: no key needed
    # Rooftop solar (solar part): roofs below this area are skipped; CO2 and household figures.
    solar_min_roof_m2: float = 8.0
    solar_co2_kg_per_kwh: float = 0.33  # kg CO2 avoided per kWh of grid electricity replaced
    solar_household_kwh: float = 2_500.0  # an average Dutch household's electricity per year
    # E-mail (kaart/mail/): the SMTP server the worker sends through (smtp://user:pass@host:587
    # with STARTTLS, smtps:// for TLS from the start; empty: messages wait in the outbox), the
    # sender, and the site's public address for links in messages (required in production).
    smtp_url: str = field(default="", repr=False)
    mail_from: str = "Wijkkaart <noreply@wijkkaart.invalid>"
    public_url: str = ""
    mail_max_attempts: int = 8  # then a message is dead (shown to admins in /beheer/e-mail)
    mail_retry_seconds: int = 60  # the first retry's wait; it doubles after every failure
    satisfaction_after_days: int = 28  # after beantwoord/gerealiseerd, ask the author once

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "database_url": _database_url(env),
            **secret_key.from_env(env),
            **_area(env),
        }
        values["database_read_url"] = _database_read_url(env)
        values["env"] = _env(env)
        values.update(_numbers(env))
        if env.get("KAART_MAP_CENTER"):
            values["map_center"] = _floats(env["KAART_MAP_CENTER"], 2, "KAART_MAP_CENTER")
        if "KAART_BASEMAP_URL" in env:
            values["basemap_url"] = env["KAART_BASEMAP_URL"].strip()
        if env.get("KAART_DEFAULT_LANGUAGE"):
            if env["KAART_DEFAULT_LANGUAGE"] not in ("nl", "en"):
                raise ConfigError("KAART_DEFAULT_LANGUAGE must be nl or en")
            values["default_language"] = env["KAART_DEFAULT_LANGUAGE"]
        if env.get("KAART_UPLOAD_DIR", "").strip():
            upload_dir = Path(env["KAART_UPLOAD_DIR"].strip())
            if upload_dir.exists() and not upload_dir.is_dir():
                raise ConfigError(f"KAART_UPLOAD_DIR {str(upload_dir)!r} is not a directory")
            values["upload_dir"] = upload_dir
        if env.get("KAART_TILES_DIR", "").strip():
            tiles_dir = Path(env["KAART_TILES_DIR"].strip())
            if tiles_dir.exists() and not tiles_dir.is_dir():
                raise ConfigError(f"KAART_TILES_DIR {str(tiles_dir)!r} is not a directory")
            values["tiles_dir"] = tiles_dir
        values.update(_dialogue(env))
        values.update(_open311(env))
        values.update(_privacy(env))
        values.update(mail_settings(env))
        settings = cls(**values)
        if settings.page_default > settings.page_max:
            raise ConfigError("KAART_PAGE_DEFAULT must not exceed KAART_PAGE_MAX")
        return settings

    def replace(self, **changes: Any) -> Settings:
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        return Settings(**current)


def _database_url(env: Mapping[str, str]) -> str:
    if not env.get("KAART_DATABASE_URL", "").strip():
        raise ConfigError(
            "KAART_DATABASE_URL is not set (e.g. postgresql+psycopg://user@host/wijkkaart); "
            "`make run` sets it to a private cluster for you"
        )
    return _with_password(env, "KAART_DATABASE_URL")


def _database_read_url(env: Mapping[str, str]) -> str | None:
    """KAART_DATABASE_READ_URL (optional), with the same password: a streaming replica has the
    primary's roles."""
    if not env.get("KAART_DATABASE_READ_URL", "").strip():
        return None
    return _with_password(env, "KAART_DATABASE_READ_URL")


def _with_password(env: Mapping[str, str], var: str) -> str:
    """The URL in `var`, with the password of KAART_DATABASE_PASSWORD (or of the file named by
    KAART_DATABASE_PASSWORD_FILE, a Docker secret) put in by SQLAlchemy: it escapes the password,
    so `@ : / # %` need no hand-written escaping."""
    url = env[var].strip()
    password = _database_password(env)
    if password is None:
        return url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # no URL in the message: it may hold a password
        raise ConfigError(f"{var} is not a database URL") from exc
    # Two passwords that differ: refuse rather than silently pick one.
    if parsed.password is not None and parsed.password != password:
        raise ConfigError(
            f"{var} has a password and KAART_DATABASE_PASSWORD(_FILE) another one; "
            "leave the password out of the URL"
        )
    return parsed.set(password=password).render_as_string(hide_password=False)


def _database_password(env: Mapping[str, str]) -> str | None:
    given = env.get("KAART_DATABASE_PASSWORD", "")
    path = env.get("KAART_DATABASE_PASSWORD_FILE", "").strip()
    if given and path:
        raise ConfigError("set KAART_DATABASE_PASSWORD or KAART_DATABASE_PASSWORD_FILE, not both")
    if not path:
        return given or None
    try:
        # Only the line end goes: spaces may be part of a password.
        secret = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read KAART_DATABASE_PASSWORD_FILE {path!r}: {exc}") from exc
    if not secret:
        raise ConfigError(f"KAART_DATABASE_PASSWORD_FILE {path!r} is empty")
    return secret


def _flag(env: Mapping[str, str], var: str) -> bool | None:
    raw = env.get(var, "").strip().lower()
    if not raw:
        return None
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{var} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def _dialogue(env: Mapping[str, str]) -> dict[str, Any]:
    secure = _flag(env, "KAART_SESSION_COOKIE_SECURE")
    if secure is None:
        secure = env.get("KAART_ENV") != "development"
    values: dict[str, Any] = {"session_cookie_secure": secure}
    staff = _flag(env, "KAART_HISTORY_SHOW_STAFF")
    if staff is not None:
        values["history_show_staff"] = staff
    return values


def _open311(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "KAART_OPEN311_JURISDICTION" in env:
        jurisdiction = env["KAART_OPEN311_JURISDICTION"].strip()
        if not jurisdiction or len(jurisdiction) > 100:
            raise ConfigError("KAART_OPEN311_JURISDICTION must be 1 to 100 characters")
        values["open311_jurisdiction"] = jurisdiction
    if env.get("KAART_OPEN311_API_KEY", "").strip():
        key = env["KAART_OPEN311_API_KEY"].strip()
        if len(key) < 16:
            raise ConfigError("KAART_OPEN311_API_KEY must be at least 16 characters")
        values["open311_api_key"] = key
    return values


PRIVACY_CONTACT_MAX = 200


def _privacy(env: Mapping[str, str]) -> dict[str, Any]:
    contact = env.get("KAART_PRIVACY_CONTACT", "").strip()
    if not contact:
        return {}
    if len(contact) > PRIVACY_CONTACT_MAX or any(ord(ch) < 32 for ch in contact):
        raise ConfigError(
            f"KAART_PRIVACY_CONTACT must be one line of at most {PRIVACY_CONTACT_MAX} characters"
        )
    return {"privacy_contact": contact}


def _env(env: Mapping[str, str]) -> str:
    value = env.get("KAART_ENV", "").strip()
    if value not in ("", "production", "development"):
        raise ConfigError(f"KAART_ENV must be production or development, got {value!r}")
    return value


def _area(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("KAART_AREA_BBOX"):
        bbox = _floats(env["KAART_AREA_BBOX"], 4, "KAART_AREA_BBOX")
        if not (-180 <= bbox[0] < bbox[2] <= 180 and -90 <= bbox[1] < bbox[3] <= 90):
            raise ConfigError("KAART_AREA_BBOX must be minLon,minLat,maxLon,maxLat in WGS84")
        values["area_bbox"] = bbox
    if "KAART_AREA_FILE" in env:
        raw = env["KAART_AREA_FILE"].strip()
        if raw and not Path(raw).is_file():
            raise ConfigError(f"KAART_AREA_FILE {raw!r} does not exist")
        values["area_file"] = Path(raw) if raw else None
    return values


NUMBERS = {
    "map_zoom": int,
    "max_area_m2": float,
    "max_vertices": int,
    "max_body_bytes": int,
    "privacy_distance_m": float,
    "privacy_cell_m": float,
    "page_default": int,
    "page_max": int,
    "report_threshold": int,
    "login_max_attempts": int,
    "public_actions_per_hour": int,
    "contributions_per_hour": int,
    "edits_per_hour": int,
    "audit_retention_days": int,
    "retain_withdrawn_days": int,
    "retain_hidden_days": int,
    "retain_open311_contact_days": int,
    "retain_participant_days": int,
    "password_hash_time_cost": int,
    "password_hash_memory_kib": int,
    "trusted_proxies": int,
    "photo_max_bytes": int,
    "photo_max_pixels": int,
    "photo_max_count": int,
    "solar_min_roof_m2": float,
    "solar_co2_kg_per_kwh": float,
    "solar_household_kwh": float,
    "mail_max_attempts": int,
    "mail_retry_seconds": int,
    "satisfaction_after_days": int,
}


# Settings for which 0 means something (no proxy in front).
ZERO_ALLOWED = frozenset({"trusted_proxies"})


def _numbers(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cast in NUMBERS.items():
        var = f"KAART_{name.upper()}"
        raw = env.get(var)
        if not raw:
            continue
        try:
            values[name] = cast(raw)
        except ValueError as exc:
            raise ConfigError(f"{var} must be a number, got {raw!r}") from exc
        low_ok = values[name] == 0 and name in ZERO_ALLOWED
        if not (0 < values[name] < float("inf") or low_ok):
            raise ConfigError(f"{var} must be a positive number")
    return values
