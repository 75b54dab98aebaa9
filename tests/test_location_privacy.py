"""Location privacy: a pin on a front door is published as the centre of its 50 m cell in RD New
in every public output, while its author and planners see it exactly; places away from homes,
long lines and large areas stay as drawn; a new address layer or `kaart privacy refresh` works
the rule out again; without any address layer every small place is generalised.

The homes are the demo's real BAG addresses of Weesp Centrum (tests/layers_fixture.py), made in
the test's transaction."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import text

from kaart.cli import main
from kaart.services import privacy, processes
from tests.dialogue_fixtures import log_in_as, make_user, session_on
from tests.layers_fixture import make_layer, make_weesp_addresses
from tests.places import (
    FRONT_DOOR,
    NIEUWSTRAAT,
    SINGEL_GRASVELD,
    SMAL_WEESP,
    VENUE_DOOR,
    cell_centre,
    feature,
    line,
    point,
    polygon,
)
from tests.test_tiles import decode

API = "/api/v1/contributions"
EPSG_28992 = "http://www.opengis.net/def/crs/EPSG/0/28992"
TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)
# Het Grote Plein 4 lies at RD 131470.5, 479905.6: in the 50 m cell with this centre.
FRONT_DOOR_CELL_RD = (131475.0, 479925.0)


def exact_texts(lonlat) -> list[str]:
    """The exact place as the API writes it (7 decimals): it must not appear in public output."""
    return [f"{lonlat[0]:.7f}".rstrip("0"), f"{lonlat[1]:.7f}".rstrip("0")]


def coordinates(geometry: dict) -> tuple[float, float]:
    assert geometry["type"] == "Point", geometry
    return tuple(geometry["coordinates"])


def page_json(html: str, ident: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{ident}">(.*?)</script>', html, re.S)
    assert found, f"no #{ident} in the page"
    return json.loads(found.group(1))


@pytest.fixture
def homes(weesp_homes) -> str:
    return weesp_homes


@pytest.fixture
def front_door(client, connection, homes) -> dict:
    """A resident's pin exactly on the front door of Het Grote Plein 4, in the demo process."""
    with session_on(connection) as session:
        processes.load_demo(session)
    body = feature(point(FRONT_DOOR), category="speelplek", title="Schommel voor de deur")
    body["properties"]["process"] = processes.DEMO_SLUG
    r = client.post(API, json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


# -- The pin on the front door, through every output --------------------------------------------


def test_a_pin_on_a_front_door_is_the_centre_of_its_cell_in_every_public_output(client, front_door):
    ident = front_door["id"]
    centre = cell_centre(FRONT_DOOR)
    approx = pytest.approx(centre, abs=1e-6)
    bodies = []

    def public(path: str, **kwargs):
        r = client.get(path, **kwargs)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:300])
        if not any(exact in path for exact in exact_texts(FRONT_DOOR)):  # links echo a query
            bodies.append(r.get_data(as_text=True))
        return r

    # The JSON API: one, the list, near and bbox searches.
    one = public(f"{API}/{ident}").get_json()
    assert coordinates(one["geometry"]) == approx
    assert one["properties"]["location"] == "approximate"
    assert one["properties"]["size_class"] is None  # a point has no size
    listed = {f["id"]: f for f in public(API).get_json()["features"]}
    assert coordinates(listed[ident]["geometry"]) == approx
    lon, lat = FRONT_DOOR
    assert ident not in ids(public(f"{API}?near={lon},{lat}&radius=10"))  # 20 m off
    assert ident in ids(public(f"{API}?near={lon},{lat}&radius=50"))
    x, y = TO_RD.transform(*FRONT_DOOR)
    tight = [*TO_WGS84.transform(x - 5, y - 5), *TO_WGS84.transform(x + 5, y + 5)]
    assert ident not in ids(public(f"{API}?bbox={','.join(map(str, tight))}"))
    # /ogc items and item, in CRS84 and in RD New: the cell centre to the millimetre.
    items = "/ogc/collections/contributions/items"
    ogc = {f["id"]: f for f in public(f"{items}?f=json").get_json()["features"]}
    assert coordinates(ogc[ident]["geometry"]) == approx
    rd = public(f"{items}/{ident}?f=json&crs={EPSG_28992}")
    assert coordinates(rd.get_json()["geometry"]) == pytest.approx(FRONT_DOOR_CELL_RD, abs=0.001)
    # The vector tile: the point is drawn at the cell centre.
    r = client.get(tile_path(centre))
    assert r.status_code == 200
    assert drawn_at(r.data, tile_path(centre), ident) == pytest.approx(centre, abs=2e-7)
    # Open311 GET, the list and the one.
    requests = {r["service_request_id"]: r for r in public("/open311/v2/requests.json").get_json()}
    assert (requests[ident]["long"], requests[ident]["lat"]) == approx
    (request,) = public(f"/open311/v2/requests/{ident}.json").get_json()
    assert (request["long"], request["lat"]) == approx
    # The process page's collection and the public contribution page.
    html = public("/trajecten/grote-plein-weesp").get_data(as_text=True)
    (shown,) = page_json(html, "process-contributions")["features"]
    assert coordinates(shown["geometry"]) == approx
    html = public(f"/bijdragen/{ident}").get_data(as_text=True)
    assert coordinates(page_json(html, "kaart-feature")["geometry"]) == approx
    assert "Ongeveer, op ± 50 m" in html
    # The private edit page holds only what the public sees: its script asks for the rest.
    html = public(f"/bijdragen/{ident}/bewerken").get_data(as_text=True)
    assert coordinates(page_json(html, "kaart-feature")["geometry"]) == approx
    for body in bodies:
        for exact in exact_texts(FRONT_DOOR):
            assert exact not in body


