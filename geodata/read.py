"""Read one named source from a file or an OGC API as batches of our frames in RD New.

    reader = read("bag-panden", path="data/open/amsterdam/bag_weesp_centrum_2021.gpkg")
    for batch in reader:          # geodata.batch.Batch of ~batch_size rows, EPSG:28992, 2D
        ...                       # feature_id, the source's columns, properties, geometry
    reader.report                 # read, yielded, repaired, dropped by reason

``read()`` opens the file and checks what it can before returning (format, layer, CRS,
columns); iterating may still raise ``ReadError`` (a damaged page, a failing server). Every
problem a user can cause surfaces as ``ReadError`` with a message fit to show them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException

from geodata import cityjson, files, ogcapi
from geodata.batch import Batch
from geodata.errors import ReadError
from geodata.normalise import (
    OUTSIDE_BBOX,
    RD,
    bbox_in,
    check_columns,
    clean_geometries,
    map_columns,
    to_rd,
)
from geodata.registry import get_source
from geodata.source import Source

PROGRESS_SECONDS = 0.5  # at most two progress lines a second while reading

__all__ = ["ReadError", "ReadReport", "Reader", "read"]

Progress = Callable[[str], None]
BBox = tuple[float, float, float, float]


@dataclass
class ReadReport:
    """What a read did. ``read == yielded + sum(dropped.values())`` once iteration is done."""

    source: str
    read: int = 0
    yielded: int = 0
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def add_dropped(self, counts: Counter | dict[str, int]) -> None:
        for reason, count in counts.items():
            if count:
                self.dropped[reason] = self.dropped.get(reason, 0) + count

    def summary(self) -> str:
        dropped = ", ".join(f"{n:,} {why}" for why, n in self.dropped.items()) or "none"
        return (
            f"{self.source}: {self.read:,} read, {self.yielded:,} kept, "
            f"{self.repaired:,} repaired, dropped: {dropped}"
        )


def read(
    source: str | Source,
    *,
    path: str | Path | None = None,
    url: str | None = None,
    bbox: BBox | None = None,
    bbox_crs: int | str = 28992,
    layer: str | None = None,
    batch_size: int = 50_000,
    progress: Progress | None = None,
) -> Reader:
    """A reader of one source from a file (``path``) or an OGC API items URL (``url``)."""
    source = get_source(source) if isinstance(source, str) else source
    if (path is None) == (url is None):
        raise ReadError(f"{source.name}: give either a file or a URL to read from")
    if batch_size < 1:
        raise ReadError(f"{source.name}: the batch size must be at least 1")
    bbox_rd = _bbox_rd(bbox, bbox_crs) if bbox is not None else None
    if url is not None:
        origin = _OgcOrigin(url, bbox_rd)
    else:
        origin = _file_origin(source, Path(path), layer, bbox_rd)
    return Reader(source, origin, batch_size, bbox_rd, progress)


class Origin(Protocol):
    """Where raw features come from: a file layer, a CityJSON file or an OGC API."""

    where: str  # how messages name it
    total: int | None  # features to expect, for progress
    columns_checked: bool  # whether the schema was checked before reading

    def batches(self, size: int) -> Iterator[tuple[Batch, pyproj.CRS]]: ...

    def unseen(self, seen: int) -> int:
        """Features the source holds that were filtered out before reading (bbox)."""
        ...


class Reader:
    """Iterate for batches; ``report`` is complete when iteration ends."""

    def __init__(
        self,
        source: Source,
        origin: Origin,
        batch_size: int,
        bbox: BBox | None,
        progress: Progress | None,
    ):
        self.source = source
        self.origin = origin
        self.batch_size = batch_size
        self.bbox = shapely.box(*bbox) if bbox is not None else None
        self.progress = progress
        self.report = ReadReport(source.name)

    def __iter__(self) -> Iterator[Batch]:
        self.report = report = ReadReport(self.source.name)
        self._told, self._told_at = 0, 0.0  # each pass over the source tells from its start
        checked = self.origin.columns_checked
        for raw, crs in self.origin.batches(self.batch_size):
            if not checked:
                check_columns(self.source, raw, self.origin.where)
                checked = True
            report.read += len(raw)
            batch = self._normalise(raw, crs)
            report.yielded += len(batch)
            self._tell(report.read)
            if len(batch):
                yield batch
        self._tell(report.read, last=True)
        unseen = self.origin.unseen(report.read)
        if unseen:
            report.read += unseen
            report.add_dropped({OUTSIDE_BBOX: unseen})

    def _normalise(self, raw: Batch, crs: pyproj.CRS) -> Batch:
        try:
            batch = to_rd(raw, crs, self.origin.where)
            batch, repaired, dropped = clean_geometries(batch, self.source.geometry, self.bbox)
        except GEOSException as exc:
            raise ReadError(f"{self.origin.where}: a geometry cannot be processed ({exc})") from exc
        self.report.repaired += repaired
        self.report.add_dropped(dropped)
        return map_columns(batch, self.source)

    def _tell(self, done: int, last: bool = False) -> None:
        """A progress line: the first batch, then at most one per PROGRESS_SECONDS, and the
        end (a 10-million-feature load reads 2,500 batches)."""
        if self.progress is None or done == self._told:
            return
        total = self.origin.total
        now = time.monotonic()
        final = last or done == total
        if self._told and not final and now - self._told_at < PROGRESS_SECONDS:
            return
        self._told, self._told_at = done, now
        counted = f"{done:,} / {total:,}" if total is not None else f"{done:,}"
        self.progress(f"{self.source.name}: {counted}")


# -- Where features come from -------------------------------------------------------------------


def _file_origin(source: Source, path: Path, layer: str | None, bbox: BBox | None) -> Origin:
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    if cityjson.is_cityjson(path):
        return _CityJSONOrigin(source, path)
    if path.name.lower().endswith(files.SUFFIXES):
        return _FileOrigin(source, path, layer, bbox)
    raise ReadError(
        f"{path.name} is not in a format Wijkkaart reads: GeoPackage, GeoJSON, Shapefile, "
        "SQLite/SpatiaLite, CityJSON or CityJSONSeq"
    )


class _FileOrigin:
    columns_checked = True  # open_layer checks them from the layer's schema

    def __init__(self, source: Source, path: Path, layer: str | None, bbox: BBox | None):
        self.layer = files.open_layer(path, source, layer)
        self.where = f"{path.name}, layer '{self.layer.name}'"
        self.total = self.layer.total
        self.bbox = bbox_in(bbox, RD, self.layer.crs) if bbox is not None else None

    def batches(self, size: int):
        for batch in files.batches(self.layer, size, self.bbox):
            yield batch, self.layer.crs

    def unseen(self, seen: int) -> int:
        """Features the driver's bbox filter left out: outside the bbox, never read."""
        if self.bbox is None or self.total is None:
            return 0
        return max(self.total - seen, 0)


