"""Bench: writing through the deployed stack while PostgreSQL restarts (issue 10).

Residents (32, each at its own address) write contributions through nginx and `kaart serve`
(gunicorn, 2 workers), each write with an Idempotency-Key and sent again with the same key after
a 503 or a lost connection, as the map's own form does. Three scenarios, on a PostgreSQL cluster
of the bench's own (tests/stack.py):

  steady    no fault
  restart   `pg_ctl restart -m fast` at 20 s
  stop      the database stopped at 20 s for 10 s

Per scenario it prints the acknowledged writes, lost acknowledged writes (acknowledged ids missing
from the table: must be 0), rows without an acknowledgement (ids in the table no client was
given: must be 0), writes never acknowledged, the status codes and media types answered during
the outage, seconds from the database being back to the first acknowledged write, and the
p50/p95/p99 of the request latency.

    make bench-reliability
    python -m bench.reliability [--seconds 60] [--writers 32] [--fault-at 20] [--outage 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, text

from kaart.schema import fresh_database
from tests.stack import PrivateCluster, Stack
from tests.stack_client import LOST, Writers

SCENARIOS = ("steady", "restart", "stop")


@dataclass
class Result:
    scenario: str
    acknowledged: int
    lost: int  # acknowledged, not in the table
    unacknowledged: int  # in the table, never acknowledged
    given_up: int  # writes still not acknowledged when the scenario ended
    requests: int
    latency_ms: tuple[float, float, float]  # p50, p95, p99
    during_outage: Counter = field(default_factory=Counter)  # (status, media type) -> count
    recovery_s: float | None = None  # database back -> first acknowledged write


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    if len(seconds) < 2:
        return (seconds[0] * 1000,) * 3 if seconds else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


@dataclass(frozen=True)
class Load:
    seconds: float  # per scenario
    writers: int
    fault_at: float  # seconds into the scenario


def scenario(
    name: str, stack: Stack, engine: Engine, fault: Callable[[], None] | None, load: Load
) -> Result:
    """One scenario: `load.writers` writers for `load.seconds`, `fault` at `load.fault_at`; the
    writes under way at the end are followed until acknowledged. Its titles start with `name`."""
    writers = Writers(stack.url, load.writers, title=name)
    writers.start()
    began = time.monotonic()
    outage = back = None
    if fault is not None:
        time.sleep(load.fault_at)
        outage = time.monotonic()
        fault()
        back = time.monotonic()
    time.sleep(max(0.0, began + load.seconds - time.monotonic()))
    writers.stop(grace=30)

    with engine.connect() as conn:
        query = text("SELECT id::text FROM contribution WHERE title LIKE :mine")
        stored = set(conn.execute(query, {"mine": f"{name} %"}).scalars())
    acknowledged = set(writers.acknowledged.values())
    attempts = writers.attempts
    result = Result(
        scenario=name,
        acknowledged=len(acknowledged),
        lost=len(acknowledged - stored),
        unacknowledged=len(stored - acknowledged),
        given_up=len(writers.given_up),
        requests=len(attempts),
        latency_ms=percentiles([a.seconds for a in attempts if a.status != LOST]),
    )
    if outage is not None and back is not None:
        during = [a for a in attempts if outage <= a.started <= back]
        result.during_outage = Counter(
            (a.status, a.content_type or "-") if a.status != LOST else ("lost", "-") for a in during
        )
        done = [a.started + a.seconds for a in attempts if a.started >= back and a.status == 201]
        result.recovery_s = min(done) - back if done else None
    return result


def run(
    seconds: float = 60,
    writers: int = 32,
    fault_at: float = 20,
    outage: float = 10,
    workers: int = 2,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> list[Result]:
    """The scenarios on a private cluster, a fresh database and a stack of the bench's own."""
    with PrivateCluster() as cluster:
        # Pre-ping: the bench's own connection outlives the restarts it causes.
        url = fresh_database(cluster.url("wijkkaart"), "bench")
        engine = create_engine(url, pool_pre_ping=True)
        limits = {"KAART_CONTRIBUTIONS_PER_HOUR": "100000000"}  # the bench measures faults
        try:
            with Stack(url, limits, workers) as stack:
                load = Load(seconds, writers, fault_at)
                return measure(stack, cluster, engine, load, outage, scenarios)
        finally:
            engine.dispose()


def measure(
    stack: Stack,
    cluster: PrivateCluster,
    engine: Engine,
    load: Load,
    outage: float,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> list[Result]:
    """The scenarios against a running stack on `cluster` (`engine`: its database)."""
    faults: dict[str, Callable[[], None] | None] = {
        "steady": None,
        "restart": cluster.restart,
        "stop": lambda: (cluster.stop(), time.sleep(outage), cluster.start()),
    }
    return [scenario(name, stack, engine, faults[name], load) for name in scenarios]


def report(results: list[Result], out=sys.stdout) -> None:
    head = (
        f"{'scenario':<9} {'acked':>7} {'lost':>5} {'unacked rows':>12} {'gave up':>7} "
        f"{'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'back->201 s':>11}"
    )
    print(head, file=out)
    for r in results:
        back = f"{r.recovery_s:.2f}" if r.recovery_s is not None else "-"
        p50, p95, p99 = r.latency_ms
        print(
            f"{r.scenario:<9} {r.acknowledged:>7} {r.lost:>5} {r.unacknowledged:>12} "
            f"{r.given_up:>7} {r.requests:>8} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {back:>11}",
            file=out,
        )
    for r in results:
        if r.during_outage:
            seen = ", ".join(f"{s} {t} x{n}" for (s, t), n in sorted(r.during_outage.items()))
            print(f"during the {r.scenario} outage: {seen}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="per scenario")
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--fault-at", type=float, default=20, help="seconds into the scenario")
    parser.add_argument("--outage", type=float, default=10, help="seconds the database is down")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    chosen = tuple(args.scenarios.split(","))
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {sorted(unknown)[0]!r}; choose from {SCENARIOS}")
    results = run(args.seconds, args.writers, args.fault_at, args.outage, args.workers, chosen)
    report(results)
    # Lost or unacknowledged writes are failures, not figures.
    return 1 if any(r.lost or r.unacknowledged or r.given_up for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
