"""Benches S1 and S3: vector tiles of 300,000 synthetic BAG panden.

  S1  the densest z14 and the densest z16 tiles, one keep-alive connection each:
      GET /tiles/bag-panden/z/x/y.pbf through the app as deployed (`kaart serve`: gunicorn,
      2 workers), against
        floor  the plainest tile query over the same table, tile and attributes, run with psycopg
               on one autocommit connection: ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857),
               tile)) of the rows whose geometry meets the tile (plus the same 64-unit buffer,
               so both draw the same features), nothing else (see FLOOR_SQL);
        raw    the app's own statements (what kaart.services.tiles.render() sends, captured and
               replayed with psycopg as the app runs them: prepared, the tile in binary);
        TiPg   TiPg 1.6 under uvicorn on the same table (tiles endpoint, WebMercatorQuad, the
               same attributes).
      Every side is timed alike: from asking to having the tile's bytes in this process.
      Targets (issue 11): app p50 <= 1.1x the floor at z14 and <= 1.3x at z16.
  S3  every z10–z12 tile over the whole set: the app's per-tile feature cap holds and p95 ≤ 1 s.
      Buildings are drawn from z14 (the catalogue's zoom range for kind "building"), so for S3
      the bench database's catalogue lets bag-panden start at z10 to exercise the cap.

    make bench-tiles
    python -m bench.tiles [--n 300000] [--tiles 20] [--repeat 10] [--s3-repeat 5] [--keep]
    python -m bench.concurrency     (the same tiles from 8 and 32 clients at once, app vs TiPg)

It uses its own database (<name>_bench_tiles) next to KAART_DATABASE_URL, dropped at the end
unless --keep is given. TiPg is installed into its own virtualenv, bench/out/venv-tipg, never
into the project's. Features are counted by decoding the tiles (mapbox-vector-tile when it is
importable, else the protobuf fields layer -> feature are counted here).
"""

from __future__ import annotations

import http.client
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from sqlalchemy import event, make_url, text
from sqlalchemy.orm import Session

from bench import synthetic
from bench.client import KeepAlive
from bench.contributions import free_port, pct, start_app
from bench.layers_import import drop_database, libpq_url
from geodata.load import load_layer
from kaart.db import SERVING_OPTIONS, make_engine
from kaart.schema import fresh_database
from kaart.services import tiles
from kaart.views import tiles as tile_views

TILE_OK = (200, 204)  # an empty tile is an answer too

LAYER = "bag-panden"
TABLE = "open_data.bag_panden"
TIPG_VENV = synthetic.OUT / "venv-tipg"
TIPG_REQUIREMENT = "tipg>=1.6,<1.7"
TARGET_RAW = 1.25
TARGET_TIPG = 1.0
S1_ZOOMS = (14, 16)
TARGET_FLOOR = {14: 1.1, 16: 1.3}  # issue 11: app p50 / plain ST_AsMVT p50, per zoom
TARGET_S3_P95_MS = 1000.0


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)


# -- Tiles -------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator (XYZ) tile holding a WGS84 point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_over(bbox: list[float], z: int) -> list[tiles.Tile]:
    west, south, east, north = bbox
    x1, y1 = tile_of(west, north, z)
    x2, y2 = tile_of(east, south, z)
    return [tiles.Tile(z, x, y) for x in range(x1, x2 + 1) for y in range(y1, y2 + 1)]


def densest(conn: psycopg.Connection, candidates: list[tiles.Tile], count: int) -> list:
    """The `count` tiles holding the most buildings (ties by x, y): a fixed, dense list."""
    counted = []
    for t in candidates:
        n = conn.execute(
            f"SELECT count(*) FROM {TABLE} "
            "WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 28992)",
            (t.z, t.x, t.y),
        ).fetchone()[0]
        counted.append((-n, t.x, t.y, t))
    return [t for *_, t in sorted(counted)[:count]]


def mvt_features(data: bytes) -> int:
    """Features in an MVT tile, over all its layers."""
    if not data:
        return 0
    try:
        import mapbox_vector_tile
    except ImportError:
        return sum(_count_fields(layer, 2) for layer in _fields(data, 3))
    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(data).values())


