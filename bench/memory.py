"""Bench R1: the memory of a serving worker after warm-up, the app against TiPg.

Starts the app as deployed (`kaart serve`: gunicorn, 2 workers) on a database holding what
users see (the demo buurten, 100,000 synthetic BAG panden with their rooftop solar potential,
5,000 contributions in Weesp Centrum, one staff account), warms it up with every kind of request
users make, over 8 keep-alive connections at once so that both workers serve each kind several
times, then reads each worker's memory from /proc:
  RSS  resident pages (VmRSS), shared ones included: what `ps`/`top` show, the target's measure;
  PSS  resident pages with each shared page divided among the processes sharing it
       (/proc/<pid>/smaps_rollup): what the workers together really take.
The warm-up (warm_up_paths, as_staff): the map page in Dutch and English, the list API (pages
of 1,000), one contribution and its page, layers and buurten, vector tiles of contributions and
of the open layers (the densest bag-panden tiles at z14 and z16), OGC API items of both
collections and Open311, the processes, privacy and /coop pages, the co-operatives' API
(shortlist as JSON and CSV, a building, their tiles); as staff: log in, /beheer, the overview,
and last the exports as CSV and GeoJSON (each worker's RSS is printed before them too). Not in
it: the GeoPackage exports and the single-roof estimate, which import GDAL or pvlib in the
worker that serves them (see the README). TiPg 1.6 (uvicorn, 2 workers) serves the same panden
and is warmed up with its collections, items and tiles, for reference.
Target (issue 11): every serving worker <= 120 MiB RSS after warm-up.

    make bench-memory
    python -m bench.memory [--n 100000] [--contributions 5000] [--rounds 3] [--keep]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench import contributions as seeded
from bench import synthetic
from bench.client import KeepAlive
from bench.contributions import WEESP, free_port, start_app
from bench.layers_import import drop_database, libpq_url
from bench.tiles import (
    LAYER,
    TABLE,
    TILE_OK,
    app_path,
    densest,
    prepare,
    say,
    start_tipg,
    tile_of,
    tiles_over,
    tipg_path,
    tipg_python,
    tipg_settings,
)
from geodata.load import load_layer
from geodata.sources import amsterdam_buurten
from kaart.db import transaction
from kaart.services import users
from kaart.solar import roofs
from kaart.solar.compute import compute

TARGET_MIB = 120.0
WORKERS = 2
CONNECTIONS = 8
STAFF_EMAIL = "planner@bench.example"
STAFF_PASSWORD = "bench-planner-password-2026"  # a throwaway bench database


# -- Processes ----------------------------------------------------------------------------------


@dataclass
class Memory:
    pid: int
    rss_mib: float
    pss_mib: float
    cpu_s: float


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the server's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def memory(pid: int) -> Memory:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    pss = int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return Memory(pid, rss / 1024, pss / 1024, cpu)


def workers(server: subprocess.Popen) -> list[int]:
    """The server's worker processes (uvicorn's multiprocessing helpers left out)."""
    pids = []
    for pid in children(server.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in cmdline:
            pids.append(pid)
    if len(pids) != WORKERS:
        raise SystemExit(f"bench: expected {WORKERS} workers under {server.pid}, found {pids}")
    return pids


# -- The data -----------------------------------------------------------------------------------


@dataclass
class Data:
    url: str
    dense: list  # the two densest bag-panden tiles at z14 and at z16
    properties: list[str]
    contribution: str
    building: str
    near: str  # the densest z14 tile as a GeoJSON polygon, for the shortlist
    near_bbox: str  # and as a bbox


def prepare_data(base: str, args) -> Data:
    path = synthetic.cached(args.n, args.seed, progress=say)
    say(f"loading {args.n:,} panden, the demo buurten and {args.contributions:,} contributions")
    url, bbox, properties = prepare(base, path, "bench_memory")
    engine = create_engine(url)
    load_layer(
        engine, "amsterdam-buurten", path=amsterdam_buurten.DEMO_FILE, progress=lambda _m: None
    )
    say("computing the panden's rooftop solar potential (pvlib, in this process)")
    with engine.begin() as conn:
        compute(conn, roofs.Economics())
    with Session(engine) as session, transaction(session):
        users.create(session, STAFF_EMAIL, STAFF_PASSWORD, ["planner"], "Bench planner")
    engine.dispose()
    seeded.seed(url, args.contributions)
    with psycopg.connect(libpq_url(url)) as conn:
        dense = [t for z in (14, 16) for t in densest(conn, tiles_over(bbox, z), 2)]
        contribution = conn.execute("SELECT id FROM contribution LIMIT 1").fetchone()[0]
        building = conn.execute(
            "SELECT bag_id FROM solar_potential WHERE panels > 0 ORDER BY bag_id LIMIT 1"
        ).fetchone()[0]
        near, box = conn.execute(
            "SELECT ST_AsGeoJSON(e, 6), concat_ws(',', ST_XMin(e), ST_YMin(e), ST_XMax(e), "
            "ST_YMax(e)) FROM ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326) AS e",
            (dense[0].z, dense[0].x, dense[0].y),
        ).fetchone()
    return Data(url, dense, properties, str(contribution), building, near, box)


def warm_up_paths(data: Data) -> list[tuple[str, tuple[int, ...]]]:
    """What users ask for, with the answers that are fine (a tile may be empty)."""
    bbox = ",".join(str(v) for v in WEESP)
    lon, lat = (WEESP[0] + WEESP[2]) / 2, (WEESP[1] + WEESP[3]) / 2
    shortlist = "/api/v1/solar/shortlist?polygon=" + urllib.parse.quote(data.near)
    paths = [
        ("/", (200,)),
        ("/?lang=en", (200,)),
        (f"/api/v1/contributions?bbox={bbox}&limit=1000", (200,)),
        ("/api/v1/contributions?limit=100", (200,)),
        (f"/api/v1/contributions/{data.contribution}", (200,)),
        (f"/bijdragen/{data.contribution}", (200,)),
        ("/api/v1/layers", (200,)),
        (f"/api/v1/buurten?bbox={bbox}", (200,)),
        (f"/api/v1/layers/{LAYER}/features?bbox={data.near_bbox}&limit=1000", (200,)),
        ("/ogc/collections", (200,)),
        (f"/ogc/collections/{LAYER}/items?limit=1000", (200,)),
        (f"/ogc/collections/contributions/items?bbox={bbox}&limit=1000", (200,)),
        ("/open311/v2/requests.json", (200,)),
        ("/trajecten", (200,)),
        ("/privacy", (200,)),
        ("/coop", (200,)),
        (shortlist, (200,)),
        (shortlist + "&format=csv", (200,)),
        (f"/api/v1/solar/buildings/{data.building}", (200,)),
        ("/api/v1/openapi.json", (200,)),
    ]
    for z in (12, 14, 16):
        x, y = tile_of(lon, lat, z)
        paths.append((f"/tiles/contributions/{z}/{x}/{y}.pbf", TILE_OK))
        paths.append((f"/tiles/amsterdam-buurten/{z}/{x}/{y}.pbf", TILE_OK))
    for t in data.dense:
        paths.append((app_path(t), TILE_OK))
        paths.append((f"/coop/tiles/{t.z}/{t.x}/{t.y}.pbf", TILE_OK))
    return paths


STAFF_PAGES = ("/beheer", "/beheer/overzicht")
EXPORTS = ("/beheer/export.csv", "/beheer/export.geojson")


def as_staff(port: int, paths: tuple[str, ...]) -> None:
    """Log in as a planner (a fresh connection per request, as a browser might) and ask."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/inloggen") as response:
        form = response.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token}
    ).encode()
    with opener.open(f"{base}/inloggen", body) as response:
        response.read()
    if not any(cookie.name == "kaart_session" for cookie in jar):
        raise SystemExit("bench: logging in as staff failed")
    for path in paths:
        with opener.open(base + path) as response:
            if response.status != 200 or response.url.rstrip("/").endswith("/inloggen"):
                raise SystemExit(f"bench: {path} as staff answered {response.status}")
            response.read()


