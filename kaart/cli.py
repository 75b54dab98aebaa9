"""The `kaart` command: database, demo data and serving. Reads KAART_* like the app does."""

from __future__ import annotations

import importlib
import json
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart import ROOT, cli_settings
from kaart.archives import cli as tiles_cli
from kaart.config import Settings
from kaart.db import checkpointed, make_engine, transaction
from kaart.errors import ApiError
from kaart.schema import upgrade
from kaart.services import audit as audit_log

DEMO_DIR = ROOT / "data" / "demo"


def _settings() -> Settings:
    return cli_settings.from_env()


class LazyGroup(click.Group):
    """A group whose command groups in other modules are imported only when one is used: a
    command starts with what it needs (`kaart layers load` without the app's services: 0.4 s
    and ~30 MiB less, bench/layers_import.py), `kaart --help` still lists them all."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(
    cls=LazyGroup,
    lazy={
        "users": "kaart.users_cli:users",  # staff accounts
        "mail": "kaart.mail.cli:mail",  # the outbox worker
        "privacy": "kaart.privacy_cli:privacy",  # location privacy, retention, erasure
        "reactienota": "kaart.outputs_cli:reactienota",  # the reactienota as a file
        "photos": "kaart.outputs_cli:photos",
    },
)
def main() -> None:
    """Wijkkaart: a participation map for Dutch neighbourhoods."""


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the schema up to date (the first migration enables PostGIS)."""
    upgrade(_settings().database_url, revision)
    click.echo(f"database: schema at {revision}", err=True)


@main.group()
def demo() -> None:
    """The demo neighbourhood: Weesp Centrum, Amsterdam."""


# The demo area's open layers: (registry name, file in the repository, layer in the file).
DEMO_LAYERS = (
    ("amsterdam-buurten", "demo/gebieden_buurten_amsterdam.geojson", None),
    ("cbs-pc4", "open/pc4/cbs_pc4_2024_nl.gpkg", None),
    ("bag-panden", "open/amsterdam/bag_weesp_centrum_2021.gpkg", "pand"),
    ("bag-adressen", "open/amsterdam/bag_weesp_centrum_2021.gpkg", "verblijfsobject"),
)
# The demo's archives stop at z14 for the national PC4 layer: its z15 and z16 would be 750,000
# more tiles (minutes on 2 cores) for outlines the map scales up well; `kaart tiles build
# cbs-pc4` builds them all.
DEMO_ARCHIVE_ZOOMS = {"cbs-pc4": (None, 14)}


@demo.command("load")
@click.option("--force", is_flag=True, help="Reload layers even when the file is unchanged.")
def demo_load(force: bool) -> None:
    """Load the demo layers and example contributions (safe to run again)."""
    from kaart.services import demo_initiatives, demo_pact, processes

    settings = _settings()
    engine = make_engine(settings.database_url)
    for name, relative, layer in DEMO_LAYERS:
        path = ROOT / "data" / relative
        zooms = DEMO_ARCHIVE_ZOOMS.get(name, (None, None))
        _load(engine, settings, name, path=path, layer=layer, force=force, zooms=zooms)
    added = load_demo_contributions(engine, settings, DEMO_DIR / "contributions.geojson")
    click.echo(f"demo contributions: {added} added", err=True)
    with Session(engine) as session, transaction(session):  # a process over the buurt
        if processes.load_demo(session):
            click.echo(f"demo process: /trajecten/{processes.DEMO_SLUG}", err=True)
    with Session(engine) as session, transaction(session):  # an initiative and an adoption
        demo_initiatives.load(session, lambda message: click.echo(message, err=True))
    with Session(engine) as session, transaction(session):  # the wijkpact (after initiatives)
        demo_pact.load(session, lambda message: click.echo(message, err=True))
    _solar(engine, settings, force=False)
    engine.dispose()


@main.group()
def solar() -> None:
    """Rooftop solar potential of the loaded BAG panden (pvlib model)."""


