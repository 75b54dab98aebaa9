"""Keeping a bulk load busy: a reader thread a batch ahead, and no cyclic GC while it runs.

Both were measured with bench/layers_import.py: the thread took a 500,000-feature load from
5.4 s to 4.8 s, switching off the cyclic collector saved about a fifth of the time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")
M_ARENA_MAX = -8  # glibc mallopt parameter


def lean_allocators() -> None:
    """Allocators that give memory back during a bulk load (bench/layers_import.py, peak RSS
    of a 500,000-feature load): Arrow's system pool instead of mimalloc, which keeps freed
    batches (-15 MiB), and at most two glibc arenas for the reader, COPY and main threads
    instead of one each that all stay large (-10 to -30 MiB)."""
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    libc = ctypes.util.find_library("c")
    if libc:
        ctypes.CDLL(libc).mallopt(M_ARENA_MAX, 2)


def pyogrio_without_dataframes() -> None:
    """Import pyogrio without pandas and geopandas, for a process that only loads layers.

    pyogrio imports both at its own import when they are installed, for read_dataframe and
    write_dataframe; the loader reads Arrow batches (geodata/files.py) and never calls them.
    Hidden while pyogrio is imported, they are never loaded: 45 MiB less RSS and 0.3 s less
    start-up for `kaart layers load` (bench/layers_import.py). In that process pyogrio's
    DataFrame functions then report geopandas as missing, so only the load command calls this;
    a process that already has pyogrio or pandas is left as it is."""
    if any(name in sys.modules for name in ("pyogrio", "pandas", "geopandas")):
        return
    hidden = ("pandas", "geopandas")
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import pandas` raises ImportError
    try:
        import pyogrio  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]  # importable again by whatever needs them later


def prefetched(frames: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Iterate `frames` in a thread, `depth` items ahead: GDAL, shapely and PostgreSQL work
    without Python's lock, so reading the next batch overlaps encoding this one. An error in
    the thread is raised here; leaving early stops the thread."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        queue.put((item, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put((done, exc))

    thread = threading.Thread(target=produce, name="layer-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with suppress(Empty):
                queue.get(timeout=0.1)
        thread.join()


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch turns into hundreds of thousands of small,
    acyclic objects (freed by reference counting anyway): the collector's passes over them
    cost a fifth of a load's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