def _fields(data: bytes, wanted: int):
    """The length-delimited protobuf fields numbered `wanted` (Tile.layers=3, Layer.features=2)."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if number == wanted:
                yield data[i : i + size]
            i += size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"not a vector tile (wire type {wire})")


def _count_fields(data: bytes, wanted: int) -> int:
    return sum(1 for _ in _fields(data, wanted))


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


# -- The three sides ----------------------------------------------------------------------------


class RawTiles:
    """The app's own tile statements, captured from render() and run directly with psycopg on a
    connection set up as the app runs them (kaart.db.prepared_row: autocommit, prepared on the
    server, the tile in binary, no parallel workers)."""

    def __init__(self, url: str):
        self.engine = make_engine(url)  # the app's engine settings
        self.captured: list[tuple[str, dict]] = []
        event.listen(self.engine, "before_cursor_execute", self._capture)
        self.conn = psycopg.connect(
            libpq_url(url), prepare_threshold=0, autocommit=True, options=SERVING_OPTIONS
        )
        self.queries: dict[tiles.Tile, list[tuple[str, dict]]] = {}

    def _capture(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        self.captured.append((statement, parameters))

    def prepare(self, tile: tiles.Tile) -> bytes:
        """Render once through the service, keeping the very statements it sent (the layer's
        catalogue row is read first; a full tile takes a second statement)."""
        with Session(self.engine) as session:
            layer = tiles.find_layer(session, LAYER)
            self.captured.clear()
            data = tiles.render(session, layer, tile)
        if self.captured:
            self.queries[tile] = list(self.captured)
        return data

    def get(self, tile: tiles.Tile) -> bytes:
        if tile not in self.queries:
            return b""  # render() sent nothing: the layer is not drawn at this zoom
        for statement, parameters in self.queries[tile]:
            row = self.conn.execute(statement, parameters, binary=True).fetchone()
            value = row[-1]  # the tile column (a z16 tile's statement counts its rows too)
        return bytes(value or b"")

    def picked(self, tile: tiles.Tile) -> int:
        """Rows the tile's LIMIT let through (EXPLAIN ANALYZE): at the cap or below."""
        statement, parameters = self.queries[tile][-1]
        plan = self.conn.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters, prepare=False
        )
        return max(_limit_rows(plan.fetchone()[0][0]["Plan"]), default=0)

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _limit_rows(node: dict):
    if node["Node Type"] == "Limit":
        yield node["Actual Rows"]
    for child in node.get("Plans", []):
        yield from _limit_rows(child)


# The floor: the plainest query that makes this layer's tile with the same attributes. The rows
# meeting the tile and its clip buffer (so that both sides draw the same features), each
# transformed and clipped by ST_AsMVTGeom, gathered by ST_AsMVT: no cap, no simplification, no
# RD domain clipping or densified envelope, nothing the app adds for correctness elsewhere.
FLOOR_SQL = """
    SELECT ST_AsMVT(mvt, %(name)s, %(extent)s, 'geom', 'fid')
    FROM (
      SELECT t.fid{attributes},
             ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                          %(extent)s, %(buffer)s, true) AS geom
      FROM {table} AS t
      WHERE t.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s),
                                   28992)
    ) AS mvt
"""


class FloorTiles:
    """FLOOR_SQL with psycopg on one keep-alive connection, set up like the app's (autocommit,
    no server-side prepared statements, no parallel workers: see kaart/db.py)."""

    def __init__(self, url: str, properties: list[str]):
        attributes = "".join(f", t.{sql.Identifier(c).as_string(None)}" for c in properties)
        table = sql.Identifier(*TABLE.split(".")).as_string(None)
        self.statement = FLOOR_SQL.format(attributes=attributes, table=table)
        self.conn = psycopg.connect(
            libpq_url(url), prepare_threshold=None, autocommit=True, options=SERVING_OPTIONS
        )

    def get(self, tile: tiles.Tile) -> bytes:
        params = {"z": tile.z, "x": tile.x, "y": tile.y, "name": LAYER}
        params |= {"extent": tiles.EXTENT, "buffer": tiles.BUFFER, "margin": tiles.MARGIN}
        value = self.conn.execute(self.statement, params).fetchone()[0]
        return bytes(value or b"")

    def close(self) -> None:
        self.conn.close()


def tipg_python() -> Path:
    """TiPg's own virtualenv under bench/out, made on first use."""
    python = TIPG_VENV / "bin" / "python"
    ok = python.exists() and subprocess.run(
        [python, "-c", "import tipg, uvicorn"], capture_output=True
    )
    if not ok or ok.returncode != 0:
        say(f"installing TiPg into {TIPG_VENV} (once)")
        subprocess.run(["python3", "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", TIPG_REQUIREMENT, "uvicorn"], check=True
        )
    return python


