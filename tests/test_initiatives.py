"""Resident initiatives on PostGIS: the API, the pages, the private link, the status workflow
with its events, moderation, /ogc, and no personal data in anything public."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import text

from kaart import create_app
from kaart.db import EXTENSION_KEY
from kaart.services import initiative_workflow, photos
from tests.dialogue_fixtures import csrf_of, log_in_as, make_user, session_on
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, feature, point

API = "/api/v1/initiatives"
INITIATOR = "initiatiefnemer@example.nl"
JOINER = "sanne.meedoen@example.nl"


def initiative(geometry=None, **props) -> dict:
    properties = {
        "title": "Geveltuinen in de Nieuwstraat",
        "description": "Samen de straat groener maken.",
        "needs": [
            {"kind": "hands", "description": "Mensen die willen planten", "amount": 6},
            {"kind": "money", "description": "Plantjes en aarde", "amount": "250", "unit": "euro"},
        ],
        "email": INITIATOR,
        "start_date": "2027-04-01",
    }
    properties.update(props)
    return {"type": "Feature", "geometry": geometry or point(), "properties": properties}


def create(client, body=None) -> dict:
    r = client.post(API, json=body or initiative())
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def ids_of(response) -> list[str]:
    return [f["id"] for f in response.get_json()["features"]]


def join(client, ident, name, email=None):
    body = {"name": name} | ({"email": email} if email else {})
    return client.post(f"{API}/{ident}/participants", json=body)


def test_create_answers_a_feature_with_needs_and_the_private_link_once(client, connection):
    body = create(client)
    ident = uuid.UUID(body["id"])
    props = body["properties"]
    assert props["status"] == "idee" and props["participants"] == 0
    assert props["buurt"] == "BU0363SD03" and props["start_date"] == "2027-04-01"
    assert [(n["kind"], n["amount"], n["fulfilled"]) for n in props["needs"]] == [
        ("hands", 6, False),
        ("money", 250, False),
    ]
    assert body["geometry"] == point()
    token = body["edit_token"]
    assert body["private_url"].endswith(f"/initiatieven/{ident}/beheer/{token}")
    # The address is kept (never shown) and gets the private link by mail.
    assert INITIATOR not in client.get(f"{API}/{ident}").get_data(as_text=True)
    mail = connection.execute(
        text("SELECT to_address, body_text FROM outbox WHERE kind = 'initiative_created'")
    ).one()
    assert mail.to_address == INITIATOR and token in mail.body_text
    events = connection.execute(
        text("SELECT action, to_status FROM initiative_event WHERE initiative_id = :id"),
        {"id": ident},
    ).all()
    assert [tuple(e) for e in events] == [("created", "idee")]


def test_invalid_input_is_problem_json_naming_the_field(client):
    cases = [
        (initiative(title="  "), "properties.title", "initiative_field_required"),
        (initiative(needs=[{"kind": "cake"}]), "properties.needs.0.kind", None),
        (initiative(needs=[{"kind": "money", "amount": -5}]), "properties.needs.0.amount", None),
        (initiative(email="geen adres"), "properties.email", "email_invalid"),
        (initiative(start_date="1 april"), "properties.start_date", None),
        (initiative(colour="red"), "properties.colour", "unknown_property"),
        ({"type": "Feature", "geometry": None, "properties": {"title": "x"}}, "geometry", None),
        (initiative(contribution=str(uuid.uuid4())), "properties.contribution", None),
    ]
    for body, field, code in cases:
        r = client.post(API, json=body)
        assert r.status_code == 422, (field, r.get_json())
        assert r.mimetype == "application/problem+json"
        error = r.get_json()["errors"][0]
        assert error["field"] == field
        if code:
            assert error["code"] == code


def test_joining_counts_people_and_never_shows_their_names(client, connection):
    ident = create(client)["id"]
    assert join(client, ident, "Sanne", JOINER).status_code == 201
    r = join(client, ident, "Ahmed")
    assert r.status_code == 201 and r.get_json()["participants"] == 2
    assert join(client, ident, "").get_json()["errors"][0]["field"] == "name"
    listed = client.get(API).get_json()["features"]
    assert [f["properties"]["participants"] for f in listed if f["id"] == ident] == [2]
    ogc = client.get(f"/ogc/collections/initiatives/items/{ident}?f=json")
    page = client.get(f"/initiatieven/{ident}")
    for public in (client.get(API), client.get(f"{API}/{ident}"), ogc, page):
        body = public.get_data(as_text=True)
        assert public.status_code == 200
        for secret in ("Sanne", "Ahmed", JOINER, INITIATOR):
            assert secret not in body
    assert "2 mensen doen mee" in page.get_data(as_text=True)


def test_private_link_lists_people_posts_updates_and_mails_joiners(client, connection):
    body = create(client)
    ident, token = body["id"], body["edit_token"]
    join(client, ident, "Sanne", JOINER)
    assert client.get(f"/initiatieven/{ident}/beheer/{'x' * 43}").status_code == 404
    private = client.get(f"/initiatieven/{ident}/beheer/{token}")
    assert private.status_code == 200 and "Sanne" in private.get_data(as_text=True)
    assert private.headers["Referrer-Policy"] == "no-referrer"
    # News only after the joiner confirmed the address (double opt-in).
    asked = connection.execute(
        text("SELECT body_text FROM outbox WHERE kind = 'initiative_confirm' AND to_address = :a"),
        {"a": JOINER},
    ).scalar_one()
    confirm = re.search(r"(/initiatieven/bevestigen/\S+)", asked).group(1)
    csrf = csrf_of(client)
    form = {"csrf_token": csrf, "action": "update", "text": "Eerst nog niet bevestigd."}
    client.post(f"/initiatieven/{ident}/beheer/{token}", data=form)
    unconfirmed = "SELECT count(*) FROM outbox WHERE kind = 'initiative_update'"
    assert connection.execute(text(unconfirmed)).scalar_one() == 0
    assert client.get(confirm).status_code == 200
    assert client.get(confirm.replace(".", ".x", 1)).status_code == 404
    form = {"csrf_token": csrf, "action": "update", "text": "Zaterdag om 10 uur beginnen we!"}
    r = client.post(f"/initiatieven/{ident}/beheer/{token}", data=form)
    assert r.status_code == 303
    assert "Zaterdag om 10 uur" in client.get(f"/initiatieven/{ident}").get_data(as_text=True)
    mail = connection.execute(
        text("SELECT to_address, headers FROM outbox WHERE kind = 'initiative_update'")
    ).one()
    assert mail.to_address == JOINER
    stop = re.search(r"<([^>]+)>", mail.headers["List-Unsubscribe"]).group(1)
    assert client.post(stop.split("://", 1)[1].split("/", 1)[1].join(["/", ""])).status_code == 200
    assert (
        connection.execute(
            text("SELECT address_id FROM initiative_participant WHERE initiative_id = :id"),
            {"id": ident},
        ).scalar_one()
        is None
    )


def test_status_transitions_are_checked_and_written_as_events(app, client, connection):
    ident = uuid.UUID(create(client)["id"])
    join(client, ident, "Sanne", JOINER)
    connection.execute(text("UPDATE mail_address SET confirmed_at = now()"))
    with app.app_context():
        _transitions(connection, ident)
    _check_events(client, connection, ident)


def _transitions(connection, ident):
    with session_on(connection) as session:
        initiative_workflow.change_status(session, ident, "in_voorbereiding")
    for refused in ("gerealiseerd", "idee", "onzin"):
        try:
            with session_on(connection) as session:
                initiative_workflow.change_status(session, ident, refused)
        except Exception as exc:  # the status code is what counts
            assert getattr(exc, "status", None) == 409
        else:
            raise AssertionError(f"{refused} was allowed")
    with session_on(connection) as session:
        initiative_workflow.change_status(session, ident, "bezig", "We zijn begonnen")


def _check_events(client, connection, ident):
    events = connection.execute(
        text(
            "SELECT action, from_status, to_status FROM initiative_event "
            "WHERE initiative_id = :id ORDER BY id"
        ),
        {"id": ident},
    ).all()
    assert [tuple(e) for e in events] == [
        ("created", None, "idee"),
        ("status", "idee", "in_voorbereiding"),
        ("status", "in_voorbereiding", "bezig"),
    ]
    assert client.get(f"{API}/{ident}").get_json()["properties"]["status"] == "bezig"
    assert str(ident) in ids_of(client.get(f"{API}?status=bezig"))
    assert str(ident) not in ids_of(client.get(f"{API}?status=idee"))
    sent = connection.execute(
        text("SELECT count(*) FROM outbox WHERE kind = 'initiative_status' AND to_address = :a"),
        {"a": JOINER},
    ).scalar_one()
    assert sent == 2  # the joiner confirmed the address (see the test's start)
    assert client.get(f"{API}?status=klaar").status_code == 400


def test_from_a_contribution_takes_its_public_place_and_links_back(client):
    contribution = client.post(
        "/api/v1/contributions", json=feature(point(OUDE_CONVENT), category="groen")
    ).get_json()
    new = client.get(f"/initiatieven/nieuw?bijdrage={contribution['id']}")
    assert new.status_code == 200 and "Bankjes op Het Grote Plein" in new.get_data(as_text=True)
    body = create(
        client,
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"title": "Pluktuin", "contribution": contribution["id"]},
        },
    )
    assert body["properties"]["contribution"] == contribution["id"]
    # Where the public sees the contribution (near a home: its grid cell), never the exact place.
    public = client.get(f"/api/v1/contributions/{contribution['id']}").get_json()
    assert body["geometry"] == public["geometry"]
    page = client.get(f"/bijdragen/{contribution['id']}").get_data(as_text=True)
    assert f"/initiatieven/nieuw?bijdrage={contribution['id']}" in page


def test_hidden_initiatives_leave_every_public_output(client, connection):
    ident = create(client)["id"]
    moderator = make_user(connection, "moderator")
    csrf = log_in_as(client, moderator)
    r = client.post(
        f"/beheer/initiatieven/{ident}/zichtbaarheid",
        data={"csrf_token": csrf, "visibility": "hidden", "reason": "Reclame"},
    )
    assert r.status_code == 302
    assert client.get(f"{API}/{ident}").status_code == 404
    assert ident not in ids_of(client.get(API))
    assert client.get(f"/ogc/collections/initiatives/items/{ident}?f=json").status_code == 404
    assert client.get(f"/initiatieven/{ident}").status_code == 404
    assert join(client, ident, "Sanne").status_code == 404
    staff = client.get(f"/beheer/initiatieven/{ident}").get_data(as_text=True)
    assert "Reclame" in staff
    actions = connection.execute(
        text("SELECT action, actor_id FROM initiative_event WHERE initiative_id = :id ORDER BY id"),
        {"id": ident},
    ).all()
    assert [(a.action, a.actor_id) for a in actions] == [("created", None), ("hidden", moderator)]


def test_ogc_collection_lists_filters_and_pages_initiatives(client):
    first = create(client)["id"]
    second = create(client, initiative(point(HET_GROTE_PLEIN), title="Speelmiddag", needs=[]))["id"]
    collections = client.get("/ogc/collections?f=json").get_json()["collections"]
    assert "initiatives" in [c["id"] for c in collections]
    described = client.get("/ogc/collections/initiatives?f=json").get_json()
    assert described["extent"]["spatial"]["bbox"][0][0] <= HET_GROTE_PLEIN[0]
    items = client.get("/ogc/collections/initiatives/items?f=json&limit=1").get_json()
    assert items["numberReturned"] == 1 and [lk for lk in items["links"] if lk["rel"] == "next"]
    needing = client.get("/ogc/collections/initiatives/items?f=json&need=money").get_json()
    assert first in [f["id"] for f in needing["features"]]
    assert second not in [f["id"] for f in needing["features"]]
    rd = client.get(
        f"/ogc/collections/initiatives/items/{first}?f=json"
        "&crs=http://www.opengis.net/def/crs/EPSG/0/28992"
    )
    assert rd.status_code == 200 and rd.get_json()["geometry"]["coordinates"][0] > 100_000
    assert client.get("/ogc/collections/initiatives/items?status=klaar").status_code == 400
    assert client.get("/ogc/collections/initiatives/items/nope?f=json").status_code == 404


def test_pages_list_and_new_form(client):
    assert "Start een initiatief" in client.get("/initiatieven").get_data(as_text=True)
    create(client)
    listed = client.get("/initiatieven?status=idee").get_data(as_text=True)
    assert "Geveltuinen in de Nieuwstraat" in listed
    assert "Geveltuinen" not in client.get("/initiatieven?status=bezig").get_data(as_text=True)
    csrf = csrf_of(client)
    form = {
        "csrf_token": csrf,
        "title": "Buurtbarbecue",
        "description": "Op het plein",
        "lon": str(HET_GROTE_PLEIN[0]),
        "lat": str(HET_GROTE_PLEIN[1]),
        "need_hands": "Mensen om te helpen",
        "need_hands_amount": "4",
    }
    r = client.post("/initiatieven/nieuw", data=form)
    assert r.status_code == 303 and "/beheer/" in r.headers["Location"]
    bad = client.post("/initiatieven/nieuw", data=form | {"need_money_amount": "veel"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "getal" in html and 'id="need_money_amount-error"' in html


def test_demo_initiative_and_adoption_load_once(app, client, connection):
    from kaart.services import contributions as contribution_service
    from kaart.services import demo_initiatives, privacy
    from kaart.services.input import parse_feature
    from tests.places import SINGEL_GRASVELD, polygon

    with app.app_context(), session_on(connection) as session:
        data = parse_feature(
            feature(polygon(SINGEL_GRASVELD), category="groen", title="Pluktuin langs het Singel"),
            _limits(app),
        )
        contribution_service.create(
            session,
            data,
            contribution_id=demo_initiatives.PLUKTUIN,
            rule=privacy.rule_for(app.config["KAART"]),
        )
        demo_initiatives.load(session)
        demo_initiatives.load(session)
    one = client.get(f"{API}/{demo_initiatives.INITIATIVE_ID}").get_json()["properties"]
    assert one["participants"] == 2 and one["status"] == "in_voorbereiding"
    assert one["contribution"] == str(demo_initiatives.PLUKTUIN)
    adopted = client.get("/api/v1/adoptions").get_json()["features"]
    assert "Buurtgroep Groen Singel" in [f["properties"]["group_name"] for f in adopted]


def _limits(app):
    from kaart.geo import limits_for

    return limits_for(app.config["KAART"])


def test_access_erasure_and_retention_cover_initiative_data(app, client, connection, settings):
    from kaart.services import retention, rights

    ident = uuid.UUID(create(client)["id"])
    join(client, ident, "Sanne", JOINER)
    join(client, ident, "Ahmed")
    with app.app_context(), session_on(connection) as session:
        subject = rights.parse_subject(JOINER)
        held = rights.find(session, subject, settings)
        assert [j["name"] for j in held.initiatives["joined"]] == ["Sanne"]
        started = rights.find(session, rights.parse_subject(INITIATOR), settings)
        assert [s["id"] for s in started.initiatives["started"]] == [str(ident)]
        rights.erase(session, subject, None, settings.upload_dir, keep_on_map=True)
    assert client.get(f"{API}/{ident}").get_json()["properties"]["participants"] == 1
    # A year after the initiative ended, the names and the initiator's address go.
    with app.app_context(), session_on(connection) as session:
        initiative_workflow.change_status(session, ident, "gestopt", "Geen plek gevonden")
    connection.execute(
        text(
            "UPDATE initiative_event SET at = now() - interval '400 days' WHERE initiative_id = :id"
        ),
        {"id": ident},
    )
    with session_on(connection) as session:
        report = retention.purge(session, settings)
    assert report.removed["mail_addresses"]["participants"] == 1
    assert report.removed["mail_addresses"]["initiators"] == 1
    names = (
        connection.execute(
            text("SELECT name FROM initiative_participant WHERE initiative_id = :id"), {"id": ident}
        )
        .scalars()
        .all()
    )
    assert names == ["[naam verwijderd]"]
    assert (
        connection.execute(
            text("SELECT contact_address_id FROM initiative WHERE id = :id"), {"id": ident}
        ).scalar_one()
        is None
    )


def test_an_update_may_carry_a_photo_shown_while_the_initiative_is_public(
    settings, connection, tmp_path
):
    """The initiator's update with a photo: re-encoded without its metadata, on the public
    timeline (thumbnail linking to the photo), gone with the initiative's publication, and
    known to the orphan sweep of the upload folder."""
    settings = settings.replace(upload_dir=tmp_path / "uploads")
    app = create_app({"settings": settings, "db_bind": connection})
    client = app.test_client()
    body = create(client)
    ident, token = body["id"], body["edit_token"]
    image = Image.new("RGB", (640, 480), (40, 120, 60))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Telefoonmerk"  # the camera's make
    image.save(out, format="JPEG", exif=exif)
    form = {
        "csrf_token": csrf_of(client),
        "action": "update",
        "text": "De eerste plantjes staan erin.",
        "photo": (io.BytesIO(out.getvalue()), "IMG_0001.jpg"),
    }
    r = client.post(
        f"/initiatieven/{ident}/beheer/{token}", data=form, content_type="multipart/form-data"
    )
    assert r.status_code == 303
    page = client.get(f"/initiatieven/{ident}").get_data(as_text=True)
    names = re.findall(r"/initiatieven/fotos/([0-9a-f-]{36}(?:\.thumb)?\.jpg)", page)
    assert len(set(names)) == 2 and "Foto bij het nieuws van" in page
    for name in set(names):
        with client.get(f"/initiatieven/fotos/{name}") as photo:
            assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
            assert b"Telefoonmerk" not in photo.data  # metadata stripped
    with session_on(connection) as session:
        assert photos.orphans(session, settings.upload_dir, min_age_s=0) == []
    # Not an image: a field error on `photo`, and nothing of the update is kept.
    form = {**form, "text": "Tweede", "photo": (io.BytesIO(b"geen foto"), "x.jpg")}
    r = client.post(
        f"/initiatieven/{ident}/beheer/{token}", data=form, content_type="multipart/form-data"
    )
    assert r.status_code in (415, 422) and 'id="update-photo"' in r.get_data(as_text=True)
    assert "Tweede" not in client.get(f"/initiatieven/{ident}").get_data(as_text=True)
    # Hidden by a moderator: the photo is no longer served.
    connection.execute(
        text("UPDATE initiative SET visibility = 'hidden' WHERE id = :id"), {"id": ident}
    )
    assert client.get(f"/initiatieven/fotos/{names[0]}").status_code == 404


@pytest.fixture
def committing(settings, clean_db):
    """The app on the test database, committing each request like production."""
    app = create_app({"settings": settings})
    yield app
    app.extensions[EXTENSION_KEY]["engine"].dispose()


def test_a_change_that_commits_late_still_changes_the_lists_etag(committing, engine):
    """A change whose transaction started before a later-stamped one committed moves no
    count(*) or max(updated_at); the change counters (migration 0019) move all the same."""
    client = committing.test_client()
    first = create(client)["id"]
    later = create(client, initiative(title="Buurtmoestuin"))["id"]
    with engine.begin() as conn:  # stamped later than the change below, committed before it
        conn.execute(
            text("UPDATE initiative SET updated_at = now() + interval '1 hour' WHERE id = :id"),
            {"id": later},
        )
    with engine.connect() as conn:
        conn.execute(
            text(
                "UPDATE initiative SET title = 'Geveltuinen, ronde twee', updated_at = now() "
                "WHERE id = :id"
            ),
            {"id": first},
        )
        before = client.get(API)  # read while that change is not committed yet
        assert "ronde twee" not in before.get_data(as_text=True)
        conn.commit()
    again = client.get(API, headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != before.headers["ETag"]
    assert "Geveltuinen, ronde twee" in again.get_data(as_text=True)
    joined = join(client, first, "Sanne")
    assert joined.status_code == 201
    after_join = client.get(API, headers={"If-None-Match": again.headers["ETag"]})
    assert after_join.status_code == 200
