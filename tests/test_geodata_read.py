"""The geodata readers on the real samples in data/open/ and on tiny made-up fixtures.

No database and no network: the OGC API reader talks to a small HTTP server in this process.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from geodata.batch import concat
from geodata.read import ReadError, read
from geodata.registry import SOURCES, get_source, list_sources
from geodata.source import OPEN_DATA, Source
from geodata.sources import amsterdam_buurten
from geodata.values import bag_id, bag_id_list

FIXTURES = Path(__file__).parent / "fixtures"
PC4 = OPEN_DATA / "pc4" / "cbs_pc4_2024_nl.gpkg"
WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
AMSTERDAM_3DBAG = OPEN_DATA / "amsterdam" / "3dbag_v20250903_9-444-728_sm.city.jsonl"
DELFT_WIPPOLDER = OPEN_DATA / "delft" / "bag_pand_wippolder.gpkg"
DELFT_PLANTCOVER = OPEN_DATA / "delft" / "bgt_begroeidterreindeel.sqlite"
DELFT_BGT_PAND = OPEN_DATA / "delft" / "bgt_pand.sqlite"
DELFT_3DBAG = OPEN_DATA / "delft" / "3dbag_v20240420_delft_small.city.jsonl"
OTTERLO_BGT = OPEN_DATA / "ede" / "bgt_otterlo_2020.gpkg"
LEEUWARDEN_TREES = OPEN_DATA / "leeuwarden" / "monumentale_en_waardevolle_bomen.shp"
DEN_HAAG_2021 = OPEN_DATA / "legacy" / "3dbag_v21_denhaag_sample.city.json"
SPEELPLEKKEN = FIXTURES / "speelplekken_verzonnen.geojson"

# Named places, WGS84 lon/lat.
HET_GROTE_PLEIN = (5.04234, 52.30658)  # Weesp Centrum
WEESP_CENTRUM = "BU0363SD03"

TO_RD = pyproj.Transformer.from_crs(4326, 28992, always_xy=True)


def read_all(name: str, **kwargs):
    reader = read(name, **kwargs)
    batches = list(reader)
    frame = concat(batches).to_geodataframe() if batches else None
    return frame, reader.report


def assert_ours(frame: gpd.GeoDataFrame, source: Source) -> None:
    """The contract every batch keeps: RD New, 2D, our columns, plain JSON-safe values."""
    assert frame.crs.to_epsg() == 28992
    assert not frame.geometry.has_z.any()
    assert frame.geometry.is_valid.all()
    assert list(frame.columns[:1]) == ["feature_id"]
    assert set(source.columns) <= set(frame.columns)
    assert list(frame.columns[-2:]) == ["properties", "geometry"]
    assert all(isinstance(i, str) and i for i in frame["feature_id"])
    records = frame.drop(columns="geometry").to_dict("records")
    json.dumps(records, allow_nan=False)  # no NaN, numpy or timestamps left


def assert_balanced(report) -> None:
    assert report.read == report.yielded + sum(report.dropped.values())


# -- Every sample, with the counts the samples are known to have ------------------------------

SAMPLES = {
    # name: (path, layer, features read, features kept)
    "cbs-pc4": (PC4, None, 4068, 4067),
    "bag-panden": (WEESP_BAG, None, 1271, 1271),
    "bag-adressen": (WEESP_BAG, None, 1415, 1415),
    "bgt-groen": (OTTERLO_BGT, None, 636, 636),
    "bomen": (OTTERLO_BGT, None, 2088, 2088),
    "bomen-leeuwarden": (LEEUWARDEN_TREES, None, 2088, 2088),
    "3dbag": (AMSTERDAM_3DBAG, None, 2, 2),
    "3dbag-dakvlakken": (AMSTERDAM_3DBAG, None, 27, 27),
    "amsterdam-buurten": (amsterdam_buurten.DEMO_FILE, None, 518, 518),
    "speelplekken": (SPEELPLEKKEN, None, 3, 3),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_reads_with_its_count(name):
    path, layer, read_count, kept = SAMPLES[name]
    frame, report = read_all(name, path=path, layer=layer)
    assert (report.read, report.yielded, len(frame)) == (read_count, kept, kept)
    assert_ours(frame, get_source(name))
    assert_balanced(report)


def test_every_registered_source_is_read_somewhere_in_these_tests():
    cbs = {"cbs-buurten", "cbs-wijken", "cbs-gemeenten"}  # from the CBS-shaped fixture below
    assert set(SAMPLES) | cbs == set(SOURCES)


def test_pc4_reports_the_empty_5028():
    frame, report = read_all("cbs-pc4", path=PC4)
    assert report.dropped == {"empty geometry": 1}
    assert "5028" not in set(frame["feature_id"])
    assert frame["postcode"].str.len().eq(4).all()
    assert frame.set_index("postcode").loc["1381", "inhabitants"] > 0  # Weesp
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}  # stored as MultiPolygon


def test_weesp_panden_have_16_digit_ids_and_construction_years():
    frame, _ = read_all("bag-panden", path=WEESP_BAG)
    assert frame["feature_id"].str.fullmatch(r"0457\d{12}").all()
    assert frame["feature_id"].is_unique
    assert frame["construction_year"].between(1400, 2021).all()
    assert frame["properties"].iloc[0]["buurtcode"]  # source attributes are kept


def test_weesp_addresses_link_to_their_panden():
    frame, _ = read_all("bag-adressen", path=WEESP_BAG)
    assert set(frame.geom_type) == {"Point"}
    assert frame["postcode"].dropna().str.startswith("1381").all()
    ids = [i for ids in frame["building_ids"] for i in ids]
    assert all(len(i) == 16 and i.isdigit() for i in ids)
    assert sum(len(ids) > 1 for ids in frame["building_ids"]) == 37
    panden, _ = read_all("bag-panden", path=WEESP_BAG)
    assert set(ids) <= set(panden["feature_id"])


def test_delft_wippolder_ids_get_their_leading_zero():
    frame, report = read_all("bag-panden", path=DELFT_WIPPOLDER)
    assert report.yielded == 60
    assert "503100000000296" in pyogrio.read_dataframe(DELFT_WIPPOLDER)["identificatie"].values
    padded = frame["feature_id"].str.fullmatch(r"0503\d{12}")
    # The test file from 3DBAG's geodepot has one made-up building "x2"; it is kept as given.
    assert padded.sum() == 59 and list(frame.loc[~padded, "feature_id"]) == ["x2"]


def test_bgt_pand_ids_in_properties_are_padded_too():
    bgt_panden = Source(
        name="bgt-panden-test",
        title="BGT panden (test)",
        kind="building",
        url="https://api.pdok.nl/lv/bgt/ogc/v1/collections/pand/items",
        licence="CC0 1.0",
        attribution="Kadaster / BGT",
        geometry="polygon",
        fields={},
        id_field="lokaalid",
        bag_id_columns=("identificatiebagpnd",),
    )
    frame, report = read_all(bgt_panden, path=DELFT_BGT_PAND)
    assert report.yielded == 160
    pand_ids = [p["identificatiebagpnd"] for p in frame["properties"]]
    assert all(len(i) == 16 and i.startswith("0503") for i in pand_ids)


def test_bgt_green_from_sqlite_picks_its_only_layer():
    frame, report = read_all("bgt-groen", path=DELFT_PLANTCOVER)
    assert report.yielded == 126
    assert set(frame["cover"]) == {"groenvoorziening"}
    assert frame["feature_id"].str.startswith("G0503.").all()


def test_otterlo_green_and_trees_come_from_one_geopackage():
    green, _ = read_all("bgt-groen", path=OTTERLO_BGT)
    trees, _ = read_all("bomen", path=OTTERLO_BGT)
    assert green["cover"].value_counts()["groenvoorziening"] == 426
    assert set(trees["type"]) == {"boom"}
    assert set(trees.geom_type) == {"Point"}


def test_leeuwarden_trees_from_a_shapefile():
    frame, _ = read_all("bomen-leeuwarden", path=LEEUWARDEN_TREES)
    assert frame["species"].notna().all()
    assert frame["feature_id"].is_unique  # ELEMENTNR repeats, so rows are numbered
    assert frame.total_bounds[1] > 570_000  # Leeuwarden, far north in RD


def test_amsterdam_buurten_get_the_codes_the_existing_loader_gives():
    frame, _ = read_all("amsterdam-buurten", path=amsterdam_buurten.DEMO_FILE)
    weesp = frame.set_index("code").loc[WEESP_CENTRUM]
    assert (weesp["name"], weesp["wijk_code"], weesp["gemeente_code"]) == (
        "Weesp Centrum",
        "WK0363SD",
        "GM0363",
    )
    for row in frame.itertuples():
        expected = amsterdam_buurten.buurt_row({"cbsCode": row.code, "naam": row.name})
        assert (row.wijk_code, row.gemeente_code) == (
            expected["wijk_code"],
            expected["gemeente_code"],
        )
    assert frame.geometry.contains(shapely.Point(TO_RD.transform(*HET_GROTE_PLEIN))).sum() == 1


# -- CBS wijken en buurten (no real sample: a CBS-shaped file from Amsterdam's geometries) -----


@pytest.fixture
def cbs_wijkenbuurten(tmp_path) -> Path:
    """A GeoPackage shaped like CBS's wijkenbuurten_2024: real Weesp buurt geometries from
    Amsterdam's Gebieden, CBS column names and layers; the inhabitant numbers are made up."""
    buurten = pyogrio.read_dataframe(amsterdam_buurten.DEMO_FILE).to_crs(28992)
    buurten = buurten[buurten["cbsCode"].str.startswith("BU0363SD")].reset_index(drop=True)
    layer = gpd.GeoDataFrame(
        {
            "buurtcode": buurten["cbsCode"],
            "buurtnaam": buurten["naam"],
            "wijkcode": "WK0363SD",
            "gemeentecode": "GM0363",
            "gemeentenaam": "Amsterdam",
            "aantal_inwoners": [1200, -99997, 2500, 800, 950, 400][: len(buurten)],
            "water": "NEE",
        },
        geometry=buurten.geometry,
        crs=28992,
    )
    wijk = layer.dissolve("wijkcode", as_index=False)[["wijkcode", "geometry"]]
    wijk = wijk.assign(wijknaam="Weesp", gemeentecode="GM0363", aantal_inwoners=5850)
    gemeente = wijk.assign(gemeentenaam="Amsterdam")[["gemeentecode", "gemeentenaam", "geometry"]]
    path = tmp_path / "wijkenbuurten_2024_verzonnen.gpkg"
    for name, frame in (("buurten", layer), ("wijken", wijk), ("gemeenten", gemeente)):
        pyogrio.write_dataframe(frame, path, layer=name)
    return path


