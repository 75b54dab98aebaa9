"""/beheer pages: the overview, accounts (admins) and standard responses (planners)."""

from __future__ import annotations

from sqlalchemy import text

from tests.dialogue_fixtures import PASSWORD, log_in_as, make_process, make_user
from tests.places import feature


def test_the_overview_counts_what_waits_and_lists_the_newest(client, connection):
    make_process(connection, "eerst-kijken", premoderation=True)
    client.post("/api/v1/contributions", json=feature(title="Wacht nog", process="eerst-kijken"))
    client.post("/api/v1/contributions", json=feature(title="Staat erop"))
    log_in_as(client, make_user(connection, "moderator"))
    html = client.get("/beheer").get_data(as_text=True)
    assert "<strong>1</strong> wachten op moderatie" in html
    assert "Wacht nog" in html and "Staat erop" in html and "Het Grote Plein opnieuw" in html
    # A moderator sees moderation in the nav, not the planners' or admins' pages.
    assert 'href="/beheer/moderatie"' in html and 'href="/beheer/gebruikers"' not in html
    assert 'href="/beheer/trajecten"' not in html


def test_an_admin_manages_accounts_but_cannot_lock_themselves_out(client, connection):
    admin = make_user(connection, "admin")
    token = log_in_as(client, admin)
    r = client.post(
        "/beheer/gebruikers",
        data={
            "csrf_token": token,
            "email": "Nieuw@Weesp.example",
            "display_name": "Nina Nieuw",
            "password": PASSWORD,
            "roles": ["planner", "moderator"],
        },
    )
    assert r.status_code == 302
    row = connection.execute(
        text("SELECT id, roles, active FROM app_user WHERE email = 'nieuw@weesp.example'")
    ).one()
    assert sorted(row.roles) == ["moderator", "planner"] and row.active
    page = client.get("/beheer/gebruikers").get_data(as_text=True)
    assert "nieuw@weesp.example" in page and "Nina Nieuw" in page

    r = client.post(
        f"/beheer/gebruikers/{row.id}", data={"csrf_token": token, "roles": ["coop"]}
    )  # no "active": deactivated
    assert r.status_code == 302
    changed = connection.execute(
        text("SELECT roles, active FROM app_user WHERE id = :id"), {"id": row.id}
    ).one()
    assert changed.roles == ["coop"] and not changed.active

    short = client.post(
        "/beheer/gebruikers",
        data={"csrf_token": token, "email": "kort@weesp.example", "password": "kort"},
    )
    assert short.status_code == 422
    assert "Een wachtwoord heeft minstens 12 tekens." in short.get_data(as_text=True)

    r = client.post(
        f"/beheer/gebruikers/{admin}",
        data={"csrf_token": token, "roles": ["planner"], "active": "1"},
    )
    assert "U kunt uw eigen beheerdersrechten niet intrekken." in client.get(
        r.headers["Location"]
    ).get_data(as_text=True)
    assert connection.execute(
        text("SELECT roles FROM app_user WHERE id = :id"), {"id": admin}
    ).scalar_one() == ["admin"]


def test_planners_keep_standard_responses_per_category(client, connection):
    token = log_in_as(client, make_user(connection, "planner"))
    r = client.post(
        "/beheer/standaardreacties",
        data={
            "csrf_token": token,
            "category": "groen",
            "title": "Groenbeheer",
            "body": "We geven dit door aan het groenbeheer.",
        },
    )
    assert r.status_code == 302
    page = client.get("/beheer/standaardreacties").get_data(as_text=True)
    assert "Groenbeheer" in page and "We geven dit door aan het groenbeheer." in page
    bad = client.post(
        "/beheer/standaardreacties",
        data={"csrf_token": token, "category": "bos", "title": "", "body": ""},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for code in ("category_unknown", "standard_title_invalid", "standard_body_invalid"):
        assert f'data-code="{code}"' in html
    response_id = connection.execute(text("SELECT id FROM standard_response")).scalar_one()
    r = client.post(
        f"/beheer/standaardreacties/{response_id}/verwijderen", data={"csrf_token": token}
    )
    assert r.status_code == 302
    assert connection.execute(text("SELECT count(*) FROM standard_response")).scalar_one() == 0
