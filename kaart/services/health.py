"""Is the database reachable, and does PostGIS answer? For /healthz and monitoring."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kaart.db import is_connection_error


def report(session: Session) -> tuple[dict[str, Any], bool]:
    """What answers and what does not; True when everything does. A connection lost between the
    two questions (a restart) is the database being unreachable, not PostGIS missing."""
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
    return {"status": "ok", "database": database, "postgis": postgis}, True


def _down(exc: Exception, **parts: str) -> dict[str, Any]:
    return {"status": "unavailable", **parts, "error": type(exc.__cause__ or exc).__name__}
