"""E-mail (kaart/mail/): the receipt with the private link, double opt-in, updates, following,
"Stuur mijn links", digests, the satisfaction question and delivery through a real SMTP server
(aiosmtpd) that accepts, is down, answers 4xx or refuses for good."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from kaart import create_app
from kaart.services import workflow
from tests.dialogue_fixtures import log_in_as, make_process, make_user, session_on
from tests.mail_fixtures import links_in, run_worker, smtp_server, text_of
from tests.places import DAM_AMSTERDAM, HET_GROTE_PLEIN, feature, point
from tests.stack import free_port

API = "/api/v1/contributions"
PUBLIC_URL = "http://wijkkaart.test"
ADDRESS = "bewoner@example.nl"


@pytest.fixture
def inbox():
    with smtp_server() as server:
        yield server


@pytest.fixture(autouse=True)
def no_other_mail(connection):
    """Only this test's messages: what other tests (or servers) committed is out of sight, in
    this test's transaction (rolled back afterwards)."""
    connection.execute(text("DELETE FROM outbox; DELETE FROM mail_address"))


@pytest.fixture
def mail_app(settings, connection, inbox):
    mail_settings = settings.replace(
        smtp_url=f"smtp://127.0.0.1:{inbox.port}",
        public_url=PUBLIC_URL,
        mail_retry_seconds=1,
        mail_max_attempts=3,
    )
    return create_app({"settings": mail_settings, "db_bind": connection})


@pytest.fixture
def mail_client(mail_app):
    return mail_app.test_client()


def _local(url: str) -> str:
    """A link from a message as a path for the test client (the site is PUBLIC_URL)."""
    assert url.startswith(PUBLIC_URL + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _submit(client, email: str | None = ADDRESS, lang: str = "nl", **props) -> dict:
    if email is not None:
        props["email"] = email
    r = client.post(f"{API}?lang={lang}", json=feature(**props))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _confirm_link(message) -> str:
    return next(u for u in links_in(message) if "/e-mail/bevestigen/" in u)


def test_the_receipt_carries_the_private_link_and_asks_to_confirm(
    mail_client, mail_app, inbox, connection
):
    created = _submit(mail_client, title="Meer bankjes")
    row = connection.execute(
        text("SELECT kind, to_address, status FROM outbox ORDER BY id DESC LIMIT 1")
    ).one()
    assert (row.kind, row.to_address, row.status) == ("received", ADDRESS, "pending")

    done = run_worker(mail_app, connection)
    assert done.sent == 1
    (message,) = inbox.to(ADDRESS)
    assert message["Subject"] == "Uw bijdrage is ontvangen: Meer bankjes"
    assert message["Content-Language"] == "nl" and message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/e-mail/afmelden/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@wijkkaart.test>")
    body = text_of(message)
    edit = f"{PUBLIC_URL}/bijdragen/{created['id']}/bewerken#token={created['edit_token']}"
    assert edit in body
    assert f"{PUBLIC_URL}/bijdragen/{created['id']}" in body
    assert "/e-mail/bevestigen/" in body
    assert message.get_body(("html",)) is not None
    # Sent: the envelope stays, the body (with the private link) is gone.
    sent = connection.execute(
        text("SELECT status, body_text, body_html, sent_at FROM outbox WHERE kind = 'received'")
    ).one()
    assert sent.status == "sent" and sent.body_text is None and sent.body_html is None
    assert sent.sent_at is not None


def test_no_address_no_message_and_english_when_asked(mail_client, mail_app, inbox, connection):
    _submit(mail_client, email=None)
    _submit(mail_client, email="Resident@Example.ORG", lang="en", title="More benches")
    run_worker(mail_app, connection)
    (message,) = inbox.messages
    assert message["To"] == "resident@example.org"
    assert message["Subject"] == "Your contribution was received: More benches"
    assert message["Content-Language"] == "en"
    assert "personal link" in text_of(message)


@pytest.mark.parametrize(
    "bad", ["geen-adres", "a@b", "x@@example.nl", "iemand@example.nl\nBcc: x@example.nl", 42]
)
def test_a_bad_address_is_a_field_error_and_stores_nothing(mail_client, count_rows, bad):
    before = count_rows("contribution"), count_rows("mail_address"), count_rows("outbox")
    r = mail_client.post(API, json=feature(email=bad))
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    (error,) = r.get_json()["errors"]
    assert error["field"] == "properties.email"
    assert error["code"] in ("email_invalid", "email_not_text")
    assert (count_rows("contribution"), count_rows("mail_address"), count_rows("outbox")) == before


def test_the_address_cannot_be_patched_in(mail_client):
    created = _submit(mail_client, email=None)
    r = mail_client.patch(
        f"{API}/{created['id']}",
        json={"type": "Feature", "properties": {"email": ADDRESS}},
        headers={"Authorization": f"Bearer {created['edit_token']}"},
    )
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["code"] == "email_not_editable"


def test_the_address_is_never_public(mail_client, connection):
    created = _submit(mail_client, email="geheim.adres@example.nl", title="Geheim")
    cid = created["id"]
    assert "geheim.adres" not in json.dumps(created)
    urls = [
        f"{API}/{cid}",
        f"{API}?bbox=5.03,52.30,5.05,52.31",
        f"/bijdragen/{cid}",
        "/ogc/collections/contributions/items?limit=100",
        f"/open311/v2/requests/{cid}.json?jurisdiction_id=wijkkaart",
        "/feeds/categorieen/idee.atom",
        f"/bijdragen/{cid}/feed.atom",
    ]
    for url in urls:
        r = mail_client.get(url)
        assert r.status_code == 200, url
        assert b"geheim.adres" not in r.data, url
        assert b"example.nl" not in r.data, url


def _confirm(client, inbox, app, connection, address=ADDRESS):
    run_worker(app, connection)
    message = inbox.to(address)[-1]
    r = client.get(_local(_confirm_link(message)))
    assert r.status_code == 200
    return message


def test_a_confirmed_author_hears_of_each_status_change_with_the_response(
    mail_client, mail_app, inbox, connection
):
    created = _submit(mail_client, title="Losse tegels")
    cid = uuid.UUID(created["id"])
    _confirm(mail_client, inbox, mail_app, connection)
    planner = make_user(connection, "planner")
    with mail_app.app_context(), session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "We kijken ernaar.", planner)
    run_worker(mail_app, connection)
    update = inbox.to(ADDRESS)[-1]
    assert update["Subject"] == "Nieuws over: Losse tegels"
    body = text_of(update)
    assert "In behandeling" in body and "We kijken ernaar." in body
    assert f"{PUBLIC_URL}/bijdragen/{cid}" in body
    page = mail_client.get(_local(f"{PUBLIC_URL}/bijdragen/{cid}"))
    assert "We kijken ernaar." in page.get_data(as_text=True)