def tipg_settings(python: Path) -> tuple[str, int, int]:
    """TiPg's version and the MVT settings it runs with: feature limit and buffer."""
    script = (
        "import tipg; from tipg.settings import MVTSettings; s = MVTSettings(); "
        "print(tipg.__version__, s.max_features_per_tile, s.tile_buffer)"
    )
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True)
    version, limit, buffer = out.stdout.split()
    return version, int(limit), int(buffer)


def tipg_database_url(url: str) -> str:
    """The database for TiPg. Its settings refuse a URL without a host, so a Unix socket
    directory (`?host=/path`) goes in as a percent-encoded host, which asyncpg decodes."""
    parsed = make_url(url)
    socket = parsed.query.get("host")
    if parsed.host or not socket:
        return libpq_url(url)
    login = quote(parsed.username or "", safe="")
    if parsed.password:
        login += ":" + quote(parsed.password, safe="")
    port = f":{parsed.port}" if parsed.port else ""
    return f"postgresql://{login}@{quote(socket, safe='')}{port}/{parsed.database}"


def start_tipg(python: Path, url: str, port: int, workers: int = 1) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": tipg_database_url(url),
        "TIPG_DB_SCHEMAS": '["open_data"]',
        "TIPG_DB_TABLES": f'["{TABLE}"]',
        "TIPG_CATALOG_TTL": "3600",
    }
    command = [python, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    command += ["--workers", str(workers)]
    with open(synthetic.OUT / "tipg.log", "wb") as log:  # the server keeps its own copy
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=synthetic.OUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", f"/collections/{TABLE}")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
        finally:
            conn.close()
    proc.kill()
    raise SystemExit(f"bench: TiPg did not start; see {synthetic.OUT / 'tipg.log'}")


# -- Measuring ----------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    samples: dict[tiles.Tile, list[float]] = field(default_factory=dict)  # ms per request
    features: dict[tiles.Tile, int] = field(default_factory=dict)
    sizes: dict[tiles.Tile, int] = field(default_factory=dict)

    def ms(self, only: list | None = None) -> list[float]:
        return [v for t, vs in self.samples.items() if only is None or t in only for v in vs]


def measure(sides: list[tuple[Series, Callable]], tile_list: list, repeat: int) -> None:
    """A warm-up pass, then `repeat` rounds over the tiles, the sides taking turns first."""
    for series, fetch in sides:
        for t in tile_list:
            data = fetch(t)
            series.features[t] = mvt_features(data)
            series.sizes[t] = len(data)
    for r in range(repeat):
        for i, t in enumerate(tile_list):
            shift = (r + i) % len(sides)
            for series, fetch in sides[shift:] + sides[:shift]:
                t0 = time.perf_counter()
                fetch(t)
                series.samples.setdefault(t, []).append((time.perf_counter() - t0) * 1000)
        say(f"  round {r + 1}/{repeat}")


def app_path(t: tiles.Tile) -> str:
    return f"/tiles/{LAYER}/{t.z}/{t.x}/{t.y}.pbf"


def tipg_path(t: tiles.Tile, properties: list[str]) -> str:
    query = "properties=" + quote(",".join(properties))
    return f"/collections/{TABLE}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}?{query}"


def app_fetch(client: KeepAlive) -> Callable[[tiles.Tile], bytes]:
    def fetch(t: tiles.Tile) -> bytes:
        return client.get(app_path(t), TILE_OK)[1]

    return fetch


def tipg_fetch(client: KeepAlive, properties: list[str]) -> Callable[[tiles.Tile], bytes]:
    def fetch(t: tiles.Tile) -> bytes:
        return client.get(tipg_path(t, properties), TILE_OK)[1]

    return fetch


# -- Reporting ----------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "missed"


def print_s1(args, s1: dict[int, tuple[list, list[Series]]], settings) -> None:
    version, tipg_limit, tipg_buffer = settings
    print()
    print(
        f"S1 dense tiles: the {args.tiles} densest tiles at each zoom over {args.n:,} synthetic "
        f"BAG panden, {args.repeat} rounds, one keep-alive connection per side"
    )
    print(f"{'zoom':5} {'side':38} {'p50':>8} {'p95':>8} {'features/tile':>15} {'KiB/tile':>9}")
    for z, (_tile_list, sides) in sorted(s1.items()):
        for series in sides:
            counts = list(series.features.values())
            size = sum(series.sizes.values()) / len(series.sizes) / 1024
            print(
                f"z{z:<4} {series.name:38} {pct(series.ms(), 0.5):6.1f}ms "
                f"{pct(series.ms(), 0.95):6.1f}ms {min(counts):>7,}–{max(counts):<7,} {size:8.0f}"
            )
    for z, (tile_list, (floor, raw, app, tipg)) in sorted(s1.items()):
        same = sum(app.features[t] == floor.features[t] for t in tile_list)
        print(
            f"z{z}: features equal to the floor's in {same} of {len(tile_list)} tiles; "
            f"app/raw (p50) {ratio(app, raw):.2f}x  target <= {TARGET_RAW:.2f}x: "
            f"{verdict(ratio(app, raw), TARGET_RAW)}; "
            f"app/TiPg {version} (p50) {ratio(app, tipg):.2f}x  target <= {TARGET_TIPG:.2f}x: "
            f"{verdict(ratio(app, tipg), TARGET_TIPG)}"
        )
    print(
        f"(floor: FLOOR_SQL in bench/tiles.py, the plain ST_AsMVT(ST_AsMVTGeom(...)) of the same "
        f"rows and attributes; raw: the statements render() sends, replayed as the app runs them "
        f"(prepared, binary), same bytes asserted; "
        f"TiPg: feature limit {tipg_limit:,} and buffer {tipg_buffer} against the app's "
        f"{tiles.MAX_FEATURES:,} and {tiles.BUFFER})"
    )
    for z, (_tile_list, (floor, _raw, app, _tipg)) in sorted(s1.items()):
        value = ratio(app, floor)
        print(
            f"target: dense z{z} tiles, app / plain ST_AsMVT floor (p50): {value:.2f}x "
            f"({pct(app.ms(), 0.5):.1f} ms against {pct(floor.ms(), 0.5):.1f} ms)  "
            f"target <= {TARGET_FLOOR[z]:.1f}x: {verdict(value, TARGET_FLOOR[z])}"
        )


def ratio(a: Series, b: Series) -> float:
    return pct(a.ms(), 0.5) / pct(b.ms(), 0.5)


def print_s3(args, by_zoom: dict[int, list], app: Series, raw: Series, picked: dict) -> None:
    print()
    total = sum(len(v) for v in by_zoom.values())
    print(
        f"S3 z10–z12 tiles over all {args.n:,} panden: {total} tiles, {args.s3_repeat} rounds; "
        f"cap {tiles.MAX_FEATURES:,} features per tile"
    )
    print(
        f"{'zoom':6} {'tiles':>5} {'app p50':>9} {'app p95':>9} {'raw p50':>9} "
        f"{'max features':>13} {'at cap':>7} {'max KiB':>8}  cap holds"
    )
    for z, zoom_tiles in sorted(by_zoom.items()):
        app_ms, raw_ms = app.ms(zoom_tiles), raw.ms(zoom_tiles)
        most = max(app.features[t] for t in zoom_tiles)
        size = max(app.sizes[t] for t in zoom_tiles) / 1024
        capped = sum(picked[t] >= tiles.MAX_FEATURES for t in zoom_tiles)
        print(
            f"z{z:<5} {len(zoom_tiles):>5} {pct(app_ms, 0.5):7.1f}ms {pct(app_ms, 0.95):7.1f}ms "
            f"{pct(raw_ms, 0.5):7.1f}ms {most:>13,} {capped:>7} {size:8.0f}  "
            f"{'yes' if most <= tiles.MAX_FEATURES else 'NO'}"
        )
    p95 = pct(app.ms(), 0.95)
    print(
        f"all    {total:>5} {pct(app.ms(), 0.5):7.1f}ms {p95:7.1f}ms {pct(raw.ms(), 0.5):7.1f}ms  "
        f"app p95 <= {TARGET_S3_P95_MS:.0f}ms: {verdict(p95, TARGET_S3_P95_MS)}; "
        f"cap always holds: {'yes' if max(app.features.values()) <= tiles.MAX_FEATURES else 'NO'}"
    )
    print(
        "(features counted by decoding each tile; 'at cap': tiles whose LIMIT passed the full "
        "cap of rows, from EXPLAIN ANALYZE of the same statement; raw: that statement via psycopg)"
    )


# -- The run ------------------------------------------------------------------------------------


def prepare(
    base: str, path: Path, suffix: str = "bench_tiles"
) -> tuple[str, list[float], list[str]]:
    """The bench database (<name>_<suffix>) with the panden loaded: its URL, the layer's bbox
    and the attributes its tiles carry."""
    url = fresh_database(base, suffix)
    engine = make_engine(url)
    load_layer(engine, LAYER, path=path, force=True, progress=lambda _m: None)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT bbox, columns FROM layer WHERE name = :n"), {"n": LAYER}
        ).one()
    engine.dispose()
    return url, list(row.bbox), ["feature_id", *row.columns]


