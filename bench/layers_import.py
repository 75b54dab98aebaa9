"""Bench S5: import 500,000 synthetic BAG panden from a GeoPackage, ours against ogr2ogr.

Each side runs as a user runs it, alternately, into its own table of one bench database:
  ours     `kaart layers load bag-panden --file … --force` (the command, start-up included):
           read, normalise, COPY, GiST + primary key + feature_id indexes, ANALYZE, atomic
           swap, catalogue row, audit entry;
  ogr2ogr  ogr2ogr -f PostgreSQL … --config PG_USE_COPY YES -lco SPATIAL_INDEX=GIST
           (Debian gdal-bin), then psql: the same feature-id index and ANALYZE.
Wall time is the whole of each side's processes; peak memory is the largest high-water mark of
resident memory among them (VmHWM, read from /proc while each runs; see run_measured), the
database server's memory not included. Both tables must end up with the same number of rows.
Targets (issue 16): <= 1.15x and <= 256 MiB.

    make bench-import
    python -m bench.layers_import [--n 500000] [--repeat 3] [--keep]

It uses its own database (<name>_bench_import) next to KAART_DATABASE_URL, dropped at the end
unless --keep is given, and prints a table with the ratio and the targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, make_url, text

from bench import synthetic
from kaart.schema import fresh_database

ROOT = Path(__file__).resolve().parent.parent
OGR_TABLE = "ogr_pand"
TARGET_RATIO = 1.15
TARGET_PEAK_MIB = 256


@dataclass
class Side:
    name: str
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ogr_conninfo(url: str) -> str:
    """The database as a GDAL PG: connection string (libpq keywords)."""
    parsed = make_url(url)
    parts = {
        "dbname": parsed.database,
        "host": parsed.host or parsed.query.get("host"),
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
    }
    return "PG:" + " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


def run_measured(
    args: list[str], env: dict[str, str] | None = None, anon: list[float] | None = None
) -> tuple[float, float, str]:
    """Run a process to its end: (wall seconds, peak RSS in MiB, its stdout). With `anon`, its
    peak anonymous memory in MiB is appended to it: RSS also counts the pages of shared
    libraries (GDAL, Arrow) the process touched, 40-90 MiB that vary with the page cache.

    The peak is the process's own high-water mark (VmHWM), read from /proc while it runs. Not
    ru_maxrss: a child started by a large parent (this bench, having written the synthetic
    file) inherits the parent's maximum at exec (Linux keeps the larger of the old and new
    address space's), so every command would seem as large as the bench."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    peaks = {"VmHWM": 0.0, "RssAnon": 0.0}
    sampler = threading.Thread(target=sample_peaks, args=(proc.pid, peaks), daemon=True)
    sampler.start()
    out = proc.stdout.read().decode()
    proc.stdout.close()
    sampler.join()  # it ends once the process is a zombie, before wait4 reaps it
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if anon is not None:
        anon.append(peaks["RssAnon"])
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {args[0]} failed with exit code {proc.returncode}")
    # A process too short to be seen by the sampler: ru_maxrss (KiB), an upper bound.
    return seconds, peaks["VmHWM"] or usage.ru_maxrss / 1024, out


def sample_peaks(pid: int, peaks: dict[str, float]) -> None:
    """The largest VmHWM and RssAnon of process `pid` seen every 10 ms until it exits."""
    path = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = path.read_text()
        except OSError:
            return
        if "VmHWM" not in text:  # a zombie, waiting to be reaped: its figures are gone
            return
        for key in peaks:
            kib = int(text.split(f"{key}:")[1].split()[0])
            peaks[key] = max(peaks[key], kib / 1024)
        time.sleep(0.01)


def ours(url: str, path: Path) -> tuple[float, float]:
    """`kaart layers load`, as a user types it (prebuilt tiles, when the command makes them
    after a load, are left out: ogr2ogr makes none)."""
    kaart = Path(sys.executable).with_name("kaart")
    env = {**os.environ, "KAART_DATABASE_URL": url}
    command = [str(kaart), "layers", "load", "bag-panden", "--file", str(path), "--force"]
    if (
        "--no-tiles"
        in subprocess.run(
            [str(kaart), "layers", "load", "--help"], capture_output=True, text=True, check=True
        ).stdout
    ):
        command.append("--no-tiles")
    seconds, peak, _out = run_measured(command, env)
    return seconds, peak


