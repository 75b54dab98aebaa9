"""Typed columns for a layer's attributes, and writing frames into PostgreSQL with COPY.

Sources rarely say their column types, and readers hand over Python objects. A column's type
is taken from the first values seen and widened (bigint -> double precision -> text) when a
later batch holds something that does not fit, so a valid file never fails on a guess.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import date, datetime
from queue import Queue
from typing import Any

import numpy as np
import shapely
from psycopg import Copy, Cursor, sql
from psycopg.copy import QueuedLibpqWriter

from geodata.batch import Batch

# Rows encoded into one COPY payload at a time, and 128 KiB pieces of it held for the sending
# thread: psycopg's default queue of 1,024 pieces holds 128 MiB when the server is the slower
# side, which it is during a bulk load (bench/layers_import.py: peak RSS).
ROWS_PER_PAYLOAD = 2_000
QUEUED_PIECES = 32
RANK = {"boolean": 0, "bigint": 1, "double precision": 2, "timestamptz": 3, "text": 4}
FIXED_COLUMNS = ("feature_id", "properties", "geometry")


def kind_of(value: Any) -> str | None:
    """The column type one value needs; None for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -(2**63) <= value < 2**63 else "text"
    if isinstance(value, float):
        return "double precision" if math.isfinite(value) else "text"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return "timestamptz"
    return "text"


def wider(current: str | None, new: str | None) -> str | None:
    if current is None:
        return new
    if new is None or current == new:
        return current
    if {current, new} <= {"bigint", "double precision"}:
        return "double precision"
    return "text" if RANK[new] != RANK[current] else current


def attribute_columns(batch: Batch) -> list[str]:
    return [c for c in batch if c not in FIXED_COLUMNS]


def column_types(batch: Batch, known: dict[str, str | None]) -> dict[str, str | None]:
    """The types `batch` needs, widening what is `known` from earlier batches."""
    types = dict(known)
    for column in attribute_columns(batch):
        types[column] = wider(types.get(column), column_kind(batch[column]))
    return types


def column_kind(values: list[Any]) -> str | None:
    """The narrowest column type that holds every value (None: all missing).

    Looks at the set of Python types first, so a column of 500,000 ints or strings costs one
    pass in C; only ints (range), floats (NaN) and datetimes (time zone) are checked one by one.
    """
    kinds: set[str | None] = set()
    for kind in set(map(type, values)) - {type(None)}:
        if kind is bool:
            kinds.add("boolean")
        elif kind is int:
            ints = [v for v in values if type(v) is int]
            kinds.add("bigint" if min(ints) >= -(2**63) and max(ints) < 2**63 else "text")
        elif kind is float or issubclass(kind, datetime) or not issubclass(kind, str):
            kinds.update(kind_of(v) for v in values if type(v) is kind)
        else:
            kinds.add("text")
    current = None
    for kind in kinds:
        current = wider(current, kind)
    return current


def pg_value(value: Any, column_type: str | None) -> Any:
    kind = kind_of(value)
    if kind is None:
        return None
    if column_type == "text" and not isinstance(value, str):
        if isinstance(value, date | datetime):
            return value.isoformat()
        return json.dumps(value) if isinstance(value, dict | list) else str(value)
    return value


# -- COPY text format, a column at a time ---------------------------------------------------------
#
# A batch becomes one COPY text payload: every column is turned into a list of field texts in one
# pass (no per-cell type dispatch), the rows are joined in C, and the geometry goes in as hex WKB
# without an SRID, which the geometry(…, 28992) column assigns. Polygons and lines are stored as
# Multi* so a layer has one geometry type; the promotion is a 9-byte WKB header, not a rebuild.

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")
_MULTI_HEADER = {  # little-endian WKB: byte order, Multi* type, one part
    shapely.GeometryType.POLYGON: b"\x01\x06\x00\x00\x00\x01\x00\x00\x00",
    shapely.GeometryType.LINESTRING: b"\x01\x05\x00\x00\x00\x01\x00\x00\x00",
}


