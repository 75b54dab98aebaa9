"""The contribution API on PostGIS: create, read, list and page, change and withdraw."""

from __future__ import annotations

import uuid

import pytest
from pyproj import Transformer
from shapely.geometry import Polygon
from sqlalchemy import text

from tests.places import (
    DAM_AMSTERDAM,
    NIEUWSTRAAT,
    OUDE_CONVENT,
    SINGEL_GRASVELD,
    SMAL_WEESP,
    VAALSERBERG,
    feature,
    line,
    point,
    polygon,
)

API = "/api/v1/contributions"


def post(client, body, **kwargs):
    return client.post(API, json=body, **kwargs)


def rd_area(ring) -> float:
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    return Polygon([to_rd.transform(x, y) for x, y in ring]).area


def test_create_point_returns_feature_location_and_token_once(client, connection):
    r = post(client, feature(point(), category="speelplek", title="Schommel", description="Graag"))
    assert r.status_code == 201
    assert r.mimetype == "application/geo+json"
    body = r.get_json()
    ident = uuid.UUID(body["id"])
    assert r.headers["Location"] == f"{API}/{ident}"
    assert r.headers["Cache-Control"] == "no-store"
    assert body["geometry"] == point()
    props = body["properties"]
    assert props["category"] == "speelplek" and props["title"] == "Schommel"
    assert props["status"] == "ontvangen"
    assert props["buurt_code"] == "BU0363SD03" and props["buurt_name"] == "Weesp Centrum"
    assert props["wijk_code"] == "WK0363SD" and props["gemeente_code"] == "GM0363"
    assert props["area_m2"] is None and props["length_m"] is None
    token = body["edit_token"]
    assert len(token) >= 40
    assert body["edit_url"] == f"/bijdragen/{ident}/bewerken#token={token}"
    # Only the hash is stored, and later reads never show the token.
    stored = connection.execute(
        text("SELECT edit_token_hash, ST_SRID(geom) FROM contribution WHERE id = :id"),
        {"id": ident},
    ).one()
    assert token.encode() not in bytes(stored[0]) and stored[1] == 4326
    again = client.get(f"{API}/{ident}")
    assert again.status_code == 200 and "edit_token" not in again.get_json()
    assert token not in again.get_data(as_text=True)


def test_polygon_area_and_line_length_are_measured_in_rd_new(client):
    area = post(client, feature(polygon(), category="groen")).get_json()["properties"]
    assert area["area_m2"] == pytest.approx(rd_area(SINGEL_GRASVELD), rel=1e-3)
    assert area["length_m"] is None
    length = post(client, feature(line(), category="knelpunt")).get_json()["properties"]
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    from shapely.geometry import LineString

    expected = LineString([to_rd.transform(x, y) for x, y in NIEUWSTRAAT]).length
    assert length["length_m"] == pytest.approx(expected, rel=1e-3)


def test_multi_geometries_are_accepted(client):
    multi = {"type": "MultiPoint", "coordinates": [list(OUDE_CONVENT), [5.0424, 52.3066]]}
    r = post(client, feature(multi))
    assert r.status_code == 201
    assert r.get_json()["geometry"]["type"] == "MultiPoint"


def test_buurt_codes_follow_the_location(client):
    dam = post(client, feature(point(DAM_AMSTERDAM))).get_json()["properties"]
    assert dam["buurt_code"].startswith("BU0363") and dam["buurt_code"] != "BU0363SD03"
    outside = post(client, feature(point(VAALSERBERG))).get_json()["properties"]
    assert outside["buurt_code"] is None and outside["gemeente_code"] is None


def test_altitude_is_accepted_and_dropped(client):
    r = post(client, feature({"type": "Point", "coordinates": [5.04234, 52.30658, 1.5]}))
    assert r.status_code == 201
    assert r.get_json()["geometry"]["coordinates"] == [5.04234, 52.30658]


def test_text_is_stored_as_given(client):
    hostile = "<script>alert('x')</script> & \"quotes\" \u202e ✓"
    r = post(client, feature(title="  <b>vet</b>  ", description=hostile))
    props = r.get_json()["properties"]
    assert props["title"] == "<b>vet</b>"  # outer white space of a title is not content
    assert props["description"] == hostile