def ogr2ogr(url: str, path: Path, anon: list[float] | None = None) -> tuple[float, float]:
    """ogr2ogr, then the index on the feature id and ANALYZE that our load makes too."""
    seconds, peak = _ogr2ogr(url, path, anon)
    statements = (
        f"CREATE INDEX ON open_data.{OGR_TABLE} (identificatie); ANALYZE open_data.{OGR_TABLE}"
    )
    more, peak_psql, _ = run_measured(["psql", libpq_url(url), "-q", "-c", statements])
    return seconds + more, max(peak, peak_psql)


def _ogr2ogr(url: str, path: Path, anon: list[float] | None = None) -> tuple[float, float]:
    seconds, peak, _ = run_measured(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            ogr_conninfo(url),
            str(path),
            synthetic.LAYER,
            "-nln",
            f"open_data.{OGR_TABLE}",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "FID=fid",
            "-lco",
            "SPATIAL_INDEX=GIST",
            "-nlt",
            "PROMOTE_TO_MULTI",
            "-overwrite",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        anon=anon,
    )
    return seconds, peak


def count_rows(conn: psycopg.Connection, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("open_data", table))
    return conn.execute(query).fetchone()[0]


def checkpoint(conn: psycopg.Connection) -> None:
    """Start each run with clean shared buffers, so one side does not pay the other's writes."""
    conn.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    base = os.environ.get("KAART_DATABASE_URL") or sys.exit("KAART_DATABASE_URL is not set")
    if shutil.which("ogr2ogr") is None:
        sys.exit("ogr2ogr is missing: apt-get install gdal-bin (make bench-import does)")

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr)

    path = synthetic.cached(args.n, args.seed, progress=say)
    say(f"{path.name}: {path.stat().st_size / 2**20:.0f} MiB; preparing the bench database")
    url = fresh_database(base, "bench_import")
    ours_side = Side("ours: kaart layers load")
    ogr_side = Side("ogr2ogr COPY+GiST, index, ANALYZE")
    load = os.getloadavg()[0]
    try:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for i in range(args.repeat):
                # Alternate who goes first, so neither always runs on a warmer server.
                order = ("ours", "ogr") if i % 2 == 0 else ("ogr", "ours")
                for which in order:
                    checkpoint(conn)
                    say(f"run {i + 1}/{args.repeat}: {which}")
                    if which == "ours":
                        seconds, peak = ours(url, path)
                        ours_side.rows.append(count_rows(conn, "bag_panden"))
                        side = ours_side
                    else:
                        seconds, peak = ogr2ogr(url, path)
                        ogr_side.rows.append(count_rows(conn, OGR_TABLE))
                        side = ogr_side
                    side.seconds.append(seconds)
                    side.peak_mib.append(peak)
                    say(f"  {seconds:.1f} s, peak {peak:.0f} MiB, {side.rows[-1]:,} rows")
    finally:
        if not args.keep:
            drop_database(url)
    assert set(ours_side.rows) == set(ogr_side.rows) == {args.n}, (ours_side.rows, ogr_side.rows)
    report(args, path, ours_side, ogr_side)
    print(
        f"({os.cpu_count()} cores; load average {load:.2f} when the runs started, "
        f"{os.getloadavg()[0]:.2f} at the end: other work on the machine skews the figures)"
    )


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def report(args, path: Path, ours_side: Side, ogr_side: Side) -> None:
    runs = " ".join(f"{'run ' + str(i + 1):>8}" for i in range(args.repeat))
    print()
    print(
        f"S5 import: {args.n:,} synthetic BAG panden (seed {args.seed}) from GeoPackage "
        f"({path.stat().st_size / 2**20:.0f} MiB), {args.repeat} runs each, alternating"
    )
    print(f"{'measurement':28} {runs} {'median':>8} {'peak RSS':>9} {'rows':>9}")
    for side in (ours_side, ogr_side):
        cells = " ".join(f"{s:7.1f}s" for s in side.seconds)
        print(
            f"{side.name:28} {cells} {statistics.median(side.seconds):7.1f}s "
            f"{max(side.peak_mib):6.0f}MiB {side.rows[-1]:>9,}"
        )
    ratio = statistics.median(ours_side.seconds) / statistics.median(ogr_side.seconds)
    peak = max(ours_side.peak_mib)
    print(
        f"ratio ours / ogr2ogr (median wall time): {ratio:.2f}x   "
        f"target <= {TARGET_RATIO:.2f}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'}"
    )
    print(
        f"peak memory of our import: {peak:.0f} MiB   "
        f"target <= {TARGET_PEAK_MIB} MiB: {'met' if peak <= TARGET_PEAK_MIB else 'MISSED'}"
    )
    print("(wall time of the whole commands, start-up included; identical row counts asserted)")


if __name__ == "__main__":
    main()
