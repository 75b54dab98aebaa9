"""Bench: rooftop solar potential of 100,000 roofs (target: within 10 s on the 2-core machine).

  M  the model alone: the (tilt, azimuth) table built with pvlib (once per process), then one
     vectorised pass over 100,000 synthetic buildings with ~175,000 roof parts (flat roofs,
     gable roofs of two planes in any direction, some with a dormer cheek below the minimum).
  E  end to end on PostGIS: 100,000 synthetic BAG panden (bench/synthetic.py) loaded as
     `bag-panden`, then `kaart solar compute` (compute()): the first run, a second run with
     nothing changed, and a run after 1 % of the footprints changed.

    make bench-solar
    python -m bench.solar [--n 100000] [--skip-db] [--keep]

E uses its own database (<name>_bench_solar) next to KAART_DATABASE_URL, dropped at the end
unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from sqlalchemy import create_engine, text

from kaart.solar import model, roofs
from kaart.solar.compute import compute

TARGET_S = 10.0
SEED = 2026


def synthetic_parts(n: int, seed: int = SEED) -> roofs.Parts:
    """Roof parts of n buildings: 40 % flat, 60 % gable (two opposite planes at 20–55°), and a
    quarter of the gables with a 4–7 m² dormer cheek that the minimum area leaves out."""
    rng = np.random.default_rng(seed)
    flat = rng.random(n) < 0.4
    footprint = rng.uniform(30, 400, n)
    index, tilt, azimuth, area = [], [], [], []
    flat_ids = np.flatnonzero(flat)
    index.append(flat_ids)
    tilt.append(rng.uniform(0, 5, flat_ids.size))
    azimuth.append(rng.uniform(0, 360, flat_ids.size))
    area.append(footprint[flat_ids])
    gables = np.flatnonzero(~flat)
    slope = rng.uniform(20, 55, gables.size)
    facing = rng.uniform(0, 360, gables.size)
    plane = footprint[gables] / 2 / np.cos(np.radians(slope))
    for turn in (0.0, 180.0):
        index.append(gables)
        tilt.append(slope)
        azimuth.append((facing + turn) % 360)
        area.append(plane)
    dormers = gables[rng.random(gables.size) < 0.25]
    index.append(dormers)
    tilt.append(np.full(dormers.size, 90.0))
    azimuth.append(rng.uniform(0, 360, dormers.size))
    area.append(rng.uniform(4, 7, dormers.size))
    tilts = np.concatenate(tilt)
    areas = np.concatenate(area)
    return roofs.Parts(
        np.concatenate(index),
        tilts,
        np.concatenate(azimuth),
        areas,
        areas * np.cos(np.radians(tilts)),
    )


def bench_model(n: int) -> list[tuple[str, float, str]]:
    rows = []
    start = time.perf_counter()
    table = model.build_table()
    rows.append(("M0 yield table (pvlib, 703 bins, once)", time.perf_counter() - start, ""))
    parts = synthetic_parts(n)
    economics = roofs.Economics()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = roofs.part_yields(parts, table, economics)
        totals = roofs.building_totals(n, parts, result, table, economics)
        best = min(best, time.perf_counter() - start)
    note = f"{parts.tilt.size:,} parts, {int((totals.panels > 0).sum()):,} with panels"
    rows.append((f"M1 {n:,} roofs, vectorised pass (best of 3)", best, note))
    rows.append(("M  table + pass", rows[0][1] + best, ""))
    return rows


def bench_end_to_end(n: int, keep: bool) -> list[tuple[str, float, str]]:
    from bench import synthetic
    from geodata.load import load_layer
    from kaart.schema import fresh_database

    base = os.environ.get("KAART_DATABASE_URL")
    if not base:
        sys.exit("KAART_DATABASE_URL is not set (make bench-solar sets it)")
    url = fresh_database(base, "bench_solar")
    engine = create_engine(url)
    rows = []
    try:
        path = synthetic.cached(n, progress=lambda m: print(m, file=sys.stderr))
        start = time.perf_counter()
        load_layer(engine, "bag-panden", path=path, progress=lambda _m: None)
        loaded = time.perf_counter() - start
        rows.append((f"E0 load {n:,} synthetic panden (not solar)", loaded, ""))
        economics = roofs.Economics()
        for label in ("E1 kaart solar compute, first run", "E2 again, nothing changed"):
            start = time.perf_counter()
            with engine.begin() as conn:
                report = compute(conn, economics)
            note = f"{report.computed:,} computed, {report.unchanged:,} unchanged"
            rows.append((label, time.perf_counter() - start, note))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE open_data.bag_panden SET geom = ST_Translate(geom, 0.5, 0) "
                    "WHERE fid % 100 = 0"
                )
            )
        start = time.perf_counter()
        with engine.begin() as conn:
            report = compute(conn, economics)
        note = f"{report.computed:,} computed, {report.unchanged:,} unchanged"
        rows.append(("E3 after 1 % of footprints changed", time.perf_counter() - start, note))
    finally:
        engine.dispose()
        if not keep:
            _drop(base, url)
    return rows


def _drop(base: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--skip-db", action="store_true", help="Only the model (M).")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    rows = bench_model(args.n)
    if not args.skip_db:
        rows += bench_end_to_end(args.n, args.keep)
    print(f"Solar potential bench, {args.n:,} roofs (target: M <= {TARGET_S:.0f} s)")
    print(f"{'measurement':48} {'seconds':>8}  notes")
    for label, seconds, note in rows:
        print(f"{label:48} {seconds:8.2f}  {note}")
    model_total = rows[2][1]
    verdict = "met" if model_total <= TARGET_S else "MISSED"
    print(
        f"table + {args.n:,}-roof pass: {model_total:.2f} s, target <= {TARGET_S:.0f} s: ", end=""
    )
    print(verdict)


if __name__ == "__main__":
    main()
