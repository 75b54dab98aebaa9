"""`kaart users …`: staff accounts from the command line (the first admin starts here). Every
change is written to the audit log with the actor "cli", in the same transaction."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from kaart import cli_settings
from kaart.auth import ROLES
from kaart.db import make_engine, transaction
from kaart.errors import ApiError
from kaart.services import audit
from kaart.services import users as service


@contextmanager
def _session() -> Iterator[Session]:
    settings = cli_settings.from_env()
    service.set_hash_cost(settings.password_hash_time_cost, settings.password_hash_memory_kib)
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
            with transaction(session):
                new_id = service.create(session, email, password, list(roles), display_name)
                details = service.created_details(new_id, email, list(roles))
                audit.record(
                    session, "user.created", actor=audit.CLI, address=None, details=details
                )
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
    with _session() as session, transaction(session):
        user_id = service.find_by_email(session, email)
        if user_id is None:
            raise click.ClickException(f"no account {email}")
        changes = service.update(session, user_id, roles=list(roles))
        for action, details in changes:
            audit.record(session, action, actor=audit.CLI, address=None, details=details)
    click.echo(f"user {email}: roles {', '.join(sorted(roles)) or '(none)'}")


@users.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Clear an account's failed logins (from every address), as an admin can in /beheer."""
    with _session() as session, transaction(session):
        user_id = service.find_by_email(session, email)
        if user_id is None:
            raise click.ClickException(f"no account {email}")
        details = service.unlock(session, user_id)
        audit.record(session, "user.unlocked", actor=audit.CLI, address=None, details=details)
    click.echo(
        f"user {email}: {details['failures']} failed logins from "
        f"{details['addresses']} addresses cleared"
    )
