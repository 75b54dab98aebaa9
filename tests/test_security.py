"""Headers that keep pages self-contained and user text inert, on every response."""

from __future__ import annotations


def test_api_responses_carry_security_headers(client):
    r = client.get("/api/v1/contributions")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


def test_basemap_host_is_the_only_other_image_source(settings, connection):
    from kaart import create_app

    app = create_app(
        {
            "settings": settings.replace(basemap_url="https://tiles.example.nl/{z}/{x}/{y}.png"),
            "db_bind": connection,
        }
    )
    csp = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.nl;" in csp
    assert "script-src 'self';" in csp


def test_problem_details_are_not_cached_as_html(client):
    r = client.get("/api/v1/contributions/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["instance"] == "/api/v1/contributions/00000000-0000-0000-0000-000000000000"
