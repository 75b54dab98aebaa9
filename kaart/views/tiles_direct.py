"""The serving worker's short way to an open layer's vector tile: a WSGI layer in front of Flask
that answers GET /tiles/{layer}/{z}/{x}/{y}.pbf itself when nothing about the request needs
more than the tile (kaart/views/tiles.py says what the answers are).

Why: a dense z16 tile takes PostgreSQL ~4-7 ms, and Flask's request handling around it (request
context, URL matching, session, hooks, response object) took another ~0.3-0.4 ms in a gunicorn
worker, where the database's work between requests leaves the CPU's caches cold
(bench/tiles.py, issue 11). A map opens dozens of these tiles at once.

It is the same answer by the same code: the worker's copy of the layer's catalogue row
(`kaart.views.tiles.held_layer`), `tiles.tile_address`, `tiles.etag`, `conditional.is_current`,
`tiles.render_with` on a pooled connection of its own (`db.own_read_connection`), the same
headers (`security.HEADERS_KEY`); tests/test_tiles_serving.py compares the two ways answer for
answer. Everything else goes on to Flask untouched: other methods, a query string or a body,
the contributions' tiles (their version is read for every tile), a layer whose catalogue row
the worker holds no fresh copy of (Flask reads it and keeps the copy), an address outside the
grid (Flask's 404), a worker bound to a test's connection or reading from a replica. A failure
while reading the tile is answered by Flask's error handling (kaart/errors_http.py): a lost
connection is a 503 with Retry-After, as everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask

from kaart import conditional, db, security
from kaart.errors import ApiError
from kaart.services import tiles
from kaart.views import tiles as tile_views

# The path of the tiles blueprint's `/tiles/<layer>/<z>/<x>/<y>.pbf` (each part without a slash).
_PATH = re.compile(r"/tiles/([^/]+)/([^/]+)/([^/]+)/([^/]+)\.pbf")
_NO_BODY = (None, "", "0")

StartResponse = Any  # the WSGI server's start_response callable
WsgiApp = Any


def install(app: Flask) -> None:
    """Put the short way in front of the app's WSGI stack (outermost: a tile request passes
    nothing else first)."""
    app.wsgi_app = DirectTiles(app, app.wsgi_app)  # type: ignore[method-assign]


class DirectTiles:
    def __init__(self, app: Flask, inner: WsgiApp):
        self.app = app
        self.inner = inner
        self.engine = db.own_connection_engine(app)  # where prepared_row() would read too
        self.headers = list(app.extensions[security.HEADERS_KEY])

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        found = self._tile(environ) if self.engine is not None else None
        if found is None:
            return self.inner(environ, start_response)
        layer, address = found
        tag = tiles.etag(layer, address)
        headers = list(conditional.validators(tag, tile_views.LAYER_CACHE).items())
        if conditional.is_current(environ.get("HTTP_IF_NONE_MATCH"), tag):
            start_response("304 NOT MODIFIED", headers + self.headers)
            return []
        try:
            with db.own_read_connection(self.engine) as read_row:
                data = tiles.render_with(read_row, layer, address)
        except Exception as error:  # answered as Flask answers any error
            return self._failed(environ, start_response, error)
        if not data:
            start_response("204 NO CONTENT", headers + self.headers)
            return []
        body = [("Content-Type", tile_views.MVT), ("Content-Length", str(len(data)))]
        start_response("200 OK", body + headers + self.headers)
        return [data]

    def _tile(self, environ: dict[str, Any]) -> tuple[tiles.TileLayer, tiles.Tile] | None:
        """The open layer and tile asked for, when this request is one to answer here."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return None
        if environ.get("CONTENT_LENGTH") not in _NO_BODY or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        name, z, x, y = match.groups()
        layer = tile_views.held_layer(self.app, name)
        if layer is None or layer.table is None:
            return None
        try:
            return layer, tiles.tile_address(z, x, y)
        except ApiError:
            return None  # Flask answers with its 404

    def _failed(
        self, environ: dict[str, Any], start_response: StartResponse, error: Exception
    ) -> Iterable[bytes]:
        """`error` answered by the app's error handling, in a request context of its own."""
        with self.app.request_context(environ):
            answer = self.app.handle_user_exception(error)
            response = self.app.finalize_request(answer, from_error_handler=True)
            return response(environ, start_response)
