"""The pvlib model against published Dutch figures, and the roof layout rules.

Bands (README, "Validation"): a south-facing roof at about 35° yields 850–950 kWh per kWp per
year in the Netherlands (Nationaal Solar Trendrapport, Milieu Centraal); the Dutch orientation
tables (Milieu Centraal / Zonnekaart "instralingsfactoren") give, relative to the optimum
(south, ~36°): about 100 % for south at 30–40°, ~95 % south-east/south-west, ~80 % east or west
at 35°, ~87 % flat, ~55–60 % north at 35° and ~70 % for a south-facing wall.
"""

from __future__ import annotations

import numpy as np
import pytest

from kaart.solar import model, roofs
from kaart.solar.estimate import Plane, estimate

SOUTH_35_BAND = (850.0, 950.0)
# (tilt, compass azimuth) -> published factor band relative to the optimum orientation
ORIENTATION_BANDS = {
    "south-east 35°": ((35, 135), (0.90, 0.98)),
    "south-west 35°": ((35, 225), (0.90, 0.98)),
    "east 35°": ((35, 90), (0.75, 0.88)),
    "west 35°": ((35, 270), (0.75, 0.88)),
    "flat": ((0, 180), (0.83, 0.92)),
    "north 35°": ((35, 0), (0.50, 0.65)),
    "south wall": ((90, 180), (0.62, 0.76)),
}


@pytest.fixture(scope="module")
def table() -> model.YieldTable:
    return model.yield_table()


def factor(table: model.YieldTable, tilt: float, azimuth: float) -> float:
    _, specific = table.lookup([tilt], [azimuth])
    return float(specific[0]) / table.optimum[2]


def test_typical_year_reproduces_the_climate_basis_month_by_month():
    basis = model.climate()
    weather = model.typical_year()
    assert weather.ghi_kwh_m2 == pytest.approx(basis["ghi_kwh_m2"].sum(), rel=1e-6)
    assert weather.ghi_kwh_m2 == pytest.approx(1038, abs=1)
    # The Netherlands gets more than half its light diffuse (KNMI: 55–65 % over a year).
    assert 0.5 <= weather.diffuse_fraction <= 0.7


def test_south_roof_at_35_degrees_yields_850_to_950_kwh_per_kwp(table):
    plane, specific = table.lookup([35], [180])
    low, high = SOUTH_35_BAND
    assert low <= specific[0] <= high
    # ~13 % more light on the plane than on the ground (1038 kWh/m²), as the Dutch tables say.
    assert 1.08 <= plane[0] / table.ghi_kwh_m2 <= 1.18


def test_optimum_faces_south_at_30_to_40_degrees(table):
    tilt, azimuth, specific = table.optimum
    assert 30 <= tilt <= 40
    assert azimuth == 180
    assert SOUTH_35_BAND[0] <= specific <= SOUTH_35_BAND[1]


@pytest.mark.parametrize("name", ORIENTATION_BANDS)
def test_orientation_factors_stay_inside_the_published_bands(table, name):
    (tilt, azimuth), (low, high) = ORIENTATION_BANDS[name]
    assert low <= factor(table, tilt, azimuth) <= high, name


def test_east_and_west_are_symmetric_and_interpolation_wraps_around_north(table):
    assert factor(table, 35, 90) == pytest.approx(factor(table, 35, 270), abs=0.01)
    assert factor(table, 35, 355) == pytest.approx(factor(table, 35, 5), abs=0.005)
    assert factor(table, 35, 360) == pytest.approx(factor(table, 35, 0), abs=1e-9)


def test_table_agrees_with_a_direct_pvlib_run_between_bins(table):
    weather = model.typical_year()
    plane, specific = model.plane_yields(weather, np.array([33.0, 47.0]), np.array([163.0, 242.0]))
    looked_up_plane, looked_up = table.lookup([33.0, 47.0], [163.0, 242.0])
    assert looked_up == pytest.approx(specific, rel=0.01)
    assert looked_up_plane == pytest.approx(plane, rel=0.01)


def test_single_plane_estimate_in_the_demo_area_matches_the_table(table):
    result = estimate(Plane(5.0425, 52.3067, 35, 180, 40), roofs.Economics())
    assert result["layout"] == "in_plane"
    assert result["kwh_per_kwp"] == pytest.approx(table.lookup([35], [180])[1][0], rel=0.01)
    assert result["panels"] == 14  # 40 m² x 0.70 usable / 1.95 m² per panel
    assert result["kwp"] == pytest.approx(14 * 0.43)
    assert result["kwh_year"] == pytest.approx(result["kwp"] * result["kwh_per_kwp"], abs=1)
    assert result["suitability"] == "excellent"


def test_flat_roof_gets_an_east_west_layout_at_10_degrees():
    result = estimate(Plane(5.0425, 52.3067, 0, 180, 100), roofs.Economics())
    assert result["layout"] == "east_west"
    assert result["panel_tilt"] == 10
    # Irradiation on the roof as given (horizontal: the climate basis) and on the panels.
    assert result["plane_kwh_m2"] == pytest.approx(1038, rel=0.01)
    assert result["panel_plane_kwh_m2"] == pytest.approx(1029, rel=0.01)
    assert result["usable_area_m2"] == 60  # FLAT_USABLE
    assert result["panels"] == 31  # 60 m² / (1.95 m² x cos 10°)
    assert 0.83 <= result["orientation_factor"] <= 0.92


def parts(*rows) -> roofs.Parts:
    building, tilt, azimuth, area = (np.asarray(c, dtype=float) for c in zip(*rows, strict=True))
    flat_area = area * np.cos(np.radians(tilt))
    return roofs.Parts(building.astype(int), tilt, azimuth, area, flat_area)


def test_buildings_sum_their_parts_and_skip_tiny_ones(table):
    economics = roofs.Economics(min_roof_m2=8)
    roof = parts(
        (0, 45, 180, 40.0),  # south slope
        (0, 45, 0, 40.0),  # north slope of the same house
        (0, 45, 90, 6.0),  # a dormer cheek: below 8 m², left out
        (1, 40, 200, 7.9),  # a shed: only a tiny roof
    )
    result = roofs.part_yields(roof, table, economics)
    assert list(result.kept) == [True, True, False, False]
    assert list(result.panels) == [14, 14, 0, 0]
    totals = roofs.building_totals(2, roof, result, table, economics)
    assert totals.panels.tolist() == [28, 0]
    assert totals.kwh[0] == pytest.approx(result.kwh[0] + result.kwh[1])
    assert totals.roof_m2[0] == pytest.approx(86.0)
    assert totals.suitability.tolist()[1] == "none"
    assert np.isnan(totals.kwh_per_kwp[1])
    # A north slope drags the house below the south slope alone.
    assert totals.kwh_per_kwp[0] < result.kwh[0] / result.kwp[0]
    assert totals.co2_kg[0] == pytest.approx(totals.kwh[0] * economics.co2_kg_per_kwh)
    assert totals.households[0] == pytest.approx(totals.kwh[0] / economics.household_kwh)


def test_classes_follow_the_share_of_the_optimum():
    names = roofs.classify(np.array([927.0, 820.0, 700.0, 500.0, np.nan]), 927.0)
    assert names.tolist() == ["excellent", "good", "fair", "poor", "none"]
