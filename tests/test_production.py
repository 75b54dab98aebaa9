"""Issue 10 in the app: secrets, the client's address behind a proxy, per-address limits on every
anonymous write, safe retries with Idempotency-Key, one text checker, and the database being
down answered with 503. (Through nginx and gunicorn: tests/test_deployed*.py.)"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import uuid

import pytest
from PIL import Image
from sqlalchemy import text

from kaart import create_app
from kaart.config import Settings
from kaart.errors import ConfigError
from tests.places import SINGEL_GRASVELD, feature, polygon

API = "/api/v1/contributions"
KEY = "5f0b1c2e-7d4a-4f7e-9a51-3c2d1e0f9b8a"


def _app(settings, connection, **changes):
    return create_app({"settings": settings.replace(**changes), "db_bind": connection})


def _from(app, address: str):
    """A client that the app sees at `address` (as REMOTE_ADDR)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _csrf(client) -> str:
    html = client.get("/inloggen").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


# -- Secrets ------------------------------------------------------------------------------------


def test_without_a_secret_every_process_shares_one_made_once(tmp_path):
    env = {"KAART_DATABASE_URL": "postgresql+psycopg://u@h/db", "KAART_STATE_DIR": str(tmp_path)}
    first, second = Settings.from_env(env), Settings.from_env(env)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == first.secret_key


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        (None, "must be set"),
        ("change-me-to-64-random-hex-characters", "placeholder"),
        ("change-me", "placeholder"),
        ("kort-geheim", "at least 32 bytes"),
        ("a" * 64, "not random enough"),
    ],
)
def test_production_refuses_a_missing_short_or_published_secret(secret, why):
    env = {"KAART_DATABASE_URL": "postgresql+psycopg://u@h/db", "KAART_ENV": "production"}
    if secret is not None:
        env["KAART_SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match=why):
        Settings.from_env(env)
    random_hex = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"
    env["KAART_SECRET_KEY"] = random_hex
    assert Settings.from_env(env).secret_key == random_hex


def test_env_and_proxy_settings_are_checked():
    base = {"KAART_DATABASE_URL": "postgresql+psycopg://u@h/db", "KAART_SECRET_KEY": "x" * 32}
    assert Settings.from_env(base).trusted_proxies == 0
    assert Settings.from_env({**base, "KAART_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for var, value in (("KAART_TRUSTED_PROXIES", "-1"), ("KAART_ENV", "productie")):
        with pytest.raises(ConfigError, match=var):
            Settings.from_env({**base, var: value})


# -- The client's address behind a proxy --------------------------------------------------------


def test_behind_a_trusted_proxy_each_resident_has_their_own_address(settings, connection):
    app = _app(settings, connection, trusted_proxies=1, contributions_per_hour=2)
    proxy = _from(app, "127.0.0.1")

    def send(forwarded: str) -> int:
        headers = {"X-Forwarded-For": forwarded}
        return proxy.post(API, json=feature(), headers=headers).status_code

    # Two residents behind the same proxy: each has their own two contributions per hour.
    assert [send("192.0.2.10") for _ in range(3)] == [201, 201, 429]
    assert [send("192.0.2.11") for _ in range(2)] == [201, 201]
    # A resident cannot pick an address by sending their own X-Forwarded-For: the proxy appends
    # the address it saw, and only the last entry is believed.
    assert send("198.51.100.1, 192.0.2.10") == 429


def test_without_trusted_proxies_forwarded_headers_are_ignored(settings, connection):
    app = _app(settings, connection, contributions_per_hour=1)
    client = _from(app, "192.0.2.20")
    assert (
        client.post(API, json=feature(), headers={"X-Forwarded-For": "10.1.1.1"}).status_code == 201
    )
    refused = client.post(API, json=feature(), headers={"X-Forwarded-For": "10.1.1.2"})
    assert refused.status_code == 429


def test_rate_limit_rows_never_hold_an_address(settings, connection):
    app = _app(settings, connection)
    assert _from(app, "203.0.113.77").post(API, json=feature()).status_code == 201
    keys = connection.execute(text("SELECT key FROM rate_event")).scalars().all()
    assert keys and not any("203.0.113.77" in k for k in keys)


# -- Limits on every anonymous write ------------------------------------------------------------


def test_a_flood_from_one_address_gets_429_while_another_still_gets_201(
    settings, connection, count_rows
):
    app = _app(settings, connection, contributions_per_hour=5)
    flood = _from(app, "198.51.100.7")
    answers = [flood.post(API, json=feature()) for _ in range(7)]
    assert [r.status_code for r in answers] == [201] * 5 + [429] * 2
    refused = answers[-1]
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"][0] == {
        "field": "rate",
        "reason": refused.get_json()["detail"],
        "code": "rate_limited",
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert _from(app, "198.51.100.8").post(API, json=feature()).status_code == 201
    assert count_rows() == 6


def test_invalid_requests_do_not_count_against_the_limit(settings, connection):
    app = _app(settings, connection, contributions_per_hour=2, public_actions_per_hour=1)
    client = _from(app, "198.51.100.9")
    for _ in range(5):
        assert client.post(API, json=feature(title="")).status_code == 422
        assert client.post(API, json=feature(title="a\x85b")).status_code == 422
    created = client.post(API, json=feature()).get_json()
    assert client.post(API, json=feature()).status_code == 201
    # A comment with a lone surrogate is refused and uses up nothing of the hourly actions.
    url = f"{API}/{created['id']}/comments"
    headers = {"X-CSRF-Token": _csrf(client), "Content-Type": "application/json"}
    bad = client.post(url, data='{"body": "kapot \\ud800 teken"}', headers=headers)
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["code"] == "text_not_unicode"
    assert client.post(url, json={"body": "Goed plan"}, headers=headers).status_code == 201
    assert client.post(url, json={"body": "Nog een"}, headers=headers).status_code == 429


def test_changes_withdrawals_and_photos_are_limited_per_address(settings, connection, tmp_path):
    app = _app(settings, connection, edits_per_hour=3, upload_dir=tmp_path)
    client = _from(app, "198.51.100.30")
    created = client.post(API, json=feature()).get_json()
    auth = {"Authorization": f"Bearer {created['edit_token']}"}
    url = f"{API}/{created['id']}"
    assert (
        client.patch(
            url, json={"type": "Feature", "properties": {"title": "Een"}}, headers=auth
        ).status_code
        == 200
    )
    photo = client.post(f"{url}/photos", data=_png(), headers=auth, content_type="image/png")
    assert photo.status_code == 201
    assert (
        client.patch(
            url, json={"type": "Feature", "properties": {"title": "Twee"}}, headers=auth
        ).status_code
        == 200
    )
    for answer in (
        client.patch(url, json={"type": "Feature", "properties": {"title": "Drie"}}, headers=auth),
        client.post(f"{url}/photos", data=_png(), headers=auth, content_type="image/png"),
        client.delete(url, headers=auth),
    ):
        assert answer.status_code == 429, answer.get_data(as_text=True)
    # The refused upload left no file behind: only the first photo and its thumbnail.
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == sorted(
        f"{photo.get_json()['id']}{suffix}.png" for suffix in ("", ".thumb")
    )
    assert _from(app, "198.51.100.31").delete(url, headers=auth).status_code == 204


def test_open311_posts_are_limited_like_contributions(settings, connection):
    app = _app(settings, connection, contributions_per_hour=1)
    client = _from(app, "198.51.100.40")
    form = {
        "service_code": "knelpunt",
        "lat": "52.30658",
        "long": "5.04234",
        "description": "Losliggende stoeptegel",
    }
    assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    refused = client.post("/open311/v2/requests.json", data=form)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert refused.get_json()[0]["code"] == 429


# -- Safe retries -------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_original_and_writes_nothing(client, count_rows):
    body = feature(polygon(SINGEL_GRASVELD), category="groen", title="Bloemenweide")
    first = client.post(API, json=body, headers={"Idempotency-Key": KEY})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post(API, json=body, headers={"Idempotency-Key": KEY})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # same id, same edit token and link
    assert again.headers["Location"] == first.headers["Location"]
    assert count_rows() == 1
    # The edit token handed out twice is the real one.
    token = first.get_json()["edit_token"]
    url = f"{API}/{first.get_json()['id']}"
    changed = client.patch(
        url,
        json={"type": "Feature", "properties": {"title": "Wilde bloemen"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    # Only the key's hash is kept, and no answer holds the token.
    stored = (
        client.application.extensions["kaart.db"]["bind"]
        .execute(
            text("SELECT key_hash, body FROM idempotency_key WHERE resource_id = :id"),
            {"id": first.get_json()["id"]},
        )
        .one()
    )
    assert KEY.encode() not in bytes(stored.key_hash) and token not in stored.body


def test_a_key_reused_for_another_request_is_refused(client, count_rows):
    assert client.post(API, json=feature(), headers={"Idempotency-Key": KEY}).status_code == 201
    other = client.post(API, json=feature(title="Iets anders"), headers={"Idempotency-Key": KEY})
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["code"] == "idempotency_key_reused"
    assert count_rows() == 1


@pytest.mark.parametrize("key", ["kort", "x" * 256, "met spatie erin 123"])
def test_a_malformed_key_is_a_400(client, key, count_rows):
    r = client.post(API, json=feature(), headers={"Idempotency-Key": key})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0] == {
        "field": "Idempotency-Key",
        "reason": r.get_json()["detail"],
        "code": "idempotency_key_invalid",
    }
    assert count_rows() == 0


def test_a_replay_does_not_count_against_the_limit(settings, connection, count_rows):
    app = _app(settings, connection, contributions_per_hour=1)
    client = _from(app, "198.51.100.50")
    answers = [client.post(API, json=feature(), headers={"Idempotency-Key": KEY}) for _ in range(4)]
    assert {r.status_code for r in answers} == {201}
    assert len({r.get_json()["id"] for r in answers}) == 1 and count_rows() == 1


def test_open311_and_photo_retries_are_idempotent(settings, connection, tmp_path, count_rows):
    app = _app(settings, connection, upload_dir=tmp_path)
    client = app.test_client()
    form = {
        "service_code": "knelpunt",
        "lat": "52.30658",
        "long": "5.04234",
        "description": "Kapotte lantaarnpaal",
    }
    headers = {"Idempotency-Key": KEY}
    ids = {
        client.post("/open311/v2/requests.json", data=form, headers=headers).get_json()[0][
            "service_request_id"
        ]
        for _ in range(3)
    }
    assert len(ids) == 1 and count_rows() == 1 and count_rows("open311_request") == 1
    created = client.post(API, json=feature()).get_json()
    auth = {"Authorization": f"Bearer {created['edit_token']}", "Idempotency-Key": KEY}
    url = f"{API}/{created['id']}/photos"
    photos = [
        client.post(url, data=_png(), headers=auth, content_type="image/png") for _ in range(3)
    ]
    assert [p.status_code for p in photos] == [201, 201, 201]
    assert len({p.get_json()["id"] for p in photos}) == 1 and count_rows("photo") == 1
    assert len(list(tmp_path.rglob("*.png"))) == 2  # the photo and its thumbnail, once


# -- One checker for all text -------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x85", "\x9b", "\x07", "\x00", "\x7f"])
def test_control_characters_are_refused_everywhere_the_same_way(client, char, count_rows):
    r = client.post(API, json=feature(title=f"a{char}b"))
    assert r.status_code == 422
    assert (r.get_json()["errors"][0]["field"], r.get_json()["errors"][0]["code"]) == (
        "properties.title",
        "text_control_chars",
    )
    q = client.get(f"{API}?category=idee{char}")
    assert q.status_code == 400 and q.get_json()["errors"][0]["code"] == "text_control_chars"
    form = {
        "service_code": "knelpunt",
        "lat": "52.30658",
        "long": "5.04234",
        "description": f"kapot{char}",
    }
    o = client.post("/open311/v2/requests.json", data=form)
    assert o.status_code == 400 and "description" in o.get_json()[0]["description"]
    assert count_rows() == 0


def test_deeply_nested_json_is_a_400_not_a_500(client):
    deep = '{"type": "Feature", "geometry": ' + "[" * 5000 + "]" * 5000 + "}"
    r = client.post(API, data=deep, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["errors"][0]["code"] == "json_too_deep"
    shallow_but_too_deep = '{"a": ' + "[" * 30 + "]" * 30 + "}"
    r = client.post(API, data=shallow_but_too_deep, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["errors"][0]["code"] == "json_too_deep"
    polygon_param = "[" * 3000 + "]" * 3000
    r = client.get(f"/api/v1/solar/shortlist?polygon={polygon_param}")
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "polygon"


# -- The database is down -----------------------------------------------------------------------


@pytest.fixture
def down(settings):
    """The app pointed at a database that does not answer (nothing listens on port 1)."""
    broken = settings.replace(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app({"settings": broken})
    yield app
    app.extensions["kaart.db"]["engine"].dispose()


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", API, {}),
        ("post", API, {"json": feature()}),
        ("get", f"{API}/{uuid.uuid4()}", {}),
        ("get", "/tiles/contributions/16/33686/21531.pbf", {}),
        ("get", "/ogc/collections/contributions/items", {}),
    ],
)
def test_api_answers_503_problem_with_retry_after_when_the_database_is_down(
    down, method, url, kwargs
):
    r = getattr(down.test_client(), method)(url, **kwargs)
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["errors"][0]["code"] == "unavailable"


@pytest.mark.parametrize("url", ["/", "/trajecten", f"/bijdragen/{uuid.uuid4()}"])
def test_pages_answer_a_503_page_when_the_database_is_down(down, url):
    r = down.test_client().get(url)
    assert r.status_code == 503 and r.mimetype == "text/html"
    assert "Even niet beschikbaar" in r.get_data(as_text=True)
    assert "Retry-After" in r.headers


def test_healthz_names_the_dependency_that_is_down(down):
    r = down.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unreachable"
    assert r.headers["Retry-After"] == "5"


def test_a_pooled_connection_that_died_while_idle_is_replaced_unnoticed(database_url, monkeypatch):
    from kaart import db

    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    engine, admin = db.make_engine(database_url), db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as other:  # the server ends that session, as a restart would
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"geometry": '{"type": "Polygon", "coordinates": ' + "[" * 5000 + "]" * 5000 + "}"},
            "json_too_deep",
        ),
        ({"title": "Groen\x85plein"}, "text_control_chars"),
        ({"question": "Wat \x9b nu?"}, "text_control_chars"),
        (
            {"geometry": '{"type": "Polygon", "coordinates": [[["\\ud800", 1]]]}'},
            "text_not_unicode",
        ),
    ],
)
def test_hostile_input_on_the_staff_process_form_is_a_4xx_not_a_500(
    client, connection, change, code, count_rows
):
    from datetime import date, timedelta

    from tests.dialogue_fixtures import block_geometry, log_in_as, make_user

    token = log_in_as(client, make_user(connection, "planner"))
    form = {
        "title": "Groen Grote Plein",
        "slug": "",
        "question": "Hoe maken we Het Grote Plein groener?",
        "description": "",
        "starts_on": date.today().isoformat(),
        "ends_on": (date.today() + timedelta(days=30)).isoformat(),
        "categories": ["groen"],
        "geometry": json.dumps(block_geometry()),
        **change,
        "csrf_token": token,
    }
    r = client.post("/beheer/trajecten/nieuw", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    if code == "json_too_deep":  # the form comes back with the field's reason, in Dutch
        assert f'data-code="{code}"' in html and "te ingewikkeld opgebouwd" in html
    else:  # refused before any view: the error page, in Dutch
        assert "Dit kunnen we niet opslaan" in html
    assert count_rows("process") == 0
