"""Bench: the address search (GET /api/v1/search) at national size (issue 12: <= 30 ms at 10
million addresses).

A synthetic BAG-like address layer (deterministic: 2,500 places, 100 streets each, 40 numbers
per street; street names drawn from 43,200 made-up names, so "the same" street exists in several
places, as Kerkstraat does) is written with SQL into its own database (<name>_bench_search) and
indexed by the loader's own code (geodata/address_search.build, as `kaart layers load` does).
Then each kind of question — street + number + place, street + number, postcode + number, a
street prefix, a typo — is asked through `kaart serve` (gunicorn, 2 workers) over one keep-alive
connection, and its exact SQL (captured from the app's code and replayed with psycopg) is timed
beside it.

    make bench-search
    python -m bench.search [--n 10000000] [--repeat 30] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import quote

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from bench.client import KeepAlive
from bench.contributions import free_port, pct, start_app
from bench.layers_import import drop_database, libpq_url
from geodata import address_search
from kaart.providers import addresses
from kaart.schema import fresh_database

TARGET_MS = 30.0
PER_STREET = 40
STREETS_PER_PLACE = 100
SYLLABLES = [
    "aal",
    "ber",
    "bos",
    "brink",
    "dal",
    "dijk",
    "dorp",
    "eik",
    "els",
    "gaar",
    "gras",
    "haag",
    "ham",
    "has",
    "hei",
    "hof",
    "holt",
    "horst",
    "hout",
    "kamp",
    "kerk",
    "klei",
    "kooi",
    "laar",
    "lin",
    "meer",
    "molen",
    "noord",
    "oost",
    "pol",
    "rijn",
    "roos",
    "schans",
    "slot",
    "spaar",
    "steen",
    "stok",
    "ter",
    "tuin",
    "veen",
    "veld",
    "vliet",
    "vlos",
    "voor",
    "wa",
    "wal",
    "water",
    "weide",
    "wes",
    "wijk",
    "wil",
    "zand",
    "zee",
    "zon",
    "zuid",
    "boom",
    "berk",
    "appel",
    "peer",
    "kers",
    "linde",
]  # 60
SUFFIXES = [
    "straat",
    "laan",
    "weg",
    "plein",
    "gracht",
    "kade",
    "dijk",
    "hof",
    "singel",
    "pad",
    "steeg",
    "dreef",
]  # 12


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def seed(url: str, n: int) -> None:
    """n addresses in table open_data.bag_adressen, registered as the layer bag-adressen, then
    indexed by geodata.address_search.build."""
    syl = "ARRAY[" + ",".join(f"'{s}'" for s in SYLLABLES) + "]"
    suf = "ARRAY[" + ",".join(f"'{s}'" for s in SUFFIXES) + "]"
    streets = -(-n // PER_STREET)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        say(f"writing {n:,} synthetic addresses ({streets:,} streets)")
        started = time.monotonic()
        conn.execute(
            f"""
            CREATE TABLE open_data.bag_adressen AS
            SELECT a AS fid, lpad(a::text, 16, '0') AS feature_id,
                   initcap(({syl})[1 + (h1 % 60)] || ({syl})[1 + (h2 % 60)])
                     || ({suf})[1 + (h3 % 12)] AS street,
                   (a % {PER_STREET}) + 1 AS house_number,
                   NULL::text AS house_letter, NULL::text AS house_number_suffix,
                   (1000 + s % 9000)::text
                     || chr(65 + (s / 9000) % 26) || chr(65 + (s / 234000) % 26) AS postcode,
                   initcap(({syl})[1 + (p % 60)] || ({syl})[1 + ((p / 60) % 60)]) AS city,
                   'woonfunctie'::text AS usage,
                   ST_SetSRID(ST_MakePoint(
                     13000 + (h1 * 7919 % 265000) + (a % {PER_STREET}) * 8,
                     306000 + (h2 * 104729 % 314000) + (h3 % 40)), 28992) AS geom
            FROM generate_series(0, {n - 1}) AS a
            CROSS JOIN LATERAL (SELECT a / {PER_STREET} AS s) st
            CROSS JOIN LATERAL (SELECT st.s / {STREETS_PER_PLACE} AS p) pl
            CROSS JOIN LATERAL (
              SELECT hashint4(st.s)::bigint & 2147483647 AS h1,
                     hashint4(st.s + 7)::bigint & 2147483647 AS h2,
                     hashint4(st.s + 13)::bigint & 2147483647 AS h3) h
            """
        )
        conn.execute("ALTER TABLE open_data.bag_adressen ADD PRIMARY KEY (fid)")
        conn.execute(
            "CREATE INDEX bag_adressen_geom_idx ON open_data.bag_adressen USING gist (geom)"
        )
        say(f"  written in {time.monotonic() - started:.0f} s; building the search index")
        started = time.monotonic()
        with conn.transaction(), conn.cursor() as cursor:
            address_search.build(cursor, "bag_adressen")
        conn.execute("ANALYZE open_data.bag_adressen")
        say(f"  indexed in {time.monotonic() - started:.0f} s")
        conn.execute(
            """
            INSERT INTO layer (name, title, source, licence, attribution, feature_count,
                               source_sha256, kind, geometry_family, table_name, columns)
            VALUES ('bag-adressen', 'Adressen (synthetisch)', 'bench/search.py', 'CC0',
                    'synthetic', %s, 'bench', 'address', 'point', 'bag_adressen',
                    ARRAY['street','house_number','house_letter','house_number_suffix',
                          'postcode','city','usage'])
            """,
            (n,),
        )


def questions(url: str) -> dict[str, str]:
    """One real question of each kind, taken from the data: what a resident would type."""
    with psycopg.connect(libpq_url(url)) as conn:
        street, city, postcode, number = conn.execute(
            "SELECT street, city, postcode, house_number FROM open_data.bag_adressen "
            "WHERE fid = (SELECT max(fid) / 2 FROM open_data.bag_adressen)"
        ).fetchone()
    typo = street[:3] + street[4:]  # one letter left out
    return {
        "street number place": f"{street} {number} {city}",
        "street number": f"{street} {number}",
        "postcode number": f"{postcode[:4]} {postcode[4:]} {number}",
        "street prefix": street[: max(5, len(street) - 4)].lower(),
        "typo + number": f"{typo} {number}",
    }


def captured_sql(url: str, q: str) -> tuple[str, dict]:
    """The statement and parameters the app's provider sends for `q` (the last one it runs)."""
    engine = create_engine(url)
    seen: list[tuple[str, dict]] = []

    def keep(_conn, _cursor, statement, params, _context, _many) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    with Session(engine) as session:
        features, _ = addresses.search(session, q, 8)
    engine.dispose()
    if not features:
        raise SystemExit(f"bench: no answer for {q!r}")
    return seen[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    base = os.environ.get("KAART_DATABASE_URL")
    if not base:
        raise SystemExit("bench: set KAART_DATABASE_URL (make bench-search does)")
    url = fresh_database(base, "bench_search")
    app = None
    try:
        seed(url, args.n)
        asked = questions(url)
        port = free_port()
        app = start_app(url, port)
        client = KeepAlive(port)
        rows = []
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for kind, q in asked.items():
                statement, params = captured_sql(url, q)
                path = f"/api/v1/search?q={quote(q)}&limit=8"
                for _ in range(3):  # warm both
                    client.get(path)
                    conn.execute(statement, params).fetchall()
                app_ms, sql_ms = [], []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    client.get(path)
                    app_ms.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    conn.execute(statement, params).fetchall()
                    sql_ms.append((time.perf_counter() - started) * 1000)
                rows.append((kind, q, pct(app_ms, 0.5), pct(app_ms, 0.95), pct(sql_ms, 0.5)))
        client.close()
        report(args, rows)
    finally:
        if app is not None:
            app.terminate()
            app.wait()
        if not args.keep:
            drop_database(url)


def report(args, rows) -> None:
    load = os.getloadavg()[0]
    print(f"Address search bench, {args.n:,} synthetic addresses, {args.repeat} runs each")
    cores = os.cpu_count()
    print(f"(load average {load:.1f} on {cores} cores; target: app p50 <= {TARGET_MS:.0f} ms)")
    print(f"{'question':<22}{'typed':<34}{'app p50':>9}{'app p95':>9}{'SQL p50':>9}{'ratio':>7}")
    worst = 0.0
    for kind, q, p50, p95, sql50 in rows:
        worst = max(worst, p50)
        ratio = p50 / sql50
        print(f"{kind:<22}{q[:33]:<34}{p50:>7.1f}ms{p95:>7.1f}ms{sql50:>7.1f}ms{ratio:>6.2f}x")
    verdict = "met" if worst <= TARGET_MS else "missed"
    print(f"target app p50 <= {TARGET_MS:.0f} ms for every kind: {verdict} (worst {worst:.1f} ms)")


if __name__ == "__main__":
    main()
