"""Configuration, health, migrations and the demo loader, against the real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kaart import create_app
from kaart.cli import DEMO_DIR, load_demo_contributions
from kaart.config import Settings
from kaart.errors import ConfigError


def test_settings_need_a_database_url():
    with pytest.raises(ConfigError, match="KAART_DATABASE_URL"):
        Settings.from_env({})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAART_MAX_AREA_M2": "lots"}, "KAART_MAX_AREA_M2 must be a number"),
        ({"KAART_MAX_AREA_M2": "-5"}, "positive"),
        ({"KAART_PAGE_MAX": "inf"}, "KAART_PAGE_MAX must be a number"),
        ({"KAART_AREA_BBOX": "1,2,3"}, "4 comma-separated"),
        ({"KAART_AREA_BBOX": "7,50,3,53"}, "minLon,minLat"),
        ({"KAART_AREA_FILE": "/nonexistent.geojson"}, "does not exist"),
        ({"KAART_ENV": "production"}, "KAART_SECRET_KEY"),
        ({"KAART_DEFAULT_LANGUAGE": "de"}, "nl or en"),
        ({"KAART_PAGE_DEFAULT": "500", "KAART_PAGE_MAX": "100"}, "must not exceed"),
    ],
)
def test_bad_settings_fail_at_start_up(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"KAART_DATABASE_URL": "postgresql+psycopg:///x", **env})


def test_settings_from_environment():
    s = Settings.from_env(
        {
            "KAART_DATABASE_URL": "postgresql+psycopg:///x",
            "KAART_MAX_AREA_M2": "1000",
            "KAART_AREA_BBOX": "4.7,52.2,5.1,52.5",
            "KAART_AREA_FILE": "",
            "KAART_BASEMAP_URL": "",
            "KAART_DEFAULT_LANGUAGE": "en",
        }
    )
    assert s.max_area_m2 == 1000.0 and s.area_bbox == (4.7, 52.2, 5.1, 52.5)
    assert s.area_file is None and s.basemap_url == "" and s.default_language == "en"


def test_healthz_reports_database_and_postgis(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"].startswith("PostgreSQL 15")
    assert body["postgis"].startswith("3.")


def test_healthz_says_when_the_database_is_unreachable(settings):
    broken = settings.replace(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app({"settings": broken})
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["database"] == "unreachable"


def test_schema_comes_from_migrations_with_constraints(connection):
    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    from alembic.script import ScriptDirectory

    from kaart.schema import alembic_config

    head = ScriptDirectory.from_config(alembic_config("postgresql:///unused")).get_current_head()
    assert version == head
    checks = set(
        connection.execute(
            text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'contribution'::regclass "
                "AND contype = 'c'"
            )
        ).scalars()
    )
    assert {
        "ck_contribution_geom_valid",
        "ck_contribution_geom_srid",
        "ck_contribution_geom_type",
        "ck_contribution_category",
    } <= checks


@pytest.mark.parametrize(
    ("wkt", "constraint"),
    [
        ("SRID=4326;POLYGON((5.04 52.30,5.05 52.31,5.05 52.30,5.04 52.31,5.04 52.30))", "valid"),
        ("SRID=4326;GEOMETRYCOLLECTION(POINT(5.04 52.30))", "type"),
        ("SRID=4326;POINT EMPTY", "valid"),
    ],
)
def test_database_refuses_what_the_api_would(connection, wkt, constraint):
    """The constraints back up the API's checks for any other writer."""
    from sqlalchemy.exc import IntegrityError

    refused = pytest.raises(IntegrityError, match=f"ck_contribution_geom_{constraint}")
    with refused, connection.begin_nested():
        connection.execute(
            text(
                "INSERT INTO contribution (category, title, geom, public_geom, edit_token_hash) "
                "VALUES ('idee', 'x', ST_GeomFromEWKT(:wkt), ST_GeomFromEWKT(:wkt), "
                "decode(repeat('00', 32), 'hex'))"
            ),
            {"wkt": wkt},
        )


def test_demo_contributions_load_once(engine, settings, clean_db):
    path = DEMO_DIR / "contributions.geojson"
    expected = len(json.loads(path.read_text())["features"])
    assert load_demo_contributions(engine, settings, path) == expected
    assert load_demo_contributions(engine, settings, path) == 0
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE buurt_code = 'BU0363SD03') "
                "FROM contribution"
            )
        ).one()
    assert rows == (expected, expected)


def test_kaart_command_upgrades_and_loads(database_url):
    """The installed `kaart` command, as `make run` calls it."""
    env = {**os.environ, "KAART_DATABASE_URL": database_url}
    kaart = str(Path(sys.executable).with_name("kaart"))
    up = subprocess.run(
        [kaart, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stderr
    assert "schema at head" in up.stderr
    bad = subprocess.run(
        [kaart, "db", "upgrade"],
        env={**env, "KAART_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0 and "KAART_DATABASE_URL is not set" in bad.stderr
