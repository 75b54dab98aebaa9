"""Headers that keep pages self-contained and user text inert, on every response."""

from __future__ import annotations

import pytest


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


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "field", "status"),
    [
        ("get", "/api/v1/layers/x%00y/features/1", {}, "path", 400),
        ("get", "/api/v1/contributions?category=groen%00", {}, "category", 400),
        ("get", "/?lang=nl%00", {}, "lang", 400),
        (
            "post",
            "/api/v1/contributions",
            {"json": {"type": "Feature", "properties": {"object": {"layer": "a\x00", "id": "1"}}}},
            "properties.object.layer",
            422,
        ),
        ("post", "/api/v1/contributions", {"json": {"x\x00": 1}}, "x", 422),
        ("post", "/api/v1/contributions", {"json": ["ok", "b\x00"]}, "1", 422),
        ("post", "/api/v1/contributions", {"json": {"n": [1.5, None, True, "\x00"]}}, "n.3", 422),
    ],
)
def test_nul_characters_are_refused_with_a_field_not_a_500(
    client, method, url, kwargs, field, status
):
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status
    if url.startswith("/api/"):
        assert r.mimetype == "application/problem+json"
        assert [(e["field"], e["code"]) for e in r.get_json()["errors"]] == [
            (field, "text_control_chars")
        ]


def test_an_escaped_backslash_before_u0000_is_ordinary_text(client):
    body = '{"type": "Feature", "properties": {"title": "\\\\u0000"}}'
    r = client.post("/api/v1/contributions", data=body, content_type="application/json")
    assert r.status_code == 422  # refused for what is missing, not for NUL
    assert "text_control_chars" not in {e["code"] for e in r.get_json()["errors"]}