def ids(response) -> set[str]:
    return {f["id"] for f in response.get_json()["features"]}


def tile_path(near, z: int = 20) -> str:
    """The contribution tile at zoom `z` holding a place (Web Mercator tile numbers)."""
    n = 2**z
    tx = int((near[0] + 180) / 360 * n)
    ty = int((1 - math.asinh(math.tan(math.radians(near[1]))) / math.pi) / 2 * n)
    return f"/tiles/contributions/{z}/{tx}/{ty}.pbf"


def drawn_at(data: bytes, path: str, ident: str) -> tuple[float, float]:
    """Where the tile at `path` draws the contribution, as (lon, lat)."""
    z, tx, ty = (int(part) for part in path.removesuffix(".pbf").split("/")[-3:])
    (drawn,) = [f for f in decode(data)["contributions"] if f["properties"]["id"] == ident]
    (px, py) = drawn["points"][0]
    n = 2**z
    fx, fy = (tx + px / 4096) / n, (ty + py / 4096) / n
    return fx * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * fy))))


def test_the_reactienota_shows_the_cell_centre(client, front_door):
    """The reactienota's map draws the rows overview.rows gives a public selection."""
    from kaart.services.overview import Filters, rows

    with client.application.app_context():
        from kaart.db import get_session

        process = get_session().execute(text("SELECT id FROM process")).scalar_one()
        (row,) = rows(get_session(), Filters(process=process, public_only=True), extra=("wkb",))
    assert (Point(shape_of(row.wkb)).x, Point(shape_of(row.wkb)).y) == pytest.approx(
        cell_centre(FRONT_DOOR), abs=1e-6
    )
    assert (float(row.lon), float(row.lat)) == pytest.approx(cell_centre(FRONT_DOOR), abs=1e-6)
    assert row.location == "approximate"


def shape_of(wkb) -> Point:
    import shapely

    return shapely.from_wkb(bytes(wkb))