class _CityJSONOrigin:
    columns_checked = False

    def __init__(self, source: Source, path: Path):
        if source.cityjson_rows is None:
            raise ReadError(f"{path.name} is CityJSON, which {source.name} cannot be read from")
        self.kind = source.cityjson_rows
        self.header = cityjson.open_header(path)
        self.where = path.name
        features = cityjson.count_features(self.header)
        self.total = features if self.kind == "buildings" else None

    def batches(self, size: int):
        for batch in cityjson.rows(self.header, self.kind, size):
            yield batch, self.header.crs

    def unseen(self, seen: int) -> int:
        return 0


class _OgcOrigin:
    columns_checked = False

    def __init__(self, url: str, bbox: BBox | None):
        self.url = url
        self.bbox = bbox
        self.where = url
        self.total: int | None = None

    def batches(self, size: int):
        for page in ogcapi.pages(self.url, size, self.bbox):
            self.total = page.matched if page.matched is not None else self.total
            yield page.batch, page.batch.crs

    def unseen(self, seen: int) -> int:
        return 0  # the server filtered; what it left out was never ours to count


def _bbox_rd(bbox: BBox, crs: int | str) -> BBox:
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ReadError(f"a bbox is four numbers minx,miny,maxx,maxy, not {bbox!r}") from exc
    if not (minx < maxx and miny < maxy):
        raise ReadError(f"bbox {bbox!r} is empty: min must be below max")
    try:
        stated = pyproj.CRS.from_user_input(crs)
    except CRSError as exc:
        raise ReadError(f"the bbox CRS {crs!r} is unknown") from exc
    return bbox_in((minx, miny, maxx, maxy), stated, RD)