def test_an_unconfirmed_author_gets_the_receipt_only(mail_client, mail_app, inbox, connection):
    cid = uuid.UUID(_submit(mail_client)["id"])
    with mail_app.app_context(), session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "We kijken ernaar.", None)
    run_worker(mail_app, connection)
    assert [m["Subject"].split(":")[0] for m in inbox.messages] == ["Uw bijdrage is ontvangen"]


def test_one_click_unsubscribe_without_a_session_or_csrf(mail_client, mail_app, inbox, connection):
    cid = uuid.UUID(_submit(mail_client)["id"])
    message = _confirm(mail_client, inbox, mail_app, connection)
    target = message["List-Unsubscribe"].strip("<>")
    fresh = mail_app.test_client()  # a mail program: no cookie, no CSRF token
    r = fresh.post(_local(target), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    assert connection.execute(text("SELECT count(*) FROM subscription")).scalar_one() == 0
    with mail_app.app_context(), session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "Nog een update.", None)
    run_worker(mail_app, connection)
    assert len(inbox.messages) == 1  # the receipt only
    # A forged token is a 404 and stops nothing.
    assert fresh.post("/e-mail/afmelden/" + str(uuid.uuid4()) + ".AAAA").status_code == 404


def test_send_my_links_answers_alike_and_mails_working_links(
    mail_client, mail_app, inbox, connection
):
    first = _submit(mail_client, title="Eerste")
    second = _submit(mail_client, title="Tweede")
    _submit(mail_client, email="iemand.anders@example.nl", title="Van een ander")
    run_worker(mail_app, connection)
    inbox.messages.clear()
    known = mail_client.post("/api/v1/links", json={"email": ADDRESS})
    unknown = mail_client.post("/api/v1/links", json={"email": "onbekend@example.nl"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    run_worker(mail_app, connection)
    (message,) = inbox.messages
    assert message["To"] == ADDRESS and message["Subject"] == "Uw persoonlijke links"
    assert message["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/e-mail/volgen/")
    edit_links = [u for u in links_in(message) if "/bewerken#token=" in u]
    assert len(edit_links) == 2
    assert "Van een ander" not in text_of(message)
    by_id = {link.split("/bijdragen/")[1].split("/")[0]: link for link in edit_links}
    assert set(by_id) == {first["id"], second["id"]}
    for created in (first, second):
        token = by_id[created["id"]].split("#token=")[1]
        assert token != created["edit_token"]  # a new link; the first one keeps working too
        for bearer in (token, created["edit_token"]):
            r = mail_client.patch(
                f"{API}/{created['id']}",
                json={"type": "Feature", "properties": {"description": "Aangevuld."}},
                headers={"Authorization": f"Bearer {bearer}"},
            )
            assert r.status_code == 200


def test_send_my_links_page_says_the_same_for_any_address(mail_client):
    page = mail_client.get("/stuur-mijn-links")
    assert page.status_code == 200
    token = _csrf(mail_client)
    answers = [
        mail_client.post("/stuur-mijn-links", data={"email": a, "csrf_token": token})
        for a in (ADDRESS, "onbekend@example.nl")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].data == answers[1].data
    bad = mail_client.post("/stuur-mijn-links", data={"email": "geen adres", "csrf_token": token})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)


def _csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf_token"]


def _follow(client, **body) -> None:
    r = client.post("/api/v1/subscriptions", json={"email": "volger@example.nl", **body})
    assert r.status_code == 202, r.get_json()


def test_an_area_follower_gets_a_daily_digest_of_new_input_there(
    mail_client, mail_app, inbox, connection
):
    lon, lat = HET_GROTE_PLEIN
    _follow(mail_client, near={"lon": lon, "lat": lat, "radius": 250}, frequency="daily")
    run_worker(mail_app, connection)
    (confirmation,) = inbox.to("volger@example.nl")
    assert confirmation["Subject"] == "Bevestig dat u wilt volgen"
    assert mail_client.get(_local(_confirm_link(confirmation))).status_code == 200

    _submit(mail_client, email=None, title="Binnen het gebied")
    _submit(mail_client, email=None, title="Ver weg", geometry=point(DAM_AMSTERDAM))
    run_worker(mail_app, connection)
    assert len(inbox.to("volger@example.nl")) == 1  # nothing yet: a daily digest
    tomorrow = datetime.now().astimezone() + timedelta(days=1, minutes=1)
    done = run_worker(mail_app, connection, now=tomorrow)
    assert done.written >= 1
    digest = inbox.to("volger@example.nl")[-1]
    assert digest["Subject"] == "Wat er nieuw is (1)"
    body = text_of(digest)
    assert "Binnen het gebied" in body and "Ver weg" not in body
    # The next round has nothing new to say.
    run_worker(mail_app, connection, now=tomorrow + timedelta(days=1))
    assert len(inbox.to("volger@example.nl")) == 2


def test_a_buurt_follower_hears_of_new_public_input_at_once_not_of_pending(
    mail_client, mail_app, inbox, connection
):
    _follow(mail_client, buurt="BU0363SD03", language="en")
    run_worker(mail_app, connection)
    mail_client.get(_local(_confirm_link(inbox.messages[-1])))
    _submit(mail_client, email=None, title="Nieuwe boom")
    run_worker(mail_app, connection)
    news = inbox.to("volger@example.nl")[-1]
    assert news["Subject"] == "New input: Nieuwe boom"
    assert news["Content-Language"] == "en"


def test_an_unconfirmed_follower_hears_nothing(mail_client, mail_app, inbox, connection):
    _follow(mail_client, buurt="BU0363SD03")
    _submit(mail_client, email=None, title="Nieuwe boom")
    run_worker(mail_app, connection)
    assert [m["Subject"] for m in inbox.to("volger@example.nl")] == ["Bevestig dat u wilt volgen"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "target", "target_missing"),
        ({"buurt": "BU0363SD03", "process": "x"}, "target", "target_ambiguous"),
        ({"buurt": "BU9999XX99"}, "buurt", "buurt_unknown"),
        ({"near": {"lon": 5.04, "lat": 52.3, "radius": 10}}, "near.radius", "radius_out_of_range"),
        ({"near": {"lon": 5.04}}, "near", "near_invalid"),
        ({"buurt": "BU0363SD03", "frequency": "hourly"}, "frequency", "frequency_invalid"),
        ({"area": {"type": "Point", "coordinates": [5.04, 52.3]}}, "area", "area_not_polygon"),
    ],
)
def test_following_refuses_what_it_cannot_follow(mail_client, count_rows, body, field, code):
    r = mail_client.post("/api/v1/subscriptions", json={"email": "volger@example.nl", **body})
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json"
    assert (r.get_json()["errors"][0]["field"], r.get_json()["errors"][0]["code"]) == (field, code)
    assert count_rows("subscription") == 0 and count_rows("outbox") == 0