def test_the_author_and_planners_see_it_exactly_moderators_do_not(client, connection, front_door):
    ident, token = front_door["id"], front_door["edit_token"]
    exact = pytest.approx(FRONT_DOOR, abs=1e-7)
    centre = pytest.approx(cell_centre(FRONT_DOOR), abs=1e-6)
    # What the author was sent back, and the private view through the edit token.
    assert coordinates(front_door["geometry"]) == exact
    private = client.get(f"{API}/{ident}/private", headers={"Authorization": f"Bearer {token}"})
    assert private.status_code == 200
    assert coordinates(private.get_json()["geometry"]) == exact
    assert private.get_json()["public_location"] == "approximate"
    assert client.get(f"{API}/{ident}/private").status_code == 401
    # Staff: planners and admins exactly, moderators as the public map shows it.
    for role, wanted in (("planner", exact), ("admin", exact), ("moderator", centre)):
        log_in_as(client, make_user(connection, role, f"{role}@weesp.example"))
        html = client.get(f"/beheer/bijdragen/{ident}").get_data(as_text=True)
        assert coordinates(page_json(html, "kaart-feature")["geometry"]) == wanted, role
        exported = json.loads(client.get("/beheer/export.geojson").data)
        (feature_,) = exported["features"]
        assert coordinates(feature_["geometry"]) == wanted, role
        assert feature_["properties"]["location"] == ("exact" if wanted is exact else "approximate")
        exported = client.get("/beheer/export.csv").data.decode("utf-8-sig")
        (row,) = csv.DictReader(io.StringIO(exported))
        assert (float(row["lon"]), float(row["lat"])) == wanted, role


