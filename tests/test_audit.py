"""The audit log: every audited action writes exactly one entry with the right actor, address
and details; the table is append-only; the retention purge removes only old entries; the admin
page filters and pages; the CSV download is safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from geodata.sources import amsterdam_buurten
from kaart.cli import main as cli
from kaart.services import audit
from kaart.services.ratelimit import address_key
from tests.dialogue_fixtures import (
    PASSWORD,
    csrf_of,
    log_in_as,
    make_process,
    make_user,
    session_on,
)
from tests.places import feature

ADDRESS = "10.0.0.7"
OTHER_ADDRESS = "192.0.2.44"


def key(address: str) -> str:
    """What the log keeps of a client address: its keyed hash with the suite's secret."""
    return address_key("test-secret", address)


def last_id(connection) -> int:
    return connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar_one()


def entries_since(connection, start: int) -> list:
    return connection.execute(
        text(
            "SELECT actor_id, actor, action, address, details FROM audit_event "
            "WHERE id > :start ORDER BY id"
        ),
        {"start": start},
    ).all()


def add_entry(connection, action: str, at: datetime, actor: str = "cli", **details) -> None:
    connection.execute(
        text(
            "INSERT INTO audit_event (at, actor, action, details) "
            "VALUES (:at, :actor, :action, CAST(:details AS jsonb))"
        ),
        {"at": at, "actor": actor, "action": action, "details": audit.json.dumps(details)},
    )