def test_a_server_that_is_down_loses_nothing_and_delivers_once(settings, connection):
    port = free_port()
    app = create_app(
        {
            "settings": settings.replace(
                smtp_url=f"smtp://127.0.0.1:{port}", public_url=PUBLIC_URL, mail_retry_seconds=1
            ),
            "db_bind": connection,
        }
    )
    client = app.test_client()
    cid = uuid.UUID(_submit(client)["id"])
    with app.app_context(), session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "Opgepakt.", None)
    done = run_worker(app, connection)  # nobody listens on the port
    assert (done.sent, done.retry, done.dead) == (0, 1, 0)
    row = connection.execute(
        text("SELECT status, attempts, last_error, next_attempt_at > now() AS later FROM outbox")
    ).one()
    assert row.status == "pending" and row.attempts == 1 and row.later
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    with smtp_server(port) as inbox:
        assert run_worker(app, connection).sent == 0  # not due yet: back-off
        time.sleep(1.2)
        assert run_worker(app, connection).sent == 1
        assert run_worker(app, connection).sent == 0
        assert len(inbox.messages) == 1


def test_a_4xx_is_retried_then_dead_and_an_admin_can_send_it_again(settings, connection):
    with smtp_server(reply="451 4.3.0 Mailbox busy, try later") as inbox:
        app = create_app(
            {
                "settings": settings.replace(
                    smtp_url=f"smtp://127.0.0.1:{inbox.port}",
                    public_url=PUBLIC_URL,
                    mail_retry_seconds=0,
                    mail_max_attempts=2,
                ),
                "db_bind": connection,
            }
        )
        client = app.test_client()
        _submit(client)
        assert run_worker(app, connection).retry == 1  # once a round, even with no back-off
        assert run_worker(app, connection).dead == 1
        row = connection.execute(text("SELECT status, attempts, last_error FROM outbox")).one()
        assert (row.status, row.attempts) == ("dead", 2) and row.last_error.startswith("451")
        admin = make_user(connection, "admin")
        token = log_in_as(client, admin)
        page = client.get("/beheer/e-mail").get_data(as_text=True)
        assert "451 4.3.0 Mailbox busy" in page and ADDRESS in page
        inbox.reply = None
        r = client.post("/beheer/e-mail", data={"retry": "all", "csrf_token": token})
        assert r.status_code == 200
        assert run_worker(app, connection).sent == 1
        assert len(inbox.messages) == 1