def test_unknown_and_withdrawn_ids(client):
    assert client.get(f"{API}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{API}/not-a-uuid").status_code == 404
    r = client.get(f"{API}/not-a-uuid")
    assert r.mimetype == "application/problem+json"


# -- Listing --------------------------------------------------------------------------------


def _seed(client, n, **props):
    ids = []
    for i in range(n):
        lon = 5.0380 + i * 0.0001
        body = feature(point((lon, 52.3066)), title=f"Bijdrage {i}", **props)
        ids.append(post(client, body).get_json()["id"])
    return ids


def test_list_filters_by_bbox_and_category(client):
    _seed(client, 3, category="groen")
    _seed(client, 2, category="knelpunt")
    post(client, feature(point(VAALSERBERG), category="groen"))
    weesp = "5.03,52.30,5.05,52.31"
    r = client.get(f"{API}?bbox={weesp}")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    body = r.get_json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 5
    r = client.get(f"{API}?bbox={weesp}&category=knelpunt")
    assert {f["properties"]["category"] for f in r.get_json()["features"]} == {"knelpunt"}
    assert r.get_json()["numberReturned"] == 2
    r = client.get(f"{API}?bbox={weesp}&category=knelpunt,groen")
    assert r.get_json()["numberReturned"] == 5
    assert client.get(f"{API}?category=groen").get_json()["numberReturned"] == 4


def test_paging_follows_next_links_without_gaps_or_repeats(client):
    ids = set(_seed(client, 7))
    seen: list[str] = []
    url = f"{API}?bbox=5.03,52.30,5.05,52.31&limit=3"
    pages = 0
    while url:
        r = client.get(url)
        body = r.get_json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if nxt:
            assert r.headers["Link"] == f'<{nxt[0]}>; rel="next"'
        url = nxt[0] if nxt else None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == ids


def test_limits_are_bounded(client, app):
    settings = app.config["KAART"]
    assert client.get(f"{API}?limit={settings.page_max}").status_code == 200
    for bad in (0, -1, settings.page_max + 1, "abc", "1e9"):
        r = client.get(f"{API}?limit={bad}")
        assert r.status_code == 400, bad
        assert r.get_json()["errors"][0]["field"] == "limit"


def test_default_page_size_applies(client, app):
    _seed(client, 3)
    small = app.config["KAART"].replace(page_default=2)
    app.config["KAART"] = small
    body = client.get(API).get_json()
    assert body["numberReturned"] == 2
    assert any(link["rel"] == "next" for link in body["links"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=5,52,4,53", "bbox"),
        ("bbox=nan,52,5,53", "bbox"),
        ("bbox=5,52,inf,53", "bbox"),
        ("category=bomen", "category"),
        ("cursor=!!!", "cursor"),
        ("cursor=Zm9vfGJhcg", "cursor"),
        ("near=5.04", "near"),
        ("near=500,52", "near"),
        ("near=5.04,52.3&radius=5000", "radius"),
    ],
)
def test_bad_list_parameters_are_400_problems(client, query, field):
    r = client.get(f"{API}?{query}")
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["field"] == field


def test_near_lists_what_lies_within_the_radius_nearest_first(client, weesp_homes):
    # On the water of the Smal Weesp, more than 15 m from any home: published exactly.
    near = post(client, feature(point((5.04190, 52.30649)), title="Vlakbij")).get_json()["id"]
    post(client, feature(point((5.04146, 52.30671)), title="45 m verder"))
    post(client, feature(point(OUDE_CONVENT), title="Te ver"))
    r = client.get(f"{API}?near={SMAL_WEESP[0]},{SMAL_WEESP[1]}&radius=50")
    titles = [f["properties"]["title"] for f in r.get_json()["features"]]
    assert titles == ["Vlakbij", "45 m verder"]
    assert r.get_json()["features"][0]["id"] == near


# -- Change and withdraw with the edit token --------------------------------------------------


@pytest.fixture
def created(client):
    body = post(client, feature(polygon(), category="groen", title="Pluktuin")).get_json()
    return body["id"], body["edit_token"]