def post_login(client, email: str, password: str, address: str = ADDRESS):
    return client.post(
        "/inloggen",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def admin(app, connection):
    """A client logged in as an admin, from OTHER_ADDRESS: (client, user id, e-mail, token)."""
    email = f"admin-{uuid.uuid4().hex[:6]}@gemeente.example"
    user_id = make_user(connection, "admin", email=email)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    token = log_in_as(client, user_id)
    return client, user_id, email, token


# -- Logins and logouts -------------------------------------------------------------------------


def test_each_login_attempt_and_logout_writes_one_entry(app, connection, settings):
    user_id = make_user(connection, "planner", email="lotte@weesp.example")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS

    start = last_id(connection)
    assert post_login(client, "Lotte@weesp.example", "wrong password!").status_code == 401
    (failed,) = entries_since(connection, start)
    assert (failed.actor_id, failed.actor, failed.action) == (None, "anonymous", "login.failed")
    assert failed.address == key(ADDRESS)
    assert failed.details == {"email": "lotte@weesp.example", "reason": "password"}

    start = last_id(connection)
    post_login(client, "niemand@weesp.example", PASSWORD)
    (unknown,) = entries_since(connection, start)
    assert unknown.details == {"email": "niemand@weesp.example", "reason": "unknown"}

    start = last_id(connection)
    assert post_login(client, "lotte@weesp.example", PASSWORD).status_code == 302
    (ok,) = entries_since(connection, start)
    assert (ok.actor_id, ok.actor, ok.action) == (user_id, "lotte@weesp.example", "login.succeeded")
    assert ok.address == key(ADDRESS) and ok.details == {"email": "lotte@weesp.example"}

    start = last_id(connection)
    token = client.get("/beheer").get_data(as_text=True).split('name="csrf_token" value="')[1]
    r = client.post("/uitloggen", data={"csrf_token": token.split('"')[0]})
    assert r.status_code == 302
    (out,) = entries_since(connection, start)
    assert (out.actor_id, out.action, out.address) == (user_id, "logout", key(ADDRESS))

    for _ in range(settings.login_max_attempts):
        post_login(client, "lotte@weesp.example", "wrong password!")
    start = last_id(connection)
    assert post_login(client, "lotte@weesp.example", PASSWORD).status_code == 429
    (throttled,) = entries_since(connection, start)
    assert throttled.action == "login.throttled" and throttled.address == key(ADDRESS)
    assert throttled.details == {"email": "lotte@weesp.example", "reason": "throttled"}


# -- Accounts -----------------------------------------------------------------------------------


def test_account_changes_in_beheer_write_one_entry_per_change(admin, connection):
    client, admin_id, admin_email, token = admin
    start = last_id(connection)
    r = client.post(
        "/beheer/gebruikers",
        data={
            "csrf_token": token,
            "email": "Nieuw@Weesp.example",
            "password": PASSWORD,
            "roles": ["planner", "moderator"],
        },
    )
    assert r.status_code == 302
    (created,) = entries_since(connection, start)
    new_id = connection.execute(
        text("SELECT id FROM app_user WHERE email = 'nieuw@weesp.example'")
    ).scalar_one()
    assert (created.actor_id, created.actor, created.action) == (
        admin_id,
        admin_email,
        "user.created",
    )
    assert created.address == key(OTHER_ADDRESS)
    assert created.details == {
        "user_id": str(new_id),
        "email": "nieuw@weesp.example",
        "roles": ["moderator", "planner"],
    }

    def update(**form):
        start = last_id(connection)
        data = {"csrf_token": token, "active": "1", "roles": ["moderator", "planner"], **form}
        assert client.post(f"/beheer/gebruikers/{new_id}", data=data).status_code == 302
        return entries_since(connection, start)

    assert update() == []  # the form sent again unchanged: nothing happened, nothing logged
    (roles,) = update(roles=["planner"])
    assert roles.action == "user.roles_changed" and roles.actor_id == admin_id
    assert roles.details["from"] == ["moderator", "planner"] and roles.details["to"] == ["planner"]
    (off,) = update(roles=["planner"], active="0")
    assert off.action == "user.deactivated" and off.details["email"] == "nieuw@weesp.example"
    # Three changes in one form: one entry each.
    entries = update(password="een heel nieuw wachtwoord")
    assert [e.action for e in entries] == [
        "user.roles_changed",
        "user.activated",
        "user.password_reset",
    ]
    assert entries[2].details == {"user_id": str(new_id), "email": "nieuw@weesp.example"}
    assert "wachtwoord" not in str([e.details for e in entries])


def test_refused_account_changes_write_nothing(admin, connection):
    client, _id, _email, token = admin
    start = last_id(connection)
    r = client.post(
        "/beheer/gebruikers",
        data={"csrf_token": token, "email": "kort@weesp.example", "password": "kort", "roles": []},
    )
    assert r.status_code == 422
    assert entries_since(connection, start) == []


def test_account_commands_are_audited_as_cli(database_url, monkeypatch):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    email = f"cli-audit-{uuid.uuid4().hex[:6]}@weesp.example"
    engine = create_engine(database_url)
    runner = CliRunner()
    try:
        with engine.begin() as conn:
            start = last_id(conn)
        result = runner.invoke(
            cli, ["users", "create", email, "--role", "coop", "--password-stdin"], input=PASSWORD
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["users", "set-roles", email, "--role", "planner"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["users", "unlock", email])
        assert result.exit_code == 0 and "0 failed logins" in result.output
        with engine.begin() as conn:
            found = entries_since(conn, start)
            user_id = conn.execute(
                text("SELECT id FROM app_user WHERE email = :e"), {"e": email}
            ).scalar_one()
        mine = [e for e in found if e.details.get("email") == email]
        assert [e.action for e in mine] == ["user.created", "user.roles_changed", "user.unlocked"]
        assert {(e.actor, e.actor_id, e.address) for e in mine} == {("cli", None, None)}
        assert mine[0].details == {"user_id": str(user_id), "email": email, "roles": ["coop"]}
        assert mine[1].details["from"] == ["coop"] and mine[1].details["to"] == ["planner"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM app_user WHERE email = :e"), {"e": email})
        engine.dispose()


# -- Downloads, moderation, layer loads ---------------------------------------------------------


def test_exports_and_reactienota_downloads_are_audited_with_filter_and_format(admin, connection):
    client, admin_id, _email, _token = admin
    start = last_id(connection)
    r = client.get("/beheer/export.csv?category=groen&category=idee&from=2026-01-01&q=bank")
    assert r.status_code == 200
    (export,) = entries_since(connection, start)
    assert (export.actor_id, export.action, export.address) == (
        admin_id,
        "export.downloaded",
        key(OTHER_ADDRESS),
    )
    assert export.details == {
        "format": "csv",
        "filters": {"category": ["groen", "idee"], "from": ["2026-01-01"], "q": ["bank"]},
    }

    process = make_process(connection, "audit-traject")
    for suffix, fmt in (("", "html"), (".pdf", "pdf")):
        start = last_id(connection)
        assert client.get(f"/beheer/reactienota/{process}{suffix}").status_code == 200
        (report,) = entries_since(connection, start)
        assert report.action == "reactienota.downloaded" and report.actor_id == admin_id
        assert report.details == {
            "process_id": str(process),
            "process": "audit-traject",
            "format": fmt,
        }

    start = last_id(connection)
    assert client.get("/beheer/export.csv?category=onzin").status_code == 400
    assert client.get(f"/beheer/reactienota/{uuid.uuid4()}").status_code == 404
    assert entries_since(connection, start) == []  # nothing was downloaded


def test_comment_moderation_is_audited_and_contribution_decisions_come_from_their_history(
    admin, connection
):
    client, admin_id, admin_email, token = admin
    created = client.post("/api/v1/contributions", json=feature()).get_json()
    headers = {"X-CSRF-Token": token}
    comment = client.post(
        f"/api/v1/contributions/{created['id']}/comments", json={"body": "Onzin!"}, headers=headers
    ).get_json()

    start = last_id(connection)
    r = client.post(
        f"/beheer/moderatie/comment/{comment['id']}/verbergen",
        data={"csrf_token": token, "reason": "Geen bijdrage aan het gesprek."},
    )
    assert r.status_code == 302
    (hidden,) = entries_since(connection, start)
    assert (hidden.actor_id, hidden.action, hidden.address) == (
        admin_id,
        "comment.hidden",
        key(OTHER_ADDRESS),
    )
    assert hidden.details == {"comment_id": comment["id"], "text": "Geen bijdrage aan het gesprek."}
    start = last_id(connection)
    client.post(f"/beheer/moderatie/comment/{comment['id']}/publiceren", data={"csrf_token": token})
    assert [e.action for e in entries_since(connection, start)] == ["comment.published"]

    # Decisions on the contribution itself: one history row each, none in audit_event.
    start = last_id(connection)
    client.post(
        f"/beheer/moderatie/contribution/{created['id']}/verbergen",
        data={"csrf_token": token, "reason": "Reclame."},
    )
    client.post(
        f"/beheer/bijdragen/{created['id']}/status",
        data={"csrf_token": token, "status": "in_behandeling", "response": "We kijken ernaar."},
    )
    assert entries_since(connection, start) == []
    with session_on(connection) as session:
        entries = audit.page(session, audit.Filters(who=admin_email)).entries
    decisions = [e for e in entries if e.source == "c"]
    assert [e.action for e in decisions] == ["contribution.status", "contribution.hidden"]
    assert decisions[0].details == {
        "contribution_id": created["id"],
        "from_status": "ontvangen",
        "to_status": "in_behandeling",
        "text": "We kijken ernaar.",
    }
    assert decisions[1].details["to_visibility"] == "hidden"
    assert {e.actor for e in decisions} == {admin_email}
    html = client.get("/beheer/audit?action=contribution.status").get_data(as_text=True)
    assert "Status gewijzigd" in html and f"/beheer/bijdragen/{created['id']}" in html
    assert "In behandeling" in html


def test_layer_loads_are_audited_as_cli(database_url, monkeypatch):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            start = last_id(conn)
        path = str(amsterdam_buurten.DEMO_FILE)
        args = ["layers", "load", "amsterdam-buurten", "--file", path]
        unchanged = CliRunner().invoke(cli, args)  # loaded by the test session already
        assert unchanged.exit_code == 0, unchanged.output
        loaded = CliRunner().invoke(cli, [*args, "--force"])
        assert loaded.exit_code == 0, loaded.output
        with engine.begin() as conn:
            found = [e for e in entries_since(conn, start) if e.action == "layer.loaded"]
            features = conn.execute(
                text("SELECT feature_count FROM layer WHERE name = 'amsterdam-buurten'")
            ).scalar_one()
        (entry,) = found  # the unchanged file loaded nothing and wrote nothing
        assert (entry.actor, entry.actor_id, entry.address) == ("cli", None, None)
        assert entry.details["layer"] == "amsterdam-buurten" and entry.details["path"] == path
        assert entry.details["features"] == features > 0
    finally:
        engine.dispose()


# -- Append-only and retention ------------------------------------------------------------------


def test_the_log_refuses_update_truncate_and_delete(connection):
    add_entry(connection, "logout", datetime.now(UTC) - timedelta(days=400))
    for statement in (
        "UPDATE audit_event SET actor = 'someone else'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.execute(text(statement))
    # Even with the purge's setting, nothing newer than the moment it names goes.
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(
            text("SELECT set_config('kaart.audit_purge_before', :at, true)"),
            {"at": (datetime.now(UTC) - timedelta(days=500)).isoformat()},
        )
        connection.execute(text("DELETE FROM audit_event"))


def test_purge_removes_only_entries_older_than_the_retention(connection):
    now = datetime.now(UTC)
    add_entry(connection, "login.failed", now - timedelta(days=400), email="oud@weesp.example")
    add_entry(connection, "login.failed", now - timedelta(days=366), email="oud@weesp.example")
    add_entry(connection, "logout", now - timedelta(days=370))
    add_entry(connection, "logout", now - timedelta(days=364))
    add_entry(connection, "logout", now - timedelta(days=1))
    before = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    with session_on(connection) as session:
        purged = audit.purge(session, timedelta(days=365))
    assert purged.removed == {"login.failed": 2, "logout": 1} and purged.total == 3
    assert abs((now - timedelta(days=365) - purged.before).total_seconds()) < 60
    left = connection.execute(
        text("SELECT action, details FROM audit_event WHERE at < now() - interval '365 days'")
    ).all()
    assert left == []
    after = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    assert after == before - 3 + 1  # and one entry saying so
    (note,) = connection.execute(
        text("SELECT actor, details FROM audit_event WHERE action = 'audit.purged'")
    ).all()
    assert note.actor == "system" and note.details["removed"] == {"login.failed": 2, "logout": 1}
    with session_on(connection) as session:
        assert audit.purge(session, timedelta(days=365)).total == 0
    # The setting lasts only while the purge runs.
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(text("DELETE FROM audit_event"))


def test_kaart_audit_purge_prints_what_it_removed(database_url, monkeypatch):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setenv("KAART_AUDIT_RETENTION_DAYS", "30")
    engine = create_engine(database_url)
    marker = f"oud-{uuid.uuid4().hex[:6]}@weesp.example"
    try:
        with engine.begin() as conn:
            add_entry(conn, "login.failed", datetime.now(UTC) - timedelta(days=31), email=marker)
            add_entry(conn, "logout", datetime.now(UTC) - timedelta(days=29), email=marker)
        result = CliRunner().invoke(cli, ["audit", "purge"])
        assert result.exit_code == 0, result.output
        assert "removed 1 entry older than" in result.output and "(login.failed 1)" in result.output
        with engine.begin() as conn:
            left = conn.execute(
                text("SELECT action FROM audit_event WHERE details ->> 'email' = :m"), {"m": marker}
            ).scalars()
            assert list(left) == ["logout"]
    finally:
        engine.dispose()


def test_opening_the_log_applies_the_retention(admin, connection):
    client, *_ = admin
    add_entry(connection, "logout", datetime.now(UTC) - timedelta(days=366), email="weg@x.example")
    add_entry(
        connection, "logout", datetime.now(UTC) - timedelta(days=300), email="blijft@x.example"
    )
    assert client.get("/beheer/audit").status_code == 200
    kept = connection.execute(
        text("SELECT details ->> 'email' AS e FROM audit_event WHERE details ->> 'email' LIKE :d"),
        {"d": "%@x.example"},
    ).scalars()
    assert list(kept) == ["blijft@x.example"]


# -- The admin page: filters, pages, CSV ---------------------------------------------------------


def test_filters_and_keyset_pages_cover_the_log_once_newest_first(connection):
    base = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March 00:30 in Amsterdam
    for n in range(120):
        action = "login.failed" if n % 3 else "logout"
        add_entry(connection, action, base + timedelta(minutes=n), actor=f"p{n}@Weesp.example")
    # 22:59 UTC is 23:59 on 1 March in Dutch time: outside the period.
    add_entry(connection, "logout", base - timedelta(minutes=31), actor="p-1@Weesp.example")
    period = audit.Filters(since=date(2026, 3, 2), until=date(2026, 3, 2))
    seen, cursor = [], None
    with session_on(connection) as session:
        while True:
            found = audit.page(session, period, cursor)
            seen += found.entries
            cursor = found.next_cursor
            if cursor is None:
                break
            assert len(found.entries) == audit.PAGE_SIZE
        assert [e.actor for e in seen] == [f"p{n}@Weesp.example" for n in reversed(range(120))]
        assert seen[0].at.utcoffset() == timedelta(hours=1)  # shown in Dutch time
        logouts = audit.Filters(action="logout", who="@weesp.example", until=date(2026, 3, 2))
        found = audit.page(session, logouts).entries
        assert len(found) == 41 and {e.action for e in found} == {"logout"}
        who = audit.page(session, audit.Filters(who="P7@weesp", until=date(2026, 3, 2)))
        assert [e.actor for e in who.entries] == ["p7@Weesp.example"]
        day_before = audit.Filters(who="@weesp.example", until=date(2026, 3, 1))
        assert [e.actor for e in audit.page(session, day_before).entries] == ["p-1@Weesp.example"]


def test_the_page_filters_pages_and_refuses_bad_parameters(admin, connection):
    client, *_ = admin
    base = datetime.now(UTC) - timedelta(hours=2)
    for n in range(60):
        at = base + timedelta(seconds=n)
        add_entry(connection, "layer.loaded", at, actor="loader@test.example", layer=f"laag-{n}")
    html = client.get("/beheer/audit?action=layer.loaded&who=loader@test").get_data(as_text=True)
    assert html.count('data-action="layer.loaded"') == audit.PAGE_SIZE
    assert "laag-59" in html and "laag-9<" not in html
    older = html.split('id="audit-older" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "action=layer.loaded" in older
    rest = client.get(older).get_data(as_text=True)
    assert rest.count('data-action="layer.loaded"') == 10 and "laag-0<" in rest
    assert 'id="audit-older"' not in rest
    for query in (
        "action=drop.table",
        "from=gisteren",
        "from=2026-03-02&to=2026-03-01",
        "cursor=bm90LWEtY3Vyc29y",
        f"who={'x' * 300}",
    ):
        r = client.get(f"/beheer/audit?{query}")
        assert r.status_code == 400, query
    assert client.get("/beheer/audit.csv?action=drop.table").status_code == 400


def test_the_csv_download_is_utf8_with_a_bom_formula_safe_and_audited(admin, connection):
    client, admin_id, _email, _token = admin
    now = datetime.now(UTC)
    add_entry(connection, "login.failed", now, actor='=HYPERLINK("http://evil.example")')
    add_entry(connection, "login.failed", now, actor="-2+3", email="@SUM(A1)", naam="Zoë")
    start = last_id(connection)
    r = client.get("/beheer/audit.csv?action=login.failed")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="wijkkaart-audit-')
    assert r.headers["Cache-Control"] == "no-store"
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    actors = {row[1] for row in rows[1:]}
    assert {'\'=HYPERLINK("http://evil.example")', "'-2+3"} <= actors
    assert not [cell for row in rows[1:] for cell in row if cell[:1] in ("=", "+", "-", "@")]
    assert any("Zoë" in row[5] and "@SUM(A1)" in row[5] for row in rows[1:])
    assert {row[3] for row in rows[1:]} == {"login.failed"}
    (entry,) = entries_since(connection, start)
    assert (entry.action, entry.actor_id) == ("audit.downloaded", admin_id)
    assert entry.details == {"filters": {"action": "login.failed"}}


def test_only_admins_see_the_link_and_the_page(client, connection):
    log_in_as(client, make_user(connection, "planner"))
    assert "/beheer/audit" not in client.get("/beheer").get_data(as_text=True)
    assert client.get("/beheer/audit").status_code == 403
    assert client.get("/beheer/audit.csv").status_code == 403
    log_in_as(client, make_user(connection, "admin"))
    page = client.get("/beheer").get_data(as_text=True)
    assert 'href="/beheer/audit"' in page and "Auditlog" in page
    english = client.get("/beheer/audit?lang=en").get_data(as_text=True)
    assert "<caption" in english and "Events, newest first" in english
    assert '<label class="label" for="audit-action">Action</label>' in english
