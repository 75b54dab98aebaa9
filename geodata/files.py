"""Read GeoPackage, GeoJSON, Shapefile and SQLite/SpatiaLite layers in batches with pyogrio.

pyogrio (GDAL) does the format and CRS work; this module picks the layer, checks it before
reading, and streams it in batches (one GDAL Arrow stream) so a 500,000-feature GeoPackage is
never in memory whole. With a bbox, paging a spatially filtered layer is not stable in GDAL
(the R-tree order may repeat or miss features between calls), so the matching feature ids are
fetched first and read in chunks by ``fids``.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from pyogrio import errors as ogr_errors

from geodata.batch import Batch
from geodata.errors import ReadError
from geodata.normalise import check_columns, parse_crs
from geodata.source import Source
from geodata.values import plain_values

SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".sqlite", ".db", ".zip")
OGR_ERRORS = (
    ogr_errors.DataSourceError,
    ogr_errors.DataLayerError,
    ogr_errors.FieldError,
    ogr_errors.FeatureError,
    ogr_errors.GeometryError,
)


@dataclass
class Layer:
    path: Path
    name: str
    crs: pyproj.CRS
    total: int | None  # features in the layer, when the driver knows cheaply


def open_layer(path: Path, source: Source, requested: str | None) -> Layer:
    """Pick and check the layer: it exists, has geometry, a known CRS and the needed columns."""
    name = choose_layer(path, _layer_names(path), requested, source.layer_candidates)
    where = f"{path.name}, layer '{name}'"
    info = _guard(path, lambda: pyogrio.read_info(path, layer=name))
    if not info.get("geometry_type"):
        raise ReadError(f"{where} has no geometry")
    check_columns(source, info["fields"], where)
    total = info.get("features")
    return Layer(path, name, parse_crs(info["crs"], where), total if total >= 0 else None)


def choose_layer(
    path: Path, names: list[str], requested: str | None, defaults: tuple[str, ...]
) -> str:
    if not names:
        raise ReadError(f"{path.name} contains no layers")
    if requested is not None:
        if requested not in names:
            raise ReadError(
                f"{path.name} has no layer '{requested}'; its layers are: {', '.join(names)}"
            )
        return requested
    if len(names) == 1:
        return names[0]
    for default in defaults:
        if default in names:
            return default
    expected = f" and none is called {' or '.join(defaults)}" if defaults else ""
    raise ReadError(f"{path.name} has several layers{expected}; choose one of: {', '.join(names)}")


def batches(
    layer: Layer, batch_size: int, bbox: tuple[float, float, float, float] | None
) -> Iterator[Batch]:
    """Raw batches in the layer's CRS; the ids are the feature ids (fids)."""
    if bbox is None:
        yield from _pages(layer, batch_size)
        return
    _, fids, _, _ = _guard(
        layer.path,
        lambda: pyogrio.raw.read(
            layer.path,
            layer=layer.name,
            bbox=bbox,
            columns=[],
            read_geometry=False,
            return_fids=True,
        ),
    )
    fids = np.sort(fids)  # file order reads faster than R-tree order
    for start in range(0, len(fids), batch_size):
        chunk = fids[start : start + batch_size]
        meta, table = _guard(
            layer.path,
            lambda chunk=chunk: pyogrio.raw.read_arrow(
                layer.path,
                layer=layer.name,
                fids=chunk,
                return_fids=True,
                datetime_as_string=True,
            ),
        )
        for batch in table.to_batches():
            yield _batch(batch, meta, layer.crs)


def _pages(layer: Layer, batch_size: int) -> Iterator[Batch]:
    """The layer front to back as one GDAL Arrow stream, `batch_size` features at a time.

    One pass: paging with skip_features made GDAL walk past every earlier feature again for
    each page, so small pages (which keep memory low) cost quadratic time (bench: 500,000
    panden in 10,000-feature pages took 10.4 s to read, as one stream 1.0 s)."""
    try:
        with (
            warnings.catch_warnings(),
            pyogrio.raw.open_arrow(
                layer.path,
                layer=layer.name,
                batch_size=batch_size,
                return_fids=True,
                use_pyarrow=True,
                datetime_as_string=True,  # parsed in _datetimes, whatever their offsets
            ) as (meta, stream),
        ):
            for batch in stream:
                yield _batch(batch, meta, layer.crs)
    except OGR_ERRORS as exc:
        raise _read_error(layer.path, exc) from exc


def _batch(batch: pa.RecordBatch, meta: dict, crs: pyproj.CRS) -> Batch:
    """An Arrow batch as ours: plain values per column, datetimes as ISO 8601 text, JSON text
    decoded, WKB as shapely geometries, the fids as ids."""
    geometry_name = meta["geometry_name"] or "wkb_geometry"
    wkb = batch.column(geometry_name)
    if isinstance(wkb, pa.ExtensionArray):  # geoarrow.wkb: its storage is the WKB
        wkb = wkb.storage
    columns = {}
    for dtype, ogr_subtype, name in zip(
        meta["dtypes"], meta["ogr_subtypes"], meta["fields"], strict=True
    ):
        values = plain_values(_values(batch.column(name)))
        if dtype is not None and dtype.startswith("datetime") and dtype != "datetime64[D]":
            values = _datetimes(values)
        elif ogr_subtype == "OFSTJSON":
            values = _json(values)
        columns[name] = values
    geometry = shapely.from_wkb(np.array(_values(wkb), dtype=object))
    ids = _values(batch.column(meta["fid_column"]))
    # The layer's CRS, parsed once (from meta["crs"] it would be parsed again for every batch).
    return Batch(columns, geometry, ids, crs)


def _values(array: pa.Array) -> list:
    """An Arrow column as Python values, None where it is null (integers with gaps stay
    integers). to_pylist, not to_numpy: Arrow's NumPy conversion costs 30 MiB and 9 ms the
    first time it runs in a process, and it is no faster for columns of this size."""
    return array.to_pylist()


def _datetimes(texts: list) -> list:
    """GDAL's date-time text as ISO 8601, offsets kept (converted to UTC when they differ
    within a batch); text that is not a date-time stays as it is."""
    try:
        parsed = [None if t is None else dt.datetime.fromisoformat(t) for t in texts]
    except (TypeError, ValueError):
        return texts
    offsets = {p.utcoffset() for p in parsed if p is not None}
    if len(offsets) > 1:
        parsed = [None if p is None else _utc(p) for p in parsed]
    return [None if p is None else p.isoformat() for p in parsed]


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _json(texts: list) -> list:
    """A field GDAL types as JSON, decoded; GeoJSON properties holding both numbers and text
    are typed JSON too, so a column that is not all JSON keeps its text (as pyogrio does)."""
    if not all(type(t) is str or t is None for t in texts):
        return texts
    try:
        return [None if t is None else json.loads(t) for t in texts]
    except ValueError:
        return texts


def _layer_names(path: Path) -> list[str]:
    return [str(name) for name, _ in _guard(path, lambda: pyogrio.list_layers(path))]


def _guard(path: Path, action):
    """Run a pyogrio call; GDAL's complaint becomes a ReadError naming the file, not its path."""
    try:
        return action()
    except OGR_ERRORS as exc:
        raise _read_error(path, exc) from exc


def _read_error(path: Path, exc: Exception) -> ReadError:
    detail = str(exc).replace(str(path), path.name).split("; It might help")[0]
    return ReadError(f"{path.name} cannot be read: it is damaged or not geodata ({detail})")
