"""Values as the database and JSON take them: plain Python (no numpy, NaN or pandas NA), and
BAG identifiers as their 16 digits whatever a source made of them."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np

# Python types whose values are plain already (bool is an int; float is checked for NaN).
_PLAIN = {str, int, bool, type(None)}

# -- Plain values -------------------------------------------------------------------------------


def plain_values(values: list | np.ndarray) -> list:
    """A column as plain Python values that json.dumps and COPY take (no numpy, no NaN).

    The common columns (all text, all integers, numbers with gaps) cost one pass in C over
    their types; only columns holding something else go value by value."""
    if isinstance(values, np.ndarray):
        values = values.tolist()  # numpy scalars become Python ones
    kinds = set(map(type, values))
    if kinds <= _PLAIN:
        return values
    if kinds <= _PLAIN | {float}:
        return [v if type(v) is not float or math.isfinite(v) else None for v in values]
    return [plain_value(v) for v in values]


def plain_value(value: Any) -> Any:
    """One value as plain, JSON-safe Python: NaN/NaT/NA become None, times ISO 8601 text."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.generic):  # before int/float: np.float64 is a float subclass
        return plain_value(value.item())
    if isinstance(value, int | float):
        return value if not isinstance(value, float) or math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain_value(v) for v in value]
    if _is_missing(value):  # NaN-like: pandas' NaT and NA, a Decimal NaN
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):  # a pandas Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)
    except TypeError:  # pandas' NA compares as NA, which is neither true nor false
        return True


# -- BAG identifiers ----------------------------------------------------------------------------


def bag_id(value: Any) -> str | None:
    """A BAG object id as its 16 digits.

    Sources drop the leading zero of municipality codes below 1000 (Delft's 0503 becomes
    503100000000296, BGT's identificatiebagpnd is often an integer) or wrap the id in a URI-like
    name (3DBAG: NL.IMBAG.Pand.0503100000012869). Anything else is returned as given.
    """
    if isinstance(value, str) and len(value) == 16 and value.isdigit():
        return value  # the common case, kept fast for national files
    value = plain_value(value)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().rsplit(".", 1)[-1]
    if text.isdigit() and len(text) <= 16:
        return text.zfill(16)
    return str(value).strip()


def bag_ids(values: list[Any]) -> list[str | None]:
    """bag_id() of each value; a column that is already all 16-digit text is returned as is."""
    if all(type(v) is str and len(v) == 16 and v.isdigit() for v in values):
        return values
    return [bag_id(v) for v in values]


def bag_id_list(value: Any) -> list[str]:
    """Several BAG ids in one field ("0457100000054466,0457100000054467" or a list)."""
    value = plain_value(value)
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace(";", ",").split(",")
    return [i for i in (bag_id(item) for item in items) if i]
