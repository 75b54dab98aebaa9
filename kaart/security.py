"""Response headers that keep pages self-contained and user text inert, and who the client is
behind the deployment's proxies. (What text a request may carry: kaart/textcheck.py.)"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix


def client_address() -> str:
    """The client's IP address, as used by rate limits, reports and the audit log. Behind
    KAART_TRUSTED_PROXIES proxies it is the address the nearest trusted proxy saw."""
    return request.remote_addr or "unknown"


def trust_proxies(app: Flask, hops: int) -> None:
    """Read the client address and scheme from X-Forwarded-For/-Proto set by `hops` proxies.
    Only the last `hops` entries are believed, so a client cannot choose its own address."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


# Where init_app keeps the headers every answer carries (unless the view set its own), for
# answers made outside Flask's request handling too (kaart/views/tiles_direct.py).
HEADERS_KEY = "kaart.security_headers"


def init_app(app: Flask) -> None:
    trust_proxies(app, app.config["KAART"].trusted_proxies)
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
    headers = (
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    )
    app.extensions[HEADERS_KEY] = headers

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers:
            response.headers.setdefault(name, value)
        return response
