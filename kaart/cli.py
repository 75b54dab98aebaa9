"""The `kaart` command: database, demo data and serving. Reads KAART_* like the app does."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart import ROOT
from kaart.config import Settings
from kaart.db import make_engine
from kaart.errors import ApiError, ConfigError
from kaart.geo import limits_for
from kaart.schema import upgrade

DEMO_DIR = ROOT / "data" / "demo"


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """Wijkkaart: a participation map for Dutch neighbourhoods."""


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the schema up to date (the first migration enables PostGIS)."""
    upgrade(_settings().database_url, revision)
    click.echo(f"database: schema at {revision}", err=True)


@main.group()
def demo() -> None:
    """The demo neighbourhood: Weesp Centrum, Amsterdam."""


@demo.command("load")
@click.option("--force", is_flag=True, help="Reload layers even when the file is unchanged.")
def demo_load(force: bool) -> None:
    """Load the demo buurten and example contributions (safe to run again)."""
    from geodata.load import LoadError, load_buurten
    from geodata.sources import amsterdam_buurten

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        report = load_buurten(
            engine,
            amsterdam_buurten,
            amsterdam_buurten.DEMO_FILE,
            progress=lambda m: click.echo(m, err=True),
            force=force,
        )
    except LoadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary(), err=True)
    added = load_demo_contributions(engine, settings, DEMO_DIR / "contributions.geojson")
    click.echo(f"demo contributions: {added} added", err=True)
    engine.dispose()


def load_demo_contributions(engine, settings: Settings, path: Path) -> int:
    """Example contributions with fixed ids, through the same checks as the API; never twice."""
    from kaart.services import contributions as service
    from kaart.services.input import parse_feature

    limits = limits_for(settings)
    collection = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    with Session(engine) as session:
        for feature in collection["features"]:
            ident = uuid.UUID(feature["id"])
            exists = session.execute(
                text("SELECT 1 FROM contribution WHERE id = :id"), {"id": ident}
            ).first()
            if exists:
                continue
            try:
                data = parse_feature(feature, limits)
            except ApiError as exc:
                raise click.ClickException(f"demo contribution {ident}: {exc.detail}") from exc
            service.create(session, data, contribution_id=ident)
            added += 1
    return added


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn (the production server, also used for `make run`)."""
    _settings()  # fail fast, before forking workers
    click.echo(f"Wijkkaart: http://{host}:{port}/", err=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    args = [
        str(gunicorn),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "kaart:create_app()",
    ]
    os.execv(args[0], args)  # noqa: S606 - replaces this process with the server
