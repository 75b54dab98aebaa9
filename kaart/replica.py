"""The read replica (KAART_DATABASE_READ_URL): public reads from a streaming replica, a
browser's reads right after its own write from the primary, and the primary's turn while the
replica cannot be reached. kaart/db.py's `get_read_session()` is the one caller."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Response, current_app, g, has_request_context, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection, exc, text
from sqlalchemy.orm import Session

from kaart.db import (
    EXTENSION_KEY,
    SERVING_OPTIONS,
    _close,
    autocommit_engine,
    is_connection_error,
    make_engine,
)

log = logging.getLogger("kaart.db")  # the database's log, as the operators know it

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

    def status(self, primary_position: int) -> dict[str, Any]:
        """For /healthz: "ok" with the bytes of WAL it has still to replay, or "unreachable"
        (public reads then go to the primary). A replica left alone after a failure is not
        asked until its wait is over: a monitor's polling does not hammer a dead one."""
        session = self.session(None)
        if session is None:
            return {"status": "unreachable"}
        try:
            replayed = int(session.execute(REPLAYED).scalar_one())
        except exc.SQLAlchemyError as error:
            if not is_connection_error(error):
                raise
            self._failed(error)
            return {"status": "unreachable"}
        finally:
            _close(session)
        return {"status": "ok", "behind_bytes": max(primary_position - replayed, 0)}

    def session_for_request(self) -> Session | None:
        """A replica session for this request, or None when the primary must answer."""
        return self.session(_written_position())

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


def remember_write(response: Response) -> Response:
    """After a successful write, the primary's WAL position in the browser's `kaart_wrote`
    cookie: its own reads then see what it just did, whichever worker or server answers them.
    Residents have no account, so a cookie is all there is to follow."""
    if request.method in SAFE_METHODS or response.status_code >= 400 or "db_session" not in g:
        return response
    try:
        # After the commit, so the position includes the write's commit record.
        with autocommit_engine(current_app.extensions[EXTENSION_KEY]).connect() as conn:
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
