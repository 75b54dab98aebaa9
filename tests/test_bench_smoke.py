"""The synthetic buildings the layer benches load: deterministic, valid, BAG-like; and the
reliability bench, briefly, on the private cluster's stack.

The layer benches themselves are not run here (make bench-import, make bench-tiles).
"""

from __future__ import annotations

import io
import re

import pyogrio
import pytest
import shapely

from bench import reliability, synthetic

N = 1_500  # a few districts, so district borders and a partial last batch are covered


def test_the_same_n_and_seed_give_the_same_buildings(tmp_path):
    first, second = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    synthetic.write(first, N, seed=7)
    synthetic.write(second, N, seed=7)
    a = pyogrio.read_dataframe(first, layer="pand")
    b = pyogrio.read_dataframe(second, layer="pand")
    assert len(a) == N
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()


def test_another_seed_gives_other_buildings():
    a = next(synthetic.frames(200, seed=1))
    b = next(synthetic.frames(200, seed=2))
    assert not shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()


def test_a_smaller_set_is_the_start_of_a_larger_one():
    small = next(synthetic.frames(500, seed=7))
    large = next(synthetic.frames(900, seed=7))
    assert small["identificatie"].tolist() == large["identificatie"][:500].tolist()
    assert shapely.equals_exact(small.geometry.values, large.geometry.values[:500], 0).all()


def test_buildings_are_valid_rd_new_footprints_with_bag_ids(tmp_path):
    path = tmp_path / "pand.gpkg"
    synthetic.write(path, N, seed=7)
    info = pyogrio.read_info(path, layer="pand")
    assert info["crs"] == "EPSG:28992"
    assert info["geometry_type"] == "Polygon"
    frame = pyogrio.read_dataframe(path, layer="pand")
    geoms = frame.geometry.values
    assert shapely.is_valid(geoms).all()
    # Within the Amsterdam/Weesp area, 5–30 m footprints.
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    assert 110_000 < minx < maxx < 140_000 and 475_000 < miny < maxy < 495_000
    sides = shapely.bounds(geoms)
    extent = sides[:, 2:] - sides[:, :2]
    assert extent.max() < 45 and extent.max(axis=1).min() >= 5  # rotated by at most 35 degrees
    ids = frame["identificatie"]
    assert ids.str.fullmatch(r"0363[0-9]{12}").all() and ids.is_unique
    assert frame["bouwjaar"].between(1400, 2025).all()
    assert set(frame["status"]) <= {s for s, _ in synthetic.STATUS}
    assert set(frame["gebruiksdoel"]) <= {u for u, _ in synthetic.USAGE}


@pytest.mark.deployed
def test_the_reliability_bench_finds_no_lost_or_orphaned_writes_in_a_short_run(
    private_cluster, private_db, private_stack
):
    load = reliability.Load(seconds=3, writers=4, fault_at=1)
    results = reliability.measure(private_stack, private_cluster, private_db, load, outage=1)
    assert [r.scenario for r in results] == ["steady", "restart", "stop"]
    for r in results:
        assert r.acknowledged > 0 and r.requests >= r.acknowledged
        assert (r.lost, r.unacknowledged, r.given_up) == (0, 0, 0), r
        assert 0 < r.latency_ms[0] <= r.latency_ms[1] <= r.latency_ms[2]
    for r in results[1:]:
        assert r.recovery_s is not None
        assert {status for status, _type in r.during_outage} <= {201, 503}
        assert all(
            kind == ("application/problem+json" if status == 503 else "application/geo+json")
            for status, kind in r.during_outage
        )
    out = io.StringIO()
    reliability.report(results, out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:4] == ["scenario", "acked", "lost", "unacked"]
    assert [line.split()[0] for line in lines[1:4]] == ["steady", "restart", "stop"]
    assert lines[-1].startswith("during the stop outage: ")


# The serving benches of issue 11, each on a few thousand panden with a round or two: they run
# end to end (the app under `kaart serve`, TiPg in its own virtualenv) and print every target
# with a measured figure and a verdict. The figures themselves are not checked here.

NUMBER = r"[0-9]+\.[0-9]+"
VERDICT = r"(met|missed)"


def _bench_output(monkeypatch, capsys, database_url, main, argv) -> str:
    monkeypatch.setenv("KAART_DATABASE_URL", database_url)
    main(argv)
    return capsys.readouterr().out


