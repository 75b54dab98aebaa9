"""Build a layer's PMTiles archive from the tile SQL the server runs (kaart/services/tiles.py).

    report = build(sessions, "bag-panden", Path("var/tiles"), progress=print)

Every tile of the layer's extent (its catalogue bbox) in the zoom range is rendered by
`tiles.render`, exactly as /tiles/{layer}/{z}/{x}/{y}.pbf answers it; empty tiles are left
out, the others gzipped and written in tile-id order (a clustered archive). Rendering runs on
`workers` threads, each with a database session of its own from `sessions`: PostgreSQL does most
of the work, and psycopg and zlib let go of Python's lock meanwhile. Measured on 2 cores (PC4
z13-z14, 47,744 tiles, quiet machine): 2 processes 2,730-2,800 tiles/s, 2 threads 2,370-2,460,
4 threads 2,450-2,790, 6 threads 2,590. So two threads per core, which keep a build inside one
process (and a test's transaction usable with one worker).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from sqlalchemy.orm import Session

from kaart.archives import store
from kaart.providers import layers
from kaart.services import tiles

Progress = Callable[[str], None]
# The deepest zoom built unless asked: from here on tiles hold every vertex (the tile SQL stops
# simplifying), so the map scales these tiles up instead of fetching deeper ones.
DEEPEST = tiles.FULL_DETAIL_ZOOM
CHUNK = 64  # tiles per task: consecutive in tile-id order, so close together on the ground
PROGRESS_SECONDS = 2.0
THREADS_PER_CORE = 2  # one waits on PostgreSQL while the other holds Python's lock
MAX_LATITUDE = 85.0511287798  # Web Mercator's edge


class BuildError(RuntimeError):
    """No archive was built; the previous one (if any) is still current."""


@dataclass
class BuildReport:
    layer: str
    zooms: tuple[int, int]
    total: int = 0  # tiles in the extent, rendered
    tiles: int = 0  # of them with something in them, written
    bytes: int = 0
    seconds: float = 0.0
    entry: store.Entry | None = None
    current: bool = False  # the archive was already built from this version

    def summary(self) -> str:
        if self.current:
            return f"{self.layer}: archive {self.entry.file} is current; nothing to do"
        if self.entry is None:
            return f"{self.layer}: no tiles with anything in them; no archive (live tiles)"
        rate = self.total / self.seconds if self.seconds else 0.0
        return (
            f"{self.layer}: {self.entry.file}, {self.tiles:,} tiles of {self.total:,} "
            f"(z{self.zooms[0]}-{self.zooms[1]}), {self.bytes / 1e6:,.1f} MB "
            f"in {self.seconds:.1f} s ({rate:,.0f} tiles/s)"
        )


def default_zooms(layer: layers.Layer) -> tuple[int, int]:
    """The layer's own zoom range, down to DEEPEST (the map scales the deepest tiles up)."""
    return layer.min_zoom, max(layer.min_zoom, min(layer.max_zoom, DEEPEST))


def build(
    sessions: Callable[[], Session],
    name: str,
    directory: Path,
    *,
    zooms: tuple[int | None, int | None] = (None, None),
    workers: int | None = None,
    force: bool = False,
    progress: Progress = print,
) -> BuildReport:
    """Build (or keep) the archive of layer `name` in `directory`; see the module docstring."""
    layer, tile_layer = _layers(sessions, name)
    low, high = _zooms(layer, zooms)
    report = BuildReport(name, (low, high))
    current = store.read(directory).get(name)
    if not force and _is_current(current, layer, (low, high)):
        report.entry, report.current = current, True
        return report
    started = time.monotonic()
    with store.building(directory, name) as temp:
        digest = _write(sessions, layer, tile_layer, temp, report, workers, progress)
        report.seconds = time.monotonic() - started
        if _layers(sessions, name)[0].version != layer.version:
            raise BuildError(f"{name}: the layer was reloaded during the build; build it again")
        if report.tiles == 0:
            store.retire(directory, name)
            return report
        entry = store.Entry(
            file=store.file_name(name, digest),
            version=layer.version,
            min_zoom=low,
            max_zoom=high,
            tiles=report.tiles,
            bytes=report.bytes,
        )
        report.entry = store.install(directory, temp, name, entry)
    return report


