"""The version of what an answer is built from, read without reading the data itself: the change
counters that migration 0016's triggers keep per table (kaart/models/change.py).

    version = versions.current(session, contributions.READS)   # before the page query
    tag = versions.etag(version, request.full_path)

Why a tag made this way is never stale: every committed write to a counted table moves its
counter in the same transaction. A version read *before* the data can therefore only be as new
as that data or older, never newer: at worst an answer carries an older tag than it deserves
and is sent once more on the next revalidation; it is never kept under a tag that claims a
change it does not show. So: read the version first, on the same session as the data (on a
replica, its counters come with its rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

# Bump when an answer's shape changes while its data does not (a new property in a Feature),
# so that clients do not keep answers of the old shape.
FORMAT = "1"

_COUNTERS = text("SELECT name, version, changed_at FROM change_counter WHERE name = ANY(:names)")


def current(session: Session, tables: Sequence[str]) -> str:
    """The counters of `tables` as one text; a table not changed since migration 0016 is 0."""
    found = {
        row.name: f"{row.version}@{row.changed_at.isoformat()}"
        for row in session.execute(_COUNTERS, {"names": list(tables)})
    }
    return ";".join(f"{name}={found.get(name, '0')}" for name in tables)


def etag(*parts: object) -> str:
    """A validator (32 hex digits) from everything an answer depends on."""
    key = "|".join(str(part) for part in (FORMAT, *parts))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
