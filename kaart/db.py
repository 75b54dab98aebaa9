"""Engine per app, one session per request (on `g`), closed at teardown; the one owner of
transactions.

    with transaction() as session:      # the edge of a request or command that writes
        service.create(session, data)   # services never commit
    # committed here, or rolled back if anything above raised

A lost or refused database connection is `Unavailable` (503 with Retry-After), never a 500; see
`is_connection_error`.

With KAART_DATABASE_READ_URL, `get_read_session()` reads from a streaming replica (see `Replica`);
everything else, writes included, goes to the primary.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import Flask, Response, current_app, g, has_request_context, request, stream_with_context
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session

EXTENSION_KEY = "kaart.db"
log = logging.getLogger(__name__)


def init_app(app: Flask, bind: Connection | None = None) -> None:
    """Bind the app to its database. Tests pass an open connection to roll back afterwards."""
    settings = app.config["KAART"]
    engine: Engine | None = None
    replica: Replica | None = None
    if bind is None:
        engine = make_engine(settings.database_url, options=SERVING_OPTIONS)
        if settings.database_read_url:
            replica = Replica(settings.database_read_url)
            app.after_request(_remember_write)
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
    replica has replayed its write (`_remember_write`). Under a test's connection: get_session().
    """
    ext = current_app.extensions[EXTENSION_KEY]
    if ext["bind"] is not None:
        return get_session()
    if "db_read_session" not in g:
        replica = ext["replica"]
        session = replica.session(_written_position()) if replica is not None else None
        g.db_read_session = session or Session(bind=_autocommit(ext))
    return g.db_read_session


def _autocommit(ext: dict[str, Any]) -> Engine:
    """The primary's engine, in autocommit (same pool)."""
    if "read_engine" not in ext:
        ext["read_engine"] = ext["engine"].execution_options(isolation_level="AUTOCOMMIT")
    return ext["read_engine"]


# -- The read replica -----------------------------------------------------------------------------

# After a failed connection the replica is left alone this long, doubling while it keeps failing
# up to the maximum: a replica that is down costs one refused connection (or one connect
# timeout) per worker per wait, and comes back into use within a wait of being up again.
REPLICA_RETRY_SECONDS = 5.0
REPLICA_RETRY_MAX_SECONDS = 60.0
# How far this server has applied the WAL, in bytes: a standby's replay position (a primary's
# own position when the read URL names a primary).
REPLAYED = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn(), '0/0') "
    "ELSE pg_current_wal_lsn() END - '0/0'"
)
WRITE_POSITION = text("SELECT pg_current_wal_insert_lsn() - '0/0'")
# A browser that wrote gets the WAL position after its write (signed, with the time) in this
# cookie; its public reads go to the primary until the replica has replayed that far, for at most
# WROTE_SECONDS: more than max_standby_streaming_delay (30 s by default), how long queries on a
# hot standby may hold replay back, so the guarantee holds for a replica that is merely busy.
WROTE_COOKIE = "kaart_wrote"
WROTE_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Replica:
    """The read replica's engine, and when it is next worth asking after it failed.

    Chosen per request at its first read: a replica that cannot be reached (refused, timed out)
    is the primary's turn, with a warning in the log. A replica that lags serves public reads
    all the same; only a browser's reads right after its own write wait for it (the primary
    answers them). A replica lost in the middle of a request fails that request with 503, as the
    primary would."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, options=SERVING_OPTIONS, isolation_level="AUTOCOMMIT")
        self.retry_at = 0.0
        self.wait = 0.0

    def session(self, written: int | None) -> Session | None:
        """A connected session on the replica that has replayed the WAL up to `written` (when
        given); None when the primary must answer."""
        if time.monotonic() < self.retry_at:
            return None
        session = Session(bind=self.engine)
        try:
            # Connect now: a replica that is down must be found out here, not in the view.
            connection = session.connection()
            caught_up = written is None or _replayed(connection, written)
        except exc.SQLAlchemyError as error:
            _close(session)
            if not is_connection_error(error):
                raise
            self._failed(error)
            return None
        if self.wait:
            log.warning("the read replica answers again; public reads go to it")
            self.wait = 0.0
        if caught_up:
            return session
        _close(session)
        return None

    def _failed(self, error: exc.SQLAlchemyError) -> None:
        self.wait = min(max(self.wait * 2, REPLICA_RETRY_SECONDS), REPLICA_RETRY_MAX_SECONDS)
        self.retry_at = time.monotonic() + self.wait
        reason = type(getattr(error, "orig", None) or error).__name__
        log.warning(
            "the read replica cannot be reached (%s): public reads go to the primary; "
            "trying the replica again in %.0f s",
            reason,
            self.wait,
        )


def _replayed(connection: Connection, written: int) -> bool:
    """Whether the server behind `connection` has replayed the WAL up to `written`. The position
    it last told is kept with the pooled connection (a server's replay only moves forward), so
    asking costs a query only until it has caught up."""
    info = connection.info
    if info.get("replayed", -1) < written:
        info["replayed"] = int(connection.execute(REPLAYED).scalar_one())
    return info["replayed"] >= written


def _wrote_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kaart-wrote")


def _written_position() -> int | None:
    """The WAL position after this browser's last write, when that was under WROTE_SECONDS ago."""
    raw = request.cookies.get(WROTE_COOKIE) if has_request_context() else None
    if not raw:
        return None
    try:
        position = _wrote_serializer().loads(raw, max_age=WROTE_SECONDS)
    except BadSignature:  # expired ones too
        return None
    return position if isinstance(position, int) else None


def _remember_write(response: Response) -> Response:
    """After a successful write, the primary's WAL position in the browser's `kaart_wrote`
    cookie: its own reads then see what it just did, whichever worker or server answers them.
    Residents have no account, so a cookie is all there is to follow."""
    if request.method in SAFE_METHODS or response.status_code >= 400 or "db_session" not in g:
        return response
    try:
        # After the commit, so the position includes the write's commit record.
        with _autocommit(current_app.extensions[EXTENSION_KEY]).connect() as conn:
            position = int(conn.execute(WRITE_POSITION).scalar_one())
    except exc.SQLAlchemyError as error:
        # The write is committed and its answer made: never turn it into an error now. Only
        # this browser's read-your-writes is lost.
        if is_connection_error(error):
            log.warning("no WAL position after a write: %s", type(error).__name__)
        else:
            log.exception("no WAL position after a write")
        return response
    response.set_cookie(
        WROTE_COOKIE,
        _wrote_serializer().dumps(position),
        max_age=WROTE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["KAART"].session_cookie_secure,
    )
    return response


def prepared_scalar(session: Session, clause: Any, params: dict[str, object]) -> object:
    """The one value of a statement run as a server-side prepared statement of this connection.
    For statements whose plan does not depend on their values, run with the same text many
    times: a tile's (parsing and planning it took about 1 ms of a dense z16 tile, bench/tiles.py:
    10.7 -> 9.7 ms). Preparing stays off for everything else (see make_engine)."""
    driver = session.connection().connection.driver_connection
    before = driver.prepare_threshold
    driver.prepare_threshold = 0  # prepare at the first execution, reuse after
    try:
        return session.execute(clause, params).scalar_one()
    finally:
        driver.prepare_threshold = before


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
