"""The dialogue part's KAART_ variables: defaults, development, and refusal of bad values."""

from __future__ import annotations

import pytest

from kaart.config import Settings
from kaart.errors import ConfigError

BASE = {"KAART_DATABASE_URL": "postgresql+psycopg://u@h/db", "KAART_SECRET_KEY": "s" * 32}


def test_defaults_are_safe_outside_development():
    settings = Settings.from_env(BASE)
    assert settings.session_cookie_secure is True
    assert settings.report_threshold == 3 and settings.history_show_staff is True
    assert settings.login_max_attempts == 5 and settings.public_actions_per_hour == 60
    assert Settings.from_env({**BASE, "KAART_ENV": "development"}).session_cookie_secure is False


def test_values_are_read_and_checked():
    settings = Settings.from_env(
        {
            **BASE,
            "KAART_SESSION_COOKIE_SECURE": "false",
            "KAART_HISTORY_SHOW_STAFF": "false",
            "KAART_REPORT_THRESHOLD": "5",
            "KAART_LOGIN_MAX_ATTEMPTS": "10",
            "KAART_PUBLIC_ACTIONS_PER_HOUR": "120",
        }
    )
    assert (settings.session_cookie_secure, settings.history_show_staff) == (False, False)
    assert (settings.report_threshold, settings.login_max_attempts) == (5, 10)
    assert settings.public_actions_per_hour == 120
    for var, value in (
        ("KAART_SESSION_COOKIE_SECURE", "misschien"),
        ("KAART_HISTORY_SHOW_STAFF", "2"),
        ("KAART_REPORT_THRESHOLD", "0"),
        ("KAART_LOGIN_MAX_ATTEMPTS", "veel"),
        ("KAART_PUBLIC_ACTIONS_PER_HOUR", "-1"),
    ):
        with pytest.raises(ConfigError, match=var):
            Settings.from_env({**BASE, var: value})
