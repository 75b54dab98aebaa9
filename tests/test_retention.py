"""The retention policy on PostGIS: `kaart privacy purge` removes each kind of personal data at
its retention age and not a day sooner (the clock is moved by shifting timestamps, never by
sleeping), keeps records and history, is idempotent, removes nothing with --dry-run and writes
one audit entry; the settings, the README's register and the command agree."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart import ROOT, create_app
from kaart.cli import main as cli
from kaart.config import Settings
from kaart.db import transaction
from kaart.errors import ConfigError
from kaart.services import moderation, retention, statement
from kaart.services.workflow import change_status
from tests.dialogue_fixtures import csrf_of, session_on
from tests.privacy_fixtures import (
    committing_client,
    contribute,
    files_under,
    move_clock,
    open311_request,
    withdraw,
)

MARKER = retention.MARKER


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(settings, connection, upload_dir):
    return create_app({"settings": settings.replace(upload_dir=upload_dir), "db_bind": connection})


def row(connection, sql: str, **params):
    return connection.execute(text(sql), params).one()


def contribution(connection, ident) -> object:
    return row(
        connection,
        "SELECT title, description, status, visibility, withdrawn_at, redacted_at, "
        "(SELECT count(*) FROM photo WHERE contribution_id = c.id) AS photos, "
        "(SELECT count(*) FROM contribution_event WHERE contribution_id = c.id) AS events "
        "FROM contribution c WHERE id = :id",
        id=ident,
    )


def contact(connection, ident) -> tuple:
    return tuple(
        row(
            connection,
            "SELECT email, first_name, last_name, phone FROM open311_request "
            "WHERE contribution_id = :id",
            id=ident,
        )
    )


def comment_on(client, ident: str, body: str, name: str) -> str:
    r = client.post(
        f"/api/v1/contributions/{ident}/comments",
        json={"body": body, "author_name": name},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def purge(connection, settings) -> retention.Report:
    with session_on(connection) as session:
        return retention.purge(session, settings)


# -- Each kind at its age -----------------------------------------------------------------------


def test_withdrawn_contributions_lose_text_photos_and_comments_after_30_days(
    app, client, connection, settings, upload_dir
):
    settings = app.config["KAART"]
    old = contribute(client, "Oud en ingetrokken", photo=True)
    comment_on(client, old["id"], "Goed idee van Jan!", "Piet")
    reported = client.post(
        f"/api/v1/contributions/{old['id']}/reports",
        json={"reason": "Hier staat het telefoonnummer van Jan in"},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert reported.status_code == 201, reported.get_data(as_text=True)
    recent = contribute(client, "Net ingetrokken", photo=True)
    for created in (old, recent):
        withdraw(client, created)
    events = contribution(connection, old["id"]).events
    move_clock(connection, old["id"], 31)
    move_clock(connection, recent["id"], 29)
    assert len(files_under(upload_dir)) == 4  # two photos, each with a thumbnail

    report = purge(connection, settings)

    assert report.removed["withdrawn"] == {
        "contributions": 1,
        "photos": 1,
        "comments": 1,
        "requests": 0,
    }
    gone = contribution(connection, old["id"])
    assert (gone.title, gone.description, gone.photos) == (MARKER, "", 0)
    assert gone.status == "ingetrokken" and gone.redacted_at is not None
    assert gone.events == events  # the record and its history stay
    assert row(
        connection,
        "SELECT body, author_name FROM comment WHERE contribution_id = :id",
        id=old["id"],
    ) == (MARKER, None)
    assert row(
        connection, "SELECT reason FROM report WHERE contribution_id = :id", id=old["id"]
    ) == ("",)
    kept = contribution(connection, recent["id"])
    assert (kept.title, kept.photos, kept.redacted_at) == ("Net ingetrokken", 1, None)
    # The files go once the caller has committed: these are the old photo's two files.
    assert sorted(p.name for p in report.files) == sorted(
        (f"{old['photo']['id']}.jpg", f"{old['photo']['id']}.thumb.jpg")
    )
    assert all(path.is_file() for path in report.files)
    assert purge(connection, settings).removed["withdrawn"]["contributions"] == 0  # idempotent


def test_hidden_contributions_and_comments_lose_their_text_after_a_year(
    app, client, connection, settings
):
    settings = app.config["KAART"]
    old, recent, talk = (contribute(client, title) for title in ("Scheldwoord", "Twijfel", "Boom"))
    old_comment = comment_on(client, talk["id"], "Die buurman van nr. 5 is een ...", "Kees")
    new_comment = comment_on(client, talk["id"], "Nog een scheldwoord", "Klaas")
    with session_on(connection) as session:
        for ident in (old["id"], recent["id"]):
            moderation.hide(session, "contribution", uuid.UUID(ident), "Beledigend", None)
        for ident in (old_comment, new_comment):
            moderation.hide(session, "comment", uuid.UUID(ident), "Beledigend", None)
    hidden_at = row(connection, "SELECT hidden_at FROM comment WHERE id = :id", id=old_comment)[0]
    assert hidden_at is not None  # the moderation decision stamps the comment
    move_clock(connection, old["id"], 366)
    move_clock(connection, recent["id"], 364)
    connection.execute(
        text("UPDATE comment SET hidden_at = hidden_at - interval '366 days' WHERE id = :id"),
        {"id": old_comment},
    )

    report = purge(connection, settings)

    assert report.removed["hidden"] == {
        "contributions": 1,
        "photos": 0,
        "comments": 1,
        "requests": 0,
    }
    gone = contribution(connection, old["id"])
    assert (gone.title, gone.description, gone.visibility) == (MARKER, "", "hidden")
    assert contribution(connection, recent["id"]).title == "Twijfel"
    comments = dict(
        connection.execute(
            text("SELECT id::text, body FROM comment WHERE contribution_id = :id"),
            {"id": talk["id"]},
        ).all()
    )
    assert comments == {old_comment: MARKER, new_comment: "Nog een scheldwoord"}
    assert contribution(connection, talk["id"]).title == "Boom"  # published: kept


def test_open311_contact_details_go_90_days_after_the_request_was_closed(
    app, client, connection, settings
):
    settings = app.config["KAART"]
    closed_long_ago, closed_lately, still_open = (open311_request(client) for _ in range(3))
    with session_on(connection) as session:
        for ident in (closed_long_ago, closed_lately):
            change_status(session, uuid.UUID(ident), "in_behandeling", "We kijken ernaar.", None)
            change_status(session, uuid.UUID(ident), "beantwoord", "De tegel ligt vast.", None)
    move_clock(connection, closed_long_ago, 91)
    move_clock(connection, closed_lately, 89)
    move_clock(connection, still_open, 400)  # open for long: the municipality still needs them

    report = purge(connection, settings)

    assert report.removed["open311_contact"] == {"requests": 1}
    assert contact(connection, closed_long_ago) == (None, None, None, None)
    full = ("bewoner.retentie@example.org", "Anna", "de Vries", "06-12345678")
    assert contact(connection, closed_lately) == full
    assert contact(connection, still_open) == full
    # Only the contact details go: the request and its text stay on the map.
    assert contribution(connection, closed_long_ago).description.startswith("Losliggende")
    assert client.get(f"/open311/v2/requests/{closed_long_ago}.json").status_code == 200


def test_rate_limit_rows_idempotency_keys_and_audit_entries_go_at_their_age(
    client, connection, settings
):
    now = connection.execute(text("SELECT now()")).scalar_one()
    for hours, key in ((25, "oud"), (23, "nieuw")):
        connection.execute(
            text("INSERT INTO rate_event (bucket, key, at) VALUES ('test', :key, :at)"),
            {"key": key, "at": now - timedelta(hours=hours)},
        )
    # The old key last: storing a key removes expired ones on the way (idempotency.remember).
    for hours, key in ((23, "nieuw"), (25, "oud")):
        r = client.post(
            "/api/v1/contributions",
            json={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [5.04234, 52.30658]},
                "properties": {"category": "idee", "title": f"Sleutel {key}"},
            },
            headers={"Idempotency-Key": f"retentie-{key}-{uuid.uuid4()}"},
        )
        assert r.status_code == 201
        connection.execute(
            text("UPDATE idempotency_key SET created_at = :at WHERE resource_id = :id"),
            {"at": now - timedelta(hours=hours), "id": r.get_json()["id"]},
        )
    for days, action in ((366, "logout"), (364, "login.succeeded")):
        connection.execute(
            text(
                "INSERT INTO audit_event (at, actor, action, details) "
                "VALUES (:at, 'cli', :action, CAST(:details AS jsonb))"
            ),
            {
                "at": now - timedelta(days=days),
                "action": action,
                "details": json.dumps({"email": "retentie@x.example"}),
            },
        )
    older = {
        "rate_events": "SELECT count(*) FROM rate_event WHERE at < now() - interval '1 day'",
        "idempotency": "SELECT count(*) FROM idempotency_key "
        "WHERE created_at < now() - interval '24 hours'",
        "audit": "SELECT count(*) FROM audit_event WHERE at < now() - interval '365 days'",
    }
    expected = {kind: connection.execute(text(sql)).scalar_one() for kind, sql in older.items()}
    assert all(expected.values())

    report = purge(connection, settings)

    assert report.removed["rate_events"] == {"rows": expected["rate_events"]}
    assert report.removed["idempotency"] == {"rows": expected["idempotency"]}
    assert report.removed["audit"] == {"entries": expected["audit"]}
    keys = connection.execute(text("SELECT key FROM rate_event WHERE bucket = 'test'")).scalars()
    assert list(keys) == ["nieuw"]
    titles = connection.execute(
        text(
            "SELECT c.title FROM idempotency_key k JOIN contribution c ON c.id = k.resource_id "
            "WHERE c.title LIKE 'Sleutel %'"
        )
    ).scalars()
    assert list(titles) == ["Sleutel nieuw"]
    left = connection.execute(
        text("SELECT action FROM audit_event WHERE details ->> 'email' = 'retentie@x.example'")
    ).scalars()
    assert list(left) == ["login.succeeded"]
    again = purge(connection, settings)
    assert again.removed["rate_events"] == again.removed["idempotency"] == {"rows": 0}


def test_shorter_settings_shorten_the_ages(app, client, connection):
    settings = app.config["KAART"].replace(retain_withdrawn_days=7)
    created = contribute(client, "Een week geleden ingetrokken")
    withdraw(client, created)
    move_clock(connection, created["id"], 8)
    assert purge(connection, settings).removed["withdrawn"]["contributions"] == 1


def test_an_author_who_edits_after_the_purge_is_purged_again(app, client, connection):
    settings = app.config["KAART"]
    created = contribute(client, "Verborgen en later aangepast")
    with session_on(connection) as session:
        moderation.hide(session, "contribution", uuid.UUID(created["id"]), "Reclame", None)
    move_clock(connection, created["id"], 400)
    assert purge(connection, settings).removed["hidden"]["contributions"] == 1
    r = client.patch(
        f"/api/v1/contributions/{created['id']}",
        json={"type": "Feature", "properties": {"title": "Nieuwe tekst met mijn naam"}},
        headers={"Authorization": f"Bearer {created['edit_token']}"},
    )
    assert r.status_code == 200
    assert purge(connection, settings).removed["hidden"]["contributions"] == 1
    assert contribution(connection, created["id"]).title == MARKER


def test_restoring_a_comment_clears_when_it_was_hidden(client, connection):
    talk = contribute(client, "Praat mee")
    ident = comment_on(client, talk["id"], "Eerst verborgen", "Els")
    with session_on(connection) as session:
        moderation.hide(session, "comment", uuid.UUID(ident), "Even kijken", None)
        moderation.publish(session, "comment", uuid.UUID(ident), None)
    assert row(connection, "SELECT hidden_at FROM comment WHERE id = :id", id=ident) == (None,)


# -- The command: dry run, one audit entry, idempotent, photo files -----------------------------


def test_kaart_privacy_purge_dry_run_then_for_real_then_again(
    database_url, engine, settings, tmp_path, monkeypatch
):
    upload_dir = tmp_path / "uploads"
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setenv("KAART_UPLOAD_DIR", str(upload_dir))
    with committing_client(settings, engine, upload_dir) as client:
        created = contribute(client, "Met foto ingetrokken", photo=True)
        withdraw(client, created)
        request = open311_request(client, email="purge-cli@example.org")
        with Session(engine) as session, transaction(session):
            for status in ("in_behandeling", "niet_overgenomen"):
                change_status(session, uuid.UUID(request), status, "Afgehandeld.", None)
        with engine.begin() as conn:
            move_clock(conn, created["id"], 31)
            move_clock(conn, request, 91)
            start = conn.execute(text("SELECT max(id) FROM audit_event")).scalar_one() or 0
        assert len(files_under(upload_dir)) == 2

        dry = CliRunner().invoke(cli, ["privacy", "purge", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "dry run, nothing removed" in dry.output
        assert re.search(
            r"withdrawn \(older than 30 days\): would remove contributions 1, photos 1", dry.output
        )
        assert "open311_contact (older than 90 days): would remove requests 1" in dry.output
        with engine.connect() as conn:
            assert conn.execute(
                text("SELECT title FROM contribution WHERE id = :id"), {"id": created["id"]}
            ).scalar_one() == ("Met foto ingetrokken")
            assert conn.execute(
                text("SELECT email FROM open311_request WHERE contribution_id = :id"),
                {"id": request},
            ).scalar_one() == ("purge-cli@example.org")
            assert (
                conn.execute(
                    text("SELECT count(*) FROM audit_event WHERE id > :s"), {"s": start}
                ).scalar_one()
                == 0
            )
        assert len(files_under(upload_dir)) == 2

        done = CliRunner().invoke(cli, ["privacy", "purge"])
        assert done.exit_code == 0, done.output
        assert "withdrawn (older than 30 days): removed contributions 1, photos 1" in done.output
        assert "open311_contact (older than 90 days): removed requests 1" in done.output
        assert files_under(upload_dir) == []
        with engine.connect() as conn:
            title, photos = conn.execute(
                text(
                    "SELECT title, (SELECT count(*) FROM photo WHERE contribution_id = c.id) "
                    "FROM contribution c WHERE id = :id"
                ),
                {"id": created["id"]},
            ).one()
            assert (title, photos) == (MARKER, 0)
            entries = conn.execute(
                text("SELECT actor, action, details FROM audit_event WHERE id > :s"),
                {"s": start},
            ).all()
        assert [(e.actor, e.action) for e in entries] == [("cli", "privacy.purged")]
        details = entries[0].details
        assert details["removed"]["withdrawn"]["contributions"] == 1
        assert details["removed"]["open311_contact"] == {"requests": 1}
        assert details["ages"]["withdrawn"] == "30 days"

        again = CliRunner().invoke(cli, ["privacy", "purge"])
        assert again.exit_code == 0, again.output
        assert "withdrawn (older than 30 days): removed contributions 0, photos 0" in again.output
        assert "open311_contact (older than 90 days): removed requests 0" in again.output


# -- Settings, the register and the README ------------------------------------------------------

URL = "postgresql+psycopg://u@h/db"


def test_retention_settings_come_from_kaart_variables_and_are_checked(tmp_path):
    base = {"KAART_DATABASE_URL": URL, "KAART_STATE_DIR": str(tmp_path)}
    defaults = Settings.from_env(base)
    assert (
        defaults.retain_withdrawn_days,
        defaults.retain_hidden_days,
        defaults.retain_open311_contact_days,
        defaults.audit_retention_days,
    ) == (30, 365, 90, 365)
    given = Settings.from_env(
        {
            **base,
            "KAART_RETAIN_WITHDRAWN_DAYS": "14",
            "KAART_RETAIN_HIDDEN_DAYS": "180",
            "KAART_RETAIN_OPEN311_CONTACT_DAYS": "365",
            "KAART_PRIVACY_CONTACT": "privacy@weesp.example",
        }
    )
    assert (given.retain_withdrawn_days, given.retain_hidden_days) == (14, 180)
    assert given.retain_open311_contact_days == 365
    assert given.privacy_contact == "privacy@weesp.example"
    for name, value in (
        ("KAART_RETAIN_WITHDRAWN_DAYS", "0"),
        ("KAART_RETAIN_HIDDEN_DAYS", "-1"),
        ("KAART_RETAIN_OPEN311_CONTACT_DAYS", "drie maanden"),
        ("KAART_PRIVACY_CONTACT", "twee\nregels"),
        ("KAART_PRIVACY_CONTACT", "x" * 201),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**base, name: value})


def test_every_kind_has_texts_in_both_languages_and_the_ages_its_code_relies_on():
    from kaart.services import idempotency, ratelimit

    names = [k.name for k in retention.KINDS]
    assert len(names) == len(set(names))
    assert set(retention.PURGES) <= set(names)
    assert retention.kind("rate_events").delta(Settings(database_url="")) == ratelimit.KEEP
    assert retention.kind("idempotency").delta(Settings(database_url="")) == idempotency.KEEP
    for lang in ("nl", "en"):
        entries = statement.register(Settings(database_url=""), lang)
        assert [e.kind for e in entries] == names
        for entry in entries:
            assert all(
                getattr(entry, part).strip() for part in ("title", "what", "why", "who", "basis")
            )
            assert "{" not in entry.how_long
    nl = {e.kind: e.how_long for e in statement.register(Settings(database_url=""), "nl")}
    assert nl["withdrawn"].startswith("30 dagen na het intrekken")
    assert nl["rate_events"] == "24 uur."


def _readme_register() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(statement.BEGIN) + len(statement.BEGIN)
    return readme[start : readme.index(statement.END)].strip("\n") + "\n"


def test_the_readme_register_is_the_one_the_retention_table_makes():
    defaults = Settings(database_url="")
    assert _readme_register() == statement.register_markdown(defaults, "en")
    printed = CliRunner().invoke(cli, ["privacy", "register", "--defaults"])
    assert printed.exit_code == 0 and printed.output == _readme_register()
    for k in retention.KINDS:
        if k.variable:  # each age names its setting, which the configuration table documents
            assert f"`{k.variable}`" in _readme_register()


def test_the_register_follows_the_settings_and_speaks_dutch(monkeypatch, tmp_path):
    monkeypatch.setenv("KAART_DATABASE_URL", URL)
    monkeypatch.setenv("KAART_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("KAART_RETAIN_HIDDEN_DAYS", "180")
    printed = CliRunner().invoke(cli, ["privacy", "register", "--lang", "nl"])
    assert printed.exit_code == 0, printed.output
    assert "| Soort gegevens | Wat | Waarom | Hoe lang | Wie ziet het | Waarop gebaseerd |" in (
        printed.output
    )
    assert "180 dagen na het verbergen" in printed.output
    assert "(`KAART_RETAIN_HIDDEN_DAYS`)" in printed.output


def test_a_purge_report_is_one_audit_entry_with_the_ages(connection, settings):
    with session_on(connection) as session:
        report = retention.purge(session, settings)
    details = retention.audit_details(report, settings)
    assert set(details["removed"]) == set(retention.PURGES)
    assert details["ages"] == {
        "withdrawn": "30 days",
        "hidden": "365 days",
        "open311_contact": "90 days",
        "participants": "365 days",
        "mail_addresses": "365 days",
        "outbox": "30 days",
        "rate_events": "24 hours",
        "idempotency": "24 hours",
        "audit": "365 days",
    }
