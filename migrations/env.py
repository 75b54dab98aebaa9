"""Alembic environment: the database URL comes from KAART_DATABASE_URL (or the caller)."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from kaart.models import metadata
from kaart.models.base import alembic_options

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        **alembic_options(),
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `kaart db upgrade`.")
run_migrations_online()
