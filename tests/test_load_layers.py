"""Loading open layers into PostGIS: typed tables, atomic replacement, clean failures."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geodata.errors import ReadError
from geodata.load import LoadError, load_layer
from geodata.pipeline import prefetched
from geodata.source import OPEN_DATA
from geodata.sources import amsterdam_buurten

WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"
PC4 = OPEN_DATA / "pc4" / "cbs_pc4_2024_nl.gpkg"


def quiet(_message: str) -> None:
    pass


@pytest.fixture
def layers(engine: Engine):
    """Layers a test loads are dropped afterwards (the buurten of the session stay)."""
    names: list[str] = []
    yield names
    with engine.begin() as conn:
        for name in names:
            table = name.replace("-", "_")
            conn.execute(text(f'DROP TABLE IF EXISTS open_data."{table}"'))
            conn.execute(text(f'DROP TABLE IF EXISTS open_data."{table}__loading"'))
            conn.execute(text("DELETE FROM layer WHERE name = :n"), {"n": name})


def one(engine: Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def test_bag_panden_become_a_typed_indexed_table_with_its_catalogue_row(engine, layers):
    layers.append("bag-panden")
    report = load_layer(engine, "bag-panden", path=WEESP_BAG, layer="pand", progress=quiet)
    assert report.loaded == report.read == 1271 and not report.dropped
    row = one(
        engine,
        "SELECT count(*), min(length(feature_id)), max(length(feature_id)), "
        "min(construction_year), max(construction_year), min(ST_SRID(geom)) "
        "FROM open_data.bag_panden",
    )
    assert tuple(row) == (1271, 16, 16, 1462, 2021, 28992)
    columns = one(
        engine,
        "SELECT json_object_agg(column_name, data_type) FROM information_schema.columns "
        "WHERE table_schema = 'open_data' AND table_name = 'bag_panden'",
    )[0]
    assert columns["construction_year"] == "bigint"
    assert columns["geom"] == "USER-DEFINED" and columns["properties"] == "jsonb"
    indexes = one(
        engine, "SELECT array_agg(indexname::text) FROM pg_indexes WHERE tablename = 'bag_panden'"
    )[0]
    assert {"bag_panden_pkey", "bag_panden_geom_idx", "bag_panden_feature_id_idx"} <= set(indexes)
    layer = one(engine, "SELECT * FROM layer WHERE name = 'bag-panden'")
    assert layer.feature_count == 1271 and layer.kind == "building"
    assert layer.attribution == "Kadaster / BAG" and layer.table_name == "bag_panden"
    assert layer.min_zoom == 14 and layer.geometry_family == "polygon"
    min_lon, min_lat, max_lon, max_lat = layer.bbox
    assert 5.03 < min_lon < max_lon < 5.06 and 52.30 < min_lat < max_lat < 52.32
    assert layer.report["loaded"] == 1271


def test_reloading_the_same_file_is_a_no_op_and_force_reloads(engine, layers):
    layers.append("bag-adressen")
    first = load_layer(
        engine, "bag-adressen", path=WEESP_BAG, layer="verblijfsobject", progress=quiet
    )
    loaded_at = one(engine, "SELECT loaded_at FROM layer WHERE name = 'bag-adressen'")[0]
    again = load_layer(
        engine, "bag-adressen", path=WEESP_BAG, layer="verblijfsobject", progress=quiet
    )
    assert first.loaded == 1415 and again.unchanged
    assert one(engine, "SELECT loaded_at FROM layer WHERE name = 'bag-adressen'")[0] == loaded_at
    forced = load_layer(
        engine, "bag-adressen", path=WEESP_BAG, layer="verblijfsobject", progress=quiet, force=True
    )
    assert forced.loaded == 1415
    assert one(engine, "SELECT count(*) FROM open_data.bag_adressen")[0] == 1415


def test_pc4_reports_the_empty_geometry_it_dropped(engine, layers):
    layers.append("cbs-pc4")
    messages: list[str] = []
    report = load_layer(engine, "cbs-pc4", path=PC4, progress=messages.append)
    assert report.read == 4068 and report.loaded == 4067
    assert report.dropped == {"empty geometry": 1}
    assert any("4,068" in m for m in messages)  # progress is reported
    assert one(engine, "SELECT count(*) FROM open_data.cbs_pc4 WHERE postcode = '5028'")[0] == 0
    stored = one(engine, "SELECT report FROM layer WHERE name = 'cbs-pc4'")[0]
    assert stored["dropped"] == {"empty geometry": 1}


def _bad_files(tmp: Path) -> dict[str, tuple[dict, str]]:
    corrupt = tmp / "corrupt.gpkg"
    corrupt.write_bytes(WEESP_BAG.read_bytes()[:20_000])
    no_id = tmp / "panden_zonder_id.geojson"
    no_id.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"bouwjaar": 1900},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[5.04, 52.30], [5.041, 52.30], [5.041, 52.301], [5.04, 52.30]]
                            ],
                        },
                    }
                ],
            }
        )
    )
    return {
        "corrupt file": ({"path": corrupt}, "corrupt"),
        "wrong layer name": ({"path": WEESP_BAG, "layer": "gebouwen"}, "pand"),
        "missing file": ({"path": tmp / "nergens.gpkg"}, "no such file"),
        "nothing in the bbox": (
            {"path": WEESP_BAG, "layer": "pand", "bbox": (0.0, 0.0, 10.0, 10.0)},
            "no usable features",
        ),
        "missing id column": ({"path": no_id}, "identificatie"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "corrupt file",
        "wrong layer name",
        "missing file",
        "nothing in the bbox",
        "missing id column",
    ],
)
def test_a_failed_load_leaves_the_previous_version_served(engine, layers, tmp_path, case):
    layers.append("bag-panden")
    load_layer(engine, "bag-panden", path=WEESP_BAG, layer="pand", progress=quiet)
    before = one(engine, "SELECT source_sha256, loaded_at FROM layer WHERE name = 'bag-panden'")
    options, message = _bad_files(tmp_path)[case]
    with pytest.raises(LoadError, match=message):
        load_layer(engine, "bag-panden", progress=quiet, force=True, **options)
    assert one(engine, "SELECT count(*) FROM open_data.bag_panden")[0] == 1271
    after = one(engine, "SELECT source_sha256, loaded_at FROM layer WHERE name = 'bag-panden'")
    assert tuple(after) == tuple(before)
    assert one(engine, "SELECT to_regclass('open_data.bag_panden__loading')")[0] is None


@pytest.mark.parametrize(
    ("prj", "message"),
    [(None, "coordinate reference system"), ('LOCAL_CS["Unknown",UNIT["metre",1]]', "unknown")],
)
def test_a_file_without_or_with_an_unknown_crs_changes_nothing(
    engine, layers, tmp_path, prj, message
):
    layers.append("bomen-leeuwarden")
    trees = OPEN_DATA / "leeuwarden" / "monumentale_en_waardevolle_bomen.shp"
    load_layer(engine, "bomen-leeuwarden", path=trees, progress=quiet)
    for part in trees.parent.glob("monumentale_en_waardevolle_bomen.*"):
        if part.suffix in (".shp", ".shx", ".dbf", ".cpg"):
            (tmp_path / f"bomen{part.suffix}").write_bytes(part.read_bytes())
    if prj is not None:
        (tmp_path / "bomen.prj").write_text(prj)
    with pytest.raises(LoadError, match=message):
        load_layer(engine, "bomen-leeuwarden", path=tmp_path / "bomen.shp", progress=quiet)
    assert one(engine, "SELECT count(*) FROM open_data.bomen_leeuwarden")[0] == 2088


def test_an_interrupted_load_leaves_the_previous_version_served(engine, layers):
    layers.append("cbs-pc4")
    load_layer(engine, "cbs-pc4", path=PC4, progress=quiet)

    def interrupt(message: str) -> None:
        if "indexing" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_layer(engine, "cbs-pc4", path=PC4, progress=interrupt, force=True, batch_size=1000)
    assert one(engine, "SELECT count(*) FROM open_data.cbs_pc4")[0] == 4067
    assert one(engine, "SELECT to_regclass('open_data.cbs_pc4__loading')")[0] is None


def test_unknown_source_and_no_input_are_clear_errors(engine):
    with pytest.raises(LoadError, match="unknown source 'gebouwen'"):
        load_layer(engine, "gebouwen", path=WEESP_BAG, progress=quiet)
    with pytest.raises(LoadError, match="either a file or a URL"):
        load_layer(engine, "bag-panden", progress=quiet)


def test_a_column_widens_when_a_later_batch_needs_it(engine, layers, tmp_path):
    layers.append("speelplekken")
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"s{i}", "naam": "Speeltuin", "leeftijd": value},
            "geometry": {"type": "Point", "coordinates": [5.0423 + i * 1e-4, 52.3066]},
        }
        for i, value in enumerate([4, 6, "4-12 jaar"])
    ]
    path = tmp_path / "speelplekken_verzonnen.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = load_layer(engine, "speelplekken", path=path, progress=quiet, batch_size=1)
    assert report.loaded == 3
    age_type = one(
        engine,
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'open_data' "
        "AND table_name = 'speelplekken' AND column_name = 'age_group'",
    )[0]
    assert age_type == "text"
    ages = one(engine, "SELECT array_agg(age_group ORDER BY fid) FROM open_data.speelplekken")[0]
    assert ages == ["4", "6", "4-12 jaar"]


def test_buurten_feed_the_buurt_lookup_and_refresh_contribution_codes(engine, clean_db):
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contribution (category, title, geom, public_geom, edit_token_hash) "
                "VALUES ('idee', 'x', ST_GeomFromEWKT('SRID=4326;POINT(5.04234 52.30658)'), "
                "ST_GeomFromEWKT('SRID=4326;POINT(5.04234 52.30658)'), "
                "decode(repeat('00', 32), 'hex'))"
            )
        )
        conn.execute(text("UPDATE buurt SET code = code"))  # no change: the lookup stays
    report = load_layer(
        engine, "amsterdam-buurten", path=amsterdam_buurten.DEMO_FILE, progress=quiet, force=True
    )
    assert report.loaded == 518
    weesp = one(
        engine, "SELECT name, wijk_code, gemeente_code, layer FROM buurt WHERE code = 'BU0363SD03'"
    )
    assert tuple(weesp) == ("Weesp Centrum", "WK0363SD", "GM0363", "amsterdam-buurten")
    assert one(engine, "SELECT count(*) FROM buurt")[0] == 518
    assert one(engine, "SELECT buurt_code FROM contribution")[0] == "BU0363SD03"


def test_copy_keeps_awkward_text_types_and_stores_one_multi_geometry_type(engine, layers, tmp_path):
    """Tabs, newlines, backslashes, quotes and non-ASCII text survive COPY unchanged; missing
    values are NULL (also a literal "\\N" text is text); polygons are stored as MultiPolygon."""
    layers.append("bgt-groen")
    awkward = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", 'quote "x" é ✓', "\\N"]
    square = [[5.04, 52.30], [5.041, 52.30], [5.041, 52.301], [5.04, 52.301], [5.04, 52.30]]
    features = [
        {
            "type": "Feature",
            "properties": {
                "lokaalid": f"G{i}",
                "class": value,
                "hoogte": i * 0.5 if i else None,
                "opmerking": value,
            },
            "geometry": {"type": "Polygon", "coordinates": [[[x + i * 0.01, y] for x, y in square]]}
            if i % 2
            else {
                "type": "MultiPolygon",
                "coordinates": [[[[x + i * 0.01, y] for x, y in square]]],
            },
        }
        for i, value in enumerate(awkward)
    ]
    path = tmp_path / "groen_lastig_verzonnen.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = load_layer(engine, "bgt-groen", path=path, progress=quiet)
    assert report.loaded == len(awkward)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT feature_id, cover, properties, GeometryType(geom) AS kind, "
                "ST_SRID(geom) AS srid, ST_NumGeometries(geom) AS parts "
                "FROM open_data.bgt_groen ORDER BY feature_id"
            )
        ).all()
    assert [r.cover for r in rows] == awkward
    assert [r.properties["opmerking"] for r in rows] == awkward
    assert rows[0].properties["hoogte"] is None and rows[3].properties["hoogte"] == 1.5
    assert {(r.kind, r.srid, r.parts) for r in rows} == {("MULTIPOLYGON", 28992, 1)}


def test_prefetching_keeps_order_raises_the_readers_error_and_stops_when_left():
    assert list(prefetched(iter(range(1000)), depth=2)) == list(range(1000))

    def failing():
        yield 1
        raise ReadError("page 2 is damaged")

    got = []
    with pytest.raises(ReadError, match="page 2 is damaged"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1]

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in prefetched(endless(), depth=1):
        if item == 3:
            break
    before = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) == before <= 6  # the reader thread stopped, a batch or two ahead
