"""GET /tiles/archives/{layer}-{hash}.pmtiles: the prebuilt tile archives (kaart/archives/).

Clients read an archive in pieces with HTTP range requests (206 with Content-Range; 416 past
its end). A name changes with the file's content, so every answer may be kept for a year.
/api/v1/layers says which file is a layer's current one. Behind nginx, deploy/nginx.conf serves
these files itself; this route serves them where nothing else does (`make run`).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from kaart.archives import store
from kaart.errors import ApiError, NotFound

bp = Blueprint("archives", __name__)

PMTILES = "application/vnd.pmtiles"
IMMUTABLE = "public, max-age=31536000, immutable"
RANGE_MAX = 16 * 2**20  # a tile or a directory is far smaller; larger ranges are streamed


@bp.get(store.URL_PREFIX + "<name>")
def archive(name: str) -> Response:
    path = current_app.config["KAART"].tiles_dir / name
    if not store.ARCHIVE_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(f"Tile archive {name[:80]!r}")
    piece = _one_range(path)
    if piece is not None:
        return piece
    try:
        response = send_file(path, mimetype=PMTILES, conditional=True, etag=True)
    except RequestedRangeNotSatisfiable as exc:
        size = path.stat().st_size
        raise ApiError(
            416,
            "Range not satisfiable",
            f"The archive has {size:,} bytes.",
            headers={"Content-Range": f"bytes */{size}"},
        ) from exc
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def _one_range(path: Path) -> Response | None:
    """A single range of at most RANGE_MAX bytes, read at its offset. (send_file's range
    support reads up to the start of the range when the server's file wrapper cannot seek, as
    gunicorn's cannot: 110 ms for a tile 500 MB into an archive, against 2 ms at its start.)
    None: let send_file answer (no range, several, a large one, If-Range, past the end)."""
    wanted = request.range
    if wanted is None or len(wanted.ranges) != 1 or "If-Range" in request.headers:
        return None
    size = path.stat().st_size
    bounds = wanted.range_for_length(size)
    if bounds is None or bounds[1] - bounds[0] > RANGE_MAX:
        return None
    start, stop = bounds
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(stop - start)
    response = Response(data, 206, mimetype=PMTILES)
    response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = IMMUTABLE
    return response
