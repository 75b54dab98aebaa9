"""`kaart solar compute` on a real PostGIS: the Weesp Centrum demo panden, real 3DBAG roof parts
of two Amsterdam-Noord buildings, bad data, and recomputing only what changed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from shapely import wkt
from sqlalchemy import create_engine, text

from geodata.load import load_layer
from geodata.read import read
from geodata.sources.three_d_bag import BUILDINGS, ROOF_PARTS
from kaart.cli import main
from kaart.solar import compute as solar_compute
from kaart.solar import roofs
from kaart.solar.compute import ComputeError, compute
from tests.layers_fixture import PAND_WEESP, PANDEN_COLUMNS, WEESP_BAG, make_layer, weesp_panden

ECONOMICS = roofs.Economics()
# A bow-tie: a self-intersecting footprint that no loader should have let through.
BOWTIE = "POLYGON((129000 481000, 129020 481020, 129020 481000, 129000 481020, 129000 481000))"
PART_COLUMNS = {
    "building_id": "text",
    "slope": "double precision",
    "azimuth": "double precision",
    "area_2d": "double precision",
    "area_3d": "double precision",
}


def rows_of(source, columns):
    frames = [batch.to_geodataframe() for batch in read(source, path=source.sample)]
    return [
        {"feature_id": r.feature_id, "geom": r.geometry, **{c: getattr(r, c) for c in columns}}
        for frame in frames
        for r in frame.itertuples()
    ]


@pytest.fixture
def weesp(connection):
    make_layer(connection, "bag-panden", weesp_panden(), columns=PANDEN_COLUMNS)
    return connection


@pytest.fixture
def noord(connection):
    """Two Amsterdam-Noord buildings with their LoD2.2 roof parts, from the 3DBAG sample."""
    buildings = rows_of(BUILDINGS, ["construction_year"])
    make_layer(connection, "bag-panden", buildings, columns={"construction_year": "bigint"})
    parts = rows_of(ROOF_PARTS, list(PART_COLUMNS))
    make_layer(connection, "3dbag-dakvlakken", parts, columns=PART_COLUMNS, kind="roof")
    return connection, buildings, parts


def stored(connection, bag_id):
    row = connection.execute(
        text("SELECT * FROM solar_potential WHERE bag_id = :id"), {"id": bag_id}
    ).one()
    return row._asdict()


def test_every_weesp_pand_gets_a_potential_from_its_footprint(weesp):
    messages = []
    report = compute(weesp, ECONOMICS, progress=messages.append)
    assert report.buildings == report.computed == 1271
    assert report.methods == {"footprint": 1271}
    assert messages[0] == "solar: bag-panden: 1,271 buildings, footprints only; 0 removed"
    assert messages[-1] == "solar: checked 1,271 / 1,271; 1,271 computed, 0 unchanged"
    pand = stored(weesp, PAND_WEESP)
    area = weesp.execute(
        text("SELECT ST_Area(geom) FROM open_data.bag_panden WHERE feature_id = :id"),
        {"id": PAND_WEESP},
    ).scalar_one()
    assert pand["method"] == "footprint"
    assert pand["roof_area_m2"] == pytest.approx(area)
    assert pand["usable_area_m2"] == pytest.approx(area * roofs.FLAT_USABLE)
    assert pand["panels"] > 0
    assert pand["kwp"] == pytest.approx(pand["panels"] * roofs.PANEL_WP / 1000)
    assert 780 <= pand["kwh_per_kwp"] <= 830  # east-west at 10°: ~87 % of the optimum
    assert pand["construction_year"] == 1890
    assert pand["suitability"] == "good"
    parts = pand["roof_parts"]
    assert len(parts) == 1 and parts[0]["layout"] == "east_west"
    # Sheds and tiny annexes are left out, with the reason.
    tiny = weesp.execute(
        text(
            "SELECT count(*) FROM solar_potential WHERE skipped_reason = 'too_small' "
            "AND roof_area_m2 < :min"
        ),
        {"min": ECONOMICS.min_roof_m2},
    ).scalar_one()
    assert tiny == report.skipped["too_small"] > 0


def test_only_changed_buildings_are_computed_again(weesp):
    compute(weesp, ECONOMICS)
    again = compute(weesp, ECONOMICS)
    assert (again.computed, again.unchanged, again.removed) == (0, 1271, 0)
    # A layer reload that moves one footprint and drops another.
    weesp.execute(
        text(
            "UPDATE open_data.bag_panden SET geom = ST_Scale(geom, 1.01, 1.01) "
            "WHERE feature_id = :id"
        ),
        {"id": PAND_WEESP},
    )
    gone = weesp.execute(
        text(
            "DELETE FROM open_data.bag_panden WHERE feature_id <> :id "
            "AND fid = (SELECT max(fid) FROM open_data.bag_panden) RETURNING feature_id"
        ),
        {"id": PAND_WEESP},
    ).scalar_one()
    before = stored(weesp, PAND_WEESP)["computed_at"]
    after = compute(weesp, ECONOMICS)
    assert (after.computed, after.unchanged, after.removed) == (1, 1269, 1)
    assert stored(weesp, PAND_WEESP)["computed_at"] >= before
    assert (
        weesp.execute(
            text("SELECT count(*) FROM solar_potential WHERE bag_id = :id"), {"id": gone}
        ).scalar_one()
        == 0
    )
    # Other settings change every building's figures.
    cheaper = compute(weesp, roofs.Economics(co2_kg_per_kwh=0.2))
    assert cheaper.computed == 1270
    assert compute(weesp, ECONOMICS, force=True).computed == 1270


def test_3dbag_roof_parts_give_sloped_planes_per_building(noord):
    connection, buildings, parts = noord
    report = compute(connection, ECONOMICS)
    assert report.methods == {"roof_parts": 2}
    assert report.roof_parts == len(parts)
    for building in buildings:
        row = stored(connection, building["feature_id"])
        assert row["method"] == "roof_parts"
        own = [p for p in parts if p["building_id"] == building["feature_id"]]
        assert len(row["roof_parts"]) == len(own)
        kept = [p for p in row["roof_parts"] if p["kept"]]
        assert all(p["area_m2"] >= ECONOMICS.min_roof_m2 for p in kept)
        assert sum(p["kwh_year"] for p in row["roof_parts"]) == pytest.approx(
            row["kwh_year"], abs=len(own)
        )
        # Steep (~55°) roofs facing NNE and SSW: worse than the optimum, better than north.
        assert row["suitability"] in ("good", "fair")
        sloped = [p for p in kept if p["layout"] == "in_plane"]
        assert all(p["tilt"] >= roofs.FLAT_SLOPE_MAX for p in sloped)
        assert any(50 <= p["tilt"] <= 60 for p in sloped)


def test_bad_data_missing_slope_and_invalid_footprints(noord):
    connection, buildings, _parts = noord
    first = buildings[0]["feature_id"]
    # One building loses every slope (the 3DBAG attribute and the computed one).
    connection.execute(
        text('UPDATE open_data."3dbag_dakvlakken" SET slope = NULL WHERE building_id = :id'),
        {"id": first},
    )
    connection.execute(
        text(
            "INSERT INTO open_data.bag_panden (feature_id, properties, geom) VALUES "
            "('0457100000999991', '{}', ST_GeomFromText(:bowtie, 28992)), "
            "('0457100000999992', '{}', ST_GeomFromText('POLYGON EMPTY', 28992))"
        ),
        {"bowtie": BOWTIE},
    )
    report = compute(connection, ECONOMICS)
    assert report.dropped_parts["missing_slope"] > 0
    fallback = stored(connection, first)
    assert fallback["method"] == "footprint"  # no usable part left: the footprint rule
    assert fallback["panels"] > 0
    for bad in ("0457100000999991", "0457100000999992"):
        row = stored(connection, bad)
        assert (row["method"], row["skipped_reason"], row["panels"]) == (
            "none",
            "invalid_footprint",
            0,
        )
        assert row["suitability"] == "none"
    assert report.skipped["invalid_footprint"] == 2
    assert "2 invalid_footprint" in report.summary()
    assert "missing_slope" in report.summary()


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_where_it_stopped(weesp):
    """Chunk by chunk: what an interrupted run wrote stays (the command commits at each
    checkpoint) and the next run computes only the rest."""
    calls = []

    def stop_after_two_chunks():
        calls.append(1)
        if len(calls) == 3:  # the first checkpoint follows the removal of gone buildings
            raise Interrupted

    with pytest.raises(Interrupted):
        compute(weesp, ECONOMICS, chunk=500, checkpoint=stop_after_two_chunks)
    assert weesp.execute(text("SELECT count(*) FROM solar_potential")).scalar_one() == 1000
    resumed = compute(weesp, ECONOMICS, chunk=500)
    assert (resumed.computed, resumed.unchanged) == (271, 1000)
    assert weesp.execute(text("SELECT count(*) FROM solar_potential")).scalar_one() == 1271


def test_a_footprint_is_never_written_twice_and_wkt_is_rd_new(noord):
    connection, buildings, _parts = noord
    compute(connection, ECONOMICS)
    count = connection.execute(text("SELECT count(*) FROM solar_potential")).scalar_one()
    assert count == len(buildings)
    assert wkt.loads(buildings[0]["geom"].wkt).bounds[0] > 100_000  # RD New metres


def test_without_a_building_layer_compute_says_what_to_load(connection):
    with pytest.raises(ComputeError, match="bag-panden"):
        compute(connection, ECONOMICS)


def test_cli_reports_a_missing_layer_as_an_error(database_url, monkeypatch):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["solar", "compute"])
    assert result.exit_code == 1
    assert "no building layer 'bag-panden'" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def committed_panden(engine):
    """Weesp's panden committed as `bag-panden`, for the command (its own connection)."""
    load_layer(engine, "bag-panden", path=WEESP_BAG, layer="pand", progress=lambda _m: None)
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM solar_potential"))
        conn.execute(text("DROP TABLE open_data.bag_panden"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))