@pytest.mark.deployed
def test_the_tiles_bench_prints_the_floor_targets_at_z14_and_z16(monkeypatch, capsys, database_url):
    from bench import tiles

    argv = ["--n", "3000", "--tiles", "2", "--repeat", "1", "--no-s3"]
    out = _bench_output(monkeypatch, capsys, database_url, tiles.main, argv)
    for z, target in (("14", "1.1"), ("16", "1.3")):
        line = rf"target: dense z{z} tiles, app / plain ST_AsMVT floor \(p50\): {NUMBER}x "
        assert re.search(line + rf".* target <= {target}x: {VERDICT}$", out, re.M), out
        for side in ("floor: plain ST_AsMVT", "raw: the app's SQL", "app /tiles", "TiPg"):
            assert re.search(rf"^z{z} +{side}.* {NUMBER}ms +{NUMBER}ms", out, re.M), out


@pytest.mark.deployed
def test_the_concurrency_bench_prints_app_against_tipg_per_zoom_and_client_count(
    monkeypatch, capsys, database_url
):
    from bench import concurrency

    argv = ["--n", "3000", "--tiles", "2", "--requests", "2", "--clients", "2,3"]
    out = _bench_output(monkeypatch, capsys, database_url, concurrency.main, argv)
    for z in ("14", "16"):
        for clients in ("2", "3"):
            assert re.search(
                rf"^target: dense z{z} tiles, {clients} clients, app / TiPg \S+: "
                rf"tiles/s {NUMBER}x, p50 {NUMBER}x, p95 {NUMBER}x .*: {VERDICT}$",
                out,
                re.M,
            ), out
            for side in ("app", "TiPg"):
                row = rf"^z{z} +{clients} +{side} .* {int(clients) * 2 * 2} +{NUMBER} +{NUMBER}ms"
                assert re.search(row, out, re.M), out


@pytest.mark.deployed
def test_the_memory_bench_reads_every_worker_after_warm_up(monkeypatch, capsys, database_url):
    from bench import memory

    argv = ["--n", "3000", "--contributions", "100", "--rounds", "1"]
    out = _bench_output(monkeypatch, capsys, database_url, memory.main, argv)
    for side in ("app", "TiPg"):
        rows = re.findall(rf"^{side} .* [0-9]+ +{NUMBER} MiB +{NUMBER} MiB", out, re.M)
        assert len(rows) == memory.WORKERS, out
    assert re.search(rf"^app workers before the staff.s .*: {NUMBER} MiB RSS", out, re.M), out
    line = rf"^target: serving worker RSS after warm-up: {NUMBER} MiB .* <= 120 MiB: {VERDICT}$"
    assert re.search(line, out, re.M), out


@pytest.mark.deployed
def test_the_search_bench_prints_each_kind_of_question_and_the_target(
    monkeypatch, capsys, database_url
):
    from bench import search

    out = _bench_output(
        monkeypatch, capsys, database_url, search.main, ["--n", "20000", "--repeat", "2"]
    )
    kinds = ("street number place", "street number", "postcode number", "street prefix", "typo")
    for kind in kinds:
        assert re.search(rf"^{kind}.* {NUMBER}ms +{NUMBER}ms +{NUMBER}ms +{NUMBER}x$", out, re.M), (
            out
        )
    assert re.search(
        rf"^target app p50 <= 30 ms for every kind: {VERDICT} \(worst {NUMBER} ms\)$", out, re.M
    ), out


@pytest.mark.deployed
def test_the_national_bench_runs_every_step_and_prints_the_targets(
    monkeypatch, capsys, database_url
):
    """The whole of `make bench-national` on 3,000 buildings: both loads, the archive, the
    deployed stack, the interrupted and resumed solar run (which may finish before Ctrl-C)."""
    from bench import national

    out = _bench_output(
        monkeypatch, capsys, database_url, national.main, ["--n", "3000", "--repeat", "1"]
    )
    for step in (
        r"kaart layers load bag-panden +[0-9]+ s, [0-9]+ MiB \([0-9]+ anon\)",
        r"ogr2ogr \+ index \+ ANALYZE",
        rf"  ratio \(target <= 1\.15x\) +{NUMBER}x {VERDICT}",
        rf"  peak memory \(target <= 256 MiB\) +[0-9]+ MiB {VERDICT}",
        r"kaart layers load bag-adressen",
        r"kaart tiles build z13-16 +[0-9]+ s, [0-9,]+ tiles",
        rf"dense z16 tile p50, live / prebuilt +{NUMBER} / {NUMBER} ms",
        rf"OGC items p50, page 1 / page [0-9]+ +{NUMBER} / {NUMBER} ms",
        rf"address search p50: street number place +{NUMBER} ms",
        r"kaart solar compute, Ctrl-C \+ resumed +[0-9]+ s, 3,000 kept|[0-9,]+ kept",
        rf"  peak memory \(target <= 1 GiB\) +[0-9]+ MiB {VERDICT}",
        rf"disk: whole database +{NUMBER} GiB",
    ):
        assert re.search(step, out, re.M | re.I), (step, out)
