"""`kaart privacy …`: residents' privacy from the command line.

kaart privacy refresh      work out again where the public sees each contribution
"""

from __future__ import annotations

import click
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.db import make_engine, transaction
from kaart.errors import ConfigError
from kaart.services import privacy as service


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def privacy() -> None:
    """Residents' privacy: where the public sees a contribution (location privacy), and the
    retention, access and erasure of personal data."""


@privacy.command("refresh")
def refresh() -> None:
    """Work out again where the public sees every contribution: near a home, the centre of its
    grid cell. `kaart layers load` does it after loading an address layer; run it after
    changing KAART_PRIVACY_DISTANCE_M or KAART_PRIVACY_CELL_M."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, transaction(session):
            changed = service.refresh(session, service.rule_for(settings))
    finally:
        engine.dispose()
    click.echo(summary(changed), err=True)


def summary(changed: int) -> str:
    noun = "contribution" if changed == 1 else "contributions"
    return f"privacy: {changed} {noun} now shown elsewhere on the public map"


def after_load(settings: Settings):
    """For geodata.load.load_layer(after=…): a new address layer changes where homes are, so
    what the public sees of contributions changes with it, in the load's transaction."""
    rule = service.rule_for(settings)

    def refresh_near_homes(conn: Connection, source) -> str | None:
        if source.kind != "address":
            return None
        return summary(service.refresh(conn, rule))

    return refresh_near_homes
