"""`kaart tiles build LAYER`: a layer's PMTiles archive in KAART_TILES_DIR (kaart/archives/)."""

from __future__ import annotations

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kaart import cli_settings
from kaart.config import Settings
from kaart.db import make_engine
from kaart.errors import ApiError


@click.group()
def tiles() -> None:
    """Prebuilt tiles: PMTiles archives of the open layers, served from KAART_TILES_DIR."""


@tiles.command("build")
@click.argument("layer")
@click.option("--minzoom", type=int, help="Shallowest zoom [default: the layer's own].")
@click.option("--maxzoom", type=int, help="Deepest zoom [default: the layer's own, at most 16].")
@click.option("--workers", type=int, help="Tiles rendered at once [default: 2 per core].")
@click.option("--force", is_flag=True, help="Build even when the archive is current.")
def build_command(
    layer: str, minzoom: int | None, maxzoom: int | None, workers: int | None, force: bool
) -> None:
    """Build LAYER's archive from the live tile SQL; swapped in when complete."""
    settings = cli_settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        build_archive(
            engine, settings, layer, zooms=(minzoom, maxzoom), workers=workers, force=force
        )
    finally:
        engine.dispose()


def build_archive(engine: Engine, settings: Settings, name: str, **options) -> None:
    """Build (or keep, when current) the archive of `name`, with progress on stderr; also run
    after `kaart layers load` and by `kaart demo load`."""
    from kaart.archives.build import BuildError, build
    from kaart.archives.store import BuildBusy

    readers = engine.execution_options(isolation_level="AUTOCOMMIT")  # no BEGIN per tile
    try:
        report = build(
            lambda: Session(readers),
            name,
            settings.tiles_dir,
            progress=lambda m: click.echo(m, err=True),
            **options,
        )
    except (BuildError, BuildBusy, ApiError) as exc:
        raise click.ClickException(f"tiles: {exc}") from exc
    except KeyboardInterrupt:
        raise click.ClickException(
            f"{name}: interrupted; the previous archive is still served"
        ) from None
    click.echo(report.summary(), err=True)