def test_a_linked_home_is_not_published_when_the_place_is_approximate(client, connection, homes):
    # Linking the pin to the home's own address would give away what the cell centre hides.
    address = connection.execute(
        text(
            f"SELECT a.feature_id FROM open_data.{homes} a "
            "ORDER BY a.geom <-> ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 28992) "
            "LIMIT 1"
        ),
        {"x": FRONT_DOOR[0], "y": FRONT_DOOR[1]},
    ).scalar_one()
    body = feature(point(FRONT_DOOR), title="Losse stoeptegel")
    body["properties"]["object"] = {"layer": "bag-adressen", "id": address}
    created = client.post(API, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    ident, token = created.get_json()["id"], created.get_json()["edit_token"]
    assert created.get_json()["properties"]["object"]["id"] == address  # its author sees it
    public = client.get(f"{API}/{ident}").get_json()["properties"]
    assert (public["location"], public["object"]) == ("approximate", None)
    listed = client.get(f"{API}?limit=1000").get_json()["features"]
    assert [f["properties"]["object"] for f in listed if f["id"] == ident] == [None]
    ogc = client.get(f"/ogc/collections/contributions/items/{ident}?f=json").get_data(as_text=True)
    assert address not in ogc
    # An area says no more than the cell does: a link to the buurt stays.
    buurt = connection.execute(
        text("SELECT feature_id FROM open_data.amsterdam_buurten ORDER BY feature_id LIMIT 1")
    ).scalar_one()
    patched = client.patch(
        f"{API}/{ident}",
        json={
            "type": "Feature",
            "properties": {"object": {"layer": "amsterdam-buurten", "id": buurt}},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    public = client.get(f"{API}/{ident}").get_json()["properties"]
    assert (public["location"], public["object"]["id"]) == ("approximate", buurt)


# -- The rule -----------------------------------------------------------------------------------


def test_places_away_from_homes_stay_exact(client, homes):
    for where in (SMAL_WEESP, VENUE_DOOR):  # the water; the door of a building without homes
        created = client.post(API, json=feature(point(where))).get_json()
        public = client.get(f"{API}/{created['id']}").get_json()
        assert coordinates(public["geometry"]) == pytest.approx(where, abs=1e-7)
        assert public["properties"]["location"] == "exact"


def test_short_lines_and_small_areas_near_homes_become_a_point_with_a_size_class(client, homes):
    x, y = TO_RD.transform(*FRONT_DOOR)
    short = [(x, y), (x + 12, y)]  # 12 m from the door along the street
    square = [(x, y), (x + 20, y), (x + 20, y + 20), (x, y + 20), (x, y)]  # 400 m²
    cases = [
        (LineString(short), line([TO_WGS84.transform(*p) for p in short]), "10–25 m"),
        (Polygon(square), polygon([TO_WGS84.transform(*p) for p in square]), "100–500 m²"),
    ]
    for drawn_rd, geometry, size_class in cases:
        created = client.post(API, json=feature(geometry)).get_json()
        public = client.get(f"{API}/{created['id']}").get_json()
        props = public["properties"]
        assert public["geometry"]["type"] == "Point"
        assert (props["location"], props["size_class"]) == ("approximate", size_class)
        assert props["length_m"] is None and props["area_m2"] is None
        assert created["properties"]["length_m"] or created["properties"]["area_m2"]  # its author
        # In RD New: the centre of a 50 m cell that the shape lies in.
        cx, cy = coordinates(in_rd(client, created["id"])["geometry"])
        assert (cx % 50, cy % 50) == pytest.approx((25, 25), abs=0.001)
        assert drawn_rd.intersects(box(cx - 25, cy - 25, cx + 25, cy + 25))


def in_rd(client, ident: str) -> dict:
    r = client.get(f"/ogc/collections/contributions/items/{ident}?f=json&crs={EPSG_28992}")
    assert r.status_code == 200
    return r.get_json()


def test_long_lines_and_large_areas_are_published_as_drawn(client, homes):
    for geometry in (line(NIEUWSTRAAT), polygon(SINGEL_GRASVELD)):  # 125 m; 1,594 m²
        created = client.post(API, json=feature(geometry)).get_json()
        public = client.get(f"{API}/{created['id']}").get_json()
        assert public["geometry"] == created["geometry"]
        assert public["properties"]["location"] == "exact"
        assert public["properties"]["size_class"] is None


def test_only_homes_count_and_an_address_of_unknown_use_might_be_one(client, connection):
    x, y = 131600.0, 479800.0  # an empty spot of RD New in Weesp for made-up addresses
    rows = [
        {"feature_id": "winkel", "geom": Point(x, y), "usage": "winkelfunctie"},
        {"feature_id": "woning", "geom": Point(x + 100, y), "usage": "winkelfunctie,woonfunctie"},
        {"feature_id": "onbekend", "geom": Point(x + 200, y), "usage": None},
    ]
    make_layer(
        connection, "adressen", rows, columns={"usage": "text"}, family="point", kind="address"
    )
    expected = {0: "exact", 100: "approximate", 200: "approximate"}
    for dx, location in expected.items():
        where = TO_WGS84.transform(x + dx + 10, y)  # 10 m from each address
        created = client.post(API, json=feature(point(where))).get_json()
        assert client.get(f"{API}/{created['id']}").get_json()["properties"]["location"] == location


def test_without_an_address_layer_every_point_is_generalised(client):
    created = client.post(API, json=feature(point(SMAL_WEESP))).get_json()
    public = client.get(f"{API}/{created['id']}").get_json()
    assert public["properties"]["location"] == "approximate"
    assert coordinates(public["geometry"]) == pytest.approx(cell_centre(SMAL_WEESP), abs=1e-6)
    long_line = client.post(API, json=feature(line(NIEUWSTRAAT))).get_json()
    assert client.get(f"{API}/{long_line['id']}").get_json()["properties"]["location"] == "exact"


def test_every_home_in_a_cell_gives_the_same_point_however_often_asked(client, homes):
    x, y = TO_RD.transform(*FRONT_DOOR)
    other = TO_WGS84.transform(x + 3, y + 2)  # the same home's window, same cell
    first = client.post(API, json=feature(point(FRONT_DOOR))).get_json()["id"]
    second = client.post(API, json=feature(point(other))).get_json()["id"]
    answers = {
        tuple(client.get(f"{API}/{i}").get_json()["geometry"]["coordinates"])
        for i in (first, second, first, second)
    }
    assert len(answers) == 1


def test_the_cell_size_is_a_setting(settings, connection, homes):
    from kaart import create_app

    app = create_app({"settings": settings.replace(privacy_cell_m=100.0), "db_bind": connection})
    client = app.test_client()
    created = client.post(API, json=feature(point(FRONT_DOOR))).get_json()
    rd = in_rd(client, created["id"])
    x, y = rd["geometry"]["coordinates"]
    assert (x % 100, y % 100) == pytest.approx((50, 50), abs=0.001)
    check = client.get(f"/api/v1/location-check?lon={FRONT_DOOR[0]}&lat={FRONT_DOOR[1]}")
    assert check.get_json() == {"approximate": True, "cell_m": 100, "distance_m": 15}


def test_moving_the_pin_away_from_the_home_publishes_it_exactly(client, homes):
    created = client.post(API, json=feature(point(FRONT_DOOR))).get_json()
    headers = {"Authorization": f"Bearer {created['edit_token']}"}
    moved = client.patch(
        f"{API}/{created['id']}",
        json={"type": "Feature", "geometry": point(SMAL_WEESP)},
        headers=headers,
    )
    assert moved.status_code == 200
    public = client.get(f"{API}/{created['id']}").get_json()
    assert coordinates(public["geometry"]) == pytest.approx(SMAL_WEESP, abs=1e-7)
    back = {"type": "Feature", "geometry": point(FRONT_DOOR)}
    assert client.patch(f"{API}/{created['id']}", json=back, headers=headers).status_code == 200
    public = client.get(f"{API}/{created['id']}").get_json()
    assert coordinates(public["geometry"]) == pytest.approx(cell_centre(FRONT_DOOR), abs=1e-6)


def test_open311_does_not_publish_the_address_it_was_given(client, homes):
    form = {
        "service_code": "knelpunt",
        "address_string": "Het Grote Plein 4, Weesp",
        "description": "Losse stoeptegel voor de deur.",
    }
    r = client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 201, r.get_data(as_text=True)
    ident = r.get_json()[0]["service_request_id"]
    (request,) = client.get(f"/open311/v2/requests/{ident}.json").get_json()
    assert "Grote Plein 4" not in json.dumps(request)
    assert request["address"] == "Weesp Centrum"  # the buurt instead
    assert (request["long"], request["lat"]) == pytest.approx(cell_centre(FRONT_DOOR), abs=1e-6)


# -- Told while placing -------------------------------------------------------------------------


def test_the_location_check_says_whether_a_point_is_shown_approximately(client, homes):
    check = "/api/v1/location-check"
    near = client.get(f"{check}?lon={FRONT_DOOR[0]}&lat={FRONT_DOOR[1]}")
    assert near.status_code == 200
    assert near.get_json() == {"approximate": True, "cell_m": 50, "distance_m": 15}
    away = client.get(f"{check}?lon={SMAL_WEESP[0]}&lat={SMAL_WEESP[1]}").get_json()
    assert away["approximate"] is False
    missing = client.get(f"{check}?lon=5.04")
    assert missing.status_code == 400 and missing.mimetype == "application/problem+json"
    assert missing.get_json()["errors"][0]["field"] == "lat"
    outside = client.get(f"{check}?lon=2.5&lat=52.5")
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["code"] == "outside_area"


def test_the_location_check_tells_lines_and_areas_too(client, homes):
    check = "/api/v1/location-check"
    x, y = TO_RD.transform(*FRONT_DOOR)
    short = [TO_WGS84.transform(*p) for p in ((x, y), (x + 12, y))]  # 12 m along the street

    def ask(geometry) -> dict:
        r = client.get(check, query_string={"geometry": json.dumps(geometry)})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    assert ask(line(short))["approximate"] is True
    assert ask(line(NIEUWSTRAAT))["approximate"] is False  # 125 m: published as drawn
    assert ask(polygon(SINGEL_GRASVELD))["approximate"] is False  # 1,594 m²
    assert ask(point(FRONT_DOOR))["approximate"] is True
    broken = client.get(check, query_string={"geometry": '{"type": "LineString"'})
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    assert broken.get_json()["errors"][0]["field"] == "geometry"
    one_vertex = client.get(
        check, query_string={"geometry": json.dumps(line([FRONT_DOOR]))}
    ).get_json()
    assert one_vertex["status"] == 422 and one_vertex["errors"][0]["field"].startswith("geometry")


# -- Working it out again -----------------------------------------------------------------------


def test_refresh_after_loading_addresses_makes_places_away_from_homes_exact(client, connection):
    door = client.post(API, json=feature(point(FRONT_DOOR))).get_json()["id"]
    water = client.post(API, json=feature(point(SMAL_WEESP))).get_json()["id"]

    def locations() -> dict[str, str]:
        return {
            i: client.get(f"{API}/{i}").get_json()["properties"]["location"] for i in (door, water)
        }

    assert locations() == {door: "approximate", water: "approximate"}  # no addresses yet
    make_weesp_addresses(connection)
    assert privacy.refresh(connection, privacy.Rule()) == 1
    assert locations() == {door: "approximate", water: "exact"}
    assert privacy.refresh(connection, privacy.Rule()) == 0  # nothing left to change


def test_loading_an_address_layer_and_the_refresh_command(engine, clean_db, monkeypatch, settings):
    """`kaart layers load bag-adressen` works the rule out again in the load's transaction, and
    `kaart privacy refresh` after a change of settings."""
    from tests.layers_fixture import WEESP_BAG

    monkeypatch.setenv("KAART_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KAART_SECRET_KEY", "a-test-secret-of-at-least-32-bytes-long!")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contribution (category, title, geom, public_geom, "
                "location_generalised, edit_token_hash) VALUES ('idee', 'Op het water', "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
                "ST_SetSRID(ST_MakePoint(5, 52), 4326), true, decode(repeat('00', 32), 'hex'))"
            ),
            {"lon": SMAL_WEESP[0], "lat": SMAL_WEESP[1]},
        )
    runner = CliRunner()
    try:
        loaded = runner.invoke(
            main,
            [
                "layers",
                "load",
                "bag-adressen",
                "--file",
                str(WEESP_BAG),
                "--layer",
                "verblijfsobject",
            ],
        )
        assert loaded.exit_code == 0, loaded.output
        with engine.connect() as conn:  # the loader keeps each address's use: homes are known
            assert conn.execute(
                text("SELECT 'usage' = ANY(columns) FROM layer WHERE name = 'bag-adressen'")
            ).scalar_one()
        assert "privacy: 1 contribution now shown elsewhere on the public map" in loaded.output
        assert public_place(engine) == (pytest.approx(SMAL_WEESP, abs=1e-7), False)
        monkeypatch.setenv("KAART_PRIVACY_DISTANCE_M", "30")  # the water is 25 m from a home
        refreshed = runner.invoke(main, ["privacy", "refresh"])
        assert refreshed.exit_code == 0, refreshed.output
        assert "privacy: 1 contribution now shown" in refreshed.output
        assert public_place(engine) == (pytest.approx(cell_centre(SMAL_WEESP), abs=1e-6), True)
        again = runner.invoke(main, ["privacy", "refresh"])
        assert "privacy: 0 contributions now shown" in again.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS open_data.bag_adressen"))
            conn.execute(text("DELETE FROM layer WHERE name = 'bag-adressen'"))


def public_place(engine):
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_X(public_geom), ST_Y(public_geom), location_generalised "
                "FROM contribution"
            )
        ).one()
    return (row[0], row[1]), row[2]
