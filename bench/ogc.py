"""Bench S4: OGC API – Features items on 300,000 synthetic BAG panden, next to pygeoapi 0.21.

  small   items?bbox=<~250 m box in the densest part>&limit=1000
  large   items?bbox=<the whole layer>&limit=1000        (page 1)
  page50  page 50 of `large` (the app: the `next` cursor of page 49; pygeoapi: offset=49000)

Both serve the same table (open_data.bag_panden, RD New) as CRS84 GeoJSON under gunicorn with
2 workers, each measured over one keep-alive connection. pygeoapi 0.21 runs its PostgreSQL
provider from its own virtualenv, bench/out/venv-pygeoapi, never the project's.
Targets: app p50 ≤ 0.5× pygeoapi; large-bbox p50 ≤ 1.3× small-bbox; page 50 ≤ 1.5× page 1.

    make bench-ogc
    python -m bench.ogc [--n 300000] [--repeat 15] [--keep]
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import make_url, text

from bench import synthetic
from bench.client import KeepAlive
from bench.contributions import free_port, pct, start_app
from bench.layers_import import drop_database
from geodata.load import load_layer
from kaart.db import make_engine
from kaart.schema import fresh_database

LAYER = "bag-panden"
TABLE = "bag_panden"
LIMIT = 1000
PAGE = 50
VENV = synthetic.OUT / "venv-pygeoapi"
REQUIREMENTS = ["pygeoapi==0.21.0", "psycopg2-binary", "sqlalchemy<2.1", "geoalchemy2", "gunicorn"]
TARGET_PEER = 0.5
TARGET_LARGE = 1.3
TARGET_PAGE = 1.5


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)


def pygeoapi_bin() -> Path:
    """pygeoapi's own virtualenv under bench/out, made on first use."""
    python = VENV / "bin" / "python"
    ok = python.exists() and subprocess.run([python, "-c", "import pygeoapi"], capture_output=True)
    if not ok or ok.returncode != 0:
        say(f"installing pygeoapi 0.21 into {VENV} (once)")
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True)
    return VENV / "bin"


def pygeoapi_config(url: str, port: int) -> Path:
    """The server and collection configuration: the PostgreSQL provider on the bench table."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    data = {
        "host": host,
        "port": parsed.port or 5432,
        "dbname": parsed.database,
        "user": parsed.username or os.environ.get("USER", "postgres"),
        "password": parsed.password or "",
        "search_path": ["open_data", "public"],
    }
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": 100, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "-"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "terms_of_service": "-",
                "url": "http://127.0.0.1",
            },
            "license": {"name": "CC0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"},
            "provider": {"name": "bench", "url": "http://127.0.0.1"},
            "contact": {"name": "bench"},
        },
        "resources": {
            TABLE: {
                "type": "collection",
                "title": "panden",
                "description": "synthetic panden",
                "keywords": ["pand"],
                "extents": {"spatial": {"bbox": [3.0, 50.6, 7.4, 53.8]}},
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": data,
                        "id_field": "fid",
                        "table": TABLE,
                        "geom_field": "geom",
                        "storage_crs": "http://www.opengis.net/def/crs/EPSG/0/28992",
                        "crs": [
                            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                            "http://www.opengis.net/def/crs/EPSG/0/28992",
                        ],
                    }
                ],
            }
        },
    }
    path = synthetic.OUT / "pygeoapi.config.json"  # JSON is YAML too
    path.write_text(json.dumps(config, indent=2))
    return path


def start_pygeoapi(bin_dir: Path, config: Path, port: int) -> subprocess.Popen:
    openapi = synthetic.OUT / "pygeoapi.openapi.yml"
    subprocess.run(
        [bin_dir / "pygeoapi", "openapi", "generate", str(config), "--output-file", str(openapi)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    command = [bin_dir / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    command += ["pygeoapi.flask_app:APP"]
    with open(synthetic.OUT / "pygeoapi.log", "wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", f"/collections/{TABLE}?f=json")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"bench: pygeoapi did not start; see {synthetic.OUT / 'pygeoapi.log'}")


def prepare(base: str, path: Path) -> tuple[str, list[float], list[float]]:
    """The bench database with the panden: its URL, the layer's bbox and a small dense bbox."""
    url = fresh_database(base, "bench_ogc")
    engine = make_engine(url)
    load_layer(engine, LAYER, path=path, force=True, progress=lambda _m: None)
    with engine.connect() as conn:
        bbox = list(
            conn.execute(text("SELECT bbox FROM layer WHERE name = :n"), {"n": LAYER}).scalar_one()
        )
        # A square around the centre of the generated city, grown until it holds at least
        # twice a page, so that small and large bbox both answer full pages of 1,000.
        x, y = synthetic.CENTRE
        half = 100.0
        while True:
            small = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), (SELECT count(*) "
                    f"FROM open_data.{TABLE} t WHERE ST_Intersects(t.geom, ST_Transform("
                    "e, 28992))) FROM (SELECT ST_Transform(ST_MakeEnvelope("
                    ":x - :h, :y - :h, :x + :h, :y + :h, 28992), 4326) AS e) s"
                ),
                {"x": x, "y": y, "h": half},
            ).one()
            if small[4] >= 2 * LIMIT:
                break
            half *= 1.25
    engine.dispose()
    return url, bbox, list(small[:4])


