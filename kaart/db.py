"""Engine per app, one session per request (on `g`), closed at teardown; the one owner of
transactions.

    with transaction() as session:      # the edge of a request or command that writes
        service.create(session, data)   # services never commit
    # committed here, or rolled back if anything above raised

A lost or refused database connection is `Unavailable` (503 with Retry-After), never a 500; see
`is_connection_error`.

With KAART_DATABASE_READ_URL, `get_read_session()` reads from a streaming replica
(kaart/replica.py); everything else, writes included, goes to the primary. Vector tiles read
through `prepared_row()`, which reads where get_read_session() does, with less in between.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import Flask, current_app, g, stream_with_context
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.orm import Session

EXTENSION_KEY = "kaart.db"
log = logging.getLogger(__name__)
_DRIVER_DIALECT = psycopg_dialect()  # how prepared_row() writes placeholders for psycopg


def init_app(app: Flask, bind: Connection | None = None) -> None:
    """Bind the app to its database. Tests pass an open connection to roll back afterwards."""
    settings = app.config["KAART"]
    engine: Engine | None = None
    replica: Any = None  # kaart.replica.Replica
    if bind is None:
        engine = make_engine(settings.database_url, options=SERVING_OPTIONS)
        if settings.database_read_url:
            from kaart import replica as replicas  # it builds on this module

            replica = replicas.Replica(settings.database_read_url)
            app.after_request(replicas.remember_write)
    app.extensions[EXTENSION_KEY] = {"engine": engine, "bind": bind, "replica": replica}
    app.teardown_appcontext(_close_session)


# A pooled connection unused for longer than this is pinged before a request gets it.
IDLE_PING_SECONDS = 1.0


# What the serving workers' connections run with. Their queries read a page in key order or a
# handful of rows: starting parallel workers costs more than they save (bench/: a list page at
# 100,000 contributions 13.5 ms with them, 1.6 ms without; an OGC page of 1,000 of 300,000
# panden 130-300 ms against 30 ms). The CLI's bulk work keeps PostgreSQL's default.
SERVING_OPTIONS = "-c max_parallel_workers_per_gather=0"


def make_engine(url: str, options: str | None = None, **kwargs: Any) -> Engine:
    # No server-side prepared statements: after five runs psycopg would prepare a query, and the
    # generic plan PostgreSQL then picks for bbox searches is several times slower (bench/).
    # A short connect timeout: when the database is down, answer 503 quickly instead of hanging.
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=5,
        connect_args={
            "prepare_threshold": None,
            "connect_timeout": 3,
            **({"options": options} if options else {}),
        },
        **kwargs,
    )
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    event.listen(engine, "connect", _mark_used)  # a new connection needs no ping
    event.listen(engine, "checkin", _mark_used)
    return engine


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle (the server may have restarted meanwhile); a dead one is
    replaced by the pool. A busy worker's connections are not pinged: `pool_pre_ping` made a
    quarter of a small tile request's time (bench/). A connection that dies while busy fails
    its request with 503, and SQLAlchemy then renews the whole pool."""
    if time.monotonic() - record.info.get("used_at", 0.0) <= IDLE_PING_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)  # in autocommit, so it leaves no transaction open
    except psycopg.Error as error:
        raise exc.DisconnectionError(f"idle connection lost: {error}") from error


def _mark_used(_dbapi_connection: Any, record: Any) -> None:
    record.info["used_at"] = time.monotonic()


def get_session() -> Session:
    """The request's session; created on first use."""
    if "db_session" not in g:
        g.db_session = _new_session()
    return g.db_session


def _new_session() -> Session:
    ext = current_app.extensions[EXTENSION_KEY]
    if ext["bind"] is not None:
        # Commits inside the app become savepoints of the test's outer transaction.
        return Session(bind=ext["bind"], join_transaction_mode="create_savepoint")
    return Session(bind=ext["engine"])


def streamed(produce: Callable[[Session], Iterator[bytes]]) -> Iterator[bytes]:
    """A response body written after the view has returned (a download), on a session of its
    own that is closed with the last piece, or when the client goes away.

    Flask tears the request down when the view returns, before the body is sent: a body that
    read through the request's session would reopen it after the teardown, and nothing would
    close it again. Its transaction would stay open, holding its locks, until the garbage
    collector found the session (that stalled a TRUNCATE in the suite for an hour)."""
    session = _new_session()

    def pieces() -> Iterator[bytes]:
        try:
            yield from produce(session)
        finally:
            _close(session)

    return stream_with_context(pieces())


