"""GET /tiles/archives/{layer}-{hash}.pmtiles: the prebuilt tile archives (kaart/archives/).

Clients read an archive in pieces with HTTP range requests (206 with Content-Range; 416 past
its end). A name changes with the file's content, so every answer may be kept for a year.
/api/v1/layers says which file is a layer's current one. Behind nginx, deploy/nginx.conf serves
these files itself; this route serves them where nothing else does (`make run`).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from kaart.archives import store
from kaart.errors import ApiError, NotFound

bp = Blueprint("archives", __name__)

PMTILES = "application/vnd.pmtiles"
IMMUTABLE = "public, max-age=31536000, immutable"


@bp.get(store.URL_PREFIX + "<name>")
def archive(name: str) -> Response:
    path = current_app.config["KAART"].tiles_dir / name
    if not store.ARCHIVE_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(f"Tile archive {name[:80]!r}")
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