def timed(client: KeepAlive, path: str, repeat: int) -> tuple[list[float], int]:
    _, body = client.get(path)  # warm-up
    count = len(json.loads(body)["features"])
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, count


def items_path(prefix: str, bbox: list[float], **extra) -> str:
    query = {"bbox": ",".join(f"{v:.6f}" for v in bbox), "limit": LIMIT, "f": "json", **extra}
    return f"{prefix}/collections/{quote(LAYER if prefix else TABLE)}/items?{urlencode(query)}"


def page50_path(client: KeepAlive, first: str) -> str:
    """Follow the app's `next` links to page 50 (as a client would); return its path."""
    path = first
    for _ in range(PAGE - 1):
        _, body = client.get(path)
        nxt = next(lk["href"] for lk in json.loads(body)["links"] if lk["rel"] == "next")
        parts = urlsplit(nxt)
        path = f"{parts.path}?{parts.query}"
    return path


def verdict(value: float, target: float) -> str:
    return f"target <= {target:.2f}x: {'met' if value <= target else 'MISSED'}"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")

    bin_dir = pygeoapi_bin()
    path = synthetic.cached(args.n, args.seed, progress=say)
    say(f"loading {args.n:,} panden into the bench database")
    url, large, small = prepare(base, path)
    load = os.getloadavg()[0]
    procs: list[subprocess.Popen] = []
    rows = []
    try:
        app_port, peer_port = free_port(), free_port()
        procs.append(start_app(url, app_port))
        procs.append(start_pygeoapi(bin_dir, pygeoapi_config(url, peer_port), peer_port))
        app, peer = KeepAlive(app_port), KeepAlive(peer_port)
        app_large = items_path("/ogc", large)
        cases = [
            ("small bbox, page 1", items_path("/ogc", small), items_path("", small)),
            ("large bbox, page 1", app_large, items_path("", large)),
            (
                f"large bbox, page {PAGE}",
                page50_path(app, app_large),
                items_path("", large, offset=(PAGE - 1) * LIMIT),
            ),
        ]
        for name, ours, theirs in cases:
            say(f"S4: {name}, {args.repeat} requests each")
            app_ms, app_n = timed(app, ours, args.repeat)
            peer_ms, peer_n = timed(peer, theirs, args.repeat)
            rows.append((name, app_ms, app_n, peer_ms, peer_n))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        if not args.keep:
            drop_database(url)
    report(args, rows, load)


def report(args, rows, load: float) -> None:
    print(
        f"S4 OGC API Features items, limit={LIMIT}, over {args.n:,} synthetic panden, "
        f"{args.repeat} requests per cell, one keep-alive connection each"
    )
    print(
        f"{'case':<22}{'app p50':>10}{'app p95':>10}{'features':>10}"
        f"{'pygeoapi p50':>14}{'p95':>10}{'features':>10}{'ratio p50':>11}"
    )
    p50 = {}
    for name, app_ms, app_n, peer_ms, peer_n in rows:
        a, b = pct(app_ms, 0.5), pct(peer_ms, 0.5)
        p50[name] = a
        print(
            f"{name:<22}{a:>8.1f}ms{pct(app_ms, 0.95):>8.1f}ms{app_n:>10,}"
            f"{b:>12.1f}ms{pct(peer_ms, 0.95):>8.1f}ms{peer_n:>10,}{a / b:>10.2f}x"
        )
        print(f"{'':<22}app / pygeoapi 0.21 (p50) {a / b:.2f}x  {verdict(a / b, TARGET_PEER)}")
    small, large, deep = (p50[name] for name, *_ in rows)
    ratio = large / small
    print(f"large / small bbox (app p50): {ratio:.2f}x  {verdict(ratio, TARGET_LARGE)}")
    print(
        f"page {PAGE} / page 1 (app p50): {deep / large:.2f}x  {verdict(deep / large, TARGET_PAGE)}"
    )
    print(
        f"(app: gunicorn 2 workers; pygeoapi: gunicorn 2 workers, PostgreSQL provider; "
        f"{os.cpu_count()} cores, load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end)"
    )


if __name__ == "__main__":
    main()
