"""Bench: national scale (issue 16): 10 million buildings and 10 million addresses.

Every step runs as a user runs it, each command a process of its own (start-up included), into
one bench database (<name>_bench_national) next to KAART_DATABASE_URL:

  1. buildings   `kaart layers load bag-panden` of the synthetic BAG-like GeoPackage
                 (bench/synthetic.py, deterministic) against ogr2ogr + the same index + ANALYZE
                 (bench/layers_import.py): wall time and peak RSS of each;
  2. addresses   one address per building (at its point on surface; streets, numbers, postcodes
                 and places as bench/search.py makes them) written to a GeoPackage with
                 ogr2ogr, then `kaart layers load bag-adressen` (COPY, indexes, address search);
  3. tiles       `kaart tiles build bag-panden --minzoom 13 --maxzoom 16`: time, tiles, size;
  4. serving     the deployed shape (tests/stack.py: `kaart serve`, 2 workers, behind nginx,
                 which serves the archives itself): the densest z16 tiles live against the
                 same tiles read from the archive with one HTTP range request each (the
                 directories read once before, as protomaps-leaflet caches them); OGC items
                 at page 1 and page 1,000 (100 per page, keyset cursor); address search p50
                 per kind of question;
  5. solar       `kaart solar compute` interrupted with Ctrl-C once it has committed some
                 chunks, then run again: it resumes (the first run's buildings are unchanged)
                 and stays within 1 GiB.

    make bench-national
    python -m bench.national [--n 10000000] [--repeat 20] [--no-ogr2ogr] [--keep]

The synthetic layer is one compact city (1 km² districts in a spiral): every tile over it is
dense, so per-tile figures are a worst case and the tile count is far below a national one
(the README extrapolates). Generated files are kept in bench/out/ and reused.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from pmtiles.reader import Reader
from pmtiles.tile import deserialize_header
from sqlalchemy import make_url

from bench import layers_import, search, synthetic
from bench.client import KeepAlive
from bench.tiles import densest, mvt_features, tiles_over
from kaart.archives import store
from kaart.schema import fresh_database
from tests.stack import Stack

KAART = str(Path(sys.executable).with_name("kaart"))
TILES_DIR = synthetic.OUT / "national-tiles"
ZOOMS = (13, 16)
TARGETS = {"import ratio": 1.15, "import MiB": 256, "solar MiB": 1024}
ADDRESS_SQL = """
SELECT lpad((100000000000 + t.fid)::text, 16, '0') AS identificatie,
       initcap((%(syl)s)[1 + (h1 %% 60)] || (%(syl)s)[1 + (h2 %% 60)])
         || (%(suf)s)[1 + (h3 %% 12)] AS openbare_ruimte_naam,
       (t.fid %% {per_street}) + 1 AS huisnummer,
       (1000 + s %% 9000)::text || chr((65 + (s / 9000) %% 26)::int)
         || chr((65 + (s / 234000) %% 26)::int)
         AS postcode,
       initcap((%(syl)s)[1 + (p %% 60)] || (%(syl)s)[1 + ((p / 60) %% 60)]) AS woonplaats_naam,
       t.feature_id AS pand_identificatie, 'woonfunctie' AS gebruiksdoel,
       ST_PointOnSurface(t.geom) AS geom
FROM open_data.bag_panden t
CROSS JOIN LATERAL (SELECT t.fid / {per_street} AS s) st
CROSS JOIN LATERAL (SELECT st.s / {per_place} AS p) pl
CROSS JOIN LATERAL (SELECT hashint4(st.s::int)::bigint & 2147483647 AS h1,
                           hashint4(st.s::int + 7)::bigint & 2147483647 AS h2,
                           hashint4(st.s::int + 13)::bigint & 2147483647 AS h3) h
