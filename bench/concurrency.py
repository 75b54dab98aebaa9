"""Bench C1: dense vector tiles asked by many clients at once, the app against TiPg.

The densest z14 and z16 tiles of 300,000 synthetic BAG panden (chosen as in bench/tiles.py) are
asked by N concurrent clients, each a thread with its own keep-alive connection (as N browser
tabs would hold), of
  app   the app as deployed: `kaart serve` (gunicorn, 2 workers of 4 threads each);
  TiPg  TiPg 1.6 under uvicorn with 2 workers, on the same table, with the same attributes.
In a burst every client asks `--requests` tiles in turn from its own place in the list; the
sides alternate bursts (app, TiPg, then TiPg, app, ...), so that a change in the machine's load
weighs on both alike. A side's throughput is all its requests over the summed wall time of its
bursts (each from the common start to the last answer); p50/p95 are per request.
Target (issue 11): the app ahead of TiPg at 8 and 32 clients: more tiles per second and a p50
no higher than TiPg's, at each zoom.

    make bench-concurrency
    python -m bench.concurrency [--n 300000] [--tiles 20] [--requests 10] [--bursts 2]
                                [--clients 8,32] [--keep]

Like bench/tiles.py it uses its own database (<name>_bench_concurrency), dropped at the end
unless --keep is given, and TiPg's own virtualenv under bench/out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psycopg

from bench import synthetic
from bench.client import KeepAlive
from bench.contributions import free_port, pct, start_app
from bench.layers_import import drop_database, libpq_url
from bench.tiles import (
    TILE_OK,
    app_path,
    densest,
    prepare,
    say,
    start_tipg,
    tiles_over,
    tipg_path,
    tipg_python,
    tipg_settings,
)

ZOOMS = (14, 16)
CLIENTS = (8, 32)
WORKERS = 2  # both servers


@dataclass
class Run:
    side: str
    zoom: int
    clients: int
    seconds: float
    ms: list[float]

    @property
    def rate(self) -> float:
        return len(self.ms) / self.seconds

    def p(self, q: float) -> float:
        return pct(self.ms, q)


def hammer(port: int, paths: list[str], clients: int, requests: int, burst: int):
    """`clients` threads, each on its own connection, ask `requests` paths in turn from their
    own place in the list; (wall seconds from the common start, ms per request)."""
    start = threading.Barrier(clients + 1)
    samples: list[list[float]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []

    def client(i: int) -> None:
        try:
            first = (i * len(paths) // clients + burst) % len(paths)
            order = [paths[(first + k) % len(paths)] for k in range(requests)]
            conn = KeepAlive(port)
        except BaseException as error:  # reported after the others end
            failures.append(error)
            start.abort()
            return
        try:
            conn.get(order[-1], TILE_OK)  # connected (and the server warm) before the start
        except BaseException as error:
            failures.append(error)
            start.abort()
            conn.close()
            return
        try:
            start.wait()
            for path in order:
                t0 = time.perf_counter()
                conn.get(path, TILE_OK)
                samples[i].append((time.perf_counter() - t0) * 1000)
        except BaseException as error:  # a thread's SystemExit would vanish
            failures.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: reported below
        start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"bench: a client failed: {failures[0]!r}")
    return seconds, [v for per_client in samples for v in per_client]


def measure(sides: dict[str, tuple[int, list[str]]], zoom: int, clients: int, args) -> list[Run]:
    """Both sides in alternating bursts: A B, B A, A B, ..."""
    names = list(sides)
    runs = {name: Run(name, zoom, clients, 0.0, []) for name in names}
    for burst in range(args.bursts):
        for name in names if burst % 2 == 0 else names[::-1]:
            port, paths = sides[name]
            seconds, ms = hammer(port, paths, clients, args.requests, burst)
            runs[name].seconds += seconds
            runs[name].ms += ms
    for run in runs.values():
        say(f"  z{zoom}, {clients} clients, {run.side}: {run.rate:.1f} tiles/s")
    return list(runs.values())


def ahead(app: Run, tipg: Run) -> bool:
    return app.rate >= tipg.rate and app.p(0.5) <= tipg.p(0.5)


def report(args, runs: list[Run], version: str, load: float, out=sys.stdout) -> None:
    print(file=out)
    print(
        f"C1 dense tiles from concurrent clients: the {args.tiles} densest tiles at each zoom over "
        f"{args.n:,} synthetic BAG panden; {args.bursts} alternating bursts per side of "
        f"{args.requests} tiles per client; {WORKERS} workers on each side",
        file=out,
    )
    print(
        f"{'zoom':5} {'clients':>7}  {'side':40} {'requests':>8} {'tiles/s':>8} "
        f"{'p50':>9} {'p95':>9}",
        file=out,
    )
    for r in runs:
        print(
            f"z{r.zoom:<4} {r.clients:>7}  {r.side:40} {len(r.ms):>8} {r.rate:8.1f} "
            f"{r.p(0.5):7.1f}ms {r.p(0.95):7.1f}ms",
            file=out,
        )
    pairs: dict[tuple[int, int], list[Run]] = {}
    for r in runs:
        pairs.setdefault((r.zoom, r.clients), []).append(r)
    for (zoom, clients), (app, tipg) in sorted(pairs.items()):
        print(
            f"target: dense z{zoom} tiles, {clients} clients, app / TiPg {version}: "
            f"tiles/s {app.rate / tipg.rate:.2f}x, p50 {app.p(0.5) / tipg.p(0.5):.2f}x, "
            f"p95 {app.p(0.95) / tipg.p(0.95):.2f}x  "
            f"target ahead (tiles/s >= 1, p50 <= 1): {'met' if ahead(app, tipg) else 'missed'}",
            file=out,
        )
    print(
        f"({os.cpu_count()} cores shared by both servers, PostgreSQL and the clients; load average "
        f"{load:.2f} when the measurements started, {os.getloadavg()[0]:.2f} at the end)",
        file=out,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tiles", type=int, default=20, help="dense tiles per zoom")
    parser.add_argument("--requests", type=int, default=10, help="tiles per client per burst")
    parser.add_argument("--bursts", type=int, default=2, help="bursts per side, alternating")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args(argv)
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")
    counts = [int(c) for c in args.clients.split(",")]

    python = tipg_python()
    version = tipg_settings(python)[0]
    path = synthetic.cached(args.n, args.seed, progress=say)
    say(f"loading {args.n:,} panden into the bench database")
    url, bbox, properties = prepare(base, path, "bench_concurrency")
    procs: list[subprocess.Popen] = []
    runs: list[Run] = []
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            dense = {z: densest(conn, tiles_over(bbox, z), args.tiles) for z in ZOOMS}
        app_port, tipg_port = free_port(), free_port()
        procs.append(start_app(url, app_port))
        procs.append(start_tipg(python, url, tipg_port, workers=WORKERS))
        load = os.getloadavg()[0]
        for z, tile_list in sorted(dense.items()):
            sides = {
                "app (kaart serve: gunicorn, 4 threads)": (
                    app_port,
                    [app_path(t) for t in tile_list],
                ),
                "TiPg (uvicorn)": (tipg_port, [tipg_path(t, properties) for t in tile_list]),
            }
            for clients in counts:
                runs += measure(sides, z, clients, args)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        if not args.keep:
            drop_database(url)
    report(args, runs, version, load)


if __name__ == "__main__":
    main()
