"""Adopting public space on PostGIS: the offer form, planners' decisions with events, the public
map layer (group name and dates, no address), and the GeoPackage/CSV export read back."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import text

from tests.adoption_fixtures import GREEN_ID, GREEN_LAYER, TREE_ID, TREE_LAYER, make_green
from tests.dialogue_fixtures import csrf_of, log_in_as, make_user
from tests.layers_fixture import PAND_WEESP

CONTACT = "groep.groen@example.nl"


@pytest.fixture
def green(connection):
    make_green(connection)


def offer(client, layer=GREEN_LAYER, feature=GREEN_ID, **values):
    form = {
        "csrf_token": csrf_of(client),
        "layer": layer,
        "feature": feature,
        "group_name": "Groene Vingers Singel",
        "activities": "Onkruid wieden en bloembollen planten",
        "frequency": "maandelijks",
        "email": CONTACT,
    } | values
    return client.post("/adopteren", data=form)


def test_offer_form_stores_the_object_geometry_and_an_event(client, connection, green):
    page = client.get(f"/adopteren?layer={GREEN_LAYER}&feature={GREEN_ID}")
    assert page.status_code == 200 and GREEN_ID in page.get_data(as_text=True)
    assert offer(client).status_code == 200
    row = connection.execute(
        text(
            "SELECT a.id, a.status, a.frequency, GeometryType(a.geom) AS type, m.address, "
            "(SELECT array_agg(action) FROM adoption_event e WHERE e.adoption_id = a.id) AS ev "
            "FROM adoption a JOIN mail_address m ON m.id = a.contact_address_id"
        )
    ).one()
    assert (row.status, row.frequency, row.type, row.address) == (
        "offered",
        "maandelijks",
        "POLYGON",
        CONTACT,
    )
    assert row.ev == ["offered"]
    assert offer(client, TREE_LAYER, TREE_ID).status_code == 200


def test_only_green_trees_and_playgrounds_can_be_adopted(client, connection, green, panden):
    assert client.get(f"/adopteren?layer=bag-panden&feature={PAND_WEESP}").status_code == 404
    assert client.get(f"/adopteren?layer={GREEN_LAYER}&feature=nope").status_code == 404
    for field, value in (("group_name", ""), ("frequency", "elk uur"), ("email", "geen")):
        bad = offer(client, **{field: value})
        assert bad.status_code == 422
        html = bad.get_data(as_text=True)
        assert f'data-field="{field}"' in html and 'aria-invalid="true"' in html
    assert connection.execute(text("SELECT count(*) FROM adoption")).scalar_one() == 0


def _decide(client, csrf, ident, **form):
    return client.post(f"/beheer/adopties/{ident}", data={"csrf_token": csrf} | form)


def test_planner_accepts_and_declines_with_a_response(client, connection, green):
    offer(client)
    offer(client, TREE_LAYER, TREE_ID, group_name="Boomvrienden")
    ids = {
        r.group_name: r.id for r in connection.execute(text("SELECT group_name, id FROM adoption"))
    }
    moderator = make_user(connection, "moderator")
    log_in_as(client, moderator)
    assert client.get("/beheer/adopties").status_code == 403
    planner = make_user(connection, "planner")
    csrf = log_in_as(client, planner)
    listed = client.get("/beheer/adopties").get_data(as_text=True)
    assert "Groene Vingers Singel" in listed and CONTACT not in listed
    green_id, tree_id = ids["Groene Vingers Singel"], ids["Boomvrienden"]
    no_start = _decide(client, csrf, green_id, decision="accepted", response="Fijn!", start_date="")
    assert no_start.status_code == 302
    assert (
        connection.execute(
            text("SELECT status FROM adoption WHERE id = :id"), {"id": green_id}
        ).scalar_one()
        == "offered"
    )
    accepted = _decide(
        client, csrf, green_id, decision="accepted", response="Fijn!", start_date="2027-03-01"
    )
    assert accepted.status_code == 302
    _decide(client, csrf, tree_id, decision="declined", response="Deze boom is te jong.")
    again = _decide(
        client, csrf, tree_id, decision="accepted", response="Toch", start_date="2027-03-01"
    )
    assert again.status_code == 302  # refused with a message: it was decided already
    rows = connection.execute(
        text(
            "SELECT a.group_name, a.status, a.decided_by, "
            "(SELECT array_agg(e.action ORDER BY e.id) FROM adoption_event e "
            "WHERE e.adoption_id = a.id) AS ev FROM adoption a ORDER BY a.group_name"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("Boomvrienden", "declined", planner, ["offered", "declined"]),
        ("Groene Vingers Singel", "accepted", planner, ["offered", "accepted"]),
    ]
    told = connection.execute(
        text("SELECT to_address, body_text FROM outbox WHERE kind = 'adoption_decided'")
    ).all()
    assert [t.to_address for t in told] == [CONTACT, CONTACT]
    assert any("Deze boom is te jong." in t.body_text for t in told)
    public = client.get("/api/v1/adoptions").get_json()
    names = {f["properties"]["group_name"]: f["properties"] for f in public["features"]}
    assert "Groene Vingers Singel" in names and "Boomvrienden" not in names
    props = names["Groene Vingers Singel"]
    assert props["start_date"] == "2027-03-01" and props["feature_id"] == GREEN_ID
    assert CONTACT not in client.get("/api/v1/adoptions").get_data(as_text=True)


def test_export_of_accepted_adoptions_reads_back(client, connection, green):
    offer(client)
    ident = connection.execute(text("SELECT id FROM adoption")).scalar_one()
    csrf = log_in_as(client, make_user(connection, "planner"))
    _decide(
        client,
        csrf,
        ident,
        decision="accepted",
        response="Akkoord",
        start_date="2027-03-01",
        end_date="2028-03-01",
    )
    r = client.get("/beheer/adopties/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(x["layer"], x["feature_id"], x["group_name"]) for x in rows] == [
        (GREEN_LAYER, GREEN_ID, "Groene Vingers Singel")
    ]
    assert rows[0]["wkt"].startswith("POLYGON") and CONTACT not in r.get_data(as_text=True)
    gpkg = client.get("/beheer/adopties/export.gpkg")
    assert gpkg.status_code == 200
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "adopties.gpkg"
        path.write_bytes(gpkg.data)
        assert [name for name, _t in pyogrio.list_layers(path)] == ["adopties"]
        frame = pyogrio.read_dataframe(path, layer="adopties")
    assert list(frame["feature_id"]) == [GREEN_ID] and list(frame["layer"]) == [GREEN_LAYER]
    assert frame.crs.to_epsg() == 4326 and frame.geometry.iloc[0].geom_type == "Polygon"
    assert list(frame["end_date"]) == ["2028-03-01"]
    audit = connection.execute(
        text("SELECT count(*) FROM audit_event WHERE action = 'export.downloaded'")
    ).scalar_one()
    assert audit == 2
