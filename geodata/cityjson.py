"""Read CityJSON (1.0, 1.1, 2.0) and CityJSONSeq (.city.jsonl, how 3DBAG ships tiles) as rows.

GDAL has no driver for CityJSON, so this reads the JSON itself; the format is small: vertices
are integers to multiply by ``transform.scale`` and shift by ``transform.translate``, and
geometries index into them (Solid: shells > surfaces > rings; MultiSurface: surfaces > rings).

Two row kinds, both in the file's horizontal CRS (RD New for 3DBAG's EPSG:7415):

* ``buildings``: one row per Building with its attributes; the footprint is its LoD0 surface,
  or, when a building has none, the 2D projection of the lowest LoD of it and its parts.
* ``roof_parts``: one row per RoofSurface face of the LoD2.2 geometry (or the highest LoD with
  roof semantics) of each building part, with the surface's own attributes (3DBAG:
  ``b3_azimut``, ``b3_hellingshoek``, ``b3_h_dak_*``) and, always, the slope, azimuth and areas
  computed from the face's 3D polygon (``normal_*``, ``area_2d``, ``area_3d``). The source
  definition uses the computed angles only where the attributes are missing.

Azimuth is the compass direction the roof faces, in degrees clockwise from north (0 = north,
180 = south); slope is the angle from horizontal. Both come from the Newell normal of the
face, turned upward; ``area_3d`` is the face's true area and ``area_2d`` its ground projection.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import Polygon

from geodata.batch import Batch
from geodata.errors import ReadError
from geodata.normalise import parse_crs

SUFFIXES = (".city.json", ".city.jsonl", ".jsonl")
# Malformed structures surface as one of these while walking the JSON.
_MALFORMED = (KeyError, IndexError, TypeError, ValueError)


@dataclass
class Header:
    path: Path
    crs: pyproj.CRS
    version: str
    scale: np.ndarray
    translate: np.ndarray
    sequence: bool  # CityJSONSeq: one feature per line after the header
    document: dict | None  # the whole file, when it is one CityJSON document


def is_cityjson(path: Path) -> bool:
    """CityJSON by name, or a .json file whose start says it is CityJSON."""
    name = path.name.lower()
    if name.endswith(SUFFIXES):
        return True
    if name.endswith(".json"):
        with path.open("rb") as handle:
            return b'"CityJSON"' in handle.read(4096)
    return False


def open_header(path: Path) -> Header:
    """Read the header (the first line of a sequence, or the whole document) and its CRS."""
    with path.open("rb") as handle:
        first = handle.readline()
        header = _complete_json(first)
        # A sequence starts with a header line whose CityObjects are empty.
        sequence = isinstance(header, dict) and not header.get("CityObjects")
        document = header if sequence else _load(first + handle.read(), path.name, 1)
    if not isinstance(document, dict) or document.get("type") != "CityJSON":
        raise ReadError(f"{path.name} is not CityJSON: its first object is not of type CityJSON")
    version = str(document.get("version", ""))
    if version.split(".")[0] not in ("1", "2"):
        raise ReadError(f"{path.name} is CityJSON version '{version}'; Wijkkaart reads 1.x and 2.0")
    reference = (document.get("metadata") or {}).get("referenceSystem")
    transform = document.get("transform") or {}
    return Header(
        path=path,
        crs=parse_crs(reference, path.name),
        version=version,
        scale=np.asarray(transform.get("scale", [1, 1, 1]), dtype=float),
        translate=np.asarray(transform.get("translate", [0, 0, 0]), dtype=float),
        sequence=sequence,
        document=None if sequence else document,
    )


def count_features(header: Header) -> int | None:
    """Number of features in a sequence (lines after the header); None for a document."""
    if not header.sequence:
        return None
    with header.path.open("rb") as handle:
        return sum(1 for line in handle if line.strip()) - 1


def rows(header: Header, kind: str, batch_size: int) -> Iterator[Batch]:
    """Batches of about batch_size rows (one building's rows stay together); ids = row ids."""
    make_rows = _building_rows if kind == "buildings" else _roof_rows
    records: list[dict] = []
    geometries: list = []
    ids: list[str] = []
    for objects, vertices in _chunks(header):
        for object_id, building in _buildings(objects):
            try:
                produced = make_rows(object_id, building, objects, vertices)
            except _MALFORMED as exc:
                raise ReadError(
                    f"{header.path.name}: city object {object_id} is malformed ({exc!r})"
                ) from exc
            for row_id, record, geometry in produced:
                ids.append(row_id)
                records.append(record)
                geometries.append(geometry)
            if len(records) >= batch_size:
                yield Batch.from_records(records, geometries, ids, header.crs)
                records, geometries, ids = [], [], []
    if records:
        yield Batch.from_records(records, geometries, ids, header.crs)


# -- Walking the file ---------------------------------------------------------------------------


def _chunks(header: Header) -> Iterator[tuple[dict, np.ndarray]]:
    """(CityObjects, real-world vertices) per feature of a sequence, or once for a document."""
    if header.document is not None:
        yield header.document.get("CityObjects") or {}, _vertices(header.document, header)
        return
    with header.path.open("rb") as handle:
        handle.readline()
        for number, line in enumerate(handle, start=2):
            if not line.strip():
                continue
            feature = _load(line, header.path.name, number)
            if not isinstance(feature, dict) or feature.get("type") != "CityJSONFeature":
                raise ReadError(f"{header.path.name}: line {number} is not a CityJSONFeature")
            yield feature.get("CityObjects") or {}, _vertices(feature, header)


def _vertices(container: dict, header: Header) -> np.ndarray:
    raw = np.asarray(container.get("vertices") or [], dtype=float).reshape(-1, 3)
    return raw * header.scale + header.translate


def _buildings(objects: dict) -> Iterator[tuple[str, dict]]:
    for object_id, city_object in objects.items():
        if city_object.get("type") == "Building" and not city_object.get("parents"):
            yield object_id, city_object


def _parts(building: dict, objects: dict) -> list[dict]:
    """The building itself and its BuildingParts: 3DBAG puts the solids on the parts."""
    return [building] + [objects[c] for c in building.get("children") or [] if c in objects]


def _load(data: bytes, name: str, line: int) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReadError(f"{name} is damaged: line {line} is not valid JSON ({exc.msg})") from exc


def _complete_json(line: bytes) -> Any:
    """The line as JSON, or None when it is only the start of a multi-line document."""
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


# -- Buildings ----------------------------------------------------------------------------------


def _building_rows(object_id: str, building: dict, objects: dict, vertices: np.ndarray):
    attributes = dict(building.get("attributes") or {})
    attributes.setdefault("identificatie", object_id)
    yield object_id, attributes, _footprint(building, objects, vertices)


def _footprint(building: dict, objects: dict, vertices: np.ndarray):
    lod0 = [g for g in building.get("geometry") or [] if _lod(g) == 0]
    if lod0:
        return _union([_polygon_2d(rings, vertices) for g in lod0 for rings, _ in _surfaces(g)])
    geometries = [g for part in _parts(building, objects) for g in part.get("geometry") or []]
    if not geometries:
        return None
    lowest = min(_lod(g) for g in geometries)
    chosen = [g for g in geometries if _lod(g) == lowest]
    polygons = []
    for geometry in chosen:
        surfaces = list(_surfaces(geometry))
        ground = [rings for rings, sem in surfaces if (sem or {}).get("type") == "GroundSurface"]
        for rings in ground or [rings for rings, _ in surfaces]:
            polygons.append(_polygon_2d(rings, vertices))
    return _union(polygons)


def _union(polygons: list[Polygon]):
    """One (Multi)Polygon from surfaces projected to 2D; walls project to nothing and go."""
    polygons = [shapely.make_valid(p) for p in polygons if p.area > 0]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)


