"""Synthetic BAG-like building footprints (layer `pand`, EPSG:28992) for the layer benches.

A dense Dutch city around Amsterdam-Oost/Weesp: districts of 1 km² laid out in a spiral
from (125000, 485000), each with its own street-grid rotation, block size and building period.
Blocks have a row of lots along both long sides; a lot holds a rectangle (sometimes a wide
apartment building) or an L-shape with a rear extension, 5–30 m. Attributes follow the BAG
2.0 extract: `identificatie` (16 digits, gemeente 0363, object type 10), `bouwjaar`, `status`,
`gebruiksdoel`, `aantal_verblijfsobjecten`. The same n and seed always give the same features,
and the first n features of a larger set are the same as a smaller set's.

    python -m bench.synthetic --n 300000            # writes (or reuses) bench/out/…gpkg
    path = synthetic.cached(300_000)                # the same, from Python
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

OUT = Path(__file__).resolve().parent / "out"
VERSION = 2  # bump when the generated data changes, so cached files are not reused
CENTRE = (125_000.0, 485_000.0)  # RD New, between Amsterdam centre and Weesp
DISTRICT = 1000.0  # m
LAYER = "pand"
BATCH = 50_000

STATUS = (
    ("Pand in gebruik", 0.93),
    ("Pand in gebruik (niet ingemeten)", 0.03),
    ("Verbouwing pand", 0.02),
    ("Bouw gestart", 0.01),
    ("Sloopvergunning verleend", 0.01),
)
USAGE = (
    ("woonfunctie", 0.75),
    ("woonfunctie,winkelfunctie", 0.05),
    ("winkelfunctie", 0.06),
    ("kantoorfunctie", 0.05),
    ("industriefunctie", 0.04),
    ("bijeenkomstfunctie", 0.03),
    ("onderwijsfunctie", 0.01),
    ("gezondheidszorgfunctie", 0.01),
)
PERIODS = (1650, 1890, 1925, 1960, 1985, 2005)


def path_for(n: int, seed: int) -> Path:
    return OUT / f"synthetic-pand-v{VERSION}-n{n}-seed{seed}.gpkg"


def cached(n: int, seed: int = 2026, progress=None) -> Path:
    """The GeoPackage for (n, seed), written once and reused afterwards."""
    path = path_for(n, seed)
    if not path.exists():
        write(path, n, seed, progress)
    return path


def write(path: Path, n: int, seed: int = 2026, progress=None) -> None:
    """Write n footprints to `path` in batches (a partial file never keeps the final name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")
    partial.unlink(missing_ok=True)
    written = 0
    for frame in frames(n, seed):
        # GeoPackage 1.2, as PDOK's files are; Debian's GDAL 3.6 (ogr2ogr) warns about 1.4.
        pyogrio.write_dataframe(
            frame,
            partial,
            layer=LAYER,
            driver="GPKG",
            append=written > 0,
            dataset_options={"VERSION": "1.2"},
        )
        written += len(frame)
        if progress:
            progress(f"synthetic: {written:,} / {n:,} buildings")
    partial.rename(path)


def frames(n: int, seed: int = 2026, batch: int = BATCH) -> Iterator[gpd.GeoDataFrame]:
    """GeoDataFrames of at most `batch` footprints, n in all, in EPSG:28992."""
    if n <= 0:
        return
    pending: list[gpd.GeoDataFrame] = []
    held = done = 0
    for k, (i, j) in enumerate(_spiral()):
        frame = _district(np.random.default_rng([seed, k]), i, j)
        frame = frame.iloc[: n - done - held]
        pending.append(frame)
        held += len(frame)
        while held >= batch or (held and done + held >= n):
            whole = pd.concat(pending, ignore_index=True)
            out, rest = whole.iloc[:batch], whole.iloc[batch:]
            yield _finish(out, done)
            done += len(out)
            pending, held = ([rest], len(rest)) if len(rest) else ([], 0)
        if done >= n:
            return


def _finish(frame: gpd.GeoDataFrame, start: int) -> gpd.GeoDataFrame:
    ids = [f"036310{start + i + 10_000_000:010d}" for i in range(len(frame))]
    frame = frame.reset_index(drop=True)
    frame.insert(0, "identificatie", ids)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:28992")


def _spiral() -> Iterator[tuple[int, int]]:
    """District grid cells ring by ring around the centre, so any n makes a compact city."""
    yield 0, 0
    ring = 1
    while True:
        cells = [(i, j) for i in range(-ring, ring + 1) for j in range(-ring, ring + 1)]
        cells = [c for c in cells if max(abs(c[0]), abs(c[1])) == ring]
        cells.sort(key=lambda c: np.arctan2(c[1], c[0]))
        yield from cells
        ring += 1


def _district(rng: np.random.Generator, i: int, j: int) -> gpd.GeoDataFrame:
    """The buildings of one 1 km × 1 km district, on its own rotated street grid."""
    cx, cy = CENTRE[0] + i * DISTRICT, CENTRE[1] + j * DISTRICT
    angle = np.radians(rng.uniform(-35, 35))
    length, width = rng.uniform(70, 130), rng.uniform(44, 64)  # block size
    street = rng.uniform(10, 18)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    half = DISTRICT / 2 - street / 2
    rings: list[np.ndarray] = []
    steps_x = np.arange(-DISTRICT, DISTRICT, length + street)
    steps_y = np.arange(-DISTRICT, DISTRICT, width + street)
    for bx in steps_x:
        for by in steps_y:
            corners = np.array([[bx, by], [bx + length, by + width]])
            box = np.array([corners[[0, 1, 1, 0], 0], corners[[0, 0, 1, 1], 1]]).T
            world = box @ rotation.T
            if np.abs(world).max() > half or rng.random() < 0.08:  # outside, or a park
                continue
            for side in (0, 1):
                rings += _row(rng, bx, by, length, width, side)
    if not rings:
        return _empty()
    polygons = []
    for ring in rings:
        xy = ring @ rotation.T + (cx, cy)
        polygons.append(np.round(xy, 3))
    geoms = shapely.polygons([shapely.linearrings(p) for p in polygons])
    return _attributes(rng, geoms)


def _row(rng, bx: float, by: float, length: float, width: float, side: int) -> list[np.ndarray]:
    """Lots along one long side of a block: rectangles, wide buildings and L-shapes."""
    out = []
    x = bx
    while True:
        wide = rng.random() < 0.1
        lot = rng.uniform(15, 30) if wide else rng.uniform(5, 12)
        if x + lot > bx + length:
            break
        depth = min(rng.uniform(12, 20) if wide else rng.uniform(8, 15), width / 2 - 1)
        if side == 0:
            y0, sign = by, 1.0
        else:
            y0, sign = by + width, -1.0
        if not wide and rng.random() < 0.25 and depth + 3 < width / 2 - 1:
            ext = rng.uniform(3, min(8, width / 2 - 1 - depth))
            part = lot * rng.uniform(0.4, 0.7)
            ys = [y0, y0, y0 + sign * depth, y0 + sign * depth, y0 + sign * (depth + ext)]
            ys += [y0 + sign * (depth + ext)]
            xs = [x, x + lot, x + lot, x + part, x + part, x]
        else:
            xs = [x, x + lot, x + lot, x]
            ys = [y0, y0, y0 + sign * depth, y0 + sign * depth]
        ring = np.column_stack([xs, ys])
        out.append(ring if side == 0 else ring[::-1])  # counter-clockwise either way
        x += lot
    return out


def _attributes(rng: np.random.Generator, geoms: np.ndarray) -> gpd.GeoDataFrame:
    count = len(geoms)
    period = rng.choice(PERIODS)
    year = np.round(rng.normal(period, 12, count)).astype(int)
    other = rng.random(count) < 0.05  # infill from any time
    year[other] = rng.integers(1600, 2025, other.sum())
    year = np.clip(year, 1400, 2025)
    status = rng.choice([s for s, _ in STATUS], count, p=[p for _, p in STATUS])
    usage = rng.choice([u for u, _ in USAGE], count, p=[p for _, p in USAGE])
    area = shapely.area(geoms)
    units = np.where(area > 250, np.maximum(1, (area // 60).astype(int)), 1)
    return gpd.GeoDataFrame(
        {
            "bouwjaar": year,
            "status": status,
            "gebruiksdoel": usage,
            "aantal_verblijfsobjecten": units,
        },
        geometry=geoms,
        crs="EPSG:28992",
    )


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "bouwjaar": pd.Series(dtype=int),
            "status": pd.Series(dtype=object),
            "gebruiksdoel": pd.Series(dtype=object),
            "aantal_verblijfsobjecten": pd.Series(dtype=int),
        },
        geometry=gpd.GeoSeries([], crs="EPSG:28992"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    path = cached(args.n, args.seed, progress=lambda m: print(m, file=sys.stderr))
    print(path)


if __name__ == "__main__":
    main()
