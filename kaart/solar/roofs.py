"""From roof parts to a building's potential, for all buildings in one vectorised pass.

A roof part is a plane with a slope, a compass azimuth and an area: from 3DBAG's LoD2.2 roof
parts where loaded, else the BAG footprint taken as one flat roof (see FOOTPRINT below). The
yield per kWp comes from the (tilt, azimuth) table of kaart.solar.model, so no pvlib call is
made per roof.

Layout assumptions (documented in the README):
- a part with a slope below FLAT_SLOPE_MAX degrees is flat: panels in an east-west layout at
  FLAT_TILT degrees (half facing east, half west), on FLAT_USABLE of its area;
- a sloped part carries panels in its own plane on PITCHED_USABLE of its (sloped) area;
- the rest is kept free for edges, walkways, chimneys, dormers and installations;
- parts smaller than the configured minimum (KAART_SOLAR_MIN_ROOF_M2) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the model (pvlib, scipy) is imported only where yields are computed
    from kaart.solar.model import YieldTable

PANEL_AREA_M2 = 1.95  # a 1.72 m x 1.13 m module
PANEL_WP = 430  # its peak power (22 % efficiency), typical for 2024-2025 residential panels
FLAT_SLOPE_MAX = 10.0
FLAT_TILT = 10.0
FLAT_AZIMUTHS = (90.0, 270.0)
FLAT_USABLE = 0.60
PITCHED_USABLE = 0.70

# Suitability from the yield per kWp relative to the best orientation (see README).
CLASSES = (("excellent", 0.90), ("good", 0.80), ("fair", 0.65), ("poor", 0.0))
NO_CLASS = "none"


@dataclass(frozen=True)
class Economics:
    """What the figures are weighed with; from KAART_SOLAR_* settings."""

    min_roof_m2: float = 8.0
    co2_kg_per_kwh: float = 0.33
    household_kwh: float = 2_500.0


@dataclass(frozen=True)
class Parts:
    """Roof parts of many buildings; ``building`` indexes the building each part belongs to.
    ``area_m2`` is the part's true (sloped) area, ``flat_area_m2`` its area seen from above."""

    building: np.ndarray
    tilt: np.ndarray
    azimuth: np.ndarray
    area_m2: np.ndarray
    flat_area_m2: np.ndarray


@dataclass(frozen=True)
class PartResult:
    flat: np.ndarray
    kept: np.ndarray
    usable_m2: np.ndarray
    panels: np.ndarray
    kwp: np.ndarray
    kwh: np.ndarray
    plane_kwh_m2: np.ndarray


@dataclass(frozen=True)
class Buildings:
    """Per building (same order as the building index of the parts)."""

    roof_m2: np.ndarray
    usable_m2: np.ndarray
    panels: np.ndarray
    kwp: np.ndarray
    kwh: np.ndarray
    kwh_per_kwp: np.ndarray  # NaN where nothing fits
    suitability: np.ndarray  # CLASSES names, or NO_CLASS
    co2_kg: np.ndarray
    households: np.ndarray


def layout(tilt, area_m2, flat_area_m2, economics: Economics):
    """(flat, kept, usable m², panels) of roof parts: the layout rules of the module docstring."""
    tilt = np.asarray(tilt, float)
    area_m2 = np.asarray(area_m2, float)
    flat = tilt < FLAT_SLOPE_MAX
    kept = area_m2 >= economics.min_roof_m2
    usable = np.where(flat, np.asarray(flat_area_m2, float) * FLAT_USABLE, area_m2 * PITCHED_USABLE)
    usable = np.where(kept, usable, 0.0)
    # A flat roof's panels, tilted, take slightly less room than their own area.
    footprint = np.where(flat, PANEL_AREA_M2 * np.cos(np.radians(FLAT_TILT)), PANEL_AREA_M2)
    return flat, kept, usable, np.floor(usable / footprint)


def part_yields(parts: Parts, table: YieldTable, economics: Economics) -> PartResult:
    """Panels, kWp and kWh of every part, in one pass over the arrays."""
    flat, kept, usable, panels = layout(parts.tilt, parts.area_m2, parts.flat_area_m2, economics)
    east_west = [table.lookup(np.full(1, FLAT_TILT), np.full(1, a)) for a in FLAT_AZIMUTHS]
    flat_plane = float(np.mean([p[0] for p, _ in east_west]))
    flat_specific = float(np.mean([s[0] for _, s in east_west]))
    plane, specific = table.lookup(parts.tilt, parts.azimuth)
    plane = np.where(flat, flat_plane, plane)
    specific = np.where(flat, flat_specific, specific)
    kwp = panels * PANEL_WP / 1000
    return PartResult(flat, kept, usable, panels, kwp, kwp * specific, plane)


def building_totals(
    count: int, parts: Parts, result: PartResult, table: YieldTable, economics: Economics
) -> Buildings:
    """Sum the parts per building and classify."""

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(parts.building, weights=values, minlength=count)

    kwp = total(result.kwp)
    kwh = total(result.kwh)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_kwp = np.where(kwp > 0, kwh / kwp, np.nan)
    return Buildings(
        roof_m2=total(parts.area_m2),
        usable_m2=total(result.usable_m2),
        panels=total(result.panels).astype(int),
        kwp=kwp,
        kwh=kwh,
        kwh_per_kwp=per_kwp,
        suitability=classify(per_kwp, table.optimum[2]),
        co2_kg=kwh * economics.co2_kg_per_kwh,
        households=kwh / economics.household_kwh,
    )


def classify(kwh_per_kwp: np.ndarray, optimum: float) -> np.ndarray:
    """A suitability class from the yield per kWp as a share of the optimum orientation's."""
    ratio = np.nan_to_num(np.asarray(kwh_per_kwp, float) / optimum, nan=-1.0)
    names = np.full(ratio.shape, NO_CLASS, dtype=object)
    for name, low in reversed(CLASSES):
        names[ratio >= low] = name
    return names


def economics_for(settings) -> Economics:
    """The economics a deployment's KAART_SOLAR_* settings describe."""
    return Economics(
        settings.solar_min_roof_m2, settings.solar_co2_kg_per_kwh, settings.solar_household_kwh
    )