def test_a_5xx_is_dead_at_once(settings, connection):
    with smtp_server(reply="550 5.1.1 No such user") as inbox:
        app = create_app(
            {
                "settings": settings.replace(
                    smtp_url=f"smtp://127.0.0.1:{inbox.port}", public_url=PUBLIC_URL
                ),
                "db_bind": connection,
            }
        )
        _submit(app.test_client())
        assert run_worker(app, connection).dead == 1
        assert inbox.messages == []


def test_satisfaction_is_asked_once_after_four_weeks(mail_client, mail_app, inbox, connection):
    cid = uuid.UUID(_submit(mail_client, title="Kapotte lantaarn")["id"])
    _confirm(mail_client, inbox, mail_app, connection)
    with mail_app.app_context(), session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "We kijken.", None)
        workflow.change_status(session, cid, "beantwoord", "De lamp is vervangen.", None)
    run_worker(mail_app, connection)
    before = len(inbox.messages)
    in_four_weeks = datetime.now().astimezone() + timedelta(days=28, minutes=1)
    run_worker(mail_app, connection, now=in_four_weeks)
    asked = inbox.messages[before:]
    assert [m["Subject"] for m in asked] == ["Bent u tevreden? Kapotte lantaarn"]
    run_worker(mail_app, connection, now=in_four_weeks + timedelta(days=1))
    assert len(inbox.messages) == before + 1  # once

    no = next(u for u in links_in(asked[0]) if "antwoord=nee" in u)
    page = mail_client.get(_local(no))
    assert page.status_code == 200  # a page with the answer chosen; a link scanner changes nothing
    assert connection.execute(text("SELECT answered_at FROM satisfaction")).scalar_one() is None
    token = _csrf(mail_client)
    r = mail_client.post(_local(no), data={"antwoord": "nee", "csrf_token": token})
    assert r.status_code == 200
    assert connection.execute(text("SELECT satisfied FROM satisfaction")).scalar_one() is False
    again = mail_client.post(_local(no), data={"antwoord": "ja", "csrf_token": token})
    assert again.status_code == 409
    planner = make_user(connection, "planner")
    log_in_as(mail_client, planner)
    staff_page = mail_client.get(f"/beheer/bijdragen/{cid}").get_data(as_text=True)
    assert "niet tevreden" in staff_page