def test_cbs_buurten_wijken_and_gemeenten_from_one_geopackage(cbs_wijkenbuurten):
    buurten, report = read_all("cbs-buurten", path=cbs_wijkenbuurten)
    assert report.yielded == 6
    weesp = buurten.set_index("code").loc[WEESP_CENTRUM]
    assert (weesp["wijk_code"], weesp["gemeente_code"]) == ("WK0363SD", "GM0363")
    assert buurten["inhabitants"].isna().sum() == 1  # CBS's -99997 means "secret"
    assert buurten["properties"].iloc[0]["water"] == "NEE"
    wijken, _ = read_all("cbs-wijken", path=cbs_wijkenbuurten)
    gemeenten, _ = read_all("cbs-gemeenten", path=cbs_wijkenbuurten)
    assert list(wijken["code"]) == ["WK0363SD"]
    assert list(wijken["gemeente_code"]) == ["GM0363"]
    assert list(gemeenten["feature_id"]) == ["GM0363"]
    for frame, name in ((buurten, "cbs-buurten"), (wijken, "cbs-wijken")):
        assert_ours(frame, get_source(name))


def test_cbs_buurten_with_the_old_column_names_derive_the_enclosing_codes(tmp_path):
    old = gpd.GeoDataFrame(
        {"BU_CODE": [WEESP_CENTRUM], "BU_NAAM": ["Weesp Centrum"], "AANT_INW": [1200]},
        geometry=[shapely.box(131300, 479700, 131700, 480100)],
        crs=28992,
    )
    path = tmp_path / "buurt_2018_verzonnen.geojson"
    pyogrio.write_dataframe(old, path)
    frame, _ = read_all("cbs-buurten", path=path)
    row = frame.iloc[0]
    assert (row["code"], row["wijk_code"], row["gemeente_code"]) == (
        WEESP_CENTRUM,
        "WK0363SD",
        "GM0363",
    )
    assert row["inhabitants"] == 1200