def escape_texts(texts: list[str]) -> list[str]:
    """COPY-escape field texts; the common case (nothing to escape) is one scan of the batch."""
    joined = "\x00".join(texts)
    if not any(ch in joined for ch in _SPECIAL):
        return texts
    return [t.translate(_ESCAPES) for t in texts]


def field_texts(values: list[Any], column_type: str | None) -> list[str]:
    """One column of plain values as COPY fields of `column_type`."""
    if column_type in ("bigint", "double precision"):
        if None not in values:
            return list(map(repr, values))
        return [NULL if v is None else repr(v) for v in values]
    if column_type == "boolean":
        return [NULL if v is None else ("t" if v else "f") for v in values]
    if column_type == "timestamptz":
        return [NULL if v is None else v.isoformat() for v in values]
    if None not in values and set(map(type, values)) == {str}:
        return escape_texts(values)
    texts = [v if type(v) is str else pg_value(v, "text") for v in values]
    escaped = escape_texts([NULL if v is None else v for v in texts])
    return [NULL if v is None else e for v, e in zip(texts, escaped, strict=True)]


def json_texts(records: list[dict | None]) -> list[str]:
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    texts = [dumps(r) if r else "{}" for r in records]
    return escape_texts(texts)


def wkb_hex(geoms: np.ndarray) -> list[str]:
    """Geometries as hex WKB (2D), single polygons and lines promoted to Multi*."""
    wkbs = shapely.to_wkb(geoms, output_dimension=2, byte_order=1)
    types = shapely.get_type_id(geoms)
    for type_id, header in _MULTI_HEADER.items():
        single = types == type_id
        if single.all():
            return [(header + w).hex() for w in wkbs]
        for i in np.flatnonzero(single):
            wkbs[i] = header + wkbs[i]
    return [w.hex() for w in wkbs]


class BoundedQueueWriter(QueuedLibpqWriter):
    """psycopg's queued writer with a short queue: memory stays bounded while the server lags."""

    def __init__(self, cursor: Cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=QUEUED_PIECES)


def copy_text(batch: Batch, types: dict[str, str | None]) -> str:
    """One batch (EPSG:28992) as COPY text rows: feature_id, the typed columns, properties, geom."""
    fields = [field_texts(batch["feature_id"], "text")]
    for column, column_type in types.items():
        values = batch[column] if column in batch else [None] * len(batch)
        fields.append(field_texts(values, column_type))
    fields.append(json_texts(batch["properties"]))
    fields.append(wkb_hex(batch.geometry))
    return "\n".join(map("\t".join, zip(*fields, strict=True))) + "\n"


class CopyWriter:
    """One COPY into `table` that stays open across batches while the columns stay the same.

    psycopg's queued writer sends the data from a thread, so PostgreSQL parses and stores one
    batch while this process reads and encodes the next. `close()` ends the COPY (before the
    table's columns change, and at the end); leaving the `with` block on an error aborts it.
    """

    def __init__(self, cursor: Cursor, table: sql.Composable):
        self.cursor = cursor
        self.table = table
        self.columns: list[str] | None = None
        self._stack = ExitStack()
        self._copy: Copy | None = None

    def write(self, batch: Batch, types: dict[str, str | None]) -> int:
        if self._copy is None or list(types) != self.columns:
            self.close()
            self.columns = list(types)
            names = sql.SQL(", ").join(
                sql.Identifier(c) for c in ("feature_id", *self.columns, "properties", "geom")
            )
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(self.table, names)
            writer = BoundedQueueWriter(self.cursor)
            self._copy = self._stack.enter_context(self.cursor.copy(statement, writer=writer))
        for start in range(0, len(batch), ROWS_PER_PAYLOAD):
            piece = batch.rows(start, start + ROWS_PER_PAYLOAD)
            self._copy.write(copy_text(piece, types).encode())
        return len(batch)

    def close(self) -> None:
        self._copy = None
        self._stack.close()

    def __enter__(self) -> CopyWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self._copy = None
        self._stack.__exit__(*exc_info)


def column_definitions(types: dict[str, str | None]) -> Iterable[sql.Composable]:
    for name, column_type in types.items():
        yield sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(column_type or "text"))