def in_parallel(port: int, paths: list[tuple[str, tuple[int, ...]]], rounds: int) -> None:
    """CONNECTIONS clients, each asking every path `rounds` times, from its own place in the
    list; any unexpected answer stops the bench."""
    failures: list[BaseException] = []

    def client(i: int) -> None:
        conn = KeepAlive(port)
        try:
            shift = i * len(paths) // CONNECTIONS
            for _ in range(rounds):
                for path, ok in paths[shift:] + paths[:shift]:
                    conn.get(path, ok)
        except BaseException as error:  # a thread's SystemExit would vanish: reported below
            failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"bench: warm-up failed: {failures[0]}")


def tipg_paths(data: Data) -> list[tuple[str, tuple[int, ...]]]:
    paths = [
        ("/collections", (200,)),
        (f"/collections/{TABLE}", (200,)),
        (f"/collections/{TABLE}/items?limit=1000", (200,)),
    ]
    return paths + [(tipg_path(t, data.properties), TILE_OK) for t in data.dense]


# -- Reporting ----------------------------------------------------------------------------------


def report(
    args,
    kinds: int,
    before_exports: list[Memory],
    app: list[Memory],
    tipg: list[Memory],
    version: str,
    loads,
    out=sys.stdout,
) -> None:
    print(file=out)
    print(
        f"R1 serving worker memory after warm-up: {kinds} kinds of "
        f"request, {args.rounds} rounds over {CONNECTIONS} connections at once, {WORKERS} "
        "workers on each side",
        file=out,
    )
    print(f"{'side':36} {'worker pid':>10} {'RSS':>10} {'PSS':>10} {'CPU':>7}", file=out)
    for name, side in (("app (kaart serve: gunicorn)", app), (f"TiPg {version} (uvicorn)", tipg)):
        for m in side:
            print(
                f"{name:36} {m.pid:>10} {m.rss_mib:6.1f} MiB {m.pss_mib:6.1f} MiB {m.cpu_s:6.1f}s",
                file=out,
            )
    worst = max(m.rss_mib for m in app)
    tipg_worst = max(m.rss_mib for m in tipg)
    print(
        "app workers before the staff's CSV and GeoJSON exports: "
        + ", ".join(f"{m.rss_mib:.1f} MiB RSS" for m in before_exports),
        file=out,
    )
    print(
        f"app / TiPg (largest worker RSS): {worst / tipg_worst:.2f}x "
        f"({worst:.1f} MiB against {tipg_worst:.1f} MiB)",
        file=out,
    )
    print(
        f"target: serving worker RSS after warm-up: {worst:.1f} MiB (largest of {len(app)})  "
        f"target <= {TARGET_MIB:.0f} MiB: {'met' if worst <= TARGET_MIB else 'missed'}",
        file=out,
    )
    print(
        "(RSS: VmRSS, shared pages included; PSS: shared pages divided among the processes "
        "sharing them; CPU: the worker's time so far, so both served the warm-up; "
        f"{os.cpu_count()} cores, load average {loads[0]:.2f} at the start, {loads[1]:.2f} at "
        "the end)",
        file=out,
    )