"""


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def kaart(env: dict[str, str], *args: str) -> tuple[float, float, float]:
    """A `kaart` command to its end: (seconds, peak RSS MiB, peak anonymous memory MiB)."""
    anon: list[float] = []
    seconds, peak, _out = layers_import.run_measured([KAART, *args], env, anon)
    return seconds, peak, anon[0]


def load_buildings(url: str, env: dict, path: Path, ogr: bool, figures: dict) -> None:
    say(f"1. loading {path.name} ({path.stat().st_size / 2**30:.1f} GiB) with kaart layers load")
    seconds, peak, anon = kaart(
        env, "layers", "load", "bag-panden", "--file", str(path), "--no-tiles"
    )
    figures["load buildings"] = (seconds, peak, anon)
    say(f"   {seconds:.0f} s, peak {peak:.0f} MiB ({anon:.0f} MiB anonymous)")
    if ogr:
        say("   the same file with ogr2ogr + index + ANALYZE")
        ogr_anon: list[float] = []
        figures["ogr2ogr buildings"] = (*layers_import.ogr2ogr(url, path, ogr_anon), *ogr_anon)
        with psycopg.connect(layers_import.libpq_url(url), autocommit=True) as conn:
            conn.execute(f"DROP TABLE open_data.{layers_import.OGR_TABLE}")  # disk space
        say(f"   {figures['ogr2ogr buildings'][0]:.0f} s")


def address_file(url: str, n: int, seed: int) -> Path:
    """One address per loaded building, written once per (n, seed) with ogr2ogr."""
    path = synthetic.OUT / f"synthetic-adres-v1-n{n}-seed{seed}.gpkg"
    if path.exists():
        return path
    quoted = {
        "syl": "ARRAY[" + ",".join(f"'{s}'" for s in search.SYLLABLES) + "]",
        "suf": "ARRAY[" + ",".join(f"'{s}'" for s in search.SUFFIXES) + "]",
    }
    query = ADDRESS_SQL.format(per_street=search.PER_STREET, per_place=search.STREETS_PER_PLACE)
    partial = path.with_name(path.stem + ".partial.gpkg")
    partial.unlink(missing_ok=True)
    say(f"2. writing {n:,} synthetic addresses to {path.name} (ogr2ogr)")
    layers_import.run_measured(
        [
            "ogr2ogr", "-f", "GPKG", str(partial), layers_import.ogr_conninfo(url),
            "-sql", query % quoted, "-nln", "verblijfsobject", "-a_srs", "EPSG:28992",
            "-dsco", "VERSION=1.2", "-gt", "100000",
        ]
    )  # fmt: skip
    partial.rename(path)
    return path


def load_addresses(env: dict, path: Path, figures: dict) -> None:
    say(f"2. loading {path.name} with kaart layers load bag-adressen")
    seconds, peak, anon = kaart(
        env, "layers", "load", "bag-adressen", "--file", str(path), "--no-tiles"
    )
    figures["load addresses"] = (seconds, peak, anon)
    say(f"   {seconds:.0f} s, peak {peak:.0f} MiB")


def build_tiles(env: dict, figures: dict) -> store.Entry:
    say(f"3. kaart tiles build bag-panden --minzoom {ZOOMS[0]} --maxzoom {ZOOMS[1]}")
    args = ("tiles", "build", "bag-panden", "--minzoom", str(ZOOMS[0]), "--maxzoom", str(ZOOMS[1]))
    seconds, peak, _anon = kaart(env, *args, "--force")
    entry = store.read(TILES_DIR)["bag-panden"]
    figures["tiles build"] = (seconds, peak, entry)
    say(f"   {seconds:.0f} s: {entry.tiles:,} tiles, {entry.bytes / 2**20:.0f} MiB")
    return entry


class RangeSource:
    """An archive read over HTTP range requests, its header and directories cached."""

    def __init__(self, port: int, path: str):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path = path
        self.cache: dict[tuple[int, int], bytes] = {}
        self.header = deserialize_header(self(0, 127))

    def _get(self, offset: int, length: int) -> tuple[bytes, int]:
        headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
        for attempt in (1, 2):  # the server closes a connection left idle: open a new one
            try:
                self.conn.request("GET", self.path, headers=headers)
                response = self.conn.getresponse()
                return response.read(), response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def __call__(self, offset: int, length: int) -> bytes:
        key = (offset, length)
        if key in self.cache:
            return self.cache[key]
        body, status = self._get(offset, length)
        if status != 206:
            raise SystemExit(f"bench: range request answered {status}")
        header = getattr(self, "header", None)
        data_start = header["tile_data_offset"] if header else 0
        data_end = data_start + (header["tile_data_length"] if header else 0)
        if not data_start <= offset < data_end:  # not tile data: a directory or the header
            self.cache[key] = body
        else:
            self.last_tile = key
        return body

    def fetch(self, offset: int, length: int) -> bytes:
        """One range request (timed by the bench: what the server does for a prebuilt tile)."""
        body, status = self._get(offset, length)
        if status != 206:
            raise SystemExit(f"bench: range request answered {status}")
        return body


def p50_ms(fn, items: list, repeat: int) -> float:
    for item in items:
        fn(item)  # warm-up
    samples = []
    for _ in range(repeat):
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def serve(url: str, env: dict, entry: store.Entry, repeat: int, figures: dict) -> None:
    say("4. the deployed shape (kaart serve, 2 workers, behind nginx, which serves the archives")
    say("   itself): dense z16 tiles live and prebuilt, OGC items, address search")
    stack = Stack(url)
    stack.start()
    for name in (entry.file, store.MANIFEST):  # the built archive, in the stack's tiles folder
        os.link(TILES_DIR / name, stack.tiles_dir / name)
    port = stack.port
    client = KeepAlive(port)
    source = None
    try:
        with psycopg.connect(layers_import.libpq_url(url)) as conn:
            bbox = conn.execute("SELECT bbox FROM layer WHERE name = 'bag-panden'").fetchone()[0]
            candidates = tiles_over(bbox, ZOOMS[1])
            dense = densest(conn, candidates[:: max(1, len(candidates) // 500)], 20)
        source = RangeSource(port, "/tiles/archives/" + entry.file)
        archive = Reader(source)
        ranges = {}
        for t in dense:  # the archive holds what the live tile holds
            live = client.get(f"/tiles/bag-panden/{t.z}/{t.x}/{t.y}.pbf")[1]
            assert mvt_features(gzip.decompress(archive.get(t.z, t.x, t.y))) == mvt_features(live)
            ranges[t] = source.last_tile  # where its bytes are: directories are read once
        figures["tile live"] = p50_ms(
            lambda t: client.get(f"/tiles/bag-panden/{t.z}/{t.x}/{t.y}.pbf"), dense, repeat
        )
        # A client that has the directories (protomaps-leaflet caches them) asks one range.
        figures["tile prebuilt"] = p50_ms(lambda t: source.fetch(*ranges[t]), dense, repeat)
        ogc_pages(client, repeat, figures)
        asked = search.questions(url)
        figures["search"] = {
            kind: p50_ms(lambda q: client.get(f"/api/v1/search?q={quote(q)}"), [q], repeat)
            for kind, q in asked.items()
        }
    finally:
        client.close()
        if source is not None:
            source.conn.close()
        stack.stop()


def ogc_pages(client: KeepAlive, repeat: int, figures: dict) -> None:
    first = "/ogc/collections/bag-panden/items?f=json&limit=100"
    path, page = first, 1
    while page < 1000:  # follow the next links to page 1,000 (or the last, in a small run)
        body = json.loads(client.get(path)[1])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            break
        path, page = following[0][following[0].index("/ogc/") :], page + 1
    figures["ogc page 1"] = p50_ms(client.get, [first], repeat)
    figures["ogc last page"] = (page, p50_ms(client.get, [path], repeat))


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def solar(url: str, env: dict, n: int, figures: dict) -> None:
    say("5. kaart solar compute, interrupted with Ctrl-C after its first progress line")
    with psycopg.connect(layers_import.libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE solar_potential")  # a whole run, also after --from 5
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [KAART, "solar", "compute"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal: a bench started in the background (`nohup make … &`) runs
        # with SIGINT ignored, and an ignored signal stays ignored in the command it starts.
        preexec_fn=_interruptible,
    )
    peaks = {"VmHWM": 0.0, "RssAnon": 0.0}
    sampler = threading.Thread(target=layers_import.sample_peaks, args=(proc.pid, peaks))
    sampler.start()
    for line in proc.stderr:
        if line.startswith("solar: checked"):
            proc.send_signal(signal.SIGINT)
            break
    proc.stderr.read()
    proc.stderr.close()
    sampler.join()
    _pid, status, _usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    first = (time.perf_counter() - t0, peaks["VmHWM"])
    with psycopg.connect(layers_import.libpq_url(url)) as conn:
        kept = conn.execute("SELECT count(*) FROM solar_potential").fetchone()[0]
    say(f"   interrupted after {first[0]:.0f} s with {kept:,} buildings stored; running again")
    seconds, peak, _ = layers_import.run_measured([KAART, "solar", "compute"], env)
    with psycopg.connect(layers_import.libpq_url(url)) as conn:
        total = conn.execute("SELECT count(*) FROM solar_potential").fetchone()[0]
    assert 0 < kept <= total == n, (kept, total, n)  # kept == total: done before Ctrl-C
    figures["solar"] = (first[0] + seconds, max(first[1], peak), kept)


def disk(url: str) -> list[tuple[str, int]]:
    """Bytes on disk (tables with their indexes and TOAST) of what a national deployment holds."""
    with psycopg.connect(layers_import.libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
            "AND n.nspname IN ('open_data', 'public') ORDER BY 2 DESC LIMIT 4"
        ).fetchall()
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return [*rows, ("whole database", total)]


def report(args, figures: dict) -> None:
    """The figures of the steps that ran (all of them, unless started with --from)."""
    print(f"\nNational bench: {args.n:,} synthetic buildings and addresses (seed {args.seed})")
    print(f"{'step':44} {'result':>34}")
    rows = [*_load_rows(figures)]
    if "tiles build" in figures:
        seconds, peak, entry = figures["tiles build"]
        size = f"{entry.tiles:,} tiles, {entry.bytes / 2**20:.0f} MiB"
        rows.append((f"kaart tiles build z{ZOOMS[0]}-{ZOOMS[1]}", f"{seconds:.0f} s, {size}"))
        rows.append(("  its peak memory", f"{peak:.0f} MiB"))
    if "tile live" in figures:
        live, pre = figures["tile live"], figures["tile prebuilt"]
        rows.append(("dense z16 tile p50, live / prebuilt", f"{live:.1f} / {pre:.1f} ms"))
        last, last_ms = figures["ogc last page"]
        pages = f"{figures['ogc page 1']:.1f} / {last_ms:.1f} ms"
        rows.append((f"OGC items p50, page 1 / page {last:,}", pages))
        for kind, ms in figures["search"].items():
            rows.append((f"address search p50: {kind}", f"{ms:.1f} ms"))
    if "solar" in figures:
        seconds, peak, kept = figures["solar"]
        rows.append(("kaart solar compute, Ctrl-C + resumed", f"{seconds:.0f} s, {kept:,} kept"))
        rows.append(
            ("  peak memory (target <= 1 GiB)", _verdict(peak, TARGETS["solar MiB"], "MiB"))
        )
    for name, size in figures.get("disk", ()):
        rows.append((f"disk: {name}", f"{size / 2**30:.2f} GiB"))
    for step, result in rows:
        print(f"{step:44} {result:>34}")
    print(f"({os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at the end)")


def _load_rows(figures: dict):
    if "load buildings" in figures:
        seconds, peak, anon = figures["load buildings"]
        yield "kaart layers load bag-panden", f"{seconds:.0f} s, {peak:.0f} MiB ({anon:.0f} anon)"
        if "ogr2ogr buildings" in figures:
            ogr_s, ogr_mib, ogr_anon = figures["ogr2ogr buildings"]
            yield (
                "ogr2ogr + index + ANALYZE",
                f"{ogr_s:.0f} s, {ogr_mib:.0f} MiB ({ogr_anon:.0f} anon)",
            )
            yield (
                "  ratio (target <= 1.15x)",
                _verdict(seconds / ogr_s, TARGETS["import ratio"], "x"),
            )
        yield "  peak memory (target <= 256 MiB)", _verdict(peak, TARGETS["import MiB"], "MiB")
    if "load addresses" in figures:
        seconds, peak, anon = figures["load addresses"]
        yield "kaart layers load bag-adressen", f"{seconds:.0f} s, {peak:.0f} MiB ({anon:.0f} anon)"


def _verdict(value: float, target: float, unit: str) -> str:
    shown = f"{value:.2f}x" if unit == "x" else f"{value:.0f} {unit}"
    return f"{shown} {'met' if value <= target else 'MISSED'}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=20, help="rounds of each timed request")
    parser.add_argument("--no-ogr2ogr", action="store_true", help="leave out the ogr2ogr side")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--from", dest="start", type=int, default=1, choices=range(1, 6), help="first step (1-5)"
    )
    parser.add_argument(
        "--to", dest="end", type=int, default=5, choices=range(1, 6), help="last step (1-5)"
    )
    args = parser.parse_args(argv)
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")
    path = synthetic.cached(args.n, args.seed, progress=say)
    if args.start == 1:
        url = fresh_database(base, "bench_national")
    else:  # a kept database from an earlier run that stopped (or ran with --keep)
        url = make_url(base).set(database=f"{make_url(base).database}_bench_national")
        url = url.render_as_string(hide_password=False)
    env = {**os.environ, "KAART_DATABASE_URL": url, "KAART_TILES_DIR": str(TILES_DIR)}
    figures: dict = {}
    steps = (
        lambda: load_buildings(url, env, path, not args.no_ogr2ogr, figures),
        lambda: load_addresses(env, address_file(url, args.n, args.seed), figures),
        lambda: build_tiles(env, figures),
        lambda: serve(url, env, store.read(TILES_DIR)["bag-panden"], args.repeat, figures),
        lambda: solar(url, env, args.n, figures),
    )
    try:
        for step in steps[args.start - 1 : args.end]:
            step()
        figures["disk"] = disk(url)
    except BaseException:
        say(f"stopped; the bench database is kept: go on with --from <step> (now {url})")
        raise
    if not args.keep:
        layers_import.drop_database(url)
    report(args, figures)


if __name__ == "__main__":
    main()
