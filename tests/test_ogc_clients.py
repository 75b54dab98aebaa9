"""Real OGC API – Features clients against the running app on PostGIS: GDAL's OAPIF driver
(ogrinfo / ogr2ogr from Debian gdal-bin) and OWSLib's Features client."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import requests
from pyproj import Transformer
from sqlalchemy import Engine, text

from geodata.load import load_layer
from tests.layers_fixture import PAND_WEESP, WEESP_BAG
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, cell_centre, feature, point

EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_28992 = "http://www.opengis.net/def/crs/EPSG/0/28992"
TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)


def gdal(*args: str) -> str:
    if not shutil.which(args[0]):
        pytest.fail(f"{args[0]} not found: scripts/system-packages test installs gdal-bin")
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def bag_panden(engine: Engine) -> Iterator[str]:
    """Weesp Centrum's BAG panden, committed so the live server sees them; dropped afterwards."""
    load_layer(engine, "bag-panden", path=WEESP_BAG, layer="pand", progress=lambda _m: None)
    yield "bag-panden"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE open_data.bag_panden"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))


@pytest.fixture
def two_contributions(live_server: str, clean_db) -> list[str]:
    ids = []
    for lonlat, category in ((HET_GROTE_PLEIN, "knelpunt"), (OUDE_CONVENT, "groen")):
        r = requests.post(
            f"{live_server}/api/v1/contributions",
            json=feature(point(lonlat), category=category, title=f"{category} in Weesp"),
            timeout=10,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def read(url: str, layer: str) -> list[dict]:
    """All features of an OAPIF layer, through ogr2ogr, as GDAL read them."""
    out = gdal("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", f"OAPIF:{url}", layer)
    return json.loads(out)["features"]


def test_gdal_lists_the_collections(live_server, bag_panden, two_contributions):
    out = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc")
    assert ": contributions (title: Bijdragen)" in out
    assert ": bag-panden (title: Panden (BAG)) (Multi Polygon)" in out


def test_gdal_reads_contributions_in_crs84_and_epsg_4326(live_server, two_contributions):
    features = read(f"{live_server}/ogc", "contributions")
    by_title = {f["properties"]["title"]: f for f in features}
    assert set(by_title) == {"knelpunt in Weesp", "groen in Weesp"}
    # Both lie near homes: published as the centres of their 50 m cells (location privacy).
    lon, lat = by_title["knelpunt in Weesp"]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(cell_centre(HET_GROTE_PLEIN), abs=1e-6)
    assert "edit_token" not in json.dumps(features)
    # EPSG:4326 as the standard defines it: latitude first.
    url = f"{live_server}/ogc/collections/contributions?crs={EPSG_4326}"
    first, second = read(url, "contributions")[0]["geometry"]["coordinates"]
    assert (second, first) in (
        pytest.approx(cell_centre(HET_GROTE_PLEIN), abs=1e-6),
        pytest.approx(cell_centre(OUDE_CONVENT), abs=1e-6),
    )


def test_gdal_reads_a_layer_in_epsg_28992(live_server, bag_panden):
    out = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc", "bag-panden")
    assert "Feature Count: 1271" in out
    url = f"{live_server}/ogc/collections/bag-panden?crs={EPSG_28992}"
    features = read(url, "bag-panden")
    assert len(features) == 1271
    pand = next(f for f in features if f["properties"]["id"] == PAND_WEESP)
    x, y = pand["geometry"]["coordinates"][0][0][0]
    assert 130_000 < x < 133_000 and 478_000 < y < 481_000  # RD New metres, Weesp
    crs84 = requests.get(
        f"{live_server}/ogc/collections/bag-panden/items/{PAND_WEESP}", timeout=10
    ).json()
    lon, lat = crs84["geometry"]["coordinates"][0][0][0]
    assert (x, y) == pytest.approx(TO_RD.transform(lon, lat), abs=0.01)


def test_gdal_bbox_filter_reaches_the_server(live_server, bag_panden):
    out = gdal(
        "ogrinfo", "-ro", "-q", "-spat", "5.0420", "52.3060", "5.0430", "52.3066",
        f"OAPIF:{live_server}/ogc", "bag-panden",
    )  # fmt: skip
    count = out.count("OGRFeature(bag-panden)")
    assert 0 < count < 100


def test_owslib_reads_landing_collections_and_items(live_server, bag_panden, two_contributions):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/ogc", timeout=30)
    assert any(link["rel"] == "service-desc" for link in api.links)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
        in (api.conformance()["conformsTo"])
    )
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"contributions", "bag-panden"} <= set(ids)
    assert api.collection("bag-panden")["storageCrs"] == EPSG_28992
    items = api.collection_items("bag-panden", bbox=[5.040, 52.305, 5.045, 52.308], limit=5)
    assert items["numberReturned"] == 5
    assert any(link["rel"] == "next" for link in items["links"])
    mine = api.collection_items("contributions", category="knelpunt")
    assert [f["id"] for f in mine["features"]] == two_contributions[:1]
    one = api.collection_item("contributions", two_contributions[1])
    assert one["properties"]["category"] == "groen"


def test_schemathesis_over_the_ogc_definition(live_server, bag_panden, two_contributions):
    """The /ogc OpenAPI 3.0 definition describes what the server answers (bounded examples)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    schema = schemathesis.from_uri(f"{live_server}/ogc/api", base_url=f"{live_server}/ogc")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(timeout=60)
            response.encoding = "utf-8"  # RFC 8259; see tests/test_openapi.py
            case.validate_response(response)

        check()
        checked.append(operation.verbose_name)
    assert "GET /ogc/collections/{collectionId}/items" in checked


@pytest.mark.browser
def test_html_items_page_shows_the_features_on_a_map(page, live_server, bag_panden):
    outside: list[str] = []
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith(live_server) else None,
    )
    page.goto(
        f"{live_server}/ogc/collections/bag-panden/items?f=html&limit=20"
        "&bbox=5.040,52.305,5.045,52.308"
    )
    page.wait_for_selector('#ogc-map[data-features="20"]')
    assert page.locator(".ogc__table").count() == 20
    assert page.locator("#ogc-map path.leaflet-interactive").count() == 20
    # Coordinates in RD New are not drawn on a longitude/latitude map; the table remains.
    page.goto(
        f"{live_server}/ogc/collections/bag-panden/items/{PAND_WEESP}?f=html&crs={EPSG_28992}"
    )
    assert page.locator("#ogc-map").count() == 0
    assert page.locator(".ogc__table").count() == 1
    assert outside == []