def test_staff_digest_tells_a_planner_of_new_input_in_their_process(
    mail_client, mail_app, inbox, connection
):
    planner = make_user(connection, "planner", email="planner@gemeente.example")
    process_id = make_process(connection)
    connection.execute(
        text("UPDATE process SET created_by = :u WHERE id = :p"), {"u": planner, "p": process_id}
    )
    _submit(mail_client, email=None, title="In het traject", process="plein-weesp")
    run_worker(mail_app, connection)
    digest = inbox.to("planner@gemeente.example")
    assert len(digest) == 1
    assert "In het traject" in text_of(digest[0])
    run_worker(mail_app, connection)  # at most once a day
    assert len(inbox.to("planner@gemeente.example")) == 1
    # One click in it (a mail program: no login, no form) stops the next ones.
    stop = digest[0]["List-Unsubscribe"].strip("<>")
    assert mail_app.test_client().post(_local(stop)).status_code == 200
    assert (
        connection.execute(
            text("SELECT mail_digest FROM app_user WHERE id = :u"), {"u": planner}
        ).scalar_one()
        is False
    )
    connection.execute(  # a day passes since the last digest
        text(
            "UPDATE outbox SET created_at = created_at - interval '2 days' "
            "WHERE kind = 'staff_digest'"
        )
    )
    _submit(mail_client, email=None, title="Nog een", process="plein-weesp")
    run_worker(mail_app, connection)
    assert len(inbox.to("planner@gemeente.example")) == 1


def test_contribution_and_process_pages_offer_following_by_mail(mail_client, connection):
    cid = _submit(mail_client, email=None)["id"]
    make_process(connection)
    for page, query in (
        (f"/bijdragen/{cid}", f"contribution={cid}"),
        ("/trajecten/plein-weesp", "process=plein-weesp"),
    ):
        html = mail_client.get(page).get_data(as_text=True)
        assert f'href="/volgen?{query}"' in html, page
        form = mail_client.get(f"/volgen?{query}")
        assert form.status_code == 200
        assert f'name="{query.split("=")[0]}" value="{query.split("=")[1]}"' in form.get_data(
            as_text=True
        )
    assert mail_client.get(f"/volgen?contribution={uuid.uuid4()}").status_code == 404