def check_same(raw: RawTiles, rendered: dict, tile_list: list) -> None:
    """The replayed statement gives what the service rendered: it is the same query."""
    for t in tile_list:
        assert raw.get(t) == rendered[t], f"raw and render() differ for {t}"


def run_s1(args, url, dense, raw, app_client, tipg_client, properties):
    """Each zoom's dense tiles from the four sides: {zoom: (tiles, [floor, raw, app, TiPg])}."""
    floor = FloorTiles(url, properties)
    results = {}
    try:
        for z, tile_list in sorted(dense.items()):
            rendered = {t: raw.prepare(t) for t in tile_list}
            check_same(raw, rendered, tile_list)
            sides = [
                (Series("floor: plain ST_AsMVT (psycopg)"), floor.get),
                (Series("raw: the app's SQL (psycopg)"), raw.get),
                (Series("app /tiles (kaart serve, 2 workers)"), app_fetch(app_client)),
                (Series("TiPg (uvicorn, 1 worker)"), tipg_fetch(tipg_client, properties)),
            ]
            say(f"S1: {len(tile_list)} z{z} tiles, {args.repeat} rounds")
            measure(sides, tile_list, args.repeat)
            results[z] = (tile_list, [series for series, _ in sides])
    finally:
        floor.close()
    return results


