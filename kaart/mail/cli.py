"""`kaart mail …`: the worker that sends the outbox, and what an admin needs around it."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.orm import Session

from kaart import cli_settings
from kaart.config import Settings


@click.group()
def mail() -> None:
    """E-mail: send the outbox (`work`), see it (`status`), retry dead messages (`retry`)."""


@contextmanager
def _app() -> Iterator[tuple[Flask, Settings]]:
    settings = cli_settings.from_env()
    from kaart import create_app

    app = create_app({"settings": settings})
    try:
        with app.app_context():  # templates and links for the messages it writes
            yield app, settings
    finally:
        app.extensions["kaart.db"]["engine"].dispose()


def _sessions(app: Flask):
    engine = app.extensions["kaart.db"]["engine"]
    return lambda: Session(engine)


@mail.command("work")
@click.option("--once", is_flag=True, help="One round, then stop (for cron and tests).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between rounds.")
def work(once: bool, interval: float) -> None:
    """Write the digests, notices and questions that are due, and send every due message."""
    from kaart.mail import worker

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with _app() as (app, settings):
        if not settings.smtp_url:
            click.echo("mail: KAART_SMTP_URL is not set; messages stay in the outbox", err=True)
        new_session = _sessions(app)
        while True:
            done = worker.run_once(new_session, settings)
            if once or done.written or done.sent or done.retry or done.dead:
                click.echo(
                    f"mail: {done.written} written, {done.sent} sent, "
                    f"{done.retry} to retry, {done.dead} dead",
                    err=True,
                )
            if once or stopping:
                return
            _sleep(interval, stopping)


def _sleep(seconds: float, stopping: list) -> None:
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(0.5, end - time.monotonic()))


@mail.command("status")
def status() -> None:
    """How many messages are pending, sent and dead; the dead ones with their error."""
    from kaart.mail import worker

    with _app() as (app, _settings), _sessions(app)() as session:
        counts = worker.state(session)
        click.echo(", ".join(f"{name}: {n}" for name, n in counts.items()))
        for row in worker.dead_letters(session):
            click.echo(f"dead #{row.id} {row.kind} after {row.attempts} attempts: {row.last_error}")


@mail.command("retry")
@click.argument("message_id", type=int, required=False)
def retry(message_id: int | None) -> None:
    """Send dead messages again: MESSAGE_ID, or all of them."""
    from kaart.db import transaction
    from kaart.mail import worker

    with _app() as (app, _settings), _sessions(app)() as session, transaction(session):
        count = worker.retry(session, message_id)
    click.echo(f"mail: {count} message(s) will be sent again", err=True)