def _is_current(entry: store.Entry | None, layer: layers.Layer, zooms: tuple[int, int]) -> bool:
    return (
        entry is not None
        and entry.version == layer.version
        and (entry.min_zoom, entry.max_zoom) == zooms
    )


def _layers(sessions: Callable[[], Session], name: str) -> tuple[layers.Layer, tiles.TileLayer]:
    session = sessions()
    try:
        if name == tiles.CONTRIBUTIONS:
            raise BuildError("contributions change any minute: their tiles stay live")
        return layers.find(session, name), tiles.find_layer(session, name)
    finally:
        session.close()


def _zooms(layer: layers.Layer, asked: tuple[int | None, int | None]) -> tuple[int, int]:
    low, high = default_zooms(layer)
    low = asked[0] if asked[0] is not None else low
    high = asked[1] if asked[1] is not None else max(high, low)
    if not 0 <= low <= high <= tiles.MAX_ZOOM:
        raise BuildError(f"zooms must satisfy 0 <= minzoom <= maxzoom <= {tiles.MAX_ZOOM}")
    return low, high


# -- The tiles of an extent -----------------------------------------------------------------


def tile_range(bbox: list[float], z: int) -> tuple[int, int, int, int]:
    """The columns and rows (x0, y0, x1, y1, inclusive) of the z tiles over a WGS84 bbox."""
    n = 2**z

    def column(lon: float) -> int:
        return min(max(int((lon + 180.0) / 360.0 * n), 0), n - 1)

    def row(lat: float) -> int:
        lat = math.radians(min(max(lat, -MAX_LATITUDE), MAX_LATITUDE))
        y = (1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n
        return min(max(int(y), 0), n - 1)

    west, south, east, north = bbox
    return column(west), row(north), column(east), row(south)


def tile_count(bbox: list[float], zooms: tuple[int, int]) -> int:
    total = 0
    for z in range(zooms[0], zooms[1] + 1):
        x0, y0, x1, y1 = tile_range(bbox, z)
        total += (x1 - x0 + 1) * (y1 - y0 + 1)
    return total


def tile_ids(bbox: list[float], zooms: tuple[int, int]) -> Iterator[tuple[int, tiles.Tile]]:
    """(PMTiles tile id, tile) over the bbox, in tile-id order: by zoom, then along the
    Hilbert curve, as a clustered archive stores them."""
    for z in range(zooms[0], zooms[1] + 1):
        x0, y0, x1, y1 = tile_range(bbox, z)
        level = [
            (zxy_to_tileid(z, x, y), tiles.Tile(z, x, y))
            for x in range(x0, x1 + 1)
            for y in range(y0, y1 + 1)
        ]
        level.sort(key=lambda item: item[0])
        yield from level


def _chunks(items: Iterable[tuple[int, tiles.Tile]]) -> Iterator[list[tuple[int, tiles.Tile]]]:
    chunk: list[tuple[int, tiles.Tile]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- Rendering in parallel ------------------------------------------------------------------


class _Renderer:
    """Renders chunks of tiles on the calling thread's own session (one per worker thread)."""

    def __init__(self, sessions: Callable[[], Session], layer: tiles.TileLayer):
        self.sessions = sessions
        self.layer = layer
        self.local = threading.local()
        self.opened: list[Session] = []
        self.lock = threading.Lock()

    def __call__(self, chunk: list[tuple[int, tiles.Tile]]) -> tuple[int, list[tuple[int, bytes]]]:
        session = self._session()
        done = []
        for tile_id, tile in chunk:
            data = tiles.render(session, self.layer, tile)
            if data:  # empty tiles are left out of the archive (a reader finds no tile)
                done.append((tile_id, gzip.compress(data, mtime=0)))
        return len(chunk), done

    def _session(self) -> Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = self.sessions()
            with self.lock:
                self.opened.append(session)
        return session

    def close(self) -> None:
        for session in self.opened:
            session.close()


def rendered(
    sessions: Callable[[], Session],
    layer: tiles.TileLayer,
    items: Iterable[tuple[int, tiles.Tile]],
    workers: int,
) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
    """(tiles rendered, [(tile id, gzipped tile)]) per chunk, in the order of `items`; a few
    chunks per worker in flight, so memory stays small at any extent."""
    renderer = _Renderer(sessions, layer)
    pending: deque = deque()
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="tiles") as pool:
            try:
                for chunk in _chunks(items):
                    pending.append(pool.submit(renderer, chunk))
                    if len(pending) >= 4 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:  # an error or an interrupt: start nothing new
                for future in pending:
                    future.cancel()
    finally:
        renderer.close()


# -- Writing the archive --------------------------------------------------------------------


class _Hashing:
    """A file that hashes what is written to it: the archive's name is its content's hash."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.digest = hashlib.sha256()
        self.written = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.written += len(data)
        return self.out.write(data)


def _write(
    sessions: Callable[[], Session],
    layer: layers.Layer,
    tile_layer: tiles.TileLayer,
    path: Path,
    report: BuildReport,
    workers: int | None,
    progress: Progress,
) -> str:
    """Render and write every tile; the archive's SHA-256 (hex)."""
    workers = workers or THREADS_PER_CORE * (os.cpu_count() or 1)
    bbox = layer.bbox
    report.total = tile_count(bbox, report.zooms) if bbox else 0
    meter = _Meter(layer.name, report.total, progress)
    with open(path, "wb") as out:
        hashing = _Hashing(out)
        writer = None  # made at the first tile: it opens a temporary file only finalize closes
        items = tile_ids(bbox, report.zooms) if bbox else iter(())
        for count, done in rendered(sessions, tile_layer, items, workers):
            for tile_id, data in done:
                writer = writer or Writer(hashing)
                writer.write_tile(tile_id, data)
            report.tiles += len(done)
            meter.advance(count, report.tiles)
        if writer is not None:
            writer.finalize(_header(layer, report.zooms), _metadata(layer, report.zooms))
    report.bytes = hashing.written
    meter.finish(report.tiles)
    return hashing.digest.hexdigest()


class _Meter:
    """Progress lines like the loaders': done / total, share, rate; every few seconds."""

    def __init__(self, name: str, total: int, progress: Progress):
        self.name, self.total, self.progress = name, total, progress
        self.done = 0
        self.started = self.said = time.monotonic()

    def advance(self, count: int, kept: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.said >= PROGRESS_SECONDS:
            self.said = now
            self._say(kept, now)

    def finish(self, kept: int) -> None:
        self._say(kept, time.monotonic())

    def _say(self, kept: int, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        share = 100.0 * self.done / self.total if self.total else 100.0
        self.progress(
            f"{self.name}: tiles {self.done:,} / {self.total:,} ({share:.0f} %), "
            f"{rate:,.0f} tiles/s, {kept:,} with features"
        )


def _e7(degrees: float) -> int:
    return round(degrees * 10_000_000)


def _header(layer: layers.Layer, zooms: tuple[int, int]) -> dict:
    west, south, east, north = layer.bbox
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_zoom": zooms[0],  # the writer sets both from the tiles it was given
        "max_zoom": zooms[1],
        "min_lon_e7": _e7(west),
        "min_lat_e7": _e7(south),
        "max_lon_e7": _e7(east),
        "max_lat_e7": _e7(north),
        "center_zoom": zooms[0],
        "center_lon_e7": _e7((west + east) / 2),
        "center_lat_e7": _e7((south + north) / 2),
    }


def _metadata(layer: layers.Layer, zooms: tuple[int, int]) -> dict:
    """TileJSON-style metadata. Nothing that changes from build to build (no build time): the
    same data gives the same bytes, and so the same file name."""
    fields = {"feature_id": "the source's id"} | {c: "" for c in layer.columns}
    return {
        "name": layer.name,
        "description": layer.title,
        "attribution": layer.attribution or "",
        "licence": layer.licence or "",
        "type": "overlay",
        "vector_layers": [
            {"id": layer.name, "fields": fields, "minzoom": zooms[0], "maxzoom": zooms[1]}
        ],
    }
