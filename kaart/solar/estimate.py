"""One roof plane anywhere in the Netherlands: GET /api/v1/solar/estimate.

The same layout rules as the buildings (kaart.solar.roofs), but the sun's path is computed for
the given place instead of looked up in De Bilt's table; the climate basis stays De Bilt's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaart.solar import roofs

AREA_MAX_M2 = 250_000.0  # the largest roof plane an estimate takes


@dataclass(frozen=True)
class Plane:
    lon: float
    lat: float
    tilt: float
    azimuth: float  # compass degrees, 180 = south
    area_m2: float


def estimate(plane: Plane, economics: roofs.Economics) -> dict:
    """Irradiation on the panels, panels, kWp, kWh per year and kWh/kWp of one roof plane."""
    from kaart.solar import model  # pvlib and scipy: only in the workers that estimate

    # Rounded to about a kilometre: the sun's path does not change within it, and the cache of
    # typical years stays small.
    weather = model.weather_at(round(plane.lat, 2), round(plane.lon, 2))
    flat, kept, usable, panels = roofs.layout(
        [plane.tilt], [plane.area_m2], [_flat_area(plane)], economics
    )
    if flat[0]:
        tilts = np.full(len(roofs.FLAT_AZIMUTHS), roofs.FLAT_TILT)
        azimuths = np.asarray(roofs.FLAT_AZIMUTHS)
    else:
        tilts, azimuths = np.asarray([plane.tilt]), np.asarray([plane.azimuth])
    # The roof plane as given comes first, then the panels' plane(s).
    all_tilts = np.concatenate([[plane.tilt], tilts])
    all_azimuths = np.concatenate([[plane.azimuth], azimuths])
    irradiation, specific = model.plane_yields(weather, all_tilts, all_azimuths)
    roof_plane, irradiation, specific = irradiation[0], irradiation[1:], specific[1:]
    per_kwp = float(specific.mean())
    kwp = float(panels[0]) * roofs.PANEL_WP / 1000
    kwh = kwp * per_kwp
    optimum = model.yield_table().optimum[2]
    return {
        "lon": plane.lon,
        "lat": plane.lat,
        "tilt": plane.tilt,
        "azimuth": plane.azimuth,
        "area_m2": plane.area_m2,
        "layout": "east_west" if flat[0] else "in_plane",
        "panel_tilt": float(tilts[0]),
        "plane_kwh_m2": round(float(roof_plane), 1),
        "panel_plane_kwh_m2": round(float(irradiation.mean()), 1),
        "usable_area_m2": round(float(usable[0]), 1),
        "panels": int(panels[0]),
        "kwp": round(kwp, 2),
        "kwh_year": round(kwh),
        "kwh_per_kwp": round(per_kwp, 1),
        "orientation_factor": round(per_kwp / optimum, 3),
        "suitability": str(roofs.classify(np.asarray([per_kwp]), optimum)[0])
        if panels[0] > 0
        else roofs.NO_CLASS,
        "co2_kg_year": round(kwh * economics.co2_kg_per_kwh),
        "households": round(kwh / economics.household_kwh, 2),
        "skipped_reason": None if kept[0] and panels[0] > 0 else "too_small",
    }


def _flat_area(plane: Plane) -> float:
    return plane.area_m2 * float(np.cos(np.radians(plane.tilt)))