# -- The run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="synthetic BAG panden")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--contributions", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3, help="warm-up rounds per connection")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args(argv)
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")

    python = tipg_python()
    version = tipg_settings(python)[0]
    data = prepare_data(base, args)
    paths = warm_up_paths(data)
    procs: list[subprocess.Popen] = []
    try:
        # Plain HTTP here, so the session cookie may go without TLS.
        app_port = free_port()
        app = start_app(data.url, app_port, {"KAART_SESSION_COOKIE_SECURE": "0"})
        procs.append(app)
        tipg_port = free_port()
        tipg = start_tipg(python, data.url, tipg_port, workers=WORKERS)
        procs.append(tipg)
        load = os.getloadavg()[0]
        say(f"warming up the app: {len(paths)} kinds of request, {args.rounds} rounds")
        for _ in range(2):  # a few sessions, so that both workers see staff pages
            as_staff(app_port, STAFF_PAGES)
        in_parallel(app_port, paths, args.rounds)
        before_exports = [memory(pid) for pid in workers(app)]
        say("staff exports")
        for _ in range(4):
            as_staff(app_port, STAFF_PAGES + EXPORTS)
        say("warming up TiPg")
        in_parallel(tipg_port, tipg_paths(data), args.rounds)
        app_memory = [memory(pid) for pid in workers(app)]
        tipg_memory = [memory(pid) for pid in workers(tipg)]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        if not args.keep:
            drop_database(data.url)
    kinds = len(paths) + 2 + len(STAFF_PAGES + EXPORTS)  # and the staff's, with logging in
    loads = (load, os.getloadavg()[0])
    report(args, kinds, before_exports, app_memory, tipg_memory, version, loads)


if __name__ == "__main__":
    main()