def run_s3(args, url, bbox, raw, app_client):
    by_zoom = {z: tiles_over(bbox, z) for z in (10, 11, 12)}
    every = [t for zoom_tiles in by_zoom.values() for t in zoom_tiles]
    status, _ = app_client.get(f"/tiles/{LAYER}/12/{every[-1].x}/{every[-1].y}.pbf", TILE_OK)
    say(f"S3: at z12 with the catalogue's zoom range the app answers {status}; starting at z10")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("UPDATE layer SET min_zoom = 10 WHERE name = %s", (LAYER,))
    # The app's workers keep a copy of the catalogue row for a few seconds: wait it out.
    time.sleep(tile_views.CATALOGUE_TTL_SECONDS + 0.5)
    rendered = {t: raw.prepare(t) for t in every}
    check_same(raw, rendered, every)
    app, raw_series = Series("app"), Series("raw")
    say(f"S3: {len(every)} tiles at z10–z12, {args.s3_repeat} rounds")
    measure([(app, app_fetch(app_client)), (raw_series, raw.get)], every, args.s3_repeat)
    return by_zoom, app, raw_series, {t: raw.picked(t) for t in every}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tiles", type=int, default=20, help="dense tiles per zoom in S1")
    parser.add_argument("--repeat", type=int, default=10, help="rounds over the S1 tiles")
    parser.add_argument("--s3-repeat", type=int, default=5, help="rounds over the S3 tiles")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--no-s3", action="store_true", help="S1 only")
    args = parser.parse_args(argv)
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")

    python = tipg_python()
    settings = tipg_settings(python)
    path = synthetic.cached(args.n, args.seed, progress=say)
    say(f"loading {args.n:,} panden into the bench database")
    url, bbox, properties = prepare(base, path)
    load = os.getloadavg()[0]
    procs: list[subprocess.Popen] = []
    clients: list[KeepAlive] = []
    raw = RawTiles(url)
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            dense = {z: densest(conn, tiles_over(bbox, z), args.tiles) for z in S1_ZOOMS}
        app_port, tipg_port = free_port(), free_port()
        procs.append(start_app(url, app_port))
        procs.append(start_tipg(python, url, tipg_port))
        app_client, tipg_client = KeepAlive(app_port), KeepAlive(tipg_port)
        clients += [app_client, tipg_client]
        s1 = run_s1(args, url, dense, raw, app_client, tipg_client, properties)
        s3 = None if args.no_s3 else run_s3(args, url, bbox, raw, app_client)
    finally:
        for client in clients:
            client.close()
        raw.close()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        if not args.keep:
            drop_database(url)
    print_s1(args, s1, settings)
    if s3 is not None:
        print_s3(args, *s3)
    print(
        f"({os.cpu_count()} cores; load average {load:.2f} when the measurements started, "
        f"{os.getloadavg()[0]:.2f} at the end: other work on the machine skews the figures)"
    )


if __name__ == "__main__":
    main()