# -- 3DBAG: CityJSONSeq, CityJSON 1.0, buildings and roof parts -------------------------------


def test_3dbag_amsterdam_buildings_have_footprints_and_roof_attributes():
    frame, _ = read_all("3dbag", path=AMSTERDAM_3DBAG)
    assert list(frame["feature_id"]) == ["0363100012137139", "0363100012105349"]
    assert set(frame["roof_type"]) == {"slanted"}
    ground = [p for p in frame["ground_area"]]
    assert frame.geometry.area.round(0).tolist() == [round(g) for g in ground]
    assert frame["roof_area_sloped"].gt(0).all()


def test_3dbag_amsterdam_roof_parts_carry_3dbag_azimuth_and_slope():
    frame, _ = read_all("3dbag-dakvlakken", path=AMSTERDAM_3DBAG)
    assert not frame["orientation_computed"].any()
    assert frame["azimuth"].between(0, 360).all() and frame["slope"].between(0, 90).all()
    assert frame["feature_id"].is_unique
    assert set(frame["building_id"]) == {"0363100012137139", "0363100012105349"}
    # Our normal agrees with 3DBAG's angles wherever a roof really slopes.
    sloped = frame[frame["slope"] > 10]
    assert (sloped["normal_slope"] - sloped["slope"]).abs().max() < 0.5
    assert (sloped["normal_azimuth"] - sloped["azimuth"]).abs().max() < 0.5
    assert (frame["area_3d"] >= frame["area_2d"]).all()
    assert (frame.geometry.area - frame["area_2d"]).abs().max() < 1e-6