def get_read_session() -> Session:
    """A session for a request that only reads public data (a tile, a page of features, a
    search): autocommit, so no BEGIN and ROLLBACK round trips around its one query.

    With a read replica it reads from the replica, which may lag a moment behind the primary:
    what a client must see right after its own write (the page a 201's Location names) reads
    through get_session(). A browser that has just written reads from the primary until the
    replica has replayed its write (kaart/replica.py). Under a test's connection: get_session().
    """
    ext = current_app.extensions[EXTENSION_KEY]
    if ext["bind"] is not None:
        return get_session()
    if "db_read_session" not in g:
        replica = ext["replica"]
        session = replica.session_for_request() if replica is not None else None
        g.db_read_session = session or Session(bind=autocommit_engine(ext))
    return g.db_read_session


def autocommit_engine(ext: dict[str, Any]) -> Engine:
    """The primary's engine, in autocommit (same pool)."""
    if "read_engine" not in ext:
        ext["read_engine"] = ext["engine"].execution_options(isolation_level="AUTOCOMMIT")
    return ext["read_engine"]


def prepared_row(statement: str, params: Mapping[str, object]) -> tuple[Any, ...]:
    """The one row of a public read's statement (SQLAlchemy's `:name` placeholders), run as a
    server-side prepared statement: for statements whose plan does not depend on their values,
    run with the same text many times, such as a vector tile's (parsing and planning it took
    about 1 ms of a dense z16 tile, bench/tiles.py: 10.7 -> 9.7 ms). Preparing stays off for
    everything else (see make_engine).

    It reads where get_read_session() reads. A request that has no session yet, on a primary
    without a replica (a tile of an open layer whose catalogue row the worker holds), gets a
    pooled connection of its own in autocommit, without a Session around it and with the row
    in binary: the Session, its transaction bookkeeping and the result objects took ~0.2 ms of
    a ~6 ms z16 tile, and the hex text form of the tile doubles the bytes PostgreSQL encodes
    and psycopg decodes (~1 ms of a 280 KiB z14 tile, bench/tiles.py). With a replica, under a
    test's connection, or after the request has read through its session, the statement runs
    on that session's connection, with SQLAlchemy's events and error handling."""
    engine = own_connection_engine(current_app)
    if engine is not None and "db_read_session" not in g:
        return _row_on_own_connection(engine, driver_sql(statement), params)
    return prepared_row_on(get_read_session(), statement, params)


def own_connection_engine(app: Flask) -> Engine | None:
    """The engine public reads may take a connection of their own from: the primary's, when
    neither a test's connection nor a read replica is where they must read."""
    ext = app.extensions[EXTENSION_KEY]
    return ext["engine"] if ext["bind"] is None and ext["replica"] is None else None


def prepared_row_on(
    session: Session, statement: str, params: Mapping[str, object]
) -> tuple[Any, ...]:
    """prepared_row() on `session`'s connection (work outside a request: the tile archives)."""
    connection = session.connection()
    with _prepared(connection.connection.driver_connection):
        return tuple(connection.exec_driver_sql(driver_sql(statement), dict(params)).one())


@functools.lru_cache(maxsize=256)
def driver_sql(statement: str) -> str:
    """A statement with `:name` placeholders as psycopg takes it (`%(name)s`, `%` escaped),
    worked out once per text rather than on every execution."""
    return str(text(statement).compile(dialect=_DRIVER_DIALECT))


@contextmanager
def _prepared(driver: psycopg.Connection) -> Iterator[None]:
    before = driver.prepare_threshold
    driver.prepare_threshold = 0  # prepare at the first execution, reuse after
    try:
        yield
    finally:
        driver.prepare_threshold = before


def _row_on_own_connection(
    engine: Engine, statement: str, params: Mapping[str, object]
) -> tuple[Any, ...]:
    """prepared_row() on the request's own pooled connection (checked out, pinged when idle,
    on first use; given back at teardown)."""
    pooled = g.get("db_read_connection")
    if pooled is None:
        pooled = g.db_read_connection = _check_out(engine)
    return _row_on(engine, pooled, statement, params)


