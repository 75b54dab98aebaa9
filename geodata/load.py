"""Load a named open layer into PostGIS, replacing the previous version atomically.

    report = load_layer(engine, "bag-panden", path=Path("pand.gpkg"), progress=print)

Everything happens in one transaction: the features are COPYed into a fresh table, indexed,
then swapped in for the old table and recorded in the `layer` catalogue. Until that commits,
the app serves the old version; a failure or an interruption anywhere rolls back and leaves the
old version as it was. Loading the same file again changes nothing. `after` runs in the same
transaction once the new version is in (the `kaart` command refreshes what the public sees of
contributions near homes after an address layer, kaart/services/privacy.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import Cursor
from sqlalchemy import Connection, Engine, text

from geodata import address_search
from geodata import staging as staging_table
from geodata.errors import ReadError
from geodata.pgcopy import CopyWriter, column_types
from geodata.pipeline import lean_allocators, prefetched, quiet_gc
from geodata.read import Reader, read
from geodata.registry import get_source
from geodata.source import Source
from geodata.staging import SCHEMA

# Features per batch read from the source. Memory follows it, speed barely does (bench/
# layers_import.py, 500,000 panden, peak RSS / median time): 8,000 -> 257 MiB / 0.91x ogr2ogr,
# 4,000 -> 238 MiB / 0.82x, 2,000 -> 227 MiB / 0.96x. Of those MiB ~137 are the pages of
# GDAL, Arrow and the other shared libraries, all of them counted once the files sit in the
# page cache (as on a machine that has just installed them).
BATCH_SIZE = 4_000

Progress = Callable[[str], None]
# Runs inside the load's transaction, after the swap: (connection, source) -> a progress line.
AfterLoad = Callable[[Connection, Source], str | None]
# Zoom levels at which a kind of layer is worth drawing (vector tiles).
ZOOMS = {
    "area": (8, 22),
    "postcode": (8, 22),
    "green": (12, 22),
    "playground": (12, 22),
    "building": (14, 22),
    "tree": (14, 22),
    "address": (15, 22),
    "roof": (15, 22),
}
# Layers whose features are buurten: they also feed the buurt lookup of contributions.
BUURT_LAYERS = {"cbs-buurten", "amsterdam-buurten"}
RESERVED = {"fid", "feature_id", "properties", "geom"}


class LoadError(RuntimeError):
    """The layer could not be (re)loaded; the previous version is still in place."""


@dataclass
class LoadReport:
    layer: str
    loaded: int = 0
    read: int = 0
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False
    contributions_updated: int = 0
    seconds: float = 0.0
    # minx, miny, maxx, maxy in RD New of what was loaded, gathered batch by batch.
    extent: tuple[float, float, float, float] | None = None

    def widen_extent(self, bounds) -> None:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if self.extent is not None:
            minx, miny = min(minx, self.extent[0]), min(miny, self.extent[1])
            maxx, maxy = max(maxx, self.extent[2]), max(maxy, self.extent[3])
        self.extent = (minx, miny, maxx, maxy)

    def summary(self) -> str:
        if self.unchanged:
            return f"{self.layer}: already loaded from this file; nothing to do"
        dropped = ", ".join(f"{n:,} {why}" for why, n in self.dropped.items()) or "none"
        text_ = (
            f"{self.layer}: {self.loaded:,} features loaded of {self.read:,} read in "
            f"{self.seconds:.1f} s; {self.repaired:,} repaired; dropped: {dropped}"
        )
        if self.layer in BUURT_LAYERS:
            text_ += f"; buurt codes of {self.contributions_updated:,} contributions refreshed"
        return text_


def table_name(source: Source) -> str:
    return source.name.replace("-", "_")


def fingerprint(path: Path, options: dict[str, object]) -> str:
    """What makes a load the same load: the bytes of the file (and its sidecars) and options."""
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    paths = [path]
    if path.suffix.lower() == ".shp":
        paths += sorted(p for p in path.parent.glob(f"{path.stem}.*") if p != path)
    for part in paths:
        with part.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_layer(
    engine: Engine,
    name: str,
    *,
    path: Path | None = None,
    url: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    layer: str | None = None,
    force: bool = False,
    progress: Progress = print,
    batch_size: int = BATCH_SIZE,
    after: AfterLoad | None = None,
) -> LoadReport:
    started = time.monotonic()
    lean_allocators()
    try:
        source = get_source(name)
    except ReadError as exc:
        raise LoadError(str(exc)) from exc
    if (path is None) == (url is None):
        raise LoadError("give either a file or a URL to load from")
    key = _key(path, url, bbox, layer)
    report = LoadReport(layer=source.name)
    if path is not None and not force and _loaded_key(engine, source.name) == key:
        report.unchanged = True
        return report
    try:
        reader = read(
            source,
            path=path,
            url=url,
            bbox=bbox,
            layer=layer,
            batch_size=batch_size,
            progress=progress,
        )
        with engine.begin() as conn:
            _replace(conn, source, reader, key, report, progress)
            said = after(conn, source) if after is not None else None
            if said:
                progress(said)
    except ReadError as exc:
        raise LoadError(f"{source.name}: {exc}; the loaded version is unchanged") from exc
    report.seconds = time.monotonic() - started
    return report


def _key(path: Path | None, url: str | None, bbox, layer) -> str:
    options = {"bbox": bbox, "layer": layer}
    if path is not None:
        if not path.exists():
            raise LoadError(f"{path.name}: no such file")
        return fingerprint(path, options)
    return hashlib.sha256(json.dumps({"url": url, **options}).encode()).hexdigest()


def _loaded_key(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT source_sha256 FROM layer WHERE name = :name"), {"name": name}
        ).scalar_one_or_none()


def _replace(
    conn: Connection, source: Source, reader: Reader, key: str, report: LoadReport, progress
) -> None:
    # One load of a layer at a time; a second waits here rather than colliding.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('layer:' || :n))"), {"n": source.name})
    table = table_name(source)
    cursor = conn.connection.driver_connection.cursor()
    columns = _write_staging(cursor, table, reader, report, progress)
    progress(f"{source.name}: indexing {report.loaded:,} features")
    staging_table.swap(cursor, table)
    if source.kind == "address" and set(address_search.COLUMNS) <= set(columns):
        progress(f"{source.name}: indexing streets for the address search")
        address_search.build(cursor, table)
    _record(conn, source, table, columns, key, report)
    if source.name in BUURT_LAYERS:
        report.contributions_updated = _refresh_buurten(conn, source, table)


def _write_staging(
    cursor: Cursor, table: str, reader: Reader, report: LoadReport, progress
) -> list[str]:
    staging = staging_table.name(table)
    types: dict[str, str | None] = {}
    created = False
    with CopyWriter(cursor, staging) as writer, quiet_gc():
        for batch in prefetched(reader):
            wanted = column_types(batch, types)
            clash = RESERVED & set(wanted)
            if clash:
                raise LoadError(f"the source maps onto reserved column names: {', '.join(clash)}")
            if not created:
                staging_table.create(cursor, staging, wanted)
                created = True
            elif wanted != types:
                writer.close()  # a table's columns cannot change during a COPY
                staging_table.widen(cursor, staging, types, wanted)
            types = wanted
            report.loaded += writer.write(batch, types)
            report.widen_extent(batch.bounds())
    report.read = reader.report.read
    report.repaired = reader.report.repaired
    report.dropped = dict(reader.report.dropped)
    if not report.loaded:
        raise LoadError(
            f"{reader.source.name}: the source holds no usable features "
            f"({reader.report.summary()}); the loaded version is unchanged"
        )
    staging_table.index(cursor, table, types)
    return list(types)


def _record(
    conn: Connection, source: Source, table: str, columns: list[str], key: str, report: LoadReport
) -> None:
    min_zoom, max_zoom = ZOOMS.get(source.kind, (12, 22))
    conn.execute(
        text(
            """
            INSERT INTO layer (name, title, source, licence, attribution, feature_count,
                               source_sha256, loaded_at, kind, geometry_family, table_name, bbox,
                               min_zoom, max_zoom, columns, report)
            SELECT :name, :title, :source, :licence, :attribution, :count, :key, now(), :kind,
                   :family, :table,
                   ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)],
                   :min_zoom, :max_zoom, :columns, CAST(:report AS jsonb)
            FROM (SELECT ST_Transform(ST_Segmentize(
                           ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 28992), 1000), 4326) AS e
                 ) stats
            ON CONFLICT (name) DO UPDATE SET
              title = excluded.title, source = excluded.source, licence = excluded.licence,
              attribution = excluded.attribution, feature_count = excluded.feature_count,
              source_sha256 = excluded.source_sha256, loaded_at = excluded.loaded_at,
              kind = excluded.kind, geometry_family = excluded.geometry_family,
              table_name = excluded.table_name, bbox = excluded.bbox,
              min_zoom = excluded.min_zoom, max_zoom = excluded.max_zoom,
              columns = excluded.columns, report = excluded.report
            """
        ),
        {
            "name": source.name,
            "title": source.title,
            "source": source.url,
            "licence": source.licence,
            "attribution": source.attribution,
            "key": key,
            "kind": source.kind,
            "family": source.geometry,
            "table": table,
            "min_zoom": min_zoom,
            "max_zoom": max_zoom,
            # The extent and count gathered while loading: no second pass over the table.
            "count": report.loaded,
            "minx": report.extent[0],
            "miny": report.extent[1],
            "maxx": report.extent[2],
            "maxy": report.extent[3],
            "columns": columns,
            "report": json.dumps(
                {
                    "read": report.read,
                    "loaded": report.loaded,
                    "repaired": report.repaired,
                    "dropped": report.dropped,
                }
            ),
        },
    )


def _refresh_buurten(conn: Connection, source: Source, table: str) -> int:
    """Feed the buurt lookup from this layer; the newest load of a buurt code wins."""
    conn.execute(
        text(
            f"""
            DELETE FROM buurt WHERE layer = :name
               OR code IN (SELECT code FROM {SCHEMA}."{table}" WHERE code IS NOT NULL)
            """
        ),
        {"name": source.name},
    )
    conn.execute(
        text(
            f"""
            INSERT INTO buurt (code, name, wijk_code, gemeente_code, layer, geom)
            SELECT DISTINCT ON (code) code, coalesce(name, code), wijk_code, gemeente_code, :name,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(geom, 4326)), 3))
            FROM {SCHEMA}."{table}" WHERE code LIKE 'BU%'
            ORDER BY code, fid
            """
        ),
        {"name": source.name},
    )
    return refresh_contribution_codes(conn)


def refresh_contribution_codes(conn: Connection) -> int:
    """Re-derive buurt, wijk and gemeente codes of every contribution from the loaded buurten."""
    from kaart.services.contributions import AREA_CODES_SQL  # the app only when needed

    result = conn.execute(
        text(
            f"""
            UPDATE contribution AS c
            SET buurt_code = codes.code, wijk_code = codes.wijk_code,
                gemeente_code = codes.gemeente_code
            FROM contribution AS g {AREA_CODES_SQL}
            WHERE g.id = c.id AND (c.buurt_code, c.wijk_code, c.gemeente_code)
                  IS DISTINCT FROM (codes.code, codes.wijk_code, codes.gemeente_code)
            """
        )
    )
    return result.rowcount
