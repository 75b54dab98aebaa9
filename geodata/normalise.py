"""Turn any source frame into ours: RD New, 2D, one geometry family, mapped columns, plain values.

Every step is vectorised with shapely/pyproj/pandas, so a batch of 50,000 features takes well
under a second; only geometries that need repair go through Python one by one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseMultipartGeometry

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


def to_rd(frame: gpd.GeoDataFrame, crs: pyproj.CRS, where: str) -> gpd.GeoDataFrame:
    """Geometries as 2D RD New (EPSG:28992)."""
    geometry = frame.geometry.to_numpy()
    if shapely.has_z(geometry).any():  # a 2D batch is kept as it is: no copy
        geometry = shapely.force_2d(geometry)
    name = frame.geometry.name
    frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=crs, name=name))
    if crs.equals(RD, ignore_axis_order=True):
        return frame.set_crs(RD, allow_override=True)
    moved = frame.to_crs(RD)
    coords = shapely.get_coordinates(moved.geometry.to_numpy())
    if not np.isfinite(coords).all():
        raise ReadError(
            f"{where}: coordinates do not fit the stated reference system {crs.name} "
            "(RD coordinates in a file that claims WGS84?)"
        )
    return moved


def bbox_in(bbox: tuple[float, float, float, float], source: pyproj.CRS, target: pyproj.CRS):
    """A bounding box moved to another CRS (the box around the moved box)."""
    if source.equals(target, ignore_axis_order=True):
        return tuple(bbox)
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return transformer.transform_bounds(*bbox)


# -- Geometry -----------------------------------------------------------------------------------


def clean_geometries(
    frame: gpd.GeoDataFrame, family: Family, bbox: shapely.Geometry | None
) -> tuple[gpd.GeoDataFrame, int, Counter]:
    """Keep the rows whose geometry is (or can be repaired into) the source's family.

    Returns the kept rows (polygons and lines single or multi: the writer stores them as Multi*;
    points stay Point unless really multi), the number repaired and the number dropped by reason.
    """
    dropped: Counter = Counter()
    geoms = frame.geometry.to_numpy().copy()
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
    name = frame.geometry.name
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs, name=name))
    return frame[keep], repaired_count, +dropped


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


def map_columns(
    frame: gpd.GeoDataFrame, source: Source, fallback_ids: Iterable
) -> gpd.GeoDataFrame:
    """Our frame: feature_id, our columns, properties (everything else) and geometry."""
    used: set[str] = set()
    out: dict[str, list] = {}
    id_columns = [c for c in source.id_candidates if c in frame.columns]
    used.update(id_columns)
    ids = _coalesce(frame, id_columns) if id_columns else None
    bag_ids_done = False
    if ids is not None and pd.api.types.is_string_dtype(ids.dtype) and not ids.hasnans:
        stripped = ids.str.strip()  # the common case, in vectorised passes
        out["feature_id"] = stripped.tolist()
        bag_ids_done = bool(stripped.str.fullmatch("[0-9]{16}").all())
    else:
        fallback = pd.Series(list(fallback_ids), index=frame.index, dtype=object)
        ids = fallback if ids is None else ids.astype(object).where(ids.notna(), fallback)
        out["feature_id"] = [_text(v) for v in plain_values(ids)]  # without an id: its place
    for column in source.columns:
        present = [c for c in source.candidates(column) if c in frame.columns]
        used.update(present)
        out[column] = plain_values(_coalesce(frame, present)) if present else [None] * len(frame)
    rest = [c for c in frame.columns if c not in used and c != frame.geometry.name]
    out["properties"] = _records(frame, rest)
    # object columns: pandas would otherwise infer str/float dtypes and turn None into NaN
    result = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    result.index = frame.index
    for column in source.bag_id_columns:
        if column == "feature_id" and bag_ids_done:
            continue
        if column in result.columns:
            result[column] = bag_ids(result[column].tolist())
        else:  # a source attribute kept in properties, e.g. BGT's identificatiebagpnd
            for properties in result["properties"]:
                if column in properties:
                    properties[column] = bag_id(properties[column])
    if source.derive is not None:
        result = _plain_frame(source.derive(result))
    order = [c for c in result.columns if c != "properties"] + ["properties"]
    return gpd.GeoDataFrame(result[order], geometry=frame.geometry.to_numpy(), crs=frame.crs)


def _plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a derive function assigned come back typed; make them plain objects again."""
    for column in frame.columns:
        if frame[column].dtype != object:
            frame[column] = pd.Series(plain_values(frame[column]), index=frame.index, dtype=object)
    return frame


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    if not columns:
        return [{} for _ in range(len(frame))]
    values = [plain_values(frame[c]) for c in columns]
    # lengths match by construction; strict checking costs a third of the time here
    return [dict(zip(columns, row, strict=False)) for row in zip(*values, strict=False)]


def _coalesce(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Per row, the first of these columns that has a value (schema variants in one file)."""
    values = frame[columns[0]]
    for column in columns[1:]:
        values = values.astype(object).where(values.notna(), frame[column].astype(object))
    return values


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an integer id that a float column stored as 1080.0
    return str(value).strip()