def test_patch_with_token_changes_text_and_geometry(client, created, connection):
    ident, token = created
    before = client.get(f"{API}/{ident}").get_json()["properties"]
    r = client.patch(
        f"{API}/{ident}",
        json={"type": "Feature", "properties": {"title": "Pluktuin aan het Singel"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    props = r.get_json()["properties"]
    assert props["title"] == "Pluktuin aan het Singel" and props["category"] == "groen"
    assert props["updated_at"] >= before["updated_at"]
    r = client.patch(
        f"{API}/{ident}",
        json={"type": "Feature", "geometry": point(DAM_AMSTERDAM), "properties": None},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    props = r.get_json()["properties"]
    assert props["area_m2"] is None and props["buurt_code"] != "BU0363SD03"


def test_patch_accepts_the_feature_as_returned(client, created):
    ident, token = created
    got = client.get(f"{API}/{ident}").get_json()
    got["properties"]["description"] = "Met fruitstruiken"
    r = client.patch(f"{API}/{ident}", json=got, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.get_json()["properties"]["description"] == "Met fruitstruiken"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 403),
        ({"Authorization": "Basic dXNlcjpwdw=="}, 401),
    ],
)
def test_patch_and_delete_need_the_right_token(client, created, headers, status, connection):
    ident, _token = created
    body = {"type": "Feature", "properties": {"title": "Gekaapt"}}
    r = client.patch(f"{API}/{ident}", json=body, headers=headers)
    assert r.status_code == status and r.mimetype == "application/problem+json"
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.delete(f"{API}/{ident}", headers=headers).status_code == status
    assert client.get(f"{API}/{ident}").get_json()["properties"]["title"] == "Pluktuin"


def test_token_of_another_contribution_is_refused(client, created):
    ident, _ = created
    other_token = post(client, feature()).get_json()["edit_token"]
    r = client.delete(f"{API}/{ident}", headers={"Authorization": f"Bearer {other_token}"})
    assert r.status_code == 403


def test_withdraw_hides_it_everywhere_and_keeps_the_record(client, created, connection):
    ident, token = created
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete(f"{API}/{ident}", headers=auth).status_code == 204
    assert client.get(f"{API}/{ident}").status_code == 410
    listed = client.get(f"{API}?bbox=5.03,52.30,5.05,52.31").get_json()["features"]
    assert ident not in [f["id"] for f in listed]
    row = connection.execute(
        text("SELECT status, withdrawn_at IS NOT NULL FROM contribution WHERE id = :id"),
        {"id": ident},
    ).one()
    assert row == ("ingetrokken", True)
    # Withdrawn is final for the edit link.
    assert client.delete(f"{API}/{ident}", headers=auth).status_code == 410
    r = client.patch(
        f"{API}/{ident}", json={"type": "Feature", "properties": {"title": "x"}}, headers=auth
    )
    assert r.status_code == 410


def test_unknown_id_for_patch_and_delete_is_404(client):
    auth = {"Authorization": "Bearer x"}
    assert client.delete(f"{API}/{uuid.uuid4()}", headers=auth).status_code == 404
    body = {"type": "Feature", "properties": {"title": "x"}}
    assert client.patch(f"{API}/{uuid.uuid4()}", json=body, headers=auth).status_code == 404


def test_buurten_endpoint_returns_named_boundaries(client):
    r = client.get("/api/v1/buurten?bbox=5.03,52.30,5.05,52.31")
    assert r.status_code == 200
    names = {f["properties"]["code"]: f["properties"]["name"] for f in r.get_json()["features"]}
    assert names["BU0363SD03"] == "Weesp Centrum"
    assert client.get("/api/v1/buurten?bbox=oops").status_code == 400


def test_a_constraint_the_checks_missed_is_a_422_and_writes_nothing(app, count_rows):
    """Should a writer get past the input checks, the database refuses and the API says why."""
    from shapely.geometry import Polygon as ShapelyPolygon

    from kaart.db import get_session
    from kaart.errors import ApiError
    from kaart.services import contributions as service
    from kaart.services import privacy
    from kaart.services.input import ContributionInput

    bowtie = ShapelyPolygon([(5.042, 52.306), (5.043, 52.3066), (5.043, 52.306), (5.042, 52.3066)])
    data = ContributionInput(category="idee", title="x", description="", geom=bowtie)
    with app.app_context(), pytest.raises(ApiError) as refused:
        service.create(get_session(), data, rule=privacy.Rule())
    assert refused.value.status == 422
    assert refused.value.errors[0].field == "geometry"
    assert count_rows() == 0
