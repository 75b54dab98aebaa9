"""Configuration from KAART_* environment variables, validated once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kaart.errors import ConfigError

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

    database_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    area_bbox: tuple[float, ...] = NETHERLANDS_BBOX
    # Contributions must lie inside this outline too (GeoJSON, WGS84); None = the bbox alone.
    area_file: Path | None = field(default=NETHERLANDS_OUTLINE)
    map_center: tuple[float, ...] = DEMO_CENTER
    map_zoom: int = 16
    max_area_m2: float = 5_000_000.0
    max_vertices: int = 10_000
    max_body_bytes: int = 1_000_000
    page_default: int = 100
    page_max: int = 1_000
    basemap_url: str = PDOK_BRT_URL
    default_language: str = "nl"
    # Dialogue part: accounts, moderation and anonymous participation.
    session_cookie_secure: bool = True  # off by default only when KAART_ENV=development
    report_threshold: int = 3  # reports that hide a contribution or comment pending review
    history_show_staff: bool = True  # staff names in the public history
    login_max_attempts: int = 5  # failed logins per account per 15 minutes (per IP: 4x)
    public_actions_per_hour: int = 60  # support, comments and reports per IP per hour
    # Photos on contributions (outputs part): where they are stored and what is accepted.
    upload_dir: Path = field(default=ROOT / "var" / "uploads")
    photo_max_bytes: int = 10_000_000
    photo_max_pixels: int = 40_000_000
    photo_max_count: int = 6
    # Open311 GeoReport v2 (standards part): the jurisdiction served; a key POST must carry.
    open311_jurisdiction: str = "wijkkaart"
    open311_api_key: str = field(default="", repr=False)  # empty: no key needed
    # Rooftop solar (solar part): roofs below this area are skipped; CO2 and household figures.
    solar_min_roof_m2: float = 8.0
    solar_co2_kg_per_kwh: float = 0.33  # kg CO2 avoided per kWh of grid electricity replaced
    solar_household_kwh: float = 2_500.0  # an average Dutch household's electricity per year

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("KAART_DATABASE_URL", "").strip()
        if not url:
            raise ConfigError(
                "KAART_DATABASE_URL is not set (e.g. postgresql+psycopg://user@host/wijkkaart); "
                "`make run` sets it to a private cluster for you"
            )
        values: dict[str, Any] = {"database_url": url, **_secret(env), **_area(env)}
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
        values.update(_dialogue(env))
        values.update(_open311(env))
        settings = cls(**values)
        if settings.page_default > settings.page_max:
            raise ConfigError("KAART_PAGE_DEFAULT must not exceed KAART_PAGE_MAX")
        return settings

    def replace(self, **changes: Any) -> Settings:
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        return Settings(**current)


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


def _secret(env: Mapping[str, str]) -> dict[str, Any]:
    if env.get("KAART_SECRET_KEY"):
        return {"secret_key": env["KAART_SECRET_KEY"]}
    if env.get("KAART_ENV") == "production":
        raise ConfigError("KAART_SECRET_KEY must be set when KAART_ENV=production")
    return {}


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
    "page_default": int,
    "page_max": int,
    "report_threshold": int,
    "login_max_attempts": int,
    "public_actions_per_hour": int,
    "photo_max_bytes": int,
    "photo_max_pixels": int,
    "photo_max_count": int,
    "solar_min_roof_m2": float,
    "solar_co2_kg_per_kwh": float,
    "solar_household_kwh": float,
}


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
        if not 0 < values[name] < float("inf"):
            raise ConfigError(f"{var} must be a positive number")
    return values
