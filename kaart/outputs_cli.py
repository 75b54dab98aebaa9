"""`kaart reactienota …`: the reactienota of a process as a file, without a web request.

A large process (WeasyPrint needs 10–25 s per thousand contributions on a 2-core machine) can
outlast a web worker's timeout; from the command line there is no such limit.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import click
from sqlalchemy import text

from kaart import cli_settings
from kaart.errors import ApiError


@click.command("reactienota")
@click.argument("process")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write it: a .pdf or an .html file.",
)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
def reactienota(process: str, output: Path, lang: str) -> None:
    """Write the reactienota of PROCESS (its slug or id) as PDF or HTML."""
    if output.suffix.lower() not in (".pdf", ".html"):
        raise click.BadParameter("the file must end in .pdf or .html", param_hint="--output")
    settings = cli_settings.from_env()
    from kaart import create_app
    from kaart.db import get_session
    from kaart.services import reactienota as service
    from kaart.views.beheer.exports import render_report

    app = create_app({"settings": settings})
    try:
        # A request context gives the templates their language and the url helpers a host.
        with app.test_request_context(f"/?lang={lang}"):
            process_id = _process_id(get_session(), process)
            html, report = render_report(process_id)
            if output.suffix.lower() == ".pdf":
                output.write_bytes(service.pdf(html))
            else:
                output.write_text(html, encoding="utf-8")
    except ApiError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        app.extensions["kaart.db"]["engine"].dispose()
    click.echo(
        f"reactienota: {report.process.title}, {report.total} contributions -> {output}", err=True
    )


def _process_id(session, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    found = session.execute(text("SELECT id FROM process WHERE slug = :slug"), {"slug": value})
    ident = found.scalar_one_or_none()
    if ident is None:
        raise click.ClickException(f"there is no process {value!r} (give its slug or id)")
    return ident


@click.group("photos")
def photos() -> None:
    """Photos of contributions on disk (KAART_UPLOAD_DIR)."""


@photos.command("prune")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option(
    "--min-age",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Leave files younger than this many minutes (uploads in progress).",
)
def photos_prune(dry_run: bool, min_age: int) -> None:
    """Remove files in KAART_UPLOAD_DIR that belong to no photo in the database."""
    from sqlalchemy.orm import Session

    from kaart.db import make_engine
    from kaart.services import photos as service

    settings = cli_settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with Session(bind=engine) as session:
            found = service.orphans(session, settings.upload_dir, min_age * 60)
    finally:
        engine.dispose()
    for path in found:
        click.echo(str(path))
        if not dry_run:
            path.unlink(missing_ok=True)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"photos: {verb} {len(found)} file(s) without a photo row", err=True)