def test_3dbag_delft_2024_roof_angles_are_computed_from_the_normal():
    buildings, _ = read_all("3dbag", path=DELFT_3DBAG)
    assert len(buildings) == 3
    assert sorted(buildings["roof_type"]) == ["horizontal", "horizontal", "slanted"]
    roofs, _ = read_all("3dbag-dakvlakken", path=DELFT_3DBAG)
    assert roofs["orientation_computed"].all()
    slanted = roofs[roofs["building_id"] == "0503100000005156"]
    assert sorted(round(s) for s in slanted["slope"]) == [0, 26, 27, 28]


def test_3dbag_2021_cityjson_1_0_with_old_attribute_names():
    frame, _ = read_all("3dbag", path=DEN_HAAG_2021)
    assert frame["feature_id"].str.startswith("0518").all() and len(frame) == 3
    assert set(frame["roof_type"]) == {"slanted", "horizontal"}
    assert frame["roof_height_50p"].notna().all() and frame["ground_height"].notna().all()
    roofs, _ = read_all("3dbag-dakvlakken", path=DEN_HAAG_2021)
    assert roofs["orientation_computed"].all() and roofs["slope"].notna().all()


def test_3dbag_footprint_falls_back_to_the_lowest_lod(tmp_path):
    lines = DELFT_3DBAG.read_text().splitlines()
    features = [json.loads(line) for line in lines[1:]]
    for feature in features:
        for city_object in feature["CityObjects"].values():
            city_object["geometry"] = [g for g in city_object["geometry"] if g["lod"] != "0"]
    path = tmp_path / "zonder_lod0.city.jsonl"
    path.write_text("\n".join([lines[0], *map(json.dumps, features)]) + "\n")
    without, _ = read_all("3dbag", path=path)
    with_lod0, _ = read_all("3dbag", path=DELFT_3DBAG)
    assert without.geometry.area.round(1).tolist() == with_lod0.geometry.area.round(1).tolist()