def test_the_follow_form_follows_a_buurt_and_shows_field_errors(
    mail_client, mail_app, inbox, connection
):
    mail_client.get("/volgen")
    token = _csrf(mail_client)
    bad = mail_client.post("/volgen", data={"csrf_token": token, "email": "volger@example.nl"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-code="target_missing"' in html
    ok = mail_client.post(
        "/volgen",
        data={
            "csrf_token": token,
            "email": "volger@example.nl",
            "buurt": "BU0363SD03",
            "frequency": "weekly",
        },
    )
    assert ok.status_code == 200 and "Kijk in uw mailbox" in ok.get_data(as_text=True)
    row = connection.execute(
        text("SELECT kind, buurt_code, frequency, confirmed_at FROM subscription")
    ).one()
    assert (row.kind, row.buurt_code, row.frequency, row.confirmed_at) == (
        "buurt",
        "BU0363SD03",
        "weekly",
        None,
    )
    run_worker(mail_app, connection)
    confirmation = inbox.to("volger@example.nl")[0]
    confirmed = mail_client.get(_local(_confirm_link(confirmation)))
    assert confirmed.status_code == 200
    manage = next(
        line.split('href="')[1].split('"')[0]
        for line in confirmed.get_data(as_text=True).splitlines()
        if "/e-mail/volgen/" in line
    )
    listing = mail_client.get(manage).get_data(as_text=True)
    assert "De buurt Centrum-Zuid" in listing or "De buurt" in listing
    stopped = mail_app.test_client().post(manage, data={"stop": "all"})
    assert stopped.status_code == 200
    assert connection.execute(text("SELECT count(*) FROM subscription")).scalar_one() == 0


def test_a_published_reactienota_is_announced_once_to_process_followers(
    mail_client, mail_app, inbox, connection
):
    process_id = make_process(connection)
    _follow(mail_client, process="plein-weesp")
    run_worker(mail_app, connection)
    mail_client.get(_local(_confirm_link(inbox.to("volger@example.nl")[-1])))
    assert mail_client.get("/trajecten/plein-weesp/reactienota").status_code == 404
    planner = make_user(connection, "planner")
    token = log_in_as(mail_client, planner)
    r = mail_client.post(f"/beheer/reactienota/{process_id}/publiceren", data={"csrf_token": token})
    assert r.status_code == 303
    published = connection.execute(
        text("SELECT actor_id, details FROM audit_event WHERE action = 'reactienota.published'")
    ).one()  # who published it, in the audit log
    assert published.actor_id == planner and published.details["process_id"] == str(process_id)
    run_worker(mail_app, connection)
    run_worker(mail_app, connection)
    notes = [m for m in inbox.to("volger@example.nl") if m["Subject"].startswith("Reactienota")]
    assert len(notes) == 1
    link = next(u for u in links_in(notes[0]) if "/trajecten/plein-weesp" in u)
    page = mail_client.get(_local(link)).get_data(as_text=True)
    assert "/trajecten/plein-weesp/reactienota" in page
    assert mail_client.get("/trajecten/plein-weesp/reactienota").status_code == 200


def test_retention_forgets_addresses_nothing_uses_and_old_messages(
    mail_client, mail_app, inbox, connection, settings
):
    from kaart.services import retention

    old = _submit(mail_client, title="Oud")
    _submit(mail_client, email="nieuw@example.nl", title="Nieuw")
    _follow(mail_client, buurt="BU0363SD03")  # never confirmed
    run_worker(mail_app, connection)
    for statement in (
        "UPDATE contribution SET created_at = now() - interval '400 days' WHERE id = :id",
        "UPDATE subscription SET created_at = now() - interval '8 days' "
        "WHERE confirmed_at IS NULL AND kind = 'buurt'",
        "UPDATE mail_address SET last_used_at = now() - interval '400 days'",
        "UPDATE outbox SET created_at = now() - interval '31 days' WHERE to_address = :a",
    ):
        connection.execute(text(statement), {"id": uuid.UUID(old["id"]), "a": ADDRESS})
    with session_on(connection) as session:
        report = retention.purge(session, settings)
    assert report.removed["mail_addresses"]["links"] == 1
    assert report.removed["mail_addresses"]["follows"] == 1
    assert report.removed["outbox"]["rows"] == 1
    left = connection.execute(text("SELECT address FROM mail_address ORDER BY address")).scalars()
    # The old contribution's author still follows it (unconfirmed author follows stay with the
    # contribution); the follower who never confirmed is gone.
    assert "volger@example.nl" not in list(left)
    assert (
        connection.execute(
            text("SELECT author_address_id FROM contribution WHERE id = :id"), {"id": old["id"]}
        ).scalar_one()
        is None
    )


def test_an_open311_request_with_an_email_gets_the_receipt_in_its_language(
    mail_client, mail_app, inbox, connection
):
    lon, lat = HET_GROTE_PLEIN
    r = mail_client.post(
        "/open311/v2/requests.json?lang=en",
        data={
            "service_code": "knelpunt",
            "lat": str(lat),
            "long": str(lon),
            "description": "Loose paving stone by the pump.",
            "email": "Melder@Example.NL",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    ident = r.get_json()[0]["service_request_id"]
    run_worker(mail_app, connection)
    (receipt,) = inbox.to("melder@example.nl")
    assert receipt["Subject"] == "Your contribution was received: Loose paving stone by the pump."
    assert f"/bijdragen/{ident}/bewerken#token=" in text_of(receipt)


def test_one_mailbox_gets_few_requested_messages_a_day(mail_client, count_rows):
    for _ in range(8):
        _follow(mail_client, buurt="BU0363SD03")
        assert (
            mail_client.post("/api/v1/links", json={"email": "volger@example.nl"}).status_code
            == 202
        )
    assert count_rows("subscription") == 5
    assert count_rows("outbox") == 5  # five confirmations; no links (no contributions)
