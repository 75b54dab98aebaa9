"""Accounts and roles: argon2 passwords, login and logout, rate limits, session cookies, CSRF,
and every /beheer route as a role × action matrix."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from kaart.auth import ROLES
from kaart.cli import main as cli
from kaart.services import users
from tests.dialogue_fixtures import (
    PASSWORD,
    csrf_of,
    log_in_as,
    make_process,
    make_user,
    session_on,
)
from tests.places import feature

# Who may use each /beheer route of the dialogue part (admins may use every route).
ACCESS = {
    # Initiatives (moderated like contributions) and adoptions (decided by planners).
    "beheer.initiatives_list": ("moderator", "planner"),
    "beheer.initiative_record": ("moderator", "planner"),
    "beheer.initiative_visibility": ("moderator",),
    "beheer.adoptions_list": ("planner",),
    "beheer.adoption_decide": ("planner",),
    "beheer.adoptions_export": ("planner",),
    "beheer.index": ("moderator", "planner"),
    "beheer.moderation": ("moderator",),
    "beheer.publish": ("moderator",),
    "beheer.hide": ("moderator",),
    "beheer.contribution": ("moderator", "planner"),
    "beheer.change_status": ("planner",),
    "beheer.processes": ("planner",),
    "beheer.process_new": ("planner",),
    "beheer.process_edit": ("planner",),
    "beheer.standard_responses": ("planner",),
    "beheer.standard_response_delete": ("planner",),
    "beheer.users": ("admin",),
    "beheer.user_update": ("admin",),
    "beheer.user_unlock": ("admin",),
    "beheer.audit_log": ("admin",),
    "beheer.audit_csv": ("admin",),
    "beheer.privacy": ("admin",),
    "beheer.privacy_export": ("admin",),
    "beheer.privacy_erase": ("admin",),
    # The wijkpact: planners make parties, pacts and commitments; partners post progress.
    "beheer.pacts": ("planner", "partner"),
    "beheer.party_new": ("planner",),
    "beheer.party_member_add": ("planner",),
    "beheer.pact_new": ("planner",),
    "beheer.pact_manage": ("planner", "partner"),
    "beheer.commitment_new": ("planner",),
    "beheer.commitment_update": ("planner", "partner"),
}


def _login_form(client, email, password, next_url="/beheer", address="127.0.0.1"):
    token = csrf_of(client)
    return client.post(
        "/inloggen",
        data={"email": email, "password": password, "csrf_token": token, "next": next_url},
        environ_base={"REMOTE_ADDR": address},
    )


# -- Passwords and logging in -------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_and_emails_lower_case(connection):
    make_user(connection, "planner", email="Planner@Weesp.Example")
    row = connection.execute(
        text(
            "SELECT email, password_hash, roles FROM app_user WHERE email = 'planner@weesp.example'"
        )
    ).one()
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert row.roles == ["planner"]


def test_account_rules_are_checked_and_backed_by_the_database(connection):
    with session_on(connection) as session:
        for email, password, roles, code in (
            ("geen-adres", PASSWORD, ["planner"], "email_invalid"),
            ("kort@weesp.example", "kort", ["planner"], "password_too_short"),
            ("rol@weesp.example", PASSWORD, ["burgemeester"], "role_unknown"),
        ):
            with pytest.raises(Exception) as caught:
                users.create(session, email, password, roles)
            assert caught.value.errors[0].code == code
        users.create(session, "dubbel@weesp.example", PASSWORD, ["coop"])
        with pytest.raises(Exception) as caught:
            users.create(session, "DUBBEL@weesp.example", PASSWORD, ["coop"])
        assert caught.value.errors[0].code == "email_taken"
    with pytest.raises(Exception, match="ck_app_user_roles"), connection.begin_nested():
        connection.execute(
            text(
                "INSERT INTO app_user (email, display_name, password_hash, roles) "
                "VALUES ('x@y.example', 'x', 'h', ARRAY['koning'])"
            )
        )


def test_login_sets_a_secure_httponly_lax_session_and_logout_ends_it(client, connection):
    make_user(connection, "planner", email="anna@weesp.example")
    r = _login_form(client, "Anna@weesp.example", PASSWORD, "/beheer/trajecten")
    assert r.status_code == 302 and r.headers["Location"] == "/beheer/trajecten"
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("kaart_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/beheer/trajecten").status_code == 200
    last = connection.execute(
        text("SELECT last_login_at FROM app_user WHERE email = 'anna@weesp.example'")
    ).scalar_one()
    assert last is not None

    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/beheer").get_data(as_text=True)
    ).group(1)
    r = client.post("/uitloggen", data={"csrf_token": token})
    assert r.status_code == 302
    assert client.get("/beheer").headers["Location"] == "/inloggen?next=/beheer"


def test_wrong_password_unknown_account_and_inactive_account_are_refused_alike(client, connection):
    user = make_user(connection, "planner", email="bert@weesp.example")
    for email, password in (
        ("bert@weesp.example", "wrong password!"),
        ("niemand@weesp.example", PASSWORD),
    ):
        r = _login_form(client, email, password)
        assert r.status_code == 401
        assert "E-mailadres of wachtwoord klopt niet" in r.get_data(as_text=True)
    with session_on(connection) as session:
        users.update(session, user, active=False)
    assert _login_form(client, "bert@weesp.example", PASSWORD).status_code == 401


def test_login_is_rate_limited_per_account_even_with_the_right_password(client, connection):
    make_user(connection, "planner", email="carla@weesp.example")
    for _ in range(5):
        assert _login_form(client, "carla@weesp.example", "not her password").status_code == 401
    r = _login_form(client, "carla@weesp.example", PASSWORD)
    assert r.status_code == 429
    assert "Te veel mislukte pogingen" in r.get_data(as_text=True)


def test_login_is_rate_limited_per_ip_address_across_accounts(client, connection):
    make_user(connection, "planner", email="dirk@weesp.example")
    for n in range(20):  # 4 x the per-account limit, spread over accounts
        assert _login_form(client, f"gok{n}@weesp.example", "guess guess guess").status_code == 401
    assert _login_form(client, "dirk@weesp.example", PASSWORD).status_code == 429
    # One address guessing many accounts blocks that address only.
    assert (
        _login_form(client, "dirk@weesp.example", PASSWORD, address="10.0.0.8").status_code == 302
    )


def _wait_shown(response) -> int:
    """The minutes from now until the clock time the refusal names ("Probeer het na 14:32")."""
    shown = re.search(r"Probeer het na (\d\d):(\d\d) opnieuw", response.get_data(as_text=True))
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))
    minutes = int(shown.group(1)) * 60 + int(shown.group(2)) - (now.hour * 60 + now.minute)
    return minutes % (24 * 60)


# Changed with issue 10: failed logins used to lock the account itself, from everywhere.
def test_failed_logins_never_lock_the_owner_out_from_another_address(app, connection):
    make_user(connection, "planner", email="femke@weesp.example")
    guesser, owner = app.test_client(), app.test_client()
    for _ in range(5):
        r = _login_form(guesser, "femke@weesp.example", "guess guess guess", address="10.0.0.7")
        assert r.status_code == 401
    refused = _login_form(guesser, "femke@weesp.example", PASSWORD, address="10.0.0.7")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    wait = int(refused.headers["Retry-After"])
    assert wait / 60 <= _wait_shown(refused) <= wait / 60 + 2  # clock time, minutes rounded up
    r = _login_form(owner, "femke@weesp.example", PASSWORD, address="10.0.0.8")
    assert r.status_code == 302 and r.headers["Location"] == "/beheer"
    assert owner.get("/beheer").status_code == 200


def test_retry_after_is_the_time_until_the_window_frees(client, connection):
    make_user(connection, "planner", email="gijs@weesp.example")
    for _ in range(5):
        _login_form(client, "gijs@weesp.example", "guess guess guess", address="10.0.0.7")
    # The failures happened ten minutes ago: five minutes of the window are left.
    connection.execute(
        text("UPDATE rate_event SET at = at - interval '10 minutes' WHERE bucket = 'login-pair'")
    )
    r = _login_form(client, "gijs@weesp.example", PASSWORD, address="10.0.0.7")
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 4 * 60 < wait <= 5 * 60
    assert wait / 60 <= _wait_shown(r) <= wait / 60 + 2


def test_a_successful_login_clears_that_address_failures_for_the_account(client, connection):
    make_user(connection, "planner", email="hanna@weesp.example")
    for _round in range(2):
        for _ in range(4):
            r = _login_form(client, "hanna@weesp.example", "typo typo typo", address="10.0.0.7")
            assert r.status_code == 401
        r = _login_form(client, "hanna@weesp.example", PASSWORD, address="10.0.0.7")
        assert r.status_code == 302
        client.delete_cookie("kaart_session")


def test_the_rate_limit_table_never_holds_a_client_address(client, connection):
    make_user(connection, "planner", email="ivo@weesp.example")
    _login_form(client, "ivo@weesp.example", "guess guess guess", address="10.0.0.7")
    _login_form(client, "ivo@weesp.example", "guess guess guess", address="2001:db8::7")
    keys = connection.execute(
        text("SELECT key FROM rate_event WHERE bucket LIKE 'login-%'")
    ).scalars()
    keys = list(keys)
    assert len(keys) == 4  # per (account, address) and per address, for two addresses
    assert not [k for k in keys if "10.0.0.7" in k or "2001:db8" in k]
    assert len({k.rsplit(" ", 1)[-1] for k in keys}) == 2  # one pseudonym per address


def test_an_admin_sees_throttled_accounts_and_unlocks_them(app, client, connection):
    make_user(connection, "planner", email="jan@weesp.example")
    for address in ("10.0.0.7", "10.0.0.9"):
        for _ in range(5):
            _login_form(client, "jan@weesp.example", "guess guess guess", address=address)
    assert _login_form(client, "jan@weesp.example", PASSWORD, address="10.0.0.7").status_code == 429
    admin = app.test_client()
    token = log_in_as(admin, make_user(connection, "admin"))
    page = admin.get("/beheer/gebruikers").get_data(as_text=True)
    section = page[page.index('id="failed-logins"') :]
    assert "jan@weesp.example" in section and "Moet wachten" in section
    user_id = re.search(r'id="failed-([0-9a-f-]+)"', section).group(1)
    r = admin.post(f"/beheer/gebruikers/{user_id}/ontgrendelen", data={"csrf_token": token})
    assert r.status_code == 302
    assert "Ontgrendeld" in admin.get("/beheer/gebruikers").get_data(as_text=True)
    for address in ("10.0.0.7", "10.0.0.9"):
        r = _login_form(app.test_client(), "jan@weesp.example", PASSWORD, address=address)
        assert r.status_code == 302, address
    unknown = admin.post(
        f"/beheer/gebruikers/{uuid.uuid4()}/ontgrendelen", data={"csrf_token": token}
    )
    assert unknown.status_code == 404


def test_login_never_redirects_to_another_site(client, connection):
    make_user(connection, "planner", email="eva@weesp.example")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = _login_form(client, "eva@weesp.example", PASSWORD, target)
        assert r.headers["Location"] == "/beheer", target
        client.delete_cookie("kaart_session")


# -- CSRF ---------------------------------------------------------------------------------------


def test_forms_without_the_csrf_token_are_refused(client, connection):
    admin = make_user(connection, "admin")
    log_in_as(client, admin)
    for path, data in (
        ("/beheer/gebruikers", {"email": "x@weesp.example", "password": PASSWORD, "roles": "coop"}),
        ("/beheer/trajecten/nieuw", {"title": "X"}),
        ("/uitloggen", {}),
        ("/inloggen", {"email": "x@weesp.example", "password": PASSWORD}),
    ):
        for token in (None, "forged-token"):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            r = client.post(path, data=form)
            assert r.status_code == 403, (path, token)
            assert "CSRF" in r.get_data(as_text=True) or r.mimetype == "text/html"
    assert (
        connection.execute(
            text("SELECT count(*) FROM app_user WHERE email = 'x@weesp.example'")
        ).scalar_one()
        == 0
    )


def test_cookie_based_api_calls_need_the_csrf_header(client):
    created = client.post("/api/v1/contributions", json=feature()).get_json()
    url = f"/api/v1/contributions/{created['id']}/support"
    r = client.post(url, json={})
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["code"] == "csrf"
    token = csrf_of(client)
    assert client.post(url, json={}, headers={"X-CSRF-Token": token}).status_code == 201


# -- The role × action matrix -------------------------------------------------------------------


@pytest.fixture
def matrix_objects(client, connection):
    created = client.post("/api/v1/contributions", json=feature()).get_json()
    process = make_process(connection, "matrix-traject")
    response_id = connection.execute(
        text(
            "INSERT INTO standard_response (category, title, body) "
            "VALUES ('idee', 'Dank', 'Dank voor uw idee.') RETURNING id"
        )
    ).scalar_one()
    other = make_user(connection, "coop", email="matrix-other@weesp.example")
    return {
        "contribution_id": created["id"],
        "item_id": created["id"],
        "kind": "contribution",
        "process_id": str(process),
        "response_id": str(response_id),
        "user_id": str(other),
    }


def _beheer_cases(app, objects):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/beheer"):
            continue
        values = {arg: objects.get(arg, str(uuid.uuid4())) for arg in rule.arguments}
        path = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def _allowed(app, endpoint, role):
    if endpoint in ACCESS:
        roles = ACCESS[endpoint]
    else:  # routes of other parts: they must declare their roles with login_required
        view = app.view_functions[endpoint]
        assert hasattr(view, "required_roles"), f"{endpoint} is not behind login_required"
        roles = view.required_roles
    return role == "admin" or not roles or role in roles


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_beheer_route_is_a_login_redirect_or_403_unless_the_role_allows_it(
    app, client, connection, matrix_objects, role
):
    cases = list(_beheer_cases(app, matrix_objects))
    assert {endpoint for endpoint, _m, _p in cases} >= set(ACCESS)
    token = csrf_of(client)
    if role is not None:
        token = log_in_as(client, make_user(connection, role))
    wrong = []
    for endpoint, method, path in cases:
        r = client.open(path, method=method, data={"csrf_token": token})
        location = r.headers.get("Location", "")
        if role is None:
            ok = r.status_code == 302 and location.startswith("/inloggen?next=")
        elif _allowed(app, endpoint, role):
            ok = r.status_code != 403 and not location.startswith("/inloggen")
            ok = ok and r.status_code < 500
        else:
            ok = r.status_code == 403
        if not ok:
            wrong.append(f"{role} {method} {path} ({endpoint}) -> {r.status_code} {location}")
    assert not wrong, "\n".join(wrong)


# -- The CLI ------------------------------------------------------------------------------------


def test_kaart_users_create_reads_the_password_from_stdin(database_url, monkeypatch):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    email = f"cli-{uuid.uuid4().hex[:6]}@weesp.example"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["users", "create", email, "--role", "planner", "--role", "moderator", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    engine = create_engine(database_url)
    try:
        assert result.exit_code == 0, result.output
        assert "created with roles moderator, planner" in result.output
        with engine.begin() as conn:
            row = conn.execute(
                text("SELECT roles, password_hash FROM app_user WHERE email = :e"), {"e": email}
            ).one()
        assert sorted(row.roles) == ["moderator", "planner"]
        assert row.password_hash.startswith("$argon2id$")
        again = runner.invoke(
            cli, ["users", "create", email, "--role", "coop", "--password-stdin"], input=PASSWORD
        )
        assert again.exit_code != 0 and "already an account" in again.output
        short = runner.invoke(
            cli,
            ["users", "create", "kort@weesp.example", "--role", "coop", "--password-stdin"],
            input="kort\n",
        )
        assert short.exit_code != 0 and "at least 12" in short.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM app_user WHERE email = :e"), {"e": email})
        engine.dispose()


def test_a_coop_account_lands_on_the_coop_page_not_on_a_403(client, connection):
    make_user(connection, "coop", email="coop@weesp.example")
    token = csrf_of(client)
    r = client.post(
        "/inloggen",
        data={"email": "coop@weesp.example", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"] in ("/coop", "/")
    assert client.get("/beheer").status_code == 403


def test_a_partner_account_lands_on_its_commitments(client, connection):
    make_user(connection, "partner", email="partner@weesp.example")
    token = csrf_of(client)
    r = client.post(
        "/inloggen",
        data={"email": "partner@weesp.example", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/beheer/wijkpact"
    assert client.get("/beheer/wijkpact").status_code == 200
    assert client.get("/beheer").status_code == 403
