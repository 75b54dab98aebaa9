"""`kaart privacy …`: residents' privacy from the command line.

    kaart privacy refresh                           # where the public sees each contribution
    kaart privacy purge [--dry-run]                 # daily: remove what is past its retention
    kaart privacy find EMAIL|PHONE|ID               # what is held about a person or contribution
    kaart privacy export EMAIL|PHONE|ID -o FILE.zip
    kaart privacy erase EMAIL|PHONE|ID [--keep-on-map] [--yes]
    kaart privacy register [--lang en] [--defaults] # the processing register (README)

Every command but `register` and a dry run writes one audit entry (actor "cli"), in the same
transaction as what it did. Photo files are removed only after that transaction committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kaart import cli_settings
from kaart.config import Settings
from kaart.db import make_engine, transaction
from kaart.errors import ApiError
from kaart.services import audit, photos, retention, rights, statement
from kaart.services import privacy as service

LANGS = click.Choice(["nl", "en"])


def _settings() -> Settings:
    return cli_settings.from_env()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        with Session(bind=engine) as session:
            yield session
    finally:
        engine.dispose()


def _subject(query: str) -> rights.Subject:
    try:
        return rights.parse_subject(query)
    except ApiError as exc:
        raise click.BadParameter(exc.detail, param_hint="QUERY") from exc


def _record(session: Session, action: str, details: dict) -> None:
    audit.record(session, action, actor=audit.CLI, address=None, details=details)


@click.group("privacy")
def privacy() -> None:
    """Residents' privacy: where the public sees a contribution (location privacy), and the
    retention, access and erasure of personal data (AVG/GDPR)."""


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


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")
def purge(dry_run: bool) -> None:
    """Remove each kind of personal data that is past its retention (run it daily)."""
    settings = _settings()
    with _session(settings) as session:
        if dry_run:  # the same statements, rolled back: the counts are the real ones
            report = retention.purge(session, settings)
            session.rollback()
        else:
            with transaction(session):
                report = retention.purge(session, settings)
                _record(session, "privacy.purged", retention.audit_details(report, settings))
    if not dry_run:
        photos.discard(tuple(report.files))
    click.echo(f"privacy purge: {'dry run, nothing removed' if dry_run else 'done'}")
    for kind in retention.KINDS:
        if kind.name in report.removed:
            counts = ", ".join(f"{what} {n}" for what, n in report.removed[kind.name].items())
            verb = "would remove" if dry_run else "removed"
            age = f"{kind.age(settings)} {kind.unit}"
            click.echo(f"  {kind.name} (older than {age}): {verb} {counts}")


@privacy.command("find")
@click.argument("query")
def find(query: str) -> None:
    """List everything held about QUERY: an e-mail address or phone number given with an
    Open311 request, or a contribution id."""
    subject = _subject(query)
    settings = _settings()
    with _session(settings) as session, transaction(session):
        held = rights.find(session, subject, settings)
        _record(session, "privacy.found", rights.audit_details(subject, held.ids))
    click.echo(f"{subject.value} ({subject.kind}): {len(held.contributions)} contribution(s)")
    for item in held.contributions:
        _echo_contribution(item)


def _echo_contribution(item: rights.HeldContribution) -> None:
    r = item.record
    state = r["status"] + (", text removed" if r["redacted_at"] else "")
    click.echo(f"  {r['id']}  {r['category']}  {state}  {r['created_at'][:10]}  {r['title']!r}")
    if r["description"]:
        click.echo(f"    description: {r['description']!r}")
    if item.request:
        held = ", ".join(f"{k} {v}" for k, v in item.request.items() if v) or "none left"
        click.echo(f"    Open311 request: {held}")
    click.echo(
        f"    photos: {len(item.photos)}, history events: {len(item.history)}, "
        f"comments by others: {item.comments_by_others}"
    )


@privacy.command("export")
@click.argument("query")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The ZIP file to write (data.json and the photos).",
)
@click.option("--lang", type=LANGS, default="nl", show_default=True, help="Of the register.")
def export(query: str, output: Path, lang: str) -> None:
    """Write everything held about QUERY as a ZIP: data.json plus the photo files."""
    if output.suffix.lower() != ".zip":
        raise click.BadParameter("the file must end in .zip", param_hint="--output")
    subject = _subject(query)
    settings = _settings()
    with _session(settings) as session, transaction(session):
        held = rights.find(session, subject, settings, lang)
        _record(session, "privacy.exported", rights.audit_details(subject, held.ids))
        try:
            with output.open("wb") as out:
                rights.write_zip(held, settings.upload_dir, out)
        except BaseException:
            output.unlink(missing_ok=True)  # no half file, and no audit entry either
            raise
    click.echo(f"{subject.value}: {len(held.contributions)} contribution(s) -> {output}")


@privacy.command("erase")
@click.argument("query")
@click.option(
    "--keep-on-map",
    is_flag=True,
    help="Contributions stay on the map without text and photos (default: withdrawn).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(query: str, keep_on_map: bool, yes: bool) -> None:
    """Remove the personal data of QUERY: contact details, text and photos of the
    contributions, which are withdrawn unless --keep-on-map."""
    subject = _subject(query)
    settings = _settings()
    what = "stay on the map without text" if keep_on_map else "are withdrawn"
    if not yes:
        click.confirm(
            f"Erase what is held about {subject.value}? Its contributions {what}.", abort=True
        )
    with _session(settings) as session, transaction(session):
        # No staff member: the history's withdrawal event names nobody, the audit entry "cli".
        erased = rights.erase(session, subject, None, settings.upload_dir, keep_on_map=keep_on_map)
        details = rights.audit_details(
            subject, erased.ids, keep_on_map=keep_on_map, **erased.redacted.counts()
        )
        _record(session, "privacy.erased", details)
    photos.discard(tuple(erased.redacted.files))
    counts = erased.redacted.counts()
    removed = ", ".join(f"{name} {n}" for name, n in counts.items() if name != "contributions")
    click.echo(
        f"{subject.value}: {len(erased.ids)} contribution(s) erased "
        f"({erased.withdrawn} withdrawn); removed {removed}"
    )


@privacy.command("register")
@click.option("--lang", type=LANGS, default="en", show_default=True)
@click.option("--defaults", is_flag=True, help="With the default ages, as the README shows.")
def register(lang: str, defaults: bool) -> None:
    """Print the processing register (verwerkingsregister) as a Markdown table."""
    settings = Settings(database_url="") if defaults else _settings()
    click.echo(statement.register_markdown(settings, lang), nl=False)
