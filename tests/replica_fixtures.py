"""A PostgreSQL primary and a hot standby of it on this machine, for the read replica's tests.

    with PrimaryCluster() as primary, StandbyCluster(primary) as standby:
        ...                                  # both PrivateClusters (tests/stack.py): Unix sockets
    wait_for_replay(primary_engine, standby_engine)
    with replay_paused(standby_engine):      # the standby keeps what it has; the primary moves on
        ...

The standby is made as in production: `pg_basebackup -R` (standby.signal and primary_conninfo)
from a role that may only replicate, streaming through a replication slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

from tests.stack import PrivateCluster, StackError

REPLICATOR = "replicator"
SLOT = "wijkkaart_standby"
# Small: two clusters and the app share a 2-core test machine.
SMALL = "shared_buffers = 16MB\n"


class PrimaryCluster(PrivateCluster):
    """A private cluster that a standby can stream from: WAL for replicas, senders, a role with
    REPLICATION and a pg_hba line that lets it replicate over the socket. (PostgreSQL 15's
    defaults allow most of this; written out so the test shows what a replica needs.)"""

    def init(self) -> None:
        super().init()
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nmax_replication_slots = 4\n")
            conf.write(SMALL)
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local replication {REPLICATOR} trust\n" + hba.read_text())

    def start(self) -> None:
        super().start()
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT FROM pg_roles WHERE rolname = '{REPLICATOR}'"))
            if found.first() is None:  # made at the first start; a restart finds it
                conn.execute(text(f"CREATE ROLE {REPLICATOR} REPLICATION LOGIN"))
        engine.dispose()


class StandbyCluster(PrivateCluster):
    """A hot standby of `primary` in a data folder of its own, on its own socket."""

    def __init__(self, primary: PrimaryCluster) -> None:
        super().__init__()
        self.primary = primary

    def init(self) -> None:
        # -R: standby.signal and primary_conninfo; -C -S: a slot, so the primary keeps the WAL
        # the standby has not had yet while it is stopped.
        self._run(
            "pg_basebackup", "-D", str(self.data), "-h", str(self.primary.dir),
            "-U", REPLICATOR, "-R", "-X", "stream", "-c", "fast", "-C", "-S", SLOT,
        )  # fmt: skip
        if not (self.data / "standby.signal").exists():
            raise StackError("pg_basebackup -R wrote no standby.signal")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("hot_standby = on\n" + SMALL)


def wait_for_replay(primary: Engine, standby: Engine, timeout: float = 60) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with primary.connect() as conn:
        position = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    deadline = time.monotonic() + timeout
    while True:
        with standby.connect() as conn:
            replayed = conn.execute(
                text("SELECT pg_last_wal_replay_lsn() >= CAST(:p AS pg_lsn)"), {"p": position}
            ).scalar_one()
        if replayed:
            return
        if time.monotonic() > deadline:
            raise StackError(f"the standby did not replay up to {position} in {timeout} s")
        time.sleep(0.05)


@contextmanager
def replay_paused(standby: Engine) -> Iterator[None]:
    """The standby receives WAL but applies none of it inside the `with`: it answers reads with
    what it had when the block began, whatever the primary does meanwhile."""
    with standby.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        deadline = time.monotonic() + 30
        while conn.execute(text("SELECT pg_get_wal_replay_pause_state()")).scalar_one() != "paused":
            if time.monotonic() > deadline:
                raise StackError("the standby did not pause its replay")
            time.sleep(0.02)
    try:
        yield
    finally:
        with standby.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
