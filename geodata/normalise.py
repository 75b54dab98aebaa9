"""Turn any source frame into ours: RD New, 2D, one geometry family, mapped columns, plain values.

Every step is vectorised with shapely/pyproj or runs over a column's list at once, so a batch of
50,000 features takes well under a second; only geometries that need repair go through Python
one by one. No pandas here (geodata/batch.py says why).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseMultipartGeometry

from geodata.batch import Batch
from geodata.errors import ReadError
from geodata.source import Family, Source
from geodata.values import bag_id, bag_ids, plain_values

RD = pyproj.CRS.from_epsg(28992)

# shapely type ids per family: single and multi part.
_FAMILY_TYPES = {
    "point": (shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT),
    "line": (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING),
    "polygon": (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
}

EMPTY = "empty geometry"
UNREPAIRABLE = "invalid and unrepairable"
WRONG_FAMILY = "wrong geometry family"
OUTSIDE_BBOX = "outside bbox"


# -- Coordinate reference systems ---------------------------------------------------------------


def parse_crs(value: Any, where: str) -> pyproj.CRS:
    """A CRS from whatever a file or service states; no statement at all is an error."""
    if value is None or value == "":
        raise ReadError(
            f"{where} does not say which coordinate reference system it uses; "
            "add a .prj / crs, or convert it to EPSG:28992"
        )
    try:
        crs = pyproj.CRS.from_user_input(value)
    except CRSError as exc:
        raise ReadError(
            f"{where} uses a coordinate reference system that is unknown: {value}"
        ) from exc
    return horizontal(crs, where)


def horizontal(crs: pyproj.CRS, where: str) -> pyproj.CRS:
    """The 2D part of a CRS: RD New + NAP (EPSG:7415) becomes RD New; heights are dropped."""
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    # A local engineering CRS ("Unknown", CAD exports) cannot be placed on the earth.
    if not (crs.is_projected or crs.is_geographic):
        raise ReadError(
            f"{where} uses a coordinate reference system that is unknown: {crs.name} "
            f"({crs.type_name}); Wijkkaart reads EPSG:28992, EPSG:7415, EPSG:4326 and the like"
        )
    return crs


def to_rd(batch: Batch, crs: pyproj.CRS, where: str) -> Batch:
    """Geometries as 2D RD New (EPSG:28992)."""
    geometry = batch.geometry
    if shapely.has_z(geometry).any():  # a 2D batch is kept as it is: no copy
        geometry = shapely.force_2d(geometry)
    if crs.equals(RD, ignore_axis_order=True):
        return batch.with_geometry(geometry, RD)
    transformer = _to_rd(crs)
    moved = shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(*xy.T)))
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        raise ReadError(
            f"{where}: coordinates do not fit the stated reference system {crs.name} "
            "(RD coordinates in a file that claims WGS84?)"
        )
    return batch.with_geometry(moved, RD)


@functools.lru_cache(maxsize=8)
def _to_rd(crs: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, RD, always_xy=True)


def bbox_in(bbox: tuple[float, float, float, float], source: pyproj.CRS, target: pyproj.CRS):
    """A bounding box moved to another CRS (the box around the moved box)."""
    if source.equals(target, ignore_axis_order=True):
        return tuple(bbox)
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return transformer.transform_bounds(*bbox)


# -- Geometry -----------------------------------------------------------------------------------


def clean_geometries(
    batch: Batch, family: Family, bbox: shapely.Geometry | None
) -> tuple[Batch, int, Counter]:
    """Keep the rows whose geometry is (or can be repaired into) the source's family.

    Returns the kept rows (polygons and lines single or multi: the writer stores them as Multi*;
    points stay Point unless really multi), the number repaired and the number dropped by reason.
    """
    dropped: Counter = Counter()
    geoms = batch.geometry.copy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    dropped[EMPTY] = int(empty.sum())

    invalid = ~empty & ~shapely.is_valid(geoms)
    repaired = shapely.make_valid(geoms[invalid])
    geoms[invalid] = repaired

    types = shapely.get_type_id(geoms)
    simple = ~empty & np.isin(types, _FAMILY_TYPES[family])
    keep = simple.copy()
    for i in np.flatnonzero(~empty & ~simple):
        part = _family_part(geoms[i], family)
        if part is None:
            dropped[UNREPAIRABLE if invalid[i] else WRONG_FAMILY] += 1
        else:
            geoms[i] = part
            keep[i] = True
    repaired_count = int((invalid & keep).sum())

    if family == "point":
        geoms = _unwrap_points(geoms)
    if bbox is not None:
        outside = keep & ~shapely.intersects(geoms, bbox)
        dropped[OUTSIDE_BBOX] = int(outside.sum())
        keep &= ~outside
    return batch.with_geometry(geoms).take(keep), repaired_count, +dropped


def _family_part(geom: shapely.Geometry, family: Family) -> shapely.Geometry | None:
    """The parts of a mixed geometry (e.g. what make_valid returns) that belong to the family."""
    parts = _explode(geom)
    single = _FAMILY_TYPES[family][0]
    parts = [p for p in parts if shapely.get_type_id(p) == single and not p.is_empty]
    if not parts:
        return None
    if family == "polygon":
        return shapely.union_all(parts) if len(parts) > 1 else parts[0]
    if family == "line":
        return shapely.multilinestrings(parts)
    return shapely.multipoints(parts) if len(parts) > 1 else parts[0]


def _explode(geom: shapely.Geometry) -> list[shapely.Geometry]:
    if isinstance(geom, BaseMultipartGeometry):  # Multi* and GeometryCollection
        return [q for p in geom.geoms for q in _explode(p)]
    return [geom]


def _unwrap_points(geoms: np.ndarray) -> np.ndarray:
    """A one-part MultiPoint is a Point."""
    types = shapely.get_type_id(geoms)
    multi = np.flatnonzero(
        (types == shapely.GeometryType.MULTIPOINT) & (shapely.get_num_geometries(geoms) == 1)
    )
    geoms[multi] = shapely.get_geometry(geoms[multi], 0)
    return geoms


# -- Columns ------------------------------------------------------------------------------------


def check_columns(source: Source, available: Iterable[str], where: str) -> None:
    """Fail before reading when a file lacks a column the source cannot do without."""
    have = set(available)
    missing = []
    if source.id_candidates and not have.intersection(source.id_candidates):
        missing.append(f"feature_id (from {' or '.join(source.id_candidates)})")
    for column in source.required_columns:
        names = source.candidates(column)
        if not have.intersection(names):
            missing.append(f"{column} (from {' or '.join(names)})")
    if missing:
        raise ReadError(
            f"{where} lacks columns that {source.name} needs: {'; '.join(missing)}. "
            f"It has: {', '.join(sorted(have)) or 'no columns'}"
        )


def map_columns(batch: Batch, source: Source) -> Batch:
    """Our batch: feature_id, our columns, properties (everything else); the same geometry.
    A row without an id takes its place in the source (the batch's ids) as its feature_id."""
    used: set[str] = set()
    out: dict[str, list] = {}
    id_columns = [c for c in source.id_candidates if c in batch]
    used.update(id_columns)
    ids = _coalesce(batch, id_columns) if id_columns else None
    bag_ids_done = False
    if ids is not None and all(type(v) is str for v in ids):
        out["feature_id"] = [v.strip() for v in ids]  # the common case
        bag_ids_done = all(len(v) == 16 and v.isdigit() for v in out["feature_id"])
    else:
        if ids is not None:
            ids = [b if v is None else v for v, b in zip(ids, batch.ids, strict=True)]
        else:
            ids = batch.ids
        out["feature_id"] = [_text(v) for v in plain_values(ids)]  # without an id: its place
    for column in source.columns:
        present = [c for c in source.candidates(column) if c in batch]
        used.update(present)
        out[column] = plain_values(_coalesce(batch, present)) if present else [None] * len(batch)
    rest = [c for c in batch if c not in used]
    out["properties"] = _records(batch, rest)
    result = Batch(out, batch.geometry, batch.ids, batch.crs)
    for column in source.bag_id_columns:
        if column == "feature_id" and bag_ids_done:
            continue
        if column in result:
            result[column] = bag_ids(result[column])
        else:  # a source attribute kept in properties, e.g. BGT's identificatiebagpnd
            for properties in result["properties"]:
                if column in properties:
                    properties[column] = bag_id(properties[column])
    if source.derive is not None:
        result = source.derive(result)
        for column in result:  # what a derive function assigned, as plain values again
            if column != "properties":
                result[column] = plain_values(result[column])
    properties = result.columns.pop("properties")
    result["properties"] = properties  # last, after any derived column
    return result


def _records(batch: Batch, columns: list[str]) -> list[dict]:
    if not columns:
        return [{} for _ in range(len(batch))]
    values = [plain_values(batch[c]) for c in columns]
    # lengths match by construction; strict checking costs a third of the time here
    return [dict(zip(columns, row, strict=False)) for row in zip(*values, strict=False)]


def _coalesce(batch: Batch, columns: list[str]) -> list:
    """Per row, the first of these columns that has a value (schema variants in one file)."""
    values = batch[columns[0]]
    for column in columns[1:]:
        values = [v if v is not None else w for v, w in zip(values, batch[column], strict=True)]
    return values


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an integer id that a float column stored as 1080.0
    return str(value).strip()