def test_cli_computes_with_progress_and_then_only_what_changed(
    database_url, monkeypatch, committed_panden
):
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    first = CliRunner().invoke(main, ["solar", "compute"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith("solar: bag-panden: 1,271 buildings, footprints only")
    assert "solar: checked 1,271 / 1,271; 1,271 computed, 0 unchanged" in lines
    assert lines[-1].startswith("solar: bag-panden: 1,271 buildings, 1,271 computed")
    again = CliRunner().invoke(main, ["solar", "compute"])
    assert "0 computed, 1,271 unchanged, 0 removed" in again.output
    forced = CliRunner().invoke(main, ["solar", "compute", "--force"])
    assert "1,271 computed, 0 unchanged" in forced.output


def test_cli_interrupted_keeps_the_committed_chunks_and_resumes(
    database_url, monkeypatch, committed_panden
):
    """Ctrl-C during the third chunk: the command committed two chunks of 500 at its
    checkpoints; run again, it computes the remaining 271 only."""
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    monkeypatch.setattr(solar_compute, "CHUNK", 500)
    written = []
    real_write = solar_compute._write

    def write_then_ctrl_c(conn, records):
        if len(written) == 2:
            raise KeyboardInterrupt
        real_write(conn, records)
        written.append(len(records))

    monkeypatch.setattr(solar_compute, "_write", write_then_ctrl_c)
    interrupted = CliRunner().invoke(main, ["solar", "compute"])
    assert interrupted.exit_code == 1 and "Aborted" in interrupted.output
    engine = create_engine(database_url)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM solar_potential")).scalar_one()
    assert kept == 1000
    monkeypatch.setattr(solar_compute, "_write", real_write)
    resumed = CliRunner().invoke(main, ["solar", "compute"])
    assert resumed.exit_code == 0, resumed.output
    assert "271 computed, 1,000 unchanged, 0 removed" in resumed.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM solar_potential")).scalar_one() == 1271
    engine.dispose()