# -- Batches, bbox, progress -------------------------------------------------------------------


def test_small_batches_give_the_same_rows():
    messages: list[str] = []
    reader = read("cbs-pc4", path=PC4, batch_size=1000, progress=messages.append)
    frames = list(reader)
    assert [len(f) <= 1000 for f in frames] == [True] * 5
    assert sum(len(f) for f in frames) == 4067
    assert pd.Series(concat(frames)["feature_id"]).is_unique
    assert messages[0] == "cbs-pc4: 1,000 / 4,068" and messages[-1] == "cbs-pc4: 4,068 / 4,068"


def test_cityjson_batches():
    frames = list(read("3dbag-dakvlakken", path=AMSTERDAM_3DBAG, batch_size=5))
    assert len(frames) == 2  # rows come per building: 13, then 14
    assert sum(len(f) for f in frames) == 27


def test_bbox_in_wgs84_keeps_what_lies_around_het_grote_plein():
    lon, lat = HET_GROTE_PLEIN
    bbox = (lon - 0.001, lat - 0.0007, lon + 0.001, lat + 0.0007)
    frame, report = read_all("bag-panden", path=WEESP_BAG, bbox=bbox, bbox_crs=4326, batch_size=20)
    assert 20 < report.yielded < 400
    box = shapely.box(*TO_RD.transform_bounds(*bbox))
    assert frame.geometry.intersects(box).all()
    assert report.read == 1271
    assert report.dropped["outside bbox"] == 1271 - report.yielded
    assert frame["feature_id"].is_unique
    everything, _ = read_all("bag-panden", path=WEESP_BAG)
    expected = everything[everything.geometry.intersects(box)]
    assert set(frame["feature_id"]) == set(expected["feature_id"])


def test_bbox_on_cityjson_is_applied_after_reading():
    buildings, _ = read_all("3dbag", path=AMSTERDAM_3DBAG)
    first = buildings.geometry.iloc[0].centroid
    bbox = (first.x - 1, first.y - 1, first.x + 1, first.y + 1)
    frame, report = read_all("3dbag", path=AMSTERDAM_3DBAG, bbox=bbox)
    assert list(frame["feature_id"]) == [buildings["feature_id"].iloc[0]]
    assert report.dropped == {"outside bbox": 1}


@pytest.mark.parametrize(
    ("name", "path"), [("3dbag-dakvlakken", AMSTERDAM_3DBAG), ("cbs-pc4", PC4)]
)
def test_a_bbox_that_matches_nothing(name, path):
    north_sea = (2.5, 52.5, 2.6, 52.6)
    frame, report = read_all(name, path=path, bbox=north_sea, bbox_crs=4326)
    assert frame is None and report.yielded == 0
    assert report.dropped == {"outside bbox": report.read}


# -- Repair and what is dropped ----------------------------------------------------------------


def test_repairs_what_can_be_repaired_and_reports_the_rest():
    frame, report = read_all("bgt-groen", path=FIXTURES / "groen_herstel_verzonnen.geojson")
    assert report.repaired == 1
    assert report.dropped == {"empty geometry": 1, "invalid and unrepairable": 1}
    assert list(frame["feature_id"]) == ["G0457.goed", "G0457.strik"]
    bow_tie = frame.geometry.iloc[1]
    assert bow_tie.geom_type == "MultiPolygon" and len(bow_tie.geoms) == 2 and bow_tie.is_valid
    assert_balanced(report)


