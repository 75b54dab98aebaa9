"""Participation processes: planners create them through /beheer; the API admits contributions
inside the area, the period and the enabled categories only, with the reason when it refuses."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from sqlalchemy import text

from tests.dialogue_fixtures import block_geometry, log_in_as, make_process, make_user, session_on
from tests.places import DAM_AMSTERDAM, HET_GROTE_PLEIN, SINGEL_GRASVELD, feature, point, polygon

API = "/api/v1/contributions"


def _form(**changes) -> dict:
    today = date.today()
    form = {
        "title": "Groen Grote Plein",
        "slug": "",
        "question": "Hoe maken we Het Grote Plein groener?",
        "description": "Van 1 tot 30 december.",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "categories": ["groen", "idee"],
        "geometry": json.dumps(block_geometry()),
    }
    form.update(changes)
    return form


def test_a_planner_creates_a_process_that_gets_a_public_page(client, connection):
    token = log_in_as(client, make_user(connection, "planner"))
    r = client.post("/beheer/trajecten/nieuw", data={**_form(), "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert r.headers["Location"] == "/trajecten/groen-grote-plein"
    row = connection.execute(
        text(
            "SELECT categories, premoderation, GeometryType(geom) AS kind, created_by IS NOT NULL "
            "AS by FROM process WHERE slug = 'groen-grote-plein'"
        )
    ).one()
    assert row.categories == ["groen", "idee"] and not row.premoderation
    assert row.kind == "MULTIPOLYGON" and row.by

    html = client.get("/trajecten/groen-grote-plein").get_data(as_text=True)
    assert "Hoe maken we Het Grote Plein groener?" in html
    assert "Open voor bijdragen" in html and 'id="process-contribute"' in html
    # Only the enabled categories can be chosen.
    assert 'value="groen"' in html and 'value="idee"' in html and 'value="knelpunt"' not in html
    assert "Groen Grote Plein" in client.get("/trajecten").get_data(as_text=True)

    listed = client.get("/api/v1/processes").get_json()["processes"]
    assert [p["slug"] for p in listed] == ["groen-grote-plein"]
    assert listed[0]["state"] == "open" and listed[0]["geometry"]["type"] == "MultiPolygon"


def test_the_process_form_reports_every_problem_at_once(client, connection):
    token = log_in_as(client, make_user(connection, "planner"))
    today = date.today()
    bad = _form(
        title="",
        question="",
        categories=[],
        starts_on=today.isoformat(),
        ends_on=(today - timedelta(days=1)).isoformat(),
        geometry="",
    )
    r = client.post("/beheer/trajecten/nieuw", data={**bad, "csrf_token": token})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    for code in (
        "process_title_missing",
        "process_question_missing",
        "process_categories_missing",
        "process_period_invalid",
        "process_area_missing",
    ):
        assert f'data-code="{code}"' in html, code
    assert "De einddatum ligt vóór de begindatum." in html
    # Each message also stands beside its field, which says it is invalid and points to it.
    for field in ("title", "question", "ends_on", "geometry"):
        assert f'id="{field}-error"' in html, field
        tag = re.search(rf'<(?:input|textarea)[^>]*id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f"{field}-error" in tag, tag
    assert re.search(r'<fieldset class="field" aria-invalid="true"', html)
    slug = re.search(r'<input[^>]*id="slug"[^>]*>', html).group(0)
    assert "slug-hint" in slug  # the hint stays described
    description = re.search(r"<textarea[^>]*id=\"description\"[^>]*>", html).group(0)
    assert "aria-invalid" not in description and "aria-describedby" not in description
    # A self-intersecting area is refused with the reason, never repaired.
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[5.04, 52.304], [5.046, 52.309], [5.046, 52.304], [5.04, 52.309], [5.04, 52.304]]
        ],
    }
    r = client.post(
        "/beheer/trajecten/nieuw", data={**_form(geometry=json.dumps(bowtie)), "csrf_token": token}
    )
    assert r.status_code == 422 and 'data-code="geometry_invalid"' in r.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM process")).scalar_one() == 0


def test_a_taken_slug_is_a_field_error_and_editing_keeps_the_process(client, connection):
    process = make_process(connection, "plein-weesp")
    token = log_in_as(client, make_user(connection, "planner"))
    r = client.post(
        "/beheer/trajecten/nieuw", data={**_form(slug="plein-weesp"), "csrf_token": token}
    )
    assert r.status_code == 422 and 'data-code="process_slug_taken"' in r.get_data(as_text=True)

    page = client.get(f"/beheer/trajecten/{process}/bewerken").get_data(as_text=True)
    assert 'value="plein-weesp"' in page
    changed = _form(slug="plein-weesp", title="Nieuwe titel", premoderation="1")
    r = client.post(f"/beheer/trajecten/{process}/bewerken", data={**changed, "csrf_token": token})
    assert r.status_code == 302
    row = connection.execute(
        text("SELECT title, premoderation FROM process WHERE id = :id"), {"id": process}
    ).one()
    assert row.title == "Nieuwe titel" and row.premoderation


def test_contributions_inside_the_process_are_admitted_and_linked(client, connection):
    process = make_process(connection)
    r = client.post(API, json=feature(point(HET_GROTE_PLEIN), process="plein-weesp"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["properties"]["process"] == str(process)
    # By id works too, and contributions outside any process stay possible.
    assert client.post(API, json=feature(process=str(process))).status_code == 201
    assert client.post(API, json=feature(point(DAM_AMSTERDAM))).status_code == 201
    html = client.get("/trajecten/plein-weesp").get_data(as_text=True)
    data = html[html.index('id="process-contributions">') :]
    assert data.count('"type": "Feature"') == 2
    page = client.get(f"/bijdragen/{body['id']}").get_data(as_text=True)
    assert "Onderdeel van het participatietraject" in page
    assert '<a href="/trajecten/plein-weesp">Het Grote Plein opnieuw</a>' in page


def _refused(client, body) -> dict:
    r = client.post(API, json=body)
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json"
    return r.get_json()["errors"][0]


def test_outside_the_area_period_or_categories_is_refused_with_the_reason(
    client, connection, count_rows
):
    make_process(connection, "plein-weesp", categories=("groen", "idee"))
    make_process(connection, "nog-niet", starts=3, ends=10)
    make_process(connection, "voorbij", starts=-30, ends=-1)
    before = count_rows()

    error = _refused(client, feature(polygon(SINGEL_GRASVELD), process="plein-weesp"))
    assert (error["field"], error["code"]) == ("geometry", "process_outside_area")
    error = _refused(client, feature(category="knelpunt", process="plein-weesp"))
    assert (error["field"], error["code"]) == ("properties.category", "process_category_disabled")
    error = _refused(client, feature(process="nog-niet"))
    assert (error["field"], error["code"]) == ("properties.process", "process_planned")
    error = _refused(client, feature(process="voorbij"))
    assert (error["field"], error["code"]) == ("properties.process", "process_closed")
    for ref in ("bestaat-niet", 42, ""):
        error = _refused(client, feature(process=ref))
        assert (error["field"], error["code"]) == ("properties.process", "process_unknown")
    assert count_rows() == before  # nothing half-written


def test_the_refusal_reasons_are_translated_for_the_page(client):
    from kaart import i18n

    for code in ("process_outside_area", "process_closed", "process_category_disabled"):
        assert i18n.catalogue("nl")[f"error.{code}"] != i18n.catalogue("en")[f"error.{code}"]
    config = client.get("/").get_data(as_text=True)
    assert "buiten het gebied van het traject" in config


def test_premoderated_contributions_wait_out_of_sight(client, connection):
    make_process(connection, "eerst-kijken", premoderation=True)
    created = client.post(API, json=feature(process="eerst-kijken")).get_json()
    assert (
        connection.execute(
            text("SELECT visibility FROM contribution WHERE id = :id"), {"id": created["id"]}
        ).scalar_one()
        == "pending"
    )
    assert client.get(f"{API}/{created['id']}").status_code == 404
    assert client.get(f"/bijdragen/{created['id']}").status_code == 404
    listed = client.get(
        f"{API}?near={HET_GROTE_PLEIN[0]},{HET_GROTE_PLEIN[1]}&radius=20"
    ).get_json()
    assert created["id"] not in [f["id"] for f in listed["features"]]
    # The author still reaches the private page and sees why it is not on the map.
    assert client.get(f"/bijdragen/{created['id']}/bewerken").status_code == 200
    private = client.get(
        f"{API}/{created['id']}/private",
        headers={"Authorization": f"Bearer {created['edit_token']}"},
    ).get_json()
    assert private["visibility"] == "pending" and private["status"] == "ontvangen"


def test_the_database_refuses_a_process_without_categories_or_with_a_reversed_period(connection):
    import pytest

    for categories, starts, ends, constraint in (
        ([], 0, 1, "ck_process_categories"),
        (["bos"], 0, 1, "ck_process_categories"),
        (["groen"], 2, 1, "ck_process_period"),
    ):
        with pytest.raises(Exception, match=constraint), connection.begin_nested():
            connection.execute(
                text(
                    "INSERT INTO process (slug, title, question, geom, starts_on, ends_on, "
                    "categories) VALUES ('x', 'x', 'x', ST_Multi(ST_SetSRID("
                    "ST_GeomFromGeoJSON(:g), 4326)), current_date + :s, current_date + :e, :c)"
                ),
                {"g": json.dumps(block_geometry()), "s": starts, "e": ends, "c": categories},
            )


def test_the_process_pages_speak_english_too(client, connection):
    make_process(connection, "plein-weesp", starts=-1, ends=1)
    html = client.get("/trajecten/plein-weesp?lang=en").get_data(as_text=True)
    assert "Open for contributions" in html and "Take part" in html
    assert "Doe mee" not in html
    assert "Participation processes" in client.get("/trajecten?lang=en").get_data(as_text=True)
    assert "E-mail address" in client.get("/inloggen?lang=en").get_data(as_text=True)


def test_the_demo_process_covers_weesp_centrum_once(connection):
    from kaart.services import processes

    with session_on(connection) as session:
        assert processes.load_demo(session) is True
        assert processes.load_demo(session) is False  # safe to run again
        process = processes.find(session, processes.DEMO_SLUG)
    assert process.state() == "open" and "speelplek" in process.categories
    inside = connection.execute(
        text(
            "SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) FROM process "
            "WHERE slug = :slug"
        ),
        {"lon": HET_GROTE_PLEIN[0], "lat": HET_GROTE_PLEIN[1], "slug": processes.DEMO_SLUG},
    ).scalar_one()
    assert inside
