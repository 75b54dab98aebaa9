"""The settings of a `kaart` command: KAART_* read and checked like the app does, a bad value a
clean error message (not a traceback)."""

from __future__ import annotations

import click

from kaart.config import Settings
from kaart.errors import ConfigError


def from_env() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
