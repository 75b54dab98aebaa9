"""Access and erasure on PostGIS: find, export and erase what is held about an Open311 reporter's
e-mail address (the request made through the real GeoReport v2 POST with contact fields), a
phone number and a contribution id, from the `kaart privacy` commands and from /beheer/privacy;
each is one audit entry that masks the person. And the privacy statement at /privacy."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from kaart import create_app
from kaart.cli import main as cli
from kaart.errors import BadRequest
from kaart.services import retention, rights
from tests.dialogue_fixtures import log_in_as, make_user, session_on
from tests.privacy_fixtures import (
    REPORTER,
    committing_client,
    contribute,
    files_under,
    open311_request,
)

MARKER = retention.MARKER


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(settings, connection, upload_dir):
    return create_app({"settings": settings.replace(upload_dir=upload_dir), "db_bind": connection})


@pytest.fixture
def admin(app, connection):
    """A client logged in as an admin: (client, CSRF token)."""
    client = app.test_client()
    return client, log_in_as(client, make_user(connection, "admin"))


def audit_since(connection, start: int) -> list:
    return connection.execute(
        text("SELECT actor, action, details FROM audit_event WHERE id > :s ORDER BY id"),
        {"s": start},
    ).all()


def last_audit_id(connection) -> int:
    return connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar_one()


def zip_contents(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("data.json")), files


# -- Who is who ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kind", "value"),
    [
        ("Bewoner@Example.org", "email", "bewoner@example.org"),
        ("+31 6 1234 5678", "phone", "0612345678"),
        ("0031612345678", "phone", "0612345678"),
        ("06-12345678", "phone", "0612345678"),
        (" 0b4c0f0e-6a9b-4c55-9d0e-4f1e8f4d9b1a ", "contribution", None),
    ],
)
def test_a_subject_is_an_email_address_a_phone_number_or_a_contribution_id(given, kind, value):
    subject = rights.parse_subject(given)
    assert subject.kind == kind
    assert subject.value == (value or given.strip())


@pytest.mark.parametrize("given", ["", "   ", "geen adres", "a@b", "12345", "x" * 300, "06-1234<5"])
def test_anything_else_is_a_400_on_q(given):
    with pytest.raises(BadRequest) as refused:
        rights.parse_subject(given)
    assert refused.value.errors[0].field == "q"


def test_the_audit_log_names_the_subject_masked():
    assert rights.parse_subject("bewoner@example.org").masked() == "b…@example.org"
    assert rights.parse_subject("06-12345678").masked() == "06…78"


# -- The services, on an Open311 reporter -------------------------------------------------------


def test_find_export_and_erase_an_open311_reporter_by_email(app, client, connection, settings):
    settings = app.config["KAART"]
    first = open311_request(client)
    second = open311_request(client, email=REPORTER.upper(), phone="+31 6 1234 5678")
    other = open311_request(client, email="iemand.anders@example.org", phone="020-1234567")

    with session_on(connection) as session:
        held = rights.find(session, rights.parse_subject(REPORTER), settings)
    # (One test transaction: both were made at the same now(), so no order between them.)
    assert sorted(held.ids) == sorted([first, second])
    request = next(c.request for c in held.contributions if c.record["id"] == first)
    assert request["email"] == REPORTER and request["first_name"] == "Anna"
    assert request["last_name"] == "de Vries" and request["phone"] == "06-12345678"
    record = held.contributions[0].record
    assert record["description"].startswith("Losliggende stoeptegel voor nummer 12.")
    assert record["geometry"]["type"] == "Point" and record["status"] == "ontvangen"
    assert [e["action"] for e in held.contributions[0].history] == ["created"]
    assert {entry["kind"] for entry in held.register} >= {"open311_contact", "withdrawn"}

    with session_on(connection) as session:
        by_phone = rights.find(session, rights.parse_subject("0031 6 12345678"), settings)
    assert sorted(by_phone.ids) == sorted([first, second])

    out = io.BytesIO()
    rights.write_zip(held, settings.upload_dir, out)
    data, files = zip_contents(out.getvalue())
    assert files == {}  # Open311 requests carry no photos of ours
    assert data["subject"] == {"kind": "email", "value": REPORTER}
    emails = {c["record"]["id"]: c["request"]["email"] for c in data["contributions"]}
    assert emails == {first: REPORTER, second: REPORTER.upper()}
    assert other not in json.dumps(data)

    with session_on(connection) as session:
        erased = rights.erase(
            session, rights.parse_subject(REPORTER), None, settings.upload_dir, keep_on_map=False
        )
    assert sorted(str(i) for i in erased.ids) == sorted([first, second])
    assert erased.withdrawn == 2
    assert erased.redacted.counts()["requests"] == 2
    rows = connection.execute(
        text(
            "SELECT c.status, c.title, c.description, r.email, r.first_name, r.phone "
            "FROM contribution c JOIN open311_request r ON r.contribution_id = c.id "
            "WHERE c.id = ANY(:ids) ORDER BY c.created_at, c.id"
        ),
        {"ids": [first, second]},
    ).all()
    assert [tuple(r) for r in rows] == [("ingetrokken", MARKER, "", None, None, None)] * 2
    with session_on(connection) as session:
        assert rights.find(session, rights.parse_subject(REPORTER), settings).ids == []
    # The other reporter is untouched.
    assert connection.execute(
        text("SELECT email FROM open311_request WHERE contribution_id = :id"), {"id": other}
    ).scalar_one() == ("iemand.anders@example.org")


def test_erase_keep_on_map_leaves_the_contribution_public_without_text(
    app, client, connection, upload_dir
):
    created = contribute(client, "Bankje van Jan", photo=True)
    subject = rights.parse_subject(created["id"])
    with session_on(connection) as session:
        erased = rights.erase(session, subject, None, upload_dir, keep_on_map=True)
    assert erased.withdrawn == 0 and erased.redacted.photos == 1
    feature = client.get(f"/api/v1/contributions/{created['id']}").get_json()
    assert feature["properties"]["title"] == MARKER
    assert feature["properties"]["description"] == ""
    assert client.get(created["photo"]["url"]).status_code == 404
    assert len(erased.redacted.files) == 2 and all(p.is_file() for p in erased.redacted.files)


# -- The commands -------------------------------------------------------------------------------


def test_kaart_privacy_find_export_erase_for_an_open311_reporter(
    database_url, engine, settings, tmp_path, monkeypatch
):
    upload_dir = tmp_path / "uploads"
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setenv("KAART_UPLOAD_DIR", str(upload_dir))
    email = f"cli-{uuid.uuid4().hex[:6]}@example.org"
    with committing_client(settings, engine, upload_dir) as client:
        ident = open311_request(client, email=email)
        with engine.connect() as conn:
            start = last_audit_id(conn)
        runner = CliRunner()

        found = runner.invoke(cli, ["privacy", "find", email.upper()])
        assert found.exit_code == 0, found.output
        assert f"{email} (email): 1 contribution(s)" in found.output
        assert ident in found.output and "first_name Anna" in found.output
        assert f"email {email}" in found.output and "phone 06-12345678" in found.output

        target = tmp_path / "gegevens.zip"
        exported = runner.invoke(cli, ["privacy", "export", email, "-o", str(target)])
        assert exported.exit_code == 0, exported.output
        data, files = zip_contents(target.read_bytes())
        assert files == {}
        (item,) = data["contributions"]
        assert item["record"]["id"] == ident and item["request"]["email"] == email
        kinds = {entry["kind"]: entry for entry in data["register"]}
        assert kinds["open311_contact"]["how_long"].startswith("90 dagen")

        refused = runner.invoke(cli, ["privacy", "erase", email], input="n\n")
        assert refused.exit_code != 0  # asked, and said no
        erased = runner.invoke(cli, ["privacy", "erase", email, "--yes"])
        assert erased.exit_code == 0, erased.output
        assert "1 contribution(s) erased (1 withdrawn); removed photos 0" in erased.output
        assert "requests 1" in erased.output

        again = runner.invoke(cli, ["privacy", "find", email])
        assert again.exit_code == 0 and "0 contribution(s)" in again.output
        bad = runner.invoke(cli, ["privacy", "find", "geen adres"])
        assert bad.exit_code == 2 and "not an e-mail address" in bad.output

        with engine.connect() as conn:
            entries = audit_since(conn, start)
        assert [(e.actor, e.action) for e in entries] == [
            ("cli", "privacy.found"),
            ("cli", "privacy.exported"),
            ("cli", "privacy.erased"),
            ("cli", "privacy.found"),
        ]
        masked = f"{email[0]}…@example.org"
        assert all(e.details["subject"] == masked for e in entries)
        assert entries[2].details["contributions"] == [ident]
        assert entries[2].details["requests"] == 1 and entries[2].details["keep_on_map"] is False
        assert email not in json.dumps([e.details for e in entries], ensure_ascii=False)


# -- /beheer/privacy ----------------------------------------------------------------------------


def test_an_admin_finds_downloads_and_erases_through_the_page(admin, client, connection):
    page_client, token = admin
    created = contribute(client, "Mijn eigen bankje", photo=True)
    request = open311_request(client)
    start = last_audit_id(connection)

    page = page_client.get("/beheer/privacy")
    assert page.status_code == 200 and "Inzage en verwijderen" in page.get_data(as_text=True)

    found = page_client.get("/beheer/privacy", query_string={"q": REPORTER})
    html = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Gevonden bijdragen: 1." in html and request in html
    assert REPORTER in html and "de Vries" in html and "06-12345678" in html

    zipped = page_client.get("/beheer/privacy/export.zip", query_string={"q": created["id"]})
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert zipped.headers["Cache-Control"] == "no-store"
    assert "attachment" in zipped.headers["Content-Disposition"]
    data, files = zip_contents(zipped.data)
    photo = created["photo"]
    assert list(files) == [f"photos/{photo['id']}.jpg"]
    assert files[f"photos/{photo['id']}.jpg"][:3] == b"\xff\xd8\xff"  # the JPEG itself
    (item,) = data["contributions"]
    assert item["record"]["title"] == "Mijn eigen bankje" and item["request"] is None
    assert item["photos"][0]["file"] == f"photos/{photo['id']}.jpg"

    unconfirmed = page_client.post(
        "/beheer/privacy/verwijderen", data={"q": REPORTER, "csrf_token": token}
    )
    assert unconfirmed.status_code == 302
    assert "Vink eerst aan" in page_client.get(unconfirmed.headers["Location"]).get_data(
        as_text=True
    )
    assert connection.execute(
        text("SELECT email FROM open311_request WHERE contribution_id = :id"), {"id": request}
    ).scalar_one() == (REPORTER)
    forged = page_client.post("/beheer/privacy/verwijderen", data={"q": REPORTER, "confirm": "yes"})
    assert forged.status_code == 403  # no CSRF token

    kept = page_client.post(
        "/beheer/privacy/verwijderen",
        data={"q": created["id"], "confirm": "yes", "keep_on_map": "yes", "csrf_token": token},
    )
    assert kept.status_code == 302
    after = page_client.get(kept.headers["Location"]).get_data(as_text=True)
    assert "Verwijderd." in after and "tekst verwijderd" in after
    status, title = connection.execute(
        text("SELECT status, title FROM contribution WHERE id = :id"), {"id": created["id"]}
    ).one()
    assert (status, title) == ("ontvangen", MARKER)  # still on the map

    gone = page_client.post(
        "/beheer/privacy/verwijderen",
        data={"q": REPORTER, "confirm": "yes", "keep_on_map": "no", "csrf_token": token},
    )
    assert "Niets gevonden" in page_client.get(gone.headers["Location"]).get_data(as_text=True)
    assert connection.execute(
        text("SELECT status FROM contribution WHERE id = :id"), {"id": request}
    ).scalar_one() == ("ingetrokken")

    actions = [e.action for e in audit_since(connection, start)]
    # Each page shown after a redirect is a search of its own.
    assert actions == [
        "privacy.found",
        "privacy.exported",
        "privacy.found",
        "privacy.erased",
        "privacy.found",
        "privacy.erased",
        "privacy.found",
    ]
    actors = {e.actor for e in audit_since(connection, start)}
    assert len(actors) == 1 and actors != {"cli"}  # the admin's e-mail address


def test_the_page_refuses_what_is_not_a_subject_with_a_dutch_message(admin):
    page_client, token = admin
    r = page_client.get("/beheer/privacy", query_string={"q": "geen adres"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Dit is geen e-mailadres, telefoonnummer of code van een bijdrage." in html
    assert 'aria-invalid="true"' in html
    assert page_client.get("/beheer/privacy/export.zip").status_code == 400
    r = page_client.post("/beheer/privacy/verwijderen", data={"csrf_token": token, "q": "x"})
    assert r.status_code == 400


def test_only_admins_see_the_privacy_link_and_page(app, connection):
    for role, allowed in (("moderator", False), ("planner", False), ("admin", True)):
        client = app.test_client()
        log_in_as(client, make_user(connection, role))
        nav = client.get("/beheer").get_data(as_text=True)
        assert ('href="/beheer/privacy"' in nav) is allowed, role
        assert (client.get("/beheer/privacy").status_code == 200) is allowed, role


# -- /privacy -----------------------------------------------------------------------------------


def test_the_privacy_statement_in_dutch_and_english_follows_the_settings(
    settings, connection, tmp_path
):
    configured = settings.replace(retain_withdrawn_days=14, privacy_contact="privacy@weesp.example")
    client = create_app({"settings": configured, "db_bind": connection}).test_client()
    nl = client.get("/privacy")
    assert nl.status_code == 200
    html = nl.get_data(as_text=True)
    assert '<h1 class="page-title">Privacyverklaring</h1>' in html
    for title in (
        "Ingetrokken bijdragen",
        "Verborgen bijdragen en reacties",
        "Contactgegevens bij meldingen (Open311)",
        "Tellers tegen misbruik",
        "Logboek van het beheer",
        "Cookies en sessies",
    ):
        assert title in html
    assert "14 dagen na het intrekken" in html and "90 dagen nadat de melding" in html
    assert "365 dagen na het verbergen" in html and "24 uur." in html
    assert 'href="mailto:privacy@weesp.example"' in html
    assert "Autoriteit Persoonsgegevens" in html

    en = client.get("/privacy?lang=en").get_data(as_text=True)
    assert '<h1 class="page-title">Privacy statement</h1>' in en
    assert "14 days after the withdrawal" in en and "Withdrawn contributions" in en
    assert "Your rights" in en and "Ingetrokken" not in en

    default = create_app({"settings": settings, "db_bind": connection}).test_client()
    text_ = default.get("/privacy").get_data(as_text=True)
    assert "30 dagen na het intrekken" in text_
    assert "Neem contact op met de gemeente" in text_


def test_every_public_page_links_to_the_statement(client):
    for path in ("/", "/trajecten", "/coop", "/privacy"):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<a href="/privacy" id="privacy-link">Privacyverklaring', html), path


def test_the_upload_folder_is_untouched_by_a_search(admin, client, upload_dir):
    page_client, _token = admin
    created = contribute(client, "Met foto", photo=True)
    before = files_under(upload_dir)
    page_client.get("/beheer/privacy", query_string={"q": created["id"]})
    page_client.get("/beheer/privacy/export.zip", query_string={"q": created["id"]})
    assert files_under(upload_dir) == before and len(before) == 2
