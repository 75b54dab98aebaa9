"""Wie doet er mee? The optional questions of a process, their answers stored apart, and the
monitor: rates per 1,000 inhabitants, suppressed small cells, the under-represented, the CSV,
and that no public output ever carries an answer.

The area: three Weesp buurten from tests/fixtures/cbs_buurten_weesp_verzonnen.geojson (made-up
inhabitants and CBS age columns, read through the cbs-buurten source), two PC4 areas made from
them, and a process over all three. Respondents:

- Weesp Centrum (3,200 inhabitants, 31.6 % aged 25-44): 70, of whom 10 aged 25-44 (14 %).
- Weesp-Zuid I (2,000 inhabitants, 21 % aged 65+): 100, of whom 5 aged 65+ (shown "< 10").
- Weesp-Zuid II (1,000 inhabitants, 65+ secret in the file): one contribution, no answers.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely import wkt
from sqlalchemy import text

from geodata.read import read
from kaart.services import participant_answers, participation
from kaart.services.retention import purge
from tests.dialogue_fixtures import session_on
from tests.fixtures.outputs.seed import add_contribution, add_user, log_in
from tests.layers_fixture import make_layer

FIXTURE = Path(__file__).parent / "fixtures" / "cbs_buurten_weesp_verzonnen.geojson"
CENTRUM, ZUID_I, ZUID_II = "BU0363SD03", "BU0363SD04", "BU0363SD05"
AGES = ("age_00_14", "age_15_24", "age_25_44", "age_45_64", "age_65_plus")
LABELS = {"whole": "Hele gebied", "elsewhere": "Buiten", "small": "< 10", "secondary": "onderdrukt"}


def _point_in(connection, code: str):
    found = connection.execute(
        text("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM buurt WHERE code = :c"), {"c": code}
    ).scalar_one()
    return wkt.loads(found)


@pytest.fixture
def area(connection):
    """The buurten layer (through the real source mapping) and a PC4 layer, in the test's
    transaction."""
    frames = [batch.to_geodataframe() for batch in read("cbs-buurten", path=FIXTURE)]
    rows = []
    for frame in frames:
        for _, r in frame.iterrows():
            rows.append(
                {
                    "feature_id": r.feature_id,
                    "geom": r.geometry,
                    **{c: r[c] for c in ("code", "name", "inhabitants", *AGES)},
                }
            )
    columns = {"code": "text", "name": "text", "inhabitants": "bigint"}
    columns |= dict.fromkeys(AGES, "bigint")
    make_layer(connection, "cbs-buurten", rows, columns=columns, kind="area")
    pc4 = []
    for code, codes, people in (("1381", [CENTRUM], 4000), ("1382", [ZUID_I, ZUID_II], 2500)):
        geom = connection.execute(
            text(
                "SELECT ST_AsText(ST_Transform(ST_Union(geom), 28992)) FROM buurt "
                "WHERE code = ANY(:codes)"
            ),
            {"codes": codes},
        ).scalar_one()
        pc4.append({"feature_id": code, "geom": geom, "postcode": code, "inhabitants": people})
    make_layer(
        connection,
        "cbs-pc4",
        pc4,
        columns={"postcode": "text", "inhabitants": "bigint"},
        kind="postcode",
    )
    return rows


def add_process(connection, asks: bool = True, slug: str = "wie-doet-mee-weesp") -> uuid.UUID:
    today = date.today()
    return connection.execute(
        text(
            "INSERT INTO process (slug, title, question, geom, starts_on, ends_on, categories, "
            "participant_questions) SELECT :slug, 'Weesp samen', 'Wat kan beter in Weesp?', "
            "ST_Multi(ST_Union(geom)), :start, :end, ARRAY['idee', 'groen'], :asks "
            "FROM buurt WHERE code = ANY(:codes) RETURNING id"
        ),
        {
            "slug": slug,
            "start": today - timedelta(days=10),
            "end": today + timedelta(days=30),
            "asks": asks,
            "codes": [CENTRUM, ZUID_I, ZUID_II],
        },
    ).scalar_one()


def respond(connection, process_id, code: str, answers: list[dict]) -> None:
    """One contribution per respondent in buurt `code`, with its answers (through record)."""
    point = _point_in(connection, code)
    with session_on(connection) as session:
        for given in answers:
            cid = add_contribution(connection, point, process_id=process_id)
            found = participant_answers.Answers(**given) if given else None
            participant_answers.record(session, process_id, cid, found)


def ages(counts: dict[str, int], **more) -> list[dict]:
    return [{"age_group": age, **more} for age, n in counts.items() for _ in range(n)]


@pytest.fixture
def weesp(connection, area):
    process = add_process(connection)
    respond(
        connection,
        process,
        CENTRUM,
        ages({"15-24": 12, "25-44": 10, "45-64": 30, "65+": 18}, relation="live"),
    )
    zuid = ages({"25-44": 45, "45-64": 50, "65+": 5})
    for k, answer in enumerate(zuid):  # relation: 15 work, 5 visit, the rest live
        answer["relation"] = "work" if k < 15 else "visit" if k < 20 else "live"
    respond(connection, process, ZUID_I, zuid)
    respond(connection, process, ZUID_II, [{}])
    return process


@pytest.fixture
def planner(client, connection):
    log_in(client, add_user(connection, "planner.deelname@weesp.example", ["planner"]))
    return client


def monitor(connection, process, public_only=False):
    with session_on(connection) as session:
        return participation.monitor(session, process, public_only=public_only, labels=LABELS)


# -- The loader keeps the CBS age columns --------------------------------------------------------


def test_the_cbs_buurten_source_keeps_the_age_columns_and_drops_secret_values(area):
    by_code = {r["code"]: r for r in area}
    assert by_code[CENTRUM]["inhabitants"] == 3200
    assert [by_code[CENTRUM][c] for c in AGES] == [320, 380, 1010, 900, 590]
    assert by_code[ZUID_II]["age_65_plus"] is None  # -99997 in the file: secret


# -- The monitor ---------------------------------------------------------------------------------


def test_rates_per_1000_inhabitants_per_buurt_and_pc4(connection, weesp):
    found = monitor(connection, weesp)
    rates = {r.code: r for r in found.buurten}
    assert set(rates) == {CENTRUM, ZUID_I, ZUID_II}  # neighbours that only touch are not in it
    assert rates[CENTRUM].count == 70 and rates[CENTRUM].per_1000 == pytest.approx(21.875)
    assert rates[ZUID_I].per_1000 == pytest.approx(50.0)
    assert rates[ZUID_II].per_1000 == pytest.approx(1.0)
    assert found.overall.count == 171 and found.overall.inhabitants == 6200
    assert found.overall.per_1000 == pytest.approx(171 * 1000 / 6200)
    assert [r.code for r in found.buurten if r.under] == [ZUID_II]
    pc4 = {r.code: r for r in found.postcodes}
    assert pc4["1381"].count == 70 and pc4["1381"].per_1000 == pytest.approx(17.5)
    assert pc4["1382"].count == 101 and pc4["1382"].per_1000 == pytest.approx(40.4)
    assert found.respondents == 170 and found.contributions == 171


def test_small_cells_are_suppressed_and_a_lone_one_is_protected(connection, weesp):
    found = monitor(connection, weesp)
    rows = {row.code: row for row in found.ages.rows}
    centrum = rows[CENTRUM]
    assert centrum.total.count == 70
    assert centrum.cells["25-44"].count == 10  # exactly 10: shown
    assert centrum.cells["0-14"] == participation.Cell(None, "small", None, 0.1)
    assert centrum.cells["65+"].count == 18  # the lone hidden count is 0: nothing to protect
    zuid = rows[ZUID_I]
    assert zuid.cells["65+"].count is None and zuid.cells["65+"].hidden == "small"
    assert zuid.cells["65+"].residents == pytest.approx(0.21)
    assert rows[ZUID_II].total.hidden == "small"  # nobody: "< 10" as well
    assert found.age_mix
    # Relation over the whole process: 150 live, 15 work, 5 visit. The 5 alone would follow
    # from the total, so the 15 is hidden too.
    relation = next(t for t in found.tables if t.question == "relation")
    cells = relation.rows[0].cells
    assert cells["live"].count == 150
    assert (cells["work"].count, cells["work"].hidden) == (None, "secondary")
    assert (cells["visit"].count, cells["visit"].hidden) == (None, "small")


def test_protect_hides_every_count_below_ten():
    assert participation.protect([12, 9, 0]) == [
        (12, None),
        (9, "small"),
        (0, "small"),
        (21, None),
    ]
    assert participation.protect([30, 20, 4]) == [
        (30, None),
        (20, "secondary"),
        (4, "small"),
        (54, None),
    ]
    assert participation.protect([3, 4]) == [(3, "small"), (4, "small"), (7, "small")]


def test_the_under_represented_are_named(connection, weesp, planner, app):
    with app.test_request_context():
        from kaart.views.beheer.participation import sentences

        said = sentences(monitor(connection, weesp))
    assert "Weesp-Zuid II: 1.0 bijdragen per 1.000 inwoners. In het hele gebied: 27.6." in said
    assert "25–44 jaar in Weesp Centrum: 14 % van de inbreng, 32 % van de inwoners." in said
    assert "65+ in Weesp-Zuid I: minder dan 10 % van de inbreng, 21 % van de inwoners." in said
    assert len(said) == 3


def test_the_overview_shows_the_section_with_accessible_tables(planner, weesp):
    html = planner.get(f"/beheer/overzicht?process={weesp}").get_data(as_text=True)
    section = html[html.index('id="participation"') :]
    assert "Wie doet er mee?" in section
    assert "65+ in Weesp-Zuid I: minder dan 10 % van de inbreng" in section
    assert "<caption" in section and 'scope="col"' in section and 'scope="row"' in section
    assert "&lt; 10" in section and "onderdrukt" in section
    assert f'href="/beheer/overzicht/wie-doet-mee/{weesp}.csv"' in section
    assert 'id="participation-legend"' in html
    without = planner.get("/beheer/overzicht").get_data(as_text=True)
    assert 'id="participation-choose"' in without


def test_the_overview_map_has_the_participation_layer_with_attribution(planner, weesp):
    page = planner.get(f"/beheer/overzicht/kaart?process={weesp}").get_data(as_text=True)
    assert "Deelname per buurt" in page
    assert "Inwoners: CBS, Wijk- en buurtkaart" in page
    assert "L.control.layers" in page


def test_the_csv_holds_the_section_with_the_same_suppression(planner, weesp, connection):
    response = planner.get(f"/beheer/overzicht/wie-doet-mee/{weesp}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    buurt = {r["code"]: r for r in rows if r["part"] == "buurt"}
    assert buurt[ZUID_II]["per_1000"] == "1.0" and buurt[ZUID_II]["under"] == "yes"
    age = {(r["code"], r["group"]): r for r in rows if r["part"] == "age_group"}
    assert age[(ZUID_I, "65+")]["count"] == "< 10"
    assert age[(CENTRUM, "25-44")]["count"] == "10"
    assert age[(CENTRUM, "25-44")]["residents_pct"] == "31.6"
    work = next(r for r in rows if r["part"] == "relation" and r["group"] == "work")
    assert work["count"] == "onderdrukt"
    logged = connection.execute(
        text("SELECT count(*) FROM audit_event WHERE action = 'participation.downloaded'")
    ).scalar_one()
    assert logged == 1
    anonymous = planner.application.test_client().get(f"/beheer/overzicht/wie-doet-mee/{weesp}.csv")
    assert anonymous.status_code == 302


def test_the_reactienota_has_the_section_for_published_input(planner, weesp):
    html = planner.get(f"/beheer/reactienota/{weesp}").get_data(as_text=True)
    assert "Wie doet er mee?" in html
    assert "65+ in Weesp-Zuid I: minder dan 10 % van de inbreng" in html
    assert "wie-doet-mee" not in html  # no CSV link in a report


def test_the_reactienota_pdf_renders_with_the_section(planner, weesp):
    response = planner.get(f"/beheer/reactienota/{weesp}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


# -- The questions on the form and in the API ----------------------------------------------------


def test_the_form_asks_only_when_the_process_switches_it_on(client, connection, area):
    add_process(connection, asks=True, slug="vraagt-wel")
    add_process(connection, asks=False, slug="vraagt-niet")
    asking = client.get("/trajecten/vraagt-wel").get_data(as_text=True)
    assert 'id="participant-questions"' in asking
    assert "Zeg ik liever niet" in asking and "65 jaar of ouder" in asking
    assert 'value="not_resident"' in asking and 'value="visit"' in asking
    silent = client.get("/trajecten/vraagt-niet").get_data(as_text=True)
    assert 'id="participant-questions"' not in silent


def test_planners_switch_the_questions_on_in_the_process_form(planner, connection, area):
    process = add_process(connection, asks=False)
    form = planner.get(f"/beheer/trajecten/{process}/bewerken").get_data(as_text=True)
    assert 'name="participant_questions"' in form
    geometry = connection.execute(
        text("SELECT ST_AsGeoJSON(geom) FROM process WHERE id = :id"), {"id": process}
    ).scalar_one()
    with planner.session_transaction() as s:
        token = s["csrf_token"]
    response = planner.post(
        f"/beheer/trajecten/{process}/bewerken",
        data={
            "csrf_token": token,
            "title": "Weesp samen",
            "slug": "wie-doet-mee-weesp",
            "question": "Wat kan beter in Weesp?",
            "categories": ["idee"],
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=5)).isoformat(),
            "geometry": geometry,
            "participant_questions": "1",
        },
    )
    assert response.status_code == 302
    asks = connection.execute(
        text("SELECT participant_questions FROM process WHERE id = :id"), {"id": process}
    ).scalar_one()
    assert asks is True


def _feature(connection, slug: str, **extra) -> dict:
    point = _point_in(connection, ZUID_I)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        "properties": {"category": "idee", "title": "Meer bankjes", "process": slug},
        **extra,
    }


def test_the_api_stores_answers_apart_and_never_shows_them(client, connection, area):
    process = add_process(connection)
    answers = {"age_group": "65+", "residence": "over_10", "relation": None}
    created = client.post(
        "/api/v1/contributions",
        json=_feature(connection, "wie-doet-mee-weesp", participant=answers),
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_data(as_text=True)
    assert "participant" not in body and "over_10" not in body
    stored = connection.execute(
        text("SELECT buurt_code, pc4, age_group, residence, relation FROM participant_answer")
    ).all()
    assert [tuple(r) for r in stored] == [(ZUID_I, "1382", "65+", "over_10", None)]
    cid = created.get_json()["id"]
    # No column ties an answer to its contribution.
    columns = connection.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'participant_answer'"
        )
    ).scalars()
    assert not {"contribution_id", "created_at"} & set(columns)
    # No public output carries the answers.
    outputs = [
        f"/api/v1/contributions/{cid}",
        "/api/v1/contributions",
        f"/ogc/collections/contributions/items/{cid}",
        "/ogc/collections/contributions/items",
        f"/bijdragen/{cid}",
        "/open311/v2/requests.json",
    ]
    for path in outputs:
        response = client.get(path)
        assert response.status_code == 200, path
        # Pages carry the whole text catalogue (answer labels too) in their map config.
        text_out = re.sub(
            r'<script type="application/json" id="kaart-config">.*?</script>',
            "",
            response.get_data(as_text=True),
            flags=re.DOTALL,
        )
        assert "over_10" not in text_out and "age_group" not in text_out, path
    private = client.get(
        f"/api/v1/contributions/{cid}/private",
        headers={"Authorization": f"Bearer {created.get_json()['edit_token']}"},
    ).get_data(as_text=True)
    assert "over_10" not in private
    log_in(client, add_user(connection, "admin.deelname@weesp.example", ["admin"]))
    for fmt in ("csv", "geojson"):
        exported = client.get(f"/beheer/export.{fmt}?process={process}").get_data(as_text=True)
        assert "over_10" not in exported and "65+" not in exported, fmt


@pytest.mark.parametrize(
    ("participant", "field", "code"),
    [
        ("oud", "participant", "participant_not_object"),
        ({"age_group": "70+"}, "participant.age_group", "participant_answer_invalid"),
        ({"residence": 5}, "participant.residence", "participant_answer_invalid"),
        ({"relation": "shop"}, "participant.relation", "participant_answer_invalid"),
        ({"income": "high"}, "participant.income", "participant_unknown_question"),
    ],
)
def test_wrong_answers_are_problems_with_the_field(
    client, connection, area, participant, field, code
):
    add_process(connection)
    response = client.post(
        "/api/v1/contributions",
        json=_feature(connection, "wie-doet-mee-weesp", participant=participant),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    error = response.get_json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)
    assert connection.execute(text("SELECT count(*) FROM participant_answer")).scalar_one() == 0


def test_answers_only_where_the_process_asks_and_never_in_a_change(client, connection, area):
    add_process(connection, asks=False, slug="vraagt-niet")
    refused = client.post(
        "/api/v1/contributions",
        json=_feature(connection, "vraagt-niet", participant={"age_group": "25-44"}),
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "participant_not_asked"
    # Nothing of the refused write stays: not the contribution either.
    assert connection.execute(text("SELECT count(*) FROM contribution")).scalar_one() == 0
    # Rather not say everywhere is no answer at all, and fine anywhere.
    quiet = client.post(
        "/api/v1/contributions",
        json=_feature(connection, "vraagt-niet", participant={"age_group": None}),
    )
    assert quiet.status_code == 201
    patch = client.patch(
        f"/api/v1/contributions/{quiet.get_json()['id']}",
        json={
            "type": "Feature",
            "properties": {"title": "Anders"},
            "participant": {"relation": "live"},
        },
        headers={"Authorization": f"Bearer {quiet.get_json()['edit_token']}"},
    )
    assert patch.status_code == 422
    assert patch.get_json()["errors"][0]["code"] == "participant_not_asked"


def test_the_openapi_document_describes_the_participant_object(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"]["ContributionInput"]["properties"]["participant"]
    assert schema["properties"]["age_group"]["enum"][:5] == [
        "0-14",
        "15-24",
        "25-44",
        "45-64",
        "65+",
    ]
    assert set(schema["properties"]) == {"age_group", "residence", "relation"}


# -- Retention -----------------------------------------------------------------------------------


def test_answers_go_a_year_after_the_process_ended(connection, area, settings):
    process = add_process(connection)
    respond(connection, process, CENTRUM, [{"age_group": "45-64"}] * 2)
    assert purge(connection, settings).removed["participants"] == {"rows": 0}
    connection.execute(
        text("UPDATE process SET starts_on = :s, ends_on = :e WHERE id = :id"),
        {
            "s": date.today() - timedelta(days=500),
            "e": date.today() - timedelta(days=366),
            "id": process,
        },
    )
    assert purge(connection, settings).removed["participants"] == {"rows": 2}
    assert purge(connection, settings).removed["participants"] == {"rows": 0}