@solar.command("compute")
@click.option("--force", is_flag=True, help="Recompute every building, changed or not.")
@click.option("--layer", default="bag-panden", show_default=True, help="The building layer.")
def solar_compute(force: bool, layer: str) -> None:
    """Compute the potential of buildings whose footprint, roof parts or settings changed."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        _solar(engine, settings, force=force, building_layer=layer)
    finally:
        engine.dispose()


def _solar(engine, settings: Settings, **options) -> None:
    from kaart.solar.compute import ComputeError, compute, economics_for

    try:
        # Committed chunk by chunk: an interrupted run keeps what it wrote, the next resumes.
        with checkpointed(engine) as (conn, checkpoint):
            report = compute(
                conn,
                economics_for(settings),
                progress=lambda m: click.echo(m, err=True),
                checkpoint=checkpoint,
                **options,
            )
    except ComputeError as exc:
        raise click.ClickException(f"solar: {exc}") from exc
    click.echo(report.summary(), err=True)


def _load(
    engine, settings: Settings, name: str, tiles: bool = True, zooms=(None, None), **options
) -> None:
    """Load a layer, then build its tile archive (kept when the load changed nothing)."""
    from geodata.load import LoadError, load_layer

    after = _refresh_near_homes(settings)  # an address layer moves what the public sees
    try:
        report = load_layer(
            engine, name, progress=lambda m: click.echo(m, err=True), after=after, **options
        )
    except LoadError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        raise click.ClickException(
            f"{name}: interrupted; the loaded version is unchanged"
        ) from None
    click.echo(report.summary(), err=True)
    if not report.unchanged:  # the audit log keeps which layer came from where
        details = {"layer": report.layer, "features": report.loaded, "read": report.read}
        details |= {key: str(options[key]) for key in ("path", "url") if options.get(key)}
        audit_log.record_command(engine, "layer.loaded", details)
    if tiles:
        tiles_cli.build_archive(engine, settings, name, zooms=zooms)


@main.group()
def layers() -> None:
    """Open municipal layers (CBS, BAG, BGT, 3DBAG, trees, playgrounds)."""


@layers.command("list")
def layers_list() -> None:
    """The sources Wijkkaart knows, and which are loaded."""
    from sqlalchemy import text as sql_text

    from geodata.registry import list_sources

    engine = make_engine(_settings().database_url)
    with engine.connect() as conn:
        loaded = {
            r.name: r
            for r in conn.execute(sql_text("SELECT name, feature_count, loaded_at FROM layer"))
        }
    engine.dispose()
    for source in list_sources():
        row = loaded.get(source.name)
        state = (
            f"{row.feature_count:,} features, loaded {row.loaded_at:%Y-%m-%d %H:%M}"
            if row
            else "not loaded"
        )
        click.echo(f"{source.name:20} {source.title:40} {state}")
        click.echo(f"{'':20} {source.attribution} · {source.licence}")


@layers.command("load")
@click.argument("name")
@click.option("--file", "path", type=click.Path(path_type=Path), help="A local file to read.")
@click.option("--url", help="An OGC API Features items URL to read page by page.")
@click.option("--bbox", help="minX,minY,maxX,maxY in RD New (EPSG:28992).")
@click.option("--layer", help="The layer inside a multi-layer file.")
@click.option("--force", is_flag=True, help="Reload even when the file is unchanged.")
@click.option("--no-tiles", is_flag=True, help="Skip building its tile archive (kaart tiles).")
def layers_load(
    name: str,
    path: Path | None,
    url: str | None,
    bbox: str | None,
    layer: str | None,
    force: bool,
    no_tiles: bool,
) -> None:
    """Load (or replace) the layer NAME from a file or URL, atomically; then build its tile
    archive."""
    from geodata.pipeline import pyogrio_without_dataframes

    pyogrio_without_dataframes()  # this process loads one layer and needs no DataFrames
    box = None
    if bbox:
        try:
            box = tuple(float(v) for v in bbox.split(","))
        except ValueError:
            box = ()
        if len(box) != 4:
            raise click.BadParameter("use minX,minY,maxX,maxY", param_hint="--bbox")
    settings = _settings()
    engine = make_engine(settings.database_url)
    options = {"path": path, "url": url, "bbox": box, "layer": layer, "force": force}
    _load(engine, settings, name, tiles=not no_tiles, **options)
    engine.dispose()


def _refresh_near_homes(settings: Settings):
    """kaart/privacy_cli.py's after_load, its module (the app's services) imported only for
    an address layer."""

    def after(conn, source) -> str | None:
        if source.kind != "address":
            return None
        from kaart import privacy_cli

        return privacy_cli.after_load(settings)(conn, source)

    return after


def load_demo_contributions(engine, settings: Settings, path: Path) -> int:
    """Example contributions with fixed ids, through the same checks as the API; never twice."""
    from kaart.geo import limits_for
    from kaart.services import contributions as service
    from kaart.services import privacy
    from kaart.services.input import parse_feature

    limits = limits_for(settings)
    rule = privacy.rule_for(settings)
    collection = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    with Session(engine) as session, transaction(session):
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
            service.create(session, data, contribution_id=ident, rule=rule)
            added += 1
    return added


@main.group()
def audit() -> None:
    """The audit log of /beheer and of these commands."""


@audit.command("purge")
def audit_purge() -> None:
    """Remove entries older than KAART_AUDIT_RETENTION_DAYS (run it daily, e.g. from cron)."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    retention = timedelta(days=settings.audit_retention_days)
    try:
        with Session(engine) as session, transaction(session):
            purged = audit_log.purge(session, retention, actor=audit_log.CLI)
    finally:
        engine.dispose()
    what = ", ".join(f"{action} {n}" for action, n in purged.removed.items())
    noun = "entry" if purged.total == 1 else "entries"
    click.echo(
        f"audit: removed {purged.total} {noun} older than {purged.before:%Y-%m-%d %H:%M:%S %Z}"
        + (f" ({what})" if what else "")
    )


# Prebuilt PMTiles archives of the open layers, in kaart/archives/cli.py (the others: LazyGroup).
main.add_command(tiles_cli.tiles)


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
    # Two malloc arenas per process instead of one per thread (glibc's default, up to 8 per
    # core): each of a worker's threads otherwise keeps its own heap of freed tile and page
    # buffers. A few MiB less per worker (bench/memory.py); the threads wait on the database
    # far more than on malloc. An operator's own setting wins.
    env = {"MALLOC_ARENA_MAX": "2", **os.environ}
    os.execve(args[0], args, env)  # noqa: S606 - replaces this process with the server
