"""Alembic environment: the database URL comes from KAART_DATABASE_URL (or the caller)."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from kaart.models import metadata
from kaart.models.base import alembic_options

config = context.config

# Every replica runs `kaart db upgrade` when it starts. Replicas that start together would both
# find a new database and both create the same tables (one fails); with this PostgreSQL advisory
# lock one migrates while the others wait, and then they find the schema at head. A fixed key,
# the same for every copy of the app ("wijkkaar" in ASCII).
MIGRATION_LOCK = 0x77696A6B6B616172


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # the caller's connection: its transaction, its locking
        _run(connection)
        return
    # NullPool: closing the connection ends the session, which releases the lock on any error.
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        # A session lock outlives this commit; the migrations then get their own transactions.
        conn.commit()
        _run(conn)
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        conn.commit()
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
