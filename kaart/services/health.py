"""Is the database reachable, does PostGIS answer, and how is the read replica? For /healthz
and monitoring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kaart.db import is_connection_error
from kaart.replica import REPLAYED

if TYPE_CHECKING:
    from kaart.replica import Replica


def report(session: Session, replica: Replica | None = None) -> tuple[dict[str, Any], bool]:
    """What answers and what does not; True when the primary and PostGIS do. A connection lost
    between the two questions (a restart) is the database being unreachable, not PostGIS missing.
    With a read replica, its state too; a replica that is down leaves the app working (the
    primary answers public reads), so it is reported but does not make the answer a 503."""
    try:
        database = session.execute(text("SELECT version()")).scalar_one().split(",")[0]
    except SQLAlchemyError as exc:
        session.rollback()
        return _down(exc, database="unreachable"), False
    try:
        postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except SQLAlchemyError as exc:
        session.rollback()
        if is_connection_error(exc):
            return _down(exc, database="unreachable"), False
        return _down(exc, database=database, postgis="missing"), False
    found = {"status": "ok", "database": database, "postgis": postgis}
    if replica is not None:
        try:
            position = int(session.execute(REPLAYED).scalar_one())
        except SQLAlchemyError as exc:
            session.rollback()
            return _down(exc, database="unreachable"), False
        found["replica"] = replica.status(position)
    return found, True


def _down(exc: Exception, **parts: str) -> dict[str, Any]:
    return {"status": "unavailable", **parts, "error": type(exc.__cause__ or exc).__name__}
