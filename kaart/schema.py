"""The database schema: Alembic migrations, and fresh databases for tests and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import create_engine, make_url, text

from kaart import ROOT

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> Config:
    from alembic.config import (
        Config,
    )  # imported when needed: commands that never migrate start faster

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def fresh_database(base_url: str, suffix: str) -> str:
    """Drop and create `<database>_<suffix>` beside `base_url`, migrate it, return its URL."""
    url = make_url(base_url)
    target = url.set(database=f"{url.database}_{suffix}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    rendered = target.render_as_string(hide_password=False)
    upgrade(rendered)
    return rendered
