"""OGC API – Features under /ogc: landing, conformance, collections, items (bbox, CRS, filters,
keyset paging), item, HTML encoding and the standard's errors. Test client on real PostGIS."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pyproj import Transformer
from sqlalchemy import text

from kaart.crs import CRS84, EPSG_4326, EPSG_28992
from tests.layers_fixture import PAND_WEESP
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, SMAL_WEESP, feature, point

OGC = "/ogc"
WEESP_CENTRUM = "5.030,52.300,5.050,52.312"
TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)


def get(client, path: str, **params):
    r = client.get(path, query_string=params, headers={"Accept": "application/json"})
    return r


def local(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def add(client, lonlat=HET_GROTE_PLEIN, **props) -> str:
    r = client.post("/api/v1/contributions", json=feature(point(lonlat), **props))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_landing_page_links_to_definition_conformance_and_collections(client):
    r = get(client, f"{OGC}/")
    assert r.status_code == 200 and r.mimetype == "application/json"
    rels = {link["rel"]: link for link in r.get_json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert urlsplit(rels["data"]["href"]).path == "/ogc/collections"


def test_conformance_declares_core_geojson_html_oas30_and_crs(client):
    classes = get(client, f"{OGC}/conformance").get_json()["conformsTo"]
    for part in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_are_contributions_and_every_loaded_layer(client, panden):
    body = get(client, f"{OGC}/collections").get_json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert {"contributions", "weesp-panden"} <= set(by_id)
    layer = by_id["weesp-panden"]
    assert layer["storageCrs"] == EPSG_28992
    assert set(layer["crs"]) == {CRS84, EPSG_4326, EPSG_28992}
    west, south, east, north = layer["extent"]["spatial"]["bbox"][0]
    assert 5.02 < west < east < 5.06 and 52.29 < south < north < 52.32
    assert layer["attribution"] == "Test data"
    items = [lk for lk in layer["links"] if lk["rel"] == "items"]
    assert {lk["type"] for lk in items} == {"application/geo+json", "text/html"}


def test_openapi_definition_lists_the_paths_and_collection_ids(client, panden):
    r = get(client, f"{OGC}/api")
    assert r.mimetype == "application/vnd.oai.openapi+json"
    doc = r.get_json()
    assert doc["openapi"].startswith("3.0")
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]
    shared = doc["components"]["parameters"]
    params = [
        shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in items["parameters"]
    ]
    names = {p["name"] for p in params}
    assert shared["limit"]["schema"]["maximum"] == 10_000
    assert {"bbox", "bbox-crs", "crs", "limit", "datetime", "category", "status", "buurt"} <= names
    collection_ids = items["parameters"][0]["schema"]["enum"]
    assert {"contributions", "weesp-panden"} <= set(collection_ids)


def test_items_in_a_bbox_with_limit_and_content_crs(client, panden):
    r = get(client, f"{OGC}/collections/weesp-panden/items", bbox=WEESP_CENTRUM, limit="10")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    body = r.get_json()
    assert body["numberReturned"] == 10 and len(body["features"]) == 10
    assert "numberMatched" not in body  # filtered on a layer: never counted
    lon, lat = body["features"][0]["geometry"]["coordinates"][0][0]
    assert 5.0 < lon < 5.1 and 52.2 < lat < 52.4
    assert {"construction_year", "status", "feature_id"} <= set(body["features"][0]["properties"])


def test_unfiltered_items_report_the_catalogue_count(client, panden):
    body = get(client, f"{OGC}/collections/weesp-panden/items", limit="1").get_json()
    assert body["numberMatched"] == 1271
    assert body["numberReturned"] == 1


def test_limit_default_100_and_capped_at_10000(client, panden):
    assert get(client, f"{OGC}/collections/weesp-panden/items").get_json()["numberReturned"] == 100
    body = get(client, f"{OGC}/collections/weesp-panden/items", limit="20000").get_json()
    assert body["numberReturned"] == 1271


def test_next_and_prev_links_walk_the_whole_layer_without_repeats(client, panden):
    seen: list[str] = []
    pages = []
    url = f"{OGC}/collections/weesp-panden/items?limit=500&bbox={WEESP_CENTRUM}"
    while url:
        body = client.get(url, headers={"Accept": "application/geo+json"}).get_json()
        pages.append(body)
        seen += [f["id"] for f in body["features"]]
        nxt = [lk["href"] for lk in body["links"] if lk["rel"] == "next"]
        url = local(nxt[0]) if nxt else None
    assert len(seen) == len(set(seen)) == 1271
    assert [p["numberReturned"] for p in pages] == [500, 500, 271]
    # Back from the last page: prev gives exactly the page before it.
    prev = next(lk["href"] for lk in pages[2]["links"] if lk["rel"] == "prev")
    back = client.get(local(prev)).get_json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in pages[1]["features"]]
    assert not [lk for lk in pages[0]["links"] if lk["rel"] == "prev"]


def test_epsg_4326_is_latitude_first_and_rd_new_in_metres(client, panden):
    path = f"{OGC}/collections/weesp-panden/items/{PAND_WEESP}"
    crs84 = get(client, path).get_json()["geometry"]["coordinates"][0][0]
    r = get(client, path, crs=EPSG_4326)
    assert r.headers["Content-Crs"] == f"<{EPSG_4326}>"
    lat, lon = r.get_json()["geometry"]["coordinates"][0][0]
    assert (lon, lat) == pytest.approx(crs84, abs=1e-7)
    rd = get(client, path, crs=EPSG_28992)
    assert rd.headers["Content-Crs"] == f"<{EPSG_28992}>"
    x, y = rd.get_json()["geometry"]["coordinates"][0][0]
    assert (x, y) == pytest.approx(TO_RD.transform(*crs84), abs=0.01)
    assert 120_000 < x < 140_000 and 470_000 < y < 490_000


def test_bbox_crs_in_rd_new_and_in_epsg_4326_select_the_same_features(client, panden):
    west, south, east, north = 5.0400, 52.3050, 5.0440, 52.3075
    x1, y1 = TO_RD.transform(west, south)
    x2, y2 = TO_RD.transform(east, north)
    path = f"{OGC}/collections/weesp-panden/items"
    ids = {}
    for name, crs_uri, box in (
        ("crs84", CRS84, f"{west},{south},{east},{north}"),
        ("4326", EPSG_4326, f"{south},{west},{north},{east}"),
        ("rd", EPSG_28992, f"{x1},{y1},{x2},{y2}"),
    ):
        body = get(client, path, bbox=box, **{"bbox-crs": crs_uri}, limit="10000").get_json()
        ids[name] = {f["id"] for f in body["features"]}
    assert ids["crs84"] == ids["4326"]
    assert len(ids["crs84"]) > 20
    # The RD box is the transformed corners only; it differs from the densified box at the edges.
    assert len(ids["rd"] ^ ids["crs84"]) < len(ids["crs84"]) * 0.1


def test_property_filter_on_a_typed_column(client, panden):
    body = get(
        client, f"{OGC}/collections/weesp-panden/items", construction_year="1890", limit="10000"
    ).get_json()
    assert body["features"]
    assert {f["properties"]["construction_year"] for f in body["features"]} == {1890}


def test_contributions_are_public_only_without_tokens(client):
    kept = add(client, title="Bankje", category="idee")
    gone = add(client, OUDE_CONVENT, title="Ingetrokken", category="knelpunt")
    token = client.post("/api/v1/contributions", json=feature()).get_json()  # a third one
    assert token["edit_token"]
    r = client.get(f"/api/v1/contributions/{gone}")
    assert r.status_code == 200
    body = get(client, f"{OGC}/collections/contributions/items").get_json()
    ids = {f["id"] for f in body["features"]}
    assert kept in ids
    text = get(client, f"{OGC}/collections/contributions/items").get_data(as_text=True)
    assert "edit_token" not in text and "edit_url" not in text
    assert body["numberMatched"] == len(ids)


def test_withdrawn_contribution_is_not_an_item(client):
    r = client.post("/api/v1/contributions", json=feature(title="Weg ermee"))
    created = r.get_json()
    client.delete(
        f"/api/v1/contributions/{created['id']}",
        headers={"Authorization": f"Bearer {created['edit_token']}"},
    )
    listed = get(client, f"{OGC}/collections/contributions/items").get_json()
    assert created["id"] not in {f["id"] for f in listed["features"]}
    one = get(client, f"{OGC}/collections/contributions/items/{created['id']}")
    assert one.status_code == 404 and one.mimetype == "application/problem+json"


def test_contribution_filters_datetime_and_crs(client, weesp_homes):
    groen = add(client, SMAL_WEESP, category="groen", title="Boom erbij")  # away from homes
    idee = add(client, OUDE_CONVENT, category="idee", title="Bankje")
    path = f"{OGC}/collections/contributions/items"
    only_groen = get(client, path, category="groen").get_json()
    assert [f["id"] for f in only_groen["features"]] == [groen]
    buurt = get(client, path, buurt="BU0363SD03").get_json()
    assert {groen, idee} <= {f["id"] for f in buurt["features"]}
    assert get(client, path, status="ontvangen").get_json()["numberReturned"] == 2
    assert get(client, path, datetime="2000-01-01/2000-12-31").get_json()["features"] == []
    assert get(client, path, datetime="2000-01-01T00:00:00Z/..").get_json()["numberReturned"] == 2
    rd = get(client, f"{path}/{groen}", crs=EPSG_28992).get_json()
    x, y = rd["geometry"]["coordinates"]
    assert (x, y) == pytest.approx(TO_RD.transform(*SMAL_WEESP), abs=0.01)
    lat, lon = get(client, f"{path}/{groen}", crs=EPSG_4326).get_json()["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(SMAL_WEESP, abs=1e-7)
    assert rd["properties"]["buurt_code"] == "BU0363SD03"


def test_contributions_page_newest_first_with_next_and_prev(client, connection):
    ids = [add(client, title=f"Nummer {i}") for i in range(5)]
    # One test transaction gives every row the same now(): spread them a minute apart.
    for i, ident in enumerate(ids):
        connection.execute(
            text(
                "UPDATE contribution SET created_at = now() - make_interval(mins => :m) "
                "WHERE id = :id"
            ),
            {"m": 10 - i, "id": ident},
        )
    path = f"{OGC}/collections/contributions/items?limit=2"
    first = client.get(path).get_json()
    assert [f["id"] for f in first["features"]] == ids[::-1][:2]
    nxt = local(next(lk["href"] for lk in first["links"] if lk["rel"] == "next"))
    second = client.get(nxt).get_json()
    assert [f["id"] for f in second["features"]] == ids[::-1][2:4]
    prev = local(next(lk["href"] for lk in second["links"] if lk["rel"] == "prev"))
    assert [f["id"] for f in client.get(prev).get_json()["features"]] == ids[::-1][:2]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "5.05,52.3,5.03,52.31"}, "bbox"),
        ({"crs": "EPSG:3857"}, "crs"),
        ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "bbox": "1,2,3,4"}, "bbox-crs"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"cursor": "not-ours"}, "cursor"),
        ({"category": "feest"}, "category"),
        ({"colour": "red"}, "colour"),
        ({"f": "xml"}, "f"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, params, field):
    r = get(client, f"{OGC}/collections/contributions/items", **params)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["field"] == field


def test_unknown_collection_and_feature_are_404(client, panden):
    for path in (
        f"{OGC}/collections/nope",
        f"{OGC}/collections/nope/items",
        f"{OGC}/collections/weesp-panden/items/0000000000000000",
        f"{OGC}/collections/contributions/items/not-a-uuid",
    ):
        r = get(client, path)
        assert r.status_code == 404, path
        assert r.mimetype == "application/problem+json"


def test_datetime_on_a_layer_without_time_is_400(client, panden):
    r = get(client, f"{OGC}/collections/weesp-panden/items", datetime="2026-01-01")
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "datetime"


def test_html_encoding_by_f_and_by_accept(client, panden):
    add(client, title="Meer bankjes <script>")
    for path in ("/", "/conformance", "/collections", "/collections/weesp-panden"):
        r = client.get(f"{OGC}{path}?f=html")
        assert r.status_code == 200 and r.mimetype == "text/html", path
    r = client.get(f"{OGC}/collections/contributions/items", headers={"Accept": "text/html"})
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "Meer bankjes &lt;script&gt;" in page and "<script>" not in page.split("</header>")[1]
    one = client.get(f"{OGC}/collections/weesp-panden/items/{PAND_WEESP}?f=html&lang=en")
    assert one.status_code == 200 and "construction_year" in one.get_data(as_text=True)


def test_html_pages_speak_the_page_language(client, panden):
    add(client, title="Bankje bij de brug", category="groen")
    english = client.get(f"{OGC}/collections?f=html&lang=en").get_data(as_text=True)
    assert "Contributions" in english and "Bijdragen" not in english
    assert "Green space" in english and "This document as JSON" in english
    dutch = client.get(f"{OGC}/collections?f=html&lang=nl").get_data(as_text=True)
    assert (
        "Gepubliceerde bijdragen van bewoners" in dutch and "Published contributions" not in dutch
    )
    assert "Dit document als JSON" in dutch and "Open data: " in dutch
    items = client.get(f"{OGC}/collections/contributions/items?f=html&lang=en")
    cells = items.get_data(as_text=True)
    assert "<td>Green space</td>" in cells and "<td>groen</td>" not in cells
    # The JSON stays as programs know it.
    listed = get(client, f"{OGC}/collections/contributions").get_json()
    assert listed["title"] == "Bijdragen"
    assert listed["description"].startswith("Published contributions of residents")


def test_html_errors_for_people_json_errors_for_programs(client):
    assert client.get(f"{OGC}/collections/nope?f=html").mimetype == "text/html"
    assert get(client, f"{OGC}/collections/nope").mimetype == "application/problem+json"