def test_keeps_only_the_geometry_family_of_the_source():
    frame, report = read_all("bomen-leeuwarden", path=FIXTURES / "bomen_met_lijn_verzonnen.geojson")
    assert report.dropped == {"wrong geometry family": 1}
    assert list(frame.geom_type) == ["Point", "Point"]  # a one-part MultiPoint is unwrapped


def test_speelplekken_from_wgs84_land_in_weesp():
    frame, _ = read_all("speelplekken", path=SPEELPLEKKEN)
    x, y = TO_RD.transform(*HET_GROTE_PLEIN)
    first = frame.set_index("feature_id").geometry.loc["SP-1"]
    assert abs(first.x - x) < 1 and abs(first.y - y) < 1
    assert set(frame["type"]) == {"speeltuin", "trapveld"}


# -- Failures: one exception type, a message a person can act on -------------------------------


def test_a_corrupt_geopackage(tmp_path):
    broken = tmp_path / "kapot.gpkg"
    broken.write_bytes(WEESP_BAG.read_bytes()[:30_000])
    with pytest.raises(ReadError, match=re.escape("kapot.gpkg cannot be read: it is damaged")):
        read("bag-panden", path=broken)


def test_a_file_that_is_not_geodata_at_all(tmp_path):
    noise = tmp_path / "panden.gpkg"
    noise.write_bytes(b"this is not a geopackage " * 100)
    with pytest.raises(ReadError, match=re.escape("panden.gpkg cannot be read")) as caught:
        read("bag-panden", path=noise)
    assert str(tmp_path) not in str(caught.value)  # names the file, not where it lives


def _shapefile_copy(tmp_path: Path, prj: str | None) -> Path:
    for suffix in (".shp", ".shx", ".dbf", ".cpg"):
        shutil.copy(LEEUWARDEN_TREES.with_suffix(suffix), tmp_path / f"bomen{suffix}")
    if prj is not None:
        (tmp_path / "bomen.prj").write_text(prj)
    return tmp_path / "bomen.shp"


def test_a_file_without_crs(tmp_path):
    with pytest.raises(ReadError, match="does not say which coordinate reference system"):
        read("bomen-leeuwarden", path=_shapefile_copy(tmp_path, prj=None))


def test_a_file_with_an_unknown_crs(tmp_path):
    local = 'LOCAL_CS["Unknown",UNIT["metre",1]]'
    with pytest.raises(ReadError, match="coordinate reference system that is unknown"):
        read("bomen-leeuwarden", path=_shapefile_copy(tmp_path, prj=local))


def test_rd_coordinates_in_a_geojson_that_therefore_means_wgs84(tmp_path):
    # GeoJSON without a crs member is WGS84 by definition; RD numbers there are a mistake.
    text = (FIXTURES / "pand_zonder_identificatie_verzonnen.geojson").read_text()
    document = json.loads(text)
    del document["crs"]
    document["features"][0]["properties"]["identificatie"] = "0457100000019147"
    path = tmp_path / "rd_zonder_crs.geojson"
    path.write_text(json.dumps(document))
    with pytest.raises(ReadError, match="coordinates do not fit the stated reference system"):
        list(read("bag-panden", path=path))


def test_cityjson_without_reference_system(tmp_path):
    lines = DELFT_3DBAG.read_text().splitlines()
    header = json.loads(lines[0])
    del header["metadata"]["referenceSystem"]
    path = tmp_path / "zonder_crs.city.jsonl"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]))
    with pytest.raises(
        ReadError, match=re.escape("zonder_crs.city.jsonl does not say which coordinate")
    ):
        read("3dbag", path=path)


def test_a_truncated_cityjson_sequence(tmp_path):
    path = tmp_path / "afgebroken.city.jsonl"
    path.write_bytes(AMSTERDAM_3DBAG.read_bytes()[:20_000])
    reader = read("3dbag", path=path)
    with pytest.raises(ReadError, match=re.escape("afgebroken.city.jsonl is damaged: line 3")):
        list(reader)


