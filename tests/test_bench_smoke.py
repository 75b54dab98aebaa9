"""The synthetic buildings the layer benches load: deterministic, valid, BAG-like.

The benches themselves are not run here (make bench-import, make bench-tiles).
"""

from __future__ import annotations

import pyogrio
import shapely

from bench import synthetic

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