# -- Roof parts ---------------------------------------------------------------------------------


def _roof_rows(object_id: str, building: dict, objects: dict, vertices: np.ndarray):
    index = 0
    for part in _parts(building, objects):
        geometry = _roof_geometry(part)
        if geometry is None:
            continue
        for rings, semantic in _surfaces(geometry):
            if (semantic or {}).get("type") != "RoofSurface":
                continue
            attributes = {k: v for k, v in semantic.items() if k != "type"}
            attributes.update(_orientation([vertices[np.asarray(r, dtype=int)] for r in rings]))
            attributes.update(
                identificatie=object_id, surface_index=index, lod=str(geometry["lod"])
            )
            yield f"{object_id}-{index}", attributes, _polygon_2d(rings, vertices)
            index += 1


def _roof_geometry(part: dict) -> dict | None:
    """LoD2.2 when present, else the highest LoD that marks roof surfaces."""
    with_roofs = [
        g
        for g in part.get("geometry") or []
        if any(
            s.get("type") == "RoofSurface" for s in (g.get("semantics") or {}).get("surfaces", [])
        )
    ]
    if not with_roofs:
        return None
    return max(with_roofs, key=lambda g: (_lod(g) == 2.2, _lod(g)))


def _orientation(rings: list[np.ndarray]) -> dict[str, float | None]:
    """Slope, azimuth and areas of a planar 3D face from its Newell normal."""
    origin = rings[0].mean(axis=0)  # centring keeps the sums precise with RD-sized coordinates
    normal = np.zeros(3)
    for ring in rings:
        p = ring - origin
        q = np.roll(p, -1, axis=0)
        normal += (
            np.sum((p[:, 1] - q[:, 1]) * (p[:, 2] + q[:, 2])),
            np.sum((p[:, 2] - q[:, 2]) * (p[:, 0] + q[:, 0])),
            np.sum((p[:, 0] - q[:, 0]) * (p[:, 1] + q[:, 1])),
        )
    if normal[2] < 0:
        normal = -normal  # a roof faces up, whatever the ring orientation
    length = float(np.linalg.norm(normal))
    across = math.hypot(normal[0], normal[1])
    azimuth = None
    if length > 0 and across > 1e-9 * length:
        azimuth = math.degrees(math.atan2(normal[0], normal[1])) % 360
    return {
        "normal_slope": math.degrees(math.atan2(across, normal[2])) if length > 0 else None,
        "normal_azimuth": azimuth,
        "area_3d": length / 2,
        "area_2d": abs(float(normal[2])) / 2,
    }


# -- Geometry helpers ---------------------------------------------------------------------------


def _lod(geometry: dict) -> float:
    return float(geometry.get("lod", 0))


def _surfaces(geometry: dict) -> Iterator[tuple[list, dict | None]]:
    """(rings, semantic surface or None) for every surface of a geometry, whatever its type."""
    depth = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1}.get(geometry["type"], 2)
    semantics = geometry.get("semantics") or {}
    kinds = semantics.get("surfaces") or []
    values = semantics.get("values")
    for rings, value in _walk(geometry["boundaries"], values, depth):
        yield rings, (kinds[value] if value is not None else None)


def _walk(boundaries: list, values: Any, depth: int) -> Iterator[tuple[list, int | None]]:
    """Flatten solids and shells down to surfaces, keeping each one's semantic value."""
    if depth == 0:
        for i, rings in enumerate(boundaries):
            yield rings, (values[i] if values is not None else None)
        return
    for i, inner in enumerate(boundaries):
        yield from _walk(inner, values[i] if values is not None else None, depth - 1)


def _polygon_2d(rings: list[list[int]], vertices: np.ndarray) -> Polygon:
    shell, *holes = (vertices[np.asarray(r, dtype=int)][:, :2] for r in rings)
    return Polygon(shell, holes)
