"""Engine per app, one session per request (on `g`), closed at teardown."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

EXTENSION_KEY = "kaart.db"


def init_app(app: Flask, bind: Connection | None = None) -> None:
    """Bind the app to its database. Tests pass an open connection to roll back afterwards."""
    engine: Engine | None = None
    if bind is None:
        engine = make_engine(app.config["KAART"].database_url)
    app.extensions[EXTENSION_KEY] = {"engine": engine, "bind": bind}
    app.teardown_appcontext(_close_session)


def make_engine(url: str, **kwargs: Any) -> Engine:
    # No server-side prepared statements: after five runs psycopg would prepare a query, and the
    # generic plan PostgreSQL then picks for bbox searches is several times slower (bench/).
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"prepare_threshold": None},
        **kwargs,
    )


def get_session() -> Session:
    """The request's session; created on first use."""
    if "db_session" not in g:
        ext = current_app.extensions[EXTENSION_KEY]
        if ext["bind"] is not None:
            # Commits inside the app become savepoints of the test's outer transaction.
            g.db_session = Session(bind=ext["bind"], join_transaction_mode="create_savepoint")
        else:
            g.db_session = Session(bind=ext["engine"])
    return g.db_session


def get_read_session() -> Session:
    """A session for a request that only reads (a vector tile): autocommit, so no BEGIN and
    ROLLBACK round trips around its one query. Under a test's connection: get_session()."""
    ext = current_app.extensions[EXTENSION_KEY]
    if ext["bind"] is not None:
        return get_session()
    if "db_read_session" not in g:
        if "read_engine" not in ext:
            ext["read_engine"] = ext["engine"].execution_options(isolation_level="AUTOCOMMIT")
        g.db_read_session = Session(bind=ext["read_engine"])
    return g.db_read_session


def _close_session(_exc: BaseException | None) -> None:
    for key in ("db_session", "db_read_session"):
        session = g.pop(key, None)
        if session is not None:
            session.close()
