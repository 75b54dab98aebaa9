"""`kaart users …`: staff accounts from the command line (the first admin starts here)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from kaart.auth import ROLES
from kaart.config import Settings
from kaart.db import make_engine
from kaart.errors import ApiError, ConfigError
from kaart.services import users as service


@contextmanager
def _session() -> Iterator[Session]:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(settings.database_url)
    try:
        with Session(bind=engine) as session:
            yield session
    finally:
        engine.dispose()


@click.group("users")
def users() -> None:
    """Staff accounts: moderators, planners, co-operatives and admins."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeatable."
)
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(email: str, roles: tuple[str, ...], display_name: str, password_stdin: bool) -> None:
    """Create an account; the password comes from a prompt (or --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            service.create(session, email, password, list(roles), display_name)
        except ApiError as exc:
            raise click.ClickException(exc.detail) from exc
    click.echo(f"user {email.strip().lower()}: created with roles {', '.join(sorted(roles))}")


@users.command("list")
def list_users() -> None:
    """Every account with its roles."""
    with _session() as session:
        for account in service.accounts(session):
            state = "active" if account.active else "inactive"
            click.echo(f"{account.email}\t{','.join(account.roles)}\t{state}")


@users.command("set-roles")
@click.argument("email")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES))
def set_roles(email: str, roles: tuple[str, ...]) -> None:
    """Replace an account's roles (none given: no roles left)."""
    with _session() as session:
        user_id = service.find_by_email(session, email)
        if user_id is None:
            raise click.ClickException(f"no account {email}")
        service.update(session, user_id, roles=list(roles))
    click.echo(f"user {email}: roles {', '.join(sorted(roles)) or '(none)'}")
