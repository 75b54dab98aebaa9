"""`kaart solar compute`: the potential of every loaded BAG pand, stored in solar_potential.

    report = compute(connection, economics, progress=print)

Each building's inputs (its footprint, its 3DBAG roof parts, the model and the settings) are
hashed; only buildings whose hash changed since the last run are computed again, and buildings
no longer in the layer are removed. A layer reload that changes a few footprints therefore
recomputes only those. Everything happens on the caller's connection, chunk by chunk; the
caller decides whether each chunk is committed (`checkpoint`), which makes a run resumable.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from psycopg import sql
from sqlalchemy import Connection, text

from kaart.solar import model, roofs

BUILDING_LAYER = "bag-panden"
ROOF_LAYER = "3dbag-dakvlakken"
CHUNK = 5_000
PROGRESS_SECONDS = 5.0
# Bump when the computation changes in a way the constants below do not show.
METHOD_VERSION = "1"

Progress = Callable[[str], None]


class ComputeError(RuntimeError):
    """The inputs are missing (no building layer loaded) or unusable."""


@dataclass
class ComputeReport:
    building_layer: str
    buildings: int = 0
    computed: int = 0
    unchanged: int = 0
    removed: int = 0
    roof_parts: int = 0
    methods: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    dropped_parts: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped_parts.items()))
        return (
            f"solar: {self.building_layer}: {self.buildings:,} buildings, {self.computed:,} "
            f"computed, {self.unchanged:,} unchanged, {self.removed:,} removed; "
            f"skipped: {skipped}" + (f"; roof parts left out: {dropped}" if dropped else "")
        )


@dataclass(frozen=True)
class _Layer:
    table: str
    columns: tuple[str, ...]


def _layer(conn: Connection, name: str) -> _Layer | None:
    row = conn.execute(
        text("SELECT table_name, columns FROM layer WHERE name = :n AND table_name IS NOT NULL"),
        {"n": name},
    ).one_or_none()
    return _Layer(row.table_name, tuple(row.columns or ())) if row else None


def model_version(economics: roofs.Economics) -> str:
    """Everything besides a building's own data that its figures depend on."""
    parts = (
        METHOD_VERSION,
        model.climate_version(),
        repr(model.LOSSES),
        repr((model.ALBEDO, model.GAMMA_PDC, model.DC_AC_RATIO, model.INVERTER_EFFICIENCY)),
        repr((roofs.PANEL_AREA_M2, roofs.PANEL_WP, roofs.FLAT_TILT, roofs.FLAT_USABLE)),
        repr((roofs.PITCHED_USABLE, roofs.FLAT_SLOPE_MAX, roofs.CLASSES)),
        repr(economics),
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _chunk_sql(buildings: _Layer, parts: _Layer | None, first: bool) -> str:
    """One chunk of buildings in feature-id order after `:after` (keyset), each with the hash
    stored for it and, where the roof layer has them, its parts as one ordered JSON text (so
    that its hash changes exactly when a part does), looked up by the parts' building_id index.
    The stored hashes are bounded by the same key: without that PostgreSQL merged with
    solar_potential from its first row for every chunk (2.9 s a chunk at 8.5 million; 12 ms
    with it)."""
    table = sql.Identifier("open_data", buildings.table).as_string(None)
    year = "t.construction_year" if "construction_year" in buildings.columns else "NULL"
    usage = "t.usage" if "usage" in buildings.columns else "t.properties->>'gebruiksdoelen'"
    roof = "NULL::text"
    join = ""
    if parts is not None:
        part_table = sql.Identifier("open_data", parts.table).as_string(None)
        area3d = "r.area_3d" if "area_3d" in parts.columns else "NULL"
        area2d = "r.area_2d" if "area_2d" in parts.columns else "ST_Area(r.geom)"
        join = f"""
          LEFT JOIN LATERAL (
            SELECT json_agg(json_build_array(r.slope, r.azimuth, {area2d}, {area3d})
                            ORDER BY r.feature_id)::text AS parts
            FROM {part_table} r WHERE r.building_id = t.feature_id
          ) rp ON true
        """
        roof = "rp.parts"
    return f"""
        SELECT t.feature_id AS bag_id,
               md5(ST_AsEWKB(t.geom)) AS geom_hash,
               (ST_IsValid(t.geom) AND NOT ST_IsEmpty(t.geom)
                AND GeometryType(t.geom) IN ('POLYGON', 'MULTIPOLYGON')) AS valid,
               ST_Area(t.geom) AS area,
               {year}::integer AS construction_year,
               {usage}::text AS usage,
               {roof} AS parts,
               sp.inputs_hash AS stored_hash
        FROM {table} t {join}
        LEFT JOIN solar_potential sp
               ON sp.bag_id = t.feature_id AND sp.building_layer = :layer
                  {"" if first else "AND sp.bag_id > :after"}
        {"" if first else "WHERE t.feature_id > :after"}
        ORDER BY t.feature_id
        LIMIT :limit
    """


def _parts_index(conn: Connection, parts: _Layer) -> None:
    """Roof layers loaded before the loader indexed building_id get the index here (once)."""
    conn.execute(
        text(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (building_id)")
            .format(
                sql.Identifier(f"{parts.table}_building_id_idx"),
                sql.Identifier("open_data", parts.table),
            )
            .as_string(None)
        )
    )


def _remove_gone(conn: Connection, buildings: _Layer, building_layer: str) -> int:
    """Drop the potentials of buildings no longer in the layer, in one statement."""
    table = sql.Identifier("open_data", buildings.table).as_string(None)
    result = conn.execute(
        text(
            f"""
            DELETE FROM solar_potential sp WHERE sp.building_layer = :layer
              AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.feature_id = sp.bag_id)
            """
        ),
        {"layer": building_layer},
    )
    return result.rowcount


def compute(
    conn: Connection,
    economics: roofs.Economics,
    *,
    building_layer: str = BUILDING_LAYER,
    roof_layer: str = ROOF_LAYER,
    force: bool = False,
    progress: Progress = lambda _m: None,
    checkpoint: Callable[[], None] = lambda: None,
    chunk: int | None = None,
) -> ComputeReport:
    """Bring solar_potential up to date with the loaded layers; returns what was done.

    Buildings are read in chunks of `chunk` in feature-id order (keyset), so memory stays
    bounded at any layer size. `checkpoint` runs after each chunk is written: the `kaart`
    command commits there, so an interrupted run keeps what it wrote and the next run skips
    those buildings (their stored hash matches) and goes on where it stopped."""
    buildings = _layer(conn, building_layer)
    if buildings is None:
        raise ComputeError(f"no building layer {building_layer!r} is loaded; load it first")
    parts_layer = _layer(conn, roof_layer)
    if parts_layer is not None and not {"building_id", "slope", "azimuth"} <= set(
        parts_layer.columns
    ):
        raise ComputeError(f"{roof_layer} lacks building_id, slope or azimuth")
    if parts_layer is not None:
        _parts_index(conn, parts_layer)
    chunk = chunk or CHUNK
    report = ComputeReport(building_layer)
    report.removed = _remove_gone(conn, buildings, building_layer)
    checkpoint()
    total = conn.execute(
        text(f"SELECT count(*) FROM {sql.Identifier('open_data', buildings.table).as_string(None)}")
    ).scalar_one()
    progress(
        f"solar: {building_layer}: {total:,} buildings"
        + (f", roof parts from {roof_layer}" if parts_layer else ", footprints only")
        + f"; {report.removed:,} removed"
    )
    version = model_version(economics)
    table = model.yield_table()
    first, rest = (text(_chunk_sql(buildings, parts_layer, f)) for f in (True, False))
    after: str | None = None
    reported = time.monotonic()
    while True:
        statement, params = (first, {}) if after is None else (rest, {"after": after})
        params |= {"layer": building_layer, "limit": chunk}
        rows = conn.execute(statement, params).all()
        if not rows:
            break
        after = rows[-1].bag_id
        report.buildings += len(rows)
        todo = []
        for row in rows:
            digest = hashlib.sha256(f"{version}|{row.geom_hash}|{row.parts}".encode()).hexdigest()
            if force or row.stored_hash != digest:
                todo.append((row, digest))
        report.unchanged += len(rows) - len(todo)
        if todo:
            records = potentials([r for r, _ in todo], table, economics, report)
            for record, (_row, digest) in zip(records, todo, strict=True):
                record["inputs_hash"] = digest
                record["building_layer"] = building_layer
            _write(conn, records)
            report.computed += len(todo)
        checkpoint()
        if time.monotonic() - reported >= PROGRESS_SECONDS:
            reported = time.monotonic()
            progress(_progress_line(report, total))
    progress(_progress_line(report, total))
    return report


def _progress_line(report: ComputeReport, total: int) -> str:
    return (
        f"solar: checked {report.buildings:,} / {total:,}; "
        f"{report.computed:,} computed, {report.unchanged:,} unchanged"
    )


def _parts_of(row) -> tuple[list[tuple[float, float, float, float]], Counter]:
    """A building's usable 3DBAG roof parts as (tilt, azimuth, area, flat area), and what was
    left out and why (a part without a slope, or a sloped one without an azimuth)."""
    usable: list[tuple[float, float, float, float]] = []
    dropped: Counter = Counter()
    for slope, azimuth, area_2d, area_3d in json.loads(row.parts or "[]"):
        if slope is None or not 0 <= float(slope) <= 90:
            dropped["missing_slope"] += 1
            continue
        slope = float(slope)
        if azimuth is None and slope >= roofs.FLAT_SLOPE_MAX:
            dropped["missing_azimuth"] += 1
            continue
        flat_area = float(area_2d) if area_2d is not None else None
        if flat_area is None or flat_area <= 0:
            dropped["missing_area"] += 1
            continue
        area = float(area_3d) if area_3d else flat_area / max(np.cos(np.radians(slope)), 0.1)
        usable.append((slope, float(azimuth or 180.0), area, flat_area))
    return usable, dropped


def potentials(
    rows, table: model.YieldTable, economics: roofs.Economics, report: ComputeReport
) -> list[dict]:
    """The stored record of each building row, all yields in one vectorised pass."""
    index, tilt, azimuth, area, flat_area = [], [], [], [], []
    methods = []
    for i, row in enumerate(rows):
        if not row.valid:
            methods.append("none")
            continue
        parts, dropped = _parts_of(row)
        report.dropped_parts.update(dropped)
        report.roof_parts += len(parts)
        if parts:
            methods.append("roof_parts")
        else:  # no (usable) roof parts: the footprint as one flat roof
            methods.append("footprint")
            parts = [(0.0, 180.0, float(row.area), float(row.area))]
        for part in parts:
            index.append(i)
            tilt.append(part[0])
            azimuth.append(part[1])
            area.append(part[2])
            flat_area.append(part[3])
    arrays = roofs.Parts(
        np.asarray(index, dtype=np.int64),
        np.asarray(tilt, dtype=float),
        np.asarray(azimuth, dtype=float),
        np.asarray(area, dtype=float),
        np.asarray(flat_area, dtype=float),
    )
    result = roofs.part_yields(arrays, table, economics)
    totals = roofs.building_totals(len(rows), arrays, result, table, economics)
    per_building: list[list[dict]] = [[] for _ in rows]
    # Plain Python lists first: element access on numpy arrays is slow in a loop of 100,000s.
    columns = zip(
        arrays.building.tolist(),
        np.round(arrays.tilt, 1).tolist(),
        np.round(arrays.azimuth, 1).tolist(),
        np.round(arrays.area_m2, 1).tolist(),
        result.flat.tolist(),
        result.kept.tolist(),
        result.panels.astype(int).tolist(),
        np.round(result.kwp, 2).tolist(),
        np.round(result.kwh).astype(int).tolist(),
        np.round(result.plane_kwh_m2).astype(int).tolist(),
        strict=True,
    )
    for i, tilt_, azimuth_, area_, flat, kept, panels_, kwp_, kwh_, plane_ in columns:
        per_building[i].append(
            {
                "tilt": tilt_,
                "azimuth": azimuth_,
                "area_m2": area_,
                "layout": "east_west" if flat else "in_plane",
                "kept": kept,
                "panels": panels_,
                "kwp": kwp_,
                "kwh_year": kwh_,
                "plane_kwh_m2": plane_,
            }
        )
    records = []
    for i, row in enumerate(rows):
        method = methods[i]
        panels = int(totals.panels[i])
        reason = None
        if method == "none":
            reason = "invalid_footprint"
        elif panels == 0:
            reason = "too_small"
        report.methods[method] += 1
        if reason:
            report.skipped[reason] += 1
        records.append(
            {
                "bag_id": row.bag_id,
                "method": method,
                "skipped_reason": reason,
                "roof_area_m2": float(totals.roof_m2[i]),
                "usable_area_m2": float(totals.usable_m2[i]),
                "panels": panels,
                "kwp": float(totals.kwp[i]),
                "kwh_year": float(totals.kwh[i]),
                "kwh_per_kwp": None if panels == 0 else float(totals.kwh_per_kwp[i]),
                "suitability": str(totals.suitability[i]),
                "co2_kg_year": float(totals.co2_kg[i]),
                "households": float(totals.households[i]),
                "construction_year": row.construction_year,
                "usage": row.usage,
                "roof_parts": json.dumps(per_building[i]),
            }
        )
    return records


COLUMNS = (
    "bag_id",
    "building_layer",
    "inputs_hash",
    "method",
    "skipped_reason",
    "roof_area_m2",
    "usable_area_m2",
    "panels",
    "kwp",
    "kwh_year",
    "kwh_per_kwp",
    "suitability",
    "co2_kg_year",
    "households",
    "construction_year",
    "usage",
    "roof_parts",
)


def _write(conn: Connection, records: list[dict]) -> None:
    """COPY a batch into a staging table, then upsert it: ~5x faster than row inserts (bench/)."""
    if not records:
        return
    listed = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS solar_staging "
            "(LIKE solar_potential INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE solar_staging")
        with cursor.copy(f"COPY solar_staging ({listed}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([record[c] for c in COLUMNS])
        # The table's own constraints check every row as it moves over.
        cursor.execute(
            f"INSERT INTO solar_potential ({listed}, computed_at) "
            f"SELECT {listed}, now() FROM solar_staging "
            f"ON CONFLICT (bag_id) DO UPDATE SET {updates}, computed_at = excluded.computed_at"
        )
    finally:
        cursor.close()


economics_for = roofs.economics_for
