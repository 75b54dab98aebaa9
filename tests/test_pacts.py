"""The wijkpact against PostGIS: parties, pacts, commitments, progress history, the partner
role's limits, the API, the /ogc collection `commitments`, the voortgangsrapportage PDF and the
chain from a contribution to the afspraak that took it up (and back)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from kaart.errors import Conflict, Forbidden, Invalid
from kaart.services import commitments, demo_pact, pacts, workflow
from tests.dialogue_fixtures import log_in_as, make_process, make_user, session_on
from tests.places import feature

PLACE = {"type": "Point", "coordinates": [5.04234, 52.30658]}
STREET = {"type": "LineString", "coordinates": [[5.041, 52.305], [5.043, 52.306]]}


class Actor:
    def __init__(self, user_id, roles):
        self.id, self.roles = user_id, tuple(roles)

    def has_role(self, *roles):
        return "admin" in self.roles or any(r in self.roles for r in roles)


@pytest.fixture
def world(connection, settings, client):
    """Three parties (two with a partner account), a pact over Weesp Centrum, two commitments
    (one of the corporation, linked to a published contribution; one of the gemeente)."""
    planner = make_user(connection, "planner")
    corp_partner = make_user(connection, "partner", email="corp@ymere.example")
    city_partner = make_user(connection, "partner", email="city@amsterdam.example")
    contribution = client.post("/api/v1/contributions", json=feature(title="Meer groen")).get_json()
    with session_on(connection) as session:
        city = pacts.create_party(session, settings, "Gemeente Amsterdam", "gemeente")
        corp = pacts.create_party(session, settings, "Ymere", "woningcorporatie")
        residents = pacts.create_party(
            session, settings, "Bewonersvereniging Weesp", "bewonersorganisatie"
        )
        pacts.add_member(session, corp, corp_partner)
        pacts.add_member(session, city, city_partner)
        form = MultiDict(
            [("title", "Wijkpact Weesp Centrum"), ("area_kind", "buurt")]
            + [("area_code", "BU0363SD03")]
            + [("party_ids", str(p)) for p in (city, corp, residents)]
        )
        slug = pacts.create_pact(session, form, planner)
        pact = pacts.find(session, slug)
        greening = commitments.create(
            session,
            pact,
            MultiDict(
                {
                    "title": "Geveltuinen langs de Nieuwstraat",
                    "party_id": str(corp),
                    "support_ids": str(residents),
                    "theme": "groen",
                    "due_on": (date.today() + timedelta(days=60)).isoformat(),
                    "budget": "12.500,00",
                    "geometry": json.dumps(
                        {
                            "type": "FeatureCollection",
                            "features": [
                                {"type": "Feature", "geometry": PLACE, "properties": {}},
                                {"type": "Feature", "geometry": STREET, "properties": {}},
                            ],
                        }
                    ),
                    "contribution_ids": contribution["id"],
                }
            ),
            planner,
        )
        lights = commitments.create(
            session,
            pact,
            {
                "title": "Betere verlichting op het plein",
                "party_id": str(city),
                "theme": "verkeer",
                "due_on": (date.today() - timedelta(days=3)).isoformat(),
            },
            planner,
        )
    return {
        "planner": planner,
        "corp_partner": Actor(corp_partner, ["partner"]),
        "city_partner": Actor(city_partner, ["partner"]),
        "corp_partner_id": corp_partner,
        "city_partner_id": city_partner,
        "slug": slug,
        "pact": pact,
        "greening": greening,
        "lights": lights,
        "contribution": contribution["id"],
        "parties": (city, corp, residents),
    }


def test_a_pact_covers_its_buurt_and_holds_its_parties(world, connection):
    pact = world["pact"]
    assert {p.name for p in pact.parties} == {
        "Gemeente Amsterdam",
        "Ymere",
        "Bewonersvereniging Weesp",
    }
    inside = connection.execute(
        text(
            "SELECT ST_Intersects(geom, ST_SetSRID(ST_Point(5.04234, 52.30658), 4326)) "
            "FROM pact WHERE slug = :s"
        ),
        {"s": world["slug"]},
    ).scalar_one()
    assert inside and pact.area_kind == "buurt" and pact.area_code == "BU0363SD03"


def test_places_are_one_collection_and_the_budget_is_read_the_dutch_way(world, connection):
    row = connection.execute(
        text("SELECT GeometryType(geom) AS kind, budget FROM commitment WHERE id = :id"),
        {"id": world["greening"]},
    ).one()
    assert row.kind == "GEOMETRYCOLLECTION"
    assert float(row.budget) == 12500.0


def test_a_partner_updates_only_its_own_partys_commitments(world, connection):
    with session_on(connection) as session:
        commitments.post_update(
            session,
            world["greening"],
            world["corp_partner"],
            {"status": "bezig", "percentage": "40", "milestone": "Tegels eruit"},
        )
    with pytest.raises(Forbidden), session_on(connection) as session:
        commitments.post_update(
            session, world["lights"], world["corp_partner"], {"status": "bezig"}
        )
    with session_on(connection) as session:
        assert commitments.find(session, world["greening"]).status == "bezig"
        assert commitments.find(session, world["lights"]).status == "gepland"


def test_a_delay_without_a_reason_is_refused_with_a_field_error(world, connection):
    with pytest.raises(Invalid) as refused, session_on(connection) as session:
        commitments.post_update(
            session, world["lights"], world["city_partner"], {"status": "vertraagd"}
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("reason", "update_reason_missing")
    ]
    # The database says the same, whatever writes.
    with pytest.raises(DBAPIError), connection.begin_nested():
        connection.execute(
            text(
                "INSERT INTO commitment_update (commitment_id, status, reason) "
                "VALUES (:id, 'vervallen', '  ')"
            ),
            {"id": world["lights"]},
        )


def test_finished_commitments_take_no_more_progress(world, connection):
    with session_on(connection) as session:
        commitments.post_update(
            session, world["lights"], world["city_partner"], {"status": "klaar"}
        )
    with pytest.raises(Conflict), session_on(connection) as session:
        commitments.post_update(
            session, world["lights"], world["city_partner"], {"status": "bezig"}
        )
    with session_on(connection) as session:
        current = commitments.find(session, world["lights"])
    assert (current.status, current.percentage) == ("klaar", 100)


def test_progress_history_is_append_only(world, connection):
    with session_on(connection) as session:
        commitments.post_update(
            session,
            world["lights"],
            world["city_partner"],
            {"status": "vertraagd", "reason": "De palen zijn later geleverd."},
        )
    for statement in (
        "UPDATE commitment_update SET status = 'klaar'",
        "DELETE FROM commitment_update",
        "TRUNCATE commitment_update",
    ):
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.execute(text(statement))
    with session_on(connection) as session:
        history = commitments.history(session, world["pact"].id)
    assert [h.status for h in history if h.commitment_id == world["lights"]] == [
        "vertraagd",
        "gepland",
    ]
    # The history goes with its commitment (a pact removed as a whole).
    connection.execute(text("DELETE FROM pact WHERE slug = :s"), {"s": world["slug"]})
    assert connection.execute(text("SELECT count(*) FROM commitment_update")).scalar_one() == 0


def test_the_api_lists_pacts_and_serves_commitments_as_geojson(world, client):
    listed = client.get("/api/v1/pacts").get_json()["pacts"]
    assert [p["slug"] for p in listed] == [world["slug"]]
    assert {p["name"] for p in listed[0]["parties"]} >= {"Ymere", "Gemeente Amsterdam"}
    r = client.get(f"/api/v1/pacts/{world['slug']}")
    assert r.status_code == 200
    collection = r.get_json()
    assert collection["type"] == "FeatureCollection"
    by_title = {f["properties"]["title"]: f for f in collection["features"]}
    greening = by_title["Geveltuinen langs de Nieuwstraat"]
    props = greening["properties"]
    assert props["status"] == "gepland" and props["party"] == "Ymere"
    assert props["progress"] == 0 and props["contributions"] == [world["contribution"]]
    assert props["supporting"] == ["Bewonersvereniging Weesp"]
    assert greening["geometry"]["type"] == "GeometryCollection"
    lights = by_title["Betere verlichting op het plein"]
    assert lights["geometry"] is None and lights["properties"]["overdue"] is True
    missing = client.get("/api/v1/pacts/bestaat-niet")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


def test_no_personal_data_in_the_public_outputs(world, client):
    bodies = [
        client.get("/api/v1/pacts").get_data(as_text=True),
        client.get(f"/api/v1/pacts/{world['slug']}").get_data(as_text=True),
        client.get(f"/wijkpact/{world['slug']}").get_data(as_text=True),
        client.get("/ogc/collections/commitments/items").get_data(as_text=True),
    ]
    for body in bodies:
        assert "corp@ymere.example" not in body and "city@amsterdam.example" not in body
        assert "Jan partner" not in body and "Jan planner" not in body


def test_the_ogc_collection_commitments(world, client):
    listed = client.get("/ogc/collections?f=json").get_json()
    assert "commitments" in [c["id"] for c in listed["collections"]]
    items = client.get("/ogc/collections/commitments/items?f=json&status=gepland").get_json()
    assert {f["properties"]["title"] for f in items["features"]} == {
        "Geveltuinen langs de Nieuwstraat",
        "Betere verlichting op het plein",
    }
    none = client.get("/ogc/collections/commitments/items?f=json&status=klaar").get_json()
    assert none["features"] == []
    one = client.get(f"/ogc/collections/commitments/items/{world['greening']}?f=json")
    assert one.status_code == 200 and one.get_json()["properties"]["party"] == "Ymere"
    paged = client.get("/ogc/collections/commitments/items?f=json&limit=1").get_json()
    assert len(paged["features"]) == 1
    assert any(link["rel"] == "next" for link in paged["links"])
    following = next(link["href"] for link in paged["links"] if link["rel"] == "next")
    second = client.get(following).get_json()["features"]
    assert [f["id"] for f in second] != [f["id"] for f in paged["features"]]
    for path in ("/ogc/collections/commitments", "/ogc/collections/commitments/items"):
        html = client.get(path + "?f=html")
        assert html.status_code == 200 and html.mimetype == "text/html"
    api = client.get("/ogc/api?f=json").get_json()
    assert '"commitments"' in json.dumps(api)  # among the collection ids


def test_the_pact_page_shows_progress_overdue_and_history(world, client, connection):
    with session_on(connection) as session:
        commitments.post_update(
            session,
            world["greening"],
            world["corp_partner"],
            {"status": "bezig", "percentage": "50"},
        )
    html = client.get(f"/wijkpact/{world['slug']}").get_data(as_text=True)
    assert "Geveltuinen langs de Nieuwstraat" in html
    assert 'id="pact-overdue"' in html and "Betere verlichting op het plein" in html
    assert 'id="progress-party"' in html and 'id="progress-theme"' in html
    assert "50% klaar" in html and 'id="pact-history"' in html
    index = client.get("/wijkpact").get_data(as_text=True)
    assert "Wijkpact Weesp Centrum" in index
    assert client.get("/wijkpact/bestaat-niet").status_code == 404
    assert client.get("/wijkpact/bestaat-niet/voortgang.pdf").status_code == 404
    english = client.get(f"/wijkpact/{world['slug']}?lang=en").get_data(as_text=True)
    assert "Overdue" in english and "50% done" in english and "€12,500" in english


def test_the_voortgangsrapportage_is_a_tagged_pdf_with_the_progress(world, client, connection):
    with session_on(connection) as session:
        commitments.post_update(
            session,
            world["lights"],
            world["city_partner"],
            {"status": "vertraagd", "reason": "Leverancier failliet"},
        )
    r = client.get(f"/wijkpact/{world['slug']}/voortgang.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(r.data))
    words = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Wijkpact Weesp Centrum" in words
    assert "Geveltuinen langs de Nieuwstraat" in words
    assert "Leverancier failliet" in words and "Vertraagd" in words
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    # The map, drawn offline like the reactienota's, is in it as an image.
    assert any(image.name for page in reader.pages for image in page.images)


def test_the_chain_from_a_contribution_to_its_afspraak_and_back(world, client):
    page = client.get(f"/bijdragen/{world['contribution']}").get_data(as_text=True)
    assert 'id="pact-chain"' in page
    assert f"/wijkpact/{world['slug']}#c-{world['greening']}" in page
    back = client.get(f"/wijkpact/{world['slug']}").get_data(as_text=True)
    assert f"/bijdragen/{world['contribution']}" in back


def test_beheer_partner_is_refused_on_another_partys_commitment(world, client):
    token = log_in_as(client, world["corp_partner_id"])
    other = client.post(
        f"/beheer/afspraken/{world['lights']}/voortgang",
        data={"csrf_token": token, "status": "bezig"},
    )
    assert other.status_code == 403
    own = client.post(
        f"/beheer/afspraken/{world['greening']}/voortgang",
        data={"csrf_token": token, "status": "vertraagd"},
    )
    assert own.status_code == 422
    assert 'data-code="update_reason_missing"' in own.get_data(as_text=True)
    done = client.post(
        f"/beheer/afspraken/{world['greening']}/voortgang",
        data={"csrf_token": token, "status": "bezig", "percentage": "20"},
    )
    assert done.status_code == 303
    page = client.get(f"/beheer/wijkpact/{world['slug']}").get_data(as_text=True)
    assert page.count('class="beheer-form pact-update"') == 1


def test_only_planners_create_parties_and_pacts(world, client, connection):
    token = log_in_as(client, world["corp_partner_id"])
    assert client.post("/beheer/wijkpact/partijen", data={"csrf_token": token}).status_code == 403
    assert client.get("/beheer/wijkpact/nieuw").status_code == 403
    token = log_in_as(client, world["planner"])
    r = client.post(
        "/beheer/wijkpact/partijen",
        data={"csrf_token": token, "name": "Energiecoöperatie Weesp", "type": "energiecooperatie"},
    )
    assert r.status_code == 303
    with session_on(connection) as session:
        assert "Energiecoöperatie Weesp" in {p.name for p in pacts.all_parties(session)}
    refused = client.post(
        "/beheer/wijkpact/nieuw",
        data={"csrf_token": token, "title": "", "area_kind": "buurt", "area_code": "BU9999"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for code in ("pact_title_invalid", "pact_parties_missing", "pact_area_unknown"):
        assert f'data-code="{code}"' in html


def test_a_party_logo_is_reencoded_and_served(world, client, settings, connection):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "#154273").save(buffer, format="PNG")
    token = log_in_as(client, world["planner"])
    r = client.post(
        "/beheer/wijkpact/partijen",
        data={
            "csrf_token": token,
            "name": "Energie Weesp " + uuid.uuid4().hex[:4],
            "type": "energiecooperatie",
            "logo": (io.BytesIO(buffer.getvalue()), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    party_id = connection.execute(
        text("SELECT id FROM party WHERE logo_media_type = 'image/png'")
    ).scalar_one()
    logo = client.get(f"/wijkpact/logo/{party_id}")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert Image.open(io.BytesIO(logo.data)).size == (64, 64)
    logo.close()
    bad = client.post(
        "/beheer/wijkpact/partijen",
        data={
            "csrf_token": token,
            "name": "Kapot",
            "type": "overig",
            "logo": (io.BytesIO(b"not an image"), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and 'data-code="party_logo_invalid"' in bad.get_data(as_text=True)


def test_the_reactienota_lists_the_commitments_that_took_a_contribution_up(
    world, client, connection
):
    process = make_process(connection, "plein-pact")
    connection.execute(
        text("UPDATE contribution SET process_id = :p WHERE id = :id"),
        {"p": process, "id": world["contribution"]},
    )
    token = log_in_as(client, world["planner"])
    assert token
    html = client.get(f"/beheer/reactienota/{process}").get_data(as_text=True)
    assert "Opgepakt in het wijkpact" in html
    assert "Geveltuinen langs de Nieuwstraat (Ymere, Gepland)" in html


def test_the_demo_pact_is_loaded_once_with_its_chain(client, connection):
    trees = client.post(
        "/api/v1/contributions", json=feature(title="Meer bomen op de Ossenmarkt", category="groen")
    ).get_json()
    said = []
    with session_on(connection) as session:
        assert demo_pact.load(session, said.append)
    with session_on(connection) as session:
        assert not demo_pact.load(session, said.append)
    assert said[0] == "demo wijkpact: /wijkpact/weesp-centrum"
    assert said[1].startswith("demo partner account: partner.woningcorporatie@")
    collection = client.get("/api/v1/pacts/weesp-centrum").get_json()
    by_title = {f["properties"]["title"]: f["properties"] for f in collection["features"]}
    assert len(by_title) == 5 and len(client.get("/api/v1/pacts").get_json()["pacts"]) == 1
    assert by_title["Vijf nieuwe bomen op de Ossenmarkt"]["contributions"] == [trees["id"]]
    assert by_title["Speelplek bij het Oude Convent opknappen"]["status"] == "vertraagd"
    assert by_title["Fietsnietjes in de Hoogstraat"]["status"] == "klaar"
    members = connection.execute(
        text(
            "SELECT y.name FROM party_member m JOIN party y ON y.id = m.party_id "
            "JOIN app_user u ON u.id = m.user_id WHERE u.email = :e"
        ),
        {"e": demo_pact.PARTNER_EMAIL},
    ).scalars()
    assert list(members) == ["Woningcorporatie Eigen Haard"]


def test_a_commitment_takes_up_the_response_its_input_got(world, client, connection):
    answered = client.post("/api/v1/contributions", json=feature(title="Bankjes")).get_json()
    with session_on(connection) as session:
        workflow.change_status(
            session,
            uuid.UUID(answered["id"]),
            "in_behandeling",
            "We nemen dit mee.",
            world["planner"],
        )
        commitment_id = commitments.create(
            session,
            world["pact"],
            {
                "title": "Drie bankjes",
                "party_id": str(world["parties"][0]),
                "theme": "sociaal",
                "due_on": date.today().isoformat(),
                "contribution_ids": answered["id"],
            },
            world["planner"],
        )
    collection = client.get(f"/api/v1/pacts/{world['slug']}").get_json()
    props = next(f["properties"] for f in collection["features"] if f["id"] == str(commitment_id))
    assert props["responses"] == 1 and props["overdue"] is False
    page = client.get(f"/wijkpact/{world['slug']}").get_data(as_text=True)
    assert "We nemen dit mee." in page


def test_an_initiatives_page_shows_the_afspraak_that_took_it_up(world, client, connection):
    from tests.test_initiatives import create, initiative

    created = create(client, initiative(title="Samen geveltuinen maken"))
    with session_on(connection) as session:
        commitments.create(
            session,
            world["pact"],
            {
                "title": "Tegels eruit, planten erin",
                "party_id": str(world["parties"][1]),
                "theme": "groen",
                "due_on": date.today().isoformat(),
                "initiative_ids": created["id"],
            },
            world["planner"],
        )
    page = client.get(f"/initiatieven/{created['id']}").get_data(as_text=True)
    assert 'id="pact-chain"' in page and "Tegels eruit, planten erin" in page
    features = client.get(f"/api/v1/pacts/{world['slug']}").get_json()["features"]
    linked = [f for f in features if f["properties"]["initiatives"] == [created["id"]]]
    assert [f["properties"]["title"] for f in linked] == ["Tegels eruit, planten erin"]


def _public(client, world) -> dict[str, bool]:
    """Where the pact shows on the public site."""
    slug, greening = world["slug"], world["greening"]
    listed = [p["slug"] for p in client.get("/api/v1/pacts").get_json()["pacts"]]
    ogc = client.get("/ogc/collections/commitments/items?f=json").get_json()["features"]
    contribution = client.get(f"/bijdragen/{world['contribution']}").get_data(as_text=True)
    return {
        "page": client.get(f"/wijkpact/{slug}").status_code == 200,
        "api": slug in listed,
        "geojson": client.get(f"/api/v1/pacts/{slug}").status_code == 200,
        "ogc": any(f["id"] == str(greening) for f in ogc),
        "pdf": client.get(f"/wijkpact/{slug}/voortgang.pdf").status_code == 200,
        "chain": f"/wijkpact/{slug}#c-{greening}" in contribution,
    }


def test_a_planner_takes_a_pact_off_the_public_site_and_back(world, client, connection):
    everywhere = dict.fromkeys(("page", "api", "geojson", "ogc", "pdf", "chain"), True)
    assert _public(client, world) == everywhere
    token = log_in_as(client, world["corp_partner_id"])  # a partner may not
    url = f"/beheer/wijkpact/{world['slug']}/zichtbaarheid"
    assert client.post(url, data={"csrf_token": token, "published": "nee"}).status_code == 403
    client.get("/uitloggen")
    token = log_in_as(client, world["planner"])
    manage = client.get(f"/beheer/wijkpact/{world['slug']}").get_data(as_text=True)
    assert 'id="pact-visibility"' in manage and "Van de openbare site halen" in manage
    off = client.post(url, data={"csrf_token": token, "published": "nee"})
    assert off.status_code == 303 and off.headers["Location"].endswith("#visibility-title")
    assert _public(client, world) == dict.fromkeys(everywhere, False)
    manage = client.get(f"/beheer/wijkpact/{world['slug']}").get_data(as_text=True)
    assert "niet openbaar" in manage and "Weer openbaar maken" in manage
    assert client.post(url, data={"csrf_token": token, "published": "ja"}).status_code == 303
    assert _public(client, world) == everywhere
    actions = connection.execute(
        text("SELECT action, details->>'pact' FROM audit_event ORDER BY id")
    ).all()
    assert [tuple(a) for a in actions if a[0].startswith("pact.")] == [
        ("pact.unpublished", world["slug"]),
        ("pact.published", world["slug"]),
    ]