@contextmanager
def own_read_connection(engine: Engine) -> Iterator[Callable[..., tuple[Any, ...]]]:
    """prepared_row() for a read answered outside Flask's request handling (the tiles of
    kaart/views/tiles_direct.py): a pooled connection checked out at the first statement (a
    tile outside the layer's zoom range needs none) and given back after the block. Yields
    `read_row(statement, params)`; statements with `:name` placeholders."""
    held: list[Any] = []

    def read_row(statement: str, params: Mapping[str, object]) -> tuple[Any, ...]:
        if not held:
            held.append(_check_out(engine))
        return _row_on(engine, held[0], driver_sql(statement), params)

    try:
        yield read_row
    finally:
        if held:
            _give_back(held[0])


def _check_out(engine: Engine) -> Any:
    """A pooled connection in autocommit: no BEGIN and ROLLBACK round trips."""
    pooled = engine.raw_connection()
    try:
        pooled.driver_connection.autocommit = True
    except psycopg.Error as error:
        failed = _as_sqlalchemy_error(engine, pooled, "SET autocommit", {}, error)
        _give_back(pooled)
        raise failed from error
    return pooled


def _row_on(
    engine: Engine, pooled: Any, statement: str, params: Mapping[str, object]
) -> tuple[Any, ...]:
    """The one row of `statement` on a checked-out connection, prepared, in binary. psycopg's
    errors become SQLAlchemy's, as the Session would raise them: a lost connection is dropped
    from the pool and answered 503."""
    driver = pooled.driver_connection
    try:
        with _prepared(driver):
            row = driver.execute(statement, params, binary=True).fetchone()
    except psycopg.Error as error:
        raise _as_sqlalchemy_error(engine, pooled, statement, params, error) from error
    if row is None:
        raise exc.NoResultFound("No row was found when one was required")
    return tuple(row)


def _as_sqlalchemy_error(
    engine: Engine, pooled: Any, statement: str, params: Mapping[str, object], error: Exception
) -> exc.DBAPIError:
    lost = engine.dialect.is_disconnect(error, pooled.driver_connection, None)
    if lost:
        pooled.invalidate(error)
    return exc.DBAPIError.instance(
        statement, dict(params), error, psycopg.Error, connection_invalidated=lost
    )


@contextmanager
def transaction(session: Session | None = None) -> Iterator[Session]:
    """Everything inside is one transaction: committed at the end, rolled back on any error.
    The only place that commits (outside the CLI's bulk loaders, which own their connections)."""
    session = session if session is not None else get_session()
    try:
        yield session
    except BaseException:
        _rollback(session)
        raise
    session.commit()


@contextmanager
def checkpointed(engine: Engine) -> Iterator[tuple[Connection, Callable[[], None]]]:
    """A connection for a long bulk job that commits as it goes: `checkpoint()` commits what
    was done so far, the end commits the rest; an error or Ctrl-C rolls back only what came
    after the last checkpoint (`kaart solar compute` resumes from there)."""
    with engine.connect() as conn:
        yield conn, conn.commit
        conn.commit()


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except exc.DBAPIError as error:
        # The connection is gone (that is usually why we are rolling back); the server rolls
        # back what it had. The error that brought us here is the one to report.
        if not is_connection_error(error):
            raise
        log.warning("rollback on a lost connection: %s", type(error.orig).__name__)


def is_connection_error(error: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached or used right now": a refused
    or lost connection, a server shutting down or starting, an exhausted pool."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):
        return True
    if isinstance(error, exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        )
    return False


def _close_session(_exc: BaseException | None) -> None:
    for key in ("db_session", "db_read_session"):
        session = g.pop(key, None)
        if session is not None:
            _close(session)
    pooled = g.pop("db_read_connection", None)
    if pooled is not None:
        _give_back(pooled)


def _give_back(pooled: Any) -> None:
    """Return prepared_row()'s own connection to the pool as the pool's other users expect it
    (not in autocommit); a broken one is dropped instead."""
    try:
        if pooled.is_valid:
            pooled.driver_connection.autocommit = False
    except psycopg.Error as error:
        log.warning("giving back a lost read connection: %s", type(error).__name__)
        pooled.invalidate(error)
    pooled.close()


def _close(session: Session) -> None:
    # Teardown must never raise into the server (gunicorn would answer with its own bare page).
    try:
        session.close()
    except exc.SQLAlchemyError as error:
        # The response is already made; log, and drop the connection instead of pooling it.
        if is_connection_error(error):
            log.warning("closing a session on a lost connection: %s", type(error).__name__)
        else:
            log.exception("closing the request's database session failed")
        session.invalidate()