def test_a_wrong_layer_name_lists_the_layers():
    with pytest.raises(ReadError, match="no layer 'panden'; its layers are: pand, verblijfsobject"):
        read("bag-panden", path=WEESP_BAG, layer="panden")


def test_several_layers_and_none_is_the_default():
    with pytest.raises(ReadError, match="several layers; choose one of: pand, vegetatieobject"):
        read("speelplekken", path=OTTERLO_BGT)


def test_missing_required_columns_are_named():
    path = FIXTURES / "pand_zonder_identificatie_verzonnen.geojson"
    with pytest.raises(ReadError, match=r"lacks columns that bag-panden needs: feature_id \(from "):
        read("bag-panden", path=path)
    with pytest.raises(ReadError, match=r"species \(from BOOMSOORT or boomsoort\)"):
        read("bomen-leeuwarden", path=path)


def test_unsupported_formats(tmp_path):
    table = tmp_path / "panden.csv"
    table.write_text("identificatie,bouwjaar\n0457100000019147,1890\n")
    with pytest.raises(ReadError, match=re.escape("panden.csv is not in a format Wijkkaart reads")):
        read("bag-panden", path=table)
    with pytest.raises(ReadError, match="is CityJSON, which bag-panden cannot be read from"):
        read("bag-panden", path=AMSTERDAM_3DBAG)


def test_wrong_calls(tmp_path):
    with pytest.raises(ReadError, match="unknown source 'bag'; known sources: cbs-buurten"):
        read("bag", path=WEESP_BAG)
    with pytest.raises(ReadError, match="give either a file or a URL"):
        read("bag-panden")
    with pytest.raises(ReadError, match="no such file"):
        read("bag-panden", path=tmp_path / "bestaat-niet.gpkg")
    with pytest.raises(ReadError, match=r"bbox .* is empty"):
        read("bag-panden", path=WEESP_BAG, bbox=(10, 10, 0, 0))


# -- OGC API Features, against a server in this process ----------------------------------------


class FakeOgcApi(BaseHTTPRequestHandler):
    """Serves /collections/pand/items in pages of ``limit``, like PDOK, from CRS84 features."""

    features: ClassVar[list[dict]] = []
    requests: ClassVar[list[dict]] = []
    refuse_crs = False
    status = 200

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        type(self).requests.append(query)
        if self.status != 200:
            return self._send(self.status, b'{"code": "ServerError"}')
        if parts.path == "/nietjson":
            return self._send(200, b"<html>geen json</html>")
        if self.refuse_crs and "crs" in query:
            return self._send(400, b'{"code": "InvalidParameterValue"}')
        limit, offset = int(query.get("limit", 10)), int(query.get("offset", 0))
        page = self.features[offset : offset + limit]
        links = []
        if offset + limit < len(self.features):
            following = {**query, "offset": str(offset + limit)}
            href = "/collections/pand/items?" + "&".join(f"{k}={v}" for k, v in following.items())
            links.append({"rel": "next", "type": "application/geo+json", "href": href})
        body = {
            "type": "FeatureCollection",
            "numberMatched": len(self.features),
            "features": page,
            "links": links,
        }
        self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/geo+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


