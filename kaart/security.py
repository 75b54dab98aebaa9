"""Response headers that keep pages self-contained and user text inert."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response


def init_app(app: Flask) -> None:
    basemap = app.config["KAART"].basemap_url
    img_src = "'self' data:"
    if basemap:
        parts = urlsplit(basemap)
        img_src += f" {parts.scheme}://{parts.netloc}"
    csp = (
        "default-src 'self'; "
        f"img-src {img_src}; "
        "script-src 'self'; "
        # Leaflet positions map panes with inline style attributes.
        "style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
