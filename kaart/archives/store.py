"""The archive directory (KAART_TILES_DIR): one PMTiles file per layer and version, and a
manifest that says which file is current.

    with store.building(directory, "bag-panden") as temp:   # exclusive per layer
        ...write temp...
        store.install(directory, temp, entry)               # atomic swap, old files pruned

File names are content-addressed (`bag-panden-<sha256 prefix>.pmtiles`), so a file never changes
once written and may be cached for a year; a rebuild from the same data gives the same name.
The new file is renamed into place before the manifest (itself replaced atomically) points to
it, so a reader sees the previous archive or the new one, never a partial file. The previous
archive is kept until the layer's next build: a page opened before the swap holds its URL and
goes on reading ranges of it. A build that fails or is interrupted leaves only its temporary
file, removed on the way out (or by the layer's next build, after a crash).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
log = logging.getLogger(__name__)
URL_PREFIX = "/tiles/archives/"
# Every archive name the store writes; the only names the app and nginx serve.
ARCHIVE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*-[0-9a-f]{16}\.pmtiles")
DIGEST_CHARS = 16  # of the SHA-256 hex digest: 64 bits, ample for the versions of one layer


class BuildBusy(RuntimeError):
    """Another build of the same layer holds its lock."""


@dataclass(frozen=True)
class Entry:
    """A layer's current archive as the manifest records it."""

    file: str
    version: str  # the layer's version (providers.layers.Layer.version) its tiles come from
    min_zoom: int
    max_zoom: int
    tiles: int
    bytes: int
    built_at: str = ""
    previous: str | None = None  # kept for pages opened before the swap

    @property
    def url(self) -> str:
        return URL_PREFIX + self.file


def file_name(layer: str, sha256_hex: str) -> str:
    return f"{layer}-{sha256_hex[:DIGEST_CHARS]}.pmtiles"


def read(directory: Path) -> dict[str, Entry]:
    """The manifest: layer name -> its current archive; empty when nothing was built."""
    try:
        text = (directory / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return {name: Entry(**entry) for name, entry in json.loads(text)["layers"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A damaged manifest (a disk problem, a hand edit): the map draws live tiles and the
        # next `kaart tiles build` writes a new one; serving must not fail on it.
        log.warning(
            "tile archive manifest %s is unreadable (%s); serving live tiles", directory, exc
        )
        return {}


def manifest_version(directory: Path) -> str:
    """A short digest of the manifest as it is now ("none" before the first build): part of
    /api/v1/layers' ETag, since a finished build changes which archive the catalogue names."""
    try:
        data = (directory / MANIFEST).read_bytes()
    except FileNotFoundError:
        return "none"
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def published(directory: Path) -> Callable[[str, str], Entry | None]:
    """A lookup (layer name, the layer's current version) -> its archive, for the catalogue.
    An archive built from other data than the layer now holds (a reload with --no-tiles, a
    build still running) is not handed out: the map then draws live tiles."""
    entries = read(directory)

    def lookup(name: str, version: str) -> Entry | None:
        entry = entries.get(name)
        return entry if entry is not None and entry.version == version else None

    return lookup


def catalogue_fields(directory: Path) -> Callable[[str, str], dict[str, Any]]:
    """What /api/v1/layers says of a layer's archive, by (layer name, its current version):
    `archive` (the URL, or None: draw live tiles) and `archive_zooms` ([min, max] built)."""
    lookup = published(directory)

    def fields(name: str, version: str) -> dict[str, Any]:
        entry = lookup(name, version)
        if entry is None:
            return {"archive": None, "archive_zooms": None}
        return {"archive": entry.url, "archive_zooms": [entry.min_zoom, entry.max_zoom]}

    return fields


@contextmanager
def building(directory: Path, layer: str) -> Iterator[Path]:
    """A temporary file for the layer's new archive, in the directory (so the swap is a
    rename); one build per layer at a time. The file is gone afterwards unless installed."""
    directory.mkdir(parents=True, exist_ok=True)
    with _lock(directory / f".{layer}.lock", wait=False):
        for stale in directory.glob(f".{layer}.*.tmp"):  # left by a build that was killed
            stale.unlink(missing_ok=True)
        handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{layer}.", suffix=".tmp")
        os.close(handle)
        try:
            yield Path(temp)
        finally:
            Path(temp).unlink(missing_ok=True)


def install(directory: Path, temp: Path, layer: str, entry: Entry) -> Entry:
    """Swap the finished `temp` in as the layer's archive `entry.file`: rename, then the
    manifest, then remove the layer's archives older than the previous one."""
    _sync(temp)
    temp.chmod(0o644)  # a static file server (nginx) reads it as another user
    entry = replace(entry, built_at=datetime.now(UTC).isoformat(timespec="seconds"))
    with _lock(directory / ".manifest.lock", wait=True):
        entries = read(directory)
        old = entries.get(layer)
        os.replace(temp, directory / entry.file)
        if old is not None:
            kept = old.previous if old.file == entry.file else old.file
            entry = replace(entry, previous=kept)
        entries[layer] = entry
        _write(directory, entries)
        _prune(directory, layer, keep={entry.file, entry.previous})
    return entry


def retire(directory: Path, layer: str) -> None:
    """The layer has no tiles (left): no archive for it, the map draws live tiles."""
    with _lock(directory / ".manifest.lock", wait=True):
        entries = read(directory)
        if entries.pop(layer, None) is not None:
            _write(directory, entries)
        _prune(directory, layer, keep=set())


def _write(directory: Path, entries: dict[str, Entry]) -> None:
    body = {"layers": {name: asdict(entry) for name, entry in sorted(entries.items())}}
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".manifest.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)
            out.write("\n")
        _sync(Path(temp))
        Path(temp).chmod(0o644)
        os.replace(temp, directory / MANIFEST)
    finally:
        Path(temp).unlink(missing_ok=True)
    _sync(directory)  # the renames survive a power cut


def _prune(directory: Path, layer: str, keep: set[str | None]) -> None:
    own = re.compile(re.escape(layer) + rf"-[0-9a-f]{{{DIGEST_CHARS}}}\.pmtiles")
    for path in directory.iterdir():
        if own.fullmatch(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextmanager
def _lock(path: Path, *, wait: bool) -> Iterator[None]:
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise BuildBusy(f"another build holds {path.name}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