def _pand(n: int) -> dict:
    lon, lat = HET_GROTE_PLEIN[0] + n * 0.0002, HET_GROTE_PLEIN[1]
    ring = [[lon, lat], [lon + 0.0001, lat], [lon + 0.0001, lat + 0.0001], [lon, lat]]
    return {
        "type": "Feature",
        "id": f"pand.{n}",
        "properties": {"identificatie": f"45710000001914{n}", "bouwjaar": 1890 + n},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture
def ogc_api():
    class Handler(FakeOgcApi):
        features: ClassVar[list[dict]] = [_pand(n) for n in range(5)]
        requests: ClassVar[list[dict]] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", Handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_ogc_api_pages_are_followed_and_reprojected(ogc_api):
    base, handler = ogc_api
    messages: list[str] = []
    reader = read(
        "bag-panden",
        url=f"{base}/collections/pand/items",
        batch_size=2,
        progress=messages.append,
    )
    frames = list(reader)
    assert [len(f) for f in frames] == [2, 2, 1]
    frame = concat(frames).to_geodataframe()
    assert list(frame["feature_id"]) == [f"045710000001914{n}" for n in range(5)]
    assert frame["construction_year"].tolist() == [1890, 1891, 1892, 1893, 1894]
    x, y = TO_RD.transform(*HET_GROTE_PLEIN)
    corner = shapely.get_coordinates(frame.geometry.iloc[0])[0]
    assert abs(corner[0] - x) < 0.01 and abs(corner[1] - y) < 0.01
    assert_ours(frame, get_source("bag-panden"))
    first = handler.requests[0]
    assert (first["f"], first["limit"]) == ("json", "2")
    assert first["crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert len(handler.requests) == 3
    assert messages[-1] == "bag-panden: 5 / 5"


def test_ogc_api_bbox_is_sent_in_rd(ogc_api):
    base, handler = ogc_api
    x, y = TO_RD.transform(*HET_GROTE_PLEIN)
    bbox = (x - 5, y - 5, x + 20, y + 30)  # the first two of five 14 m apart
    frame, report = read_all("bag-panden", url=f"{base}/collections/pand/items", bbox=bbox)
    sent = handler.requests[0]
    assert sent["bbox-crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert [float(v) for v in sent["bbox"].split(",")] == pytest.approx(bbox)
    # This server ignores the bbox; the reader still keeps only what lies inside it.
    assert report.dropped == {"outside bbox": 3} and len(frame) == 2


def test_ogc_api_without_crs_support_falls_back_to_crs84(ogc_api):
    base, handler = ogc_api
    handler.refuse_crs = True
    frame, _ = read_all("bag-panden", url=f"{base}/collections/pand/items?f=json", batch_size=10)
    assert len(frame) == 5
    assert "crs" in handler.requests[0] and "crs" not in handler.requests[1]


def test_ogc_api_failures(ogc_api):
    base, handler = ogc_api
    with pytest.raises(ReadError, match="did not answer with JSON"):
        list(read("bag-panden", url=f"{base}/nietjson"))
    handler.status = 500
    with pytest.raises(ReadError, match="answered HTTP 500"):
        list(read("bag-panden", url=f"{base}/collections/pand/items"))
    with pytest.raises(ReadError, match="not an http"):
        list(read("bag-panden", url="file:///etc/passwd"))


# -- Registry and helpers ----------------------------------------------------------------------


def test_the_registry_names_what_the_issue_asks_for():
    names = {s.name for s in list_sources()}
    wanted = {"cbs-buurten", "cbs-pc4", "bag-panden", "bag-adressen", "bgt-groen", "3dbag"}
    assert wanted | {"bomen", "speelplekken", "amsterdam-buurten"} <= names


@pytest.mark.parametrize("source", list_sources(), ids=lambda s: s.name)
def test_every_source_says_where_it_comes_from(source):
    assert source.title and source.licence and source.attribution
    assert source.url.startswith("https://")
    assert source.geometry in ("point", "line", "polygon")
    assert set(source.required_columns) <= set(source.columns)
    assert source.sample is None or source.sample.is_file()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0457100000019147", "0457100000019147"),
        ("503100000000296", "0503100000000296"),
        (503100000018603, "0503100000018603"),
        (503100000018603.0, "0503100000018603"),
        ("NL.IMBAG.Pand.0503100000012869", "0503100000012869"),
        (" 0363100012137139 ", "0363100012137139"),
        (None, None),
        (float("nan"), None),
        ("onbekend", "onbekend"),
    ],
)
def test_bag_ids_become_16_digits(value, expected):
    assert bag_id(value) == expected


def test_bag_id_lists():
    assert bag_id_list("457100000054466,0457100000054467") == [
        "0457100000054466",
        "0457100000054467",
    ]
    assert bag_id_list(None) == []
