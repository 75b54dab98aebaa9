"""The PV model: a typical year from the monthly climate basis, then pvlib for every roof plane.

    weather = typical_year(DE_BILT)                   # hourly, offline
    plane, specific = plane_yields(weather, tilt, azimuth)   # arrays in, arrays out
    table = yield_table()                              # per (tilt, azimuth) bin, cached

Steps, all pvlib: solar position (NREL SPA), clear-sky GHI (Ineichen with pvlib's Linke
turbidity climatology), scaled per day so that each month's sum matches the climate basis;
decomposition into DNI/DHI (Erbs); transposition to the plane (Perez, albedo 0.2); incidence
angle losses (physical IAM, Marion's integral for diffuse light); cell temperature (Faiman);
PVWatts DC with the documented system losses (pvwatts_losses) and the PVWatts inverter.

Days are not all alike: a month's days get clear-sky indices spread evenly around the month's
mean (fixed order, no randomness at run time), so clear and overcast days both occur, as they do
in the Netherlands. Scaling every hour by the month's mean instead would make every hour look
hazy, so the decomposition would call almost all light diffuse and tilting a panel south would
hardly matter (measured: +3 % instead of the +12–15 % Dutch tables give).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy.interpolate import RegularGridInterpolator

CLIMATE_FILE = Path(__file__).resolve().parents[2] / "data" / "solar" / "de_bilt_monthly.csv"


@dataclass(frozen=True)
class Site:
    latitude: float
    longitude: float
    altitude: float = 0.0


# KNMI De Bilt (station 260): where the climate basis was measured, the middle of the country.
DE_BILT = Site(52.10, 5.18, 2.0)

YEAR = 2023  # any non-leap year: the series is a typical year, not a forecast
TIMEZONE = "Etc/GMT-1"  # CET without daylight saving time, as KNMI's hourly data
ALBEDO = 0.2  # urban ground
WIND_SPEED = 2.0  # m/s at module height, for the cell temperature
GAMMA_PDC = -0.0037  # 1/K, crystalline silicon (PVWatts "standard" module)
# pvlib.pvsystem.pvwatts_losses defaults (soiling 2, shading 3, mismatch 2, wiring 2,
# connections 0.5, light-induced degradation 1.5, nameplate 1, availability 3 %): 14.08 % in all.
LOSSES = {
    "soiling": 2.0,
    "shading": 3.0,
    "snow": 0.0,
    "mismatch": 2.0,
    "wiring": 2.0,
    "connections": 0.5,
    "lid": 1.5,
    "nameplate_rating": 1.0,
    "age": 0.0,
    "availability": 3.0,
}
DC_AC_RATIO = 1.1
INVERTER_EFFICIENCY = 0.96
# Clear-sky index of a day: from LOW to HIGH at most (thick overcast to a clear day).
DAY_INDEX_LOW = 0.08
DAY_INDEX_HIGH = 0.95
DAY_ORDER_SEED = 2026  # fixes which days of a month are the clear ones; results do not depend on it

# The bins of the precomputed table (degrees); in between, bilinear interpolation.
TILTS = np.arange(0.0, 90.1, 5.0)
AZIMUTHS = np.arange(0.0, 360.1, 10.0)  # 360 repeats 0, so interpolation wraps around north
CHUNK = 64  # planes per pvlib pass: bounds the memory of the (planes x hours) arrays


@dataclass(frozen=True)
class Weather:
    """The daylight hours of a typical year at a site, ready for transposition."""

    zenith: np.ndarray
    sun_azimuth: np.ndarray
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    dni_extra: np.ndarray
    airmass: np.ndarray
    temp_air: np.ndarray

    @property
    def ghi_kwh_m2(self) -> float:
        return float(self.ghi.sum() / 1000)

    @property
    def diffuse_fraction(self) -> float:
        return float(self.dhi.sum() / self.ghi.sum())


def climate(path: Path = CLIMATE_FILE) -> pd.DataFrame:
    """The monthly climate basis (see data/solar/SOURCES.md), checked."""
    frame = pd.read_csv(path)
    if list(frame["month"]) != list(range(1, 13)) or (frame["ghi_kwh_m2"] <= 0).any():
        raise ValueError(f"{path}: need months 1-12 with positive ghi_kwh_m2")
    return frame.set_index("month")


def climate_version(path: Path = CLIMATE_FILE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def typical_year(site: Site = DE_BILT, path: Path = CLIMATE_FILE) -> Weather:
    """Hourly weather of a typical year whose monthly GHI sums are the climate basis's."""
    basis = climate(path)
    times = pd.date_range(f"{YEAR}-01-01 00:30", periods=8760, freq="h", tz=TIMEZONE)
    location = pvlib.location.Location(site.latitude, site.longitude, altitude=site.altitude)
    position = location.get_solarposition(times)
    with warnings.catch_warnings():
        # pvlib 0.16 reads DatetimeIndex.dayofyear, which pandas 3 deprecates; harmless here.
        warnings.simplefilter(
            "ignore", category=getattr(pd.errors, "Pandas4Warning", FutureWarning)
        )
        clear = location.get_clearsky(times, model="ineichen", solar_position=position)["ghi"]
    ghi = clear.to_numpy() * _day_factors(clear, basis["ghi_kwh_m2"])
    daylight = (position["apparent_zenith"].to_numpy() < 90) & (ghi > 0)
    when = times[daylight]
    zenith = position["apparent_zenith"].to_numpy()[daylight]
    ghi = ghi[daylight]
    # Day numbers rather than timestamps: pvlib would read DatetimeIndex.dayofyear, which
    # pandas deprecates (and the test suite turns warnings into errors).
    day = when.day_of_year.to_numpy()
    parts = pvlib.irradiance.erbs(ghi, zenith, day)
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    return Weather(
        zenith=zenith,
        sun_azimuth=position["azimuth"].to_numpy()[daylight],
        ghi=ghi,
        dni=np.asarray(parts["dni"], dtype=float),
        dhi=np.asarray(parts["dhi"], dtype=float),
        dni_extra=np.asarray(pvlib.irradiance.get_extra_radiation(day), dtype=float),
        airmass=np.asarray(airmass, dtype=float),
        temp_air=basis["temp_air_c"].reindex(when.month).to_numpy(),
    )


def _day_factors(clear: pd.Series, monthly_kwh: pd.Series) -> np.ndarray:
    """Per hour, the clear-sky index of its day: spread evenly around the month's mean and
    scaled so that the month's sum is exactly the climate basis."""
    daily = clear.resample("D").sum()
    factor_of_day = pd.Series(0.0, index=daily.index)
    order = np.random.default_rng(DAY_ORDER_SEED)
    for month, target_kwh in monthly_kwh.items():
        days = daily[daily.index.month == month]
        mean = target_kwh * 1000 / days.sum()
        half = min(mean - DAY_INDEX_LOW, DAY_INDEX_HIGH - mean)
        if half < 0:
            raise ValueError(f"month {month}: {target_kwh} kWh/m² is beyond clear-sky limits")
        spread = np.linspace(mean - half, mean + half, len(days))[order.permutation(len(days))]
        spread *= target_kwh * 1000 / float((spread * days.to_numpy()).sum())
        factor_of_day[days.index] = spread
    return factor_of_day.reindex(clear.index.floor("D")).to_numpy()


def plane_yields(
    weather: Weather, tilt: np.ndarray, azimuth: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per plane: irradiation on the plane (kWh/m² per year) and AC yield (kWh/kWp per year).
    ``azimuth`` is compass degrees (180 = south), ``tilt`` degrees from horizontal."""
    tilt = np.asarray(tilt, dtype=float).ravel()
    azimuth = np.asarray(azimuth, dtype=float).ravel()
    plane = np.empty(tilt.size)
    specific = np.empty(tilt.size)
    for start in range(0, tilt.size, CHUNK):
        part = slice(start, start + CHUNK)
        plane[part], specific[part] = _chunk(weather, tilt[part, None], azimuth[part, None])
    return plane, specific


def _chunk(weather: Weather, tilt: np.ndarray, azimuth: np.ndarray):
    w = weather
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        w.zenith,
        w.sun_azimuth,
        dni=w.dni,
        ghi=w.ghi,
        dhi=w.dhi,
        dni_extra=w.dni_extra,
        airmass=w.airmass,
        albedo=ALBEDO,
        model="perez",
    )
    aoi = pvlib.irradiance.aoi(tilt, azimuth, w.zenith, w.sun_azimuth)
    # Marion's integral is the slow part (~0.1 s per tilt): once per distinct tilt.
    tilts, which = np.unique(tilt[:, 0], return_inverse=True)
    diffuse_iam = {
        k: np.asarray(v)[which][:, None]
        for k, v in pvlib.iam.marion_diffuse("physical", tilts).items()
    }
    effective = (
        poa["poa_direct"] * pvlib.iam.physical(aoi)
        + poa["poa_sky_diffuse"] * diffuse_iam["sky"]
        + poa["poa_ground_diffuse"] * diffuse_iam["ground"]
    )
    cell = pvlib.temperature.faiman(poa["poa_global"], w.temp_air, WIND_SPEED)
    dc = pvlib.pvsystem.pvwatts_dc(effective, cell, 1.0, GAMMA_PDC)  # kW per kWp
    dc = dc * (1 - pvlib.pvsystem.pvwatts_losses(**LOSSES) / 100)
    inverter_dc = 1.0 / DC_AC_RATIO / INVERTER_EFFICIENCY
    ac = pvlib.inverter.pvwatts(dc, inverter_dc, eta_inv_nom=INVERTER_EFFICIENCY)
    ac = np.clip(np.asarray(ac, dtype=float), 0, None)
    return np.asarray(poa["poa_global"]).sum(axis=1) / 1000, ac.sum(axis=1)


@dataclass(frozen=True)
class YieldTable:
    """Plane irradiation and specific yield per (tilt, azimuth) bin, for many roofs at once."""

    tilts: np.ndarray
    azimuths: np.ndarray
    plane: np.ndarray  # kWh/m² per year, shape (tilts, azimuths)
    specific: np.ndarray  # kWh/kWp per year
    ghi_kwh_m2: float
    diffuse_fraction: float

    def lookup(self, tilt, azimuth) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated (plane kWh/m², kWh/kWp) for arrays of tilts and compass azimuths."""
        points = np.column_stack(
            [np.clip(np.asarray(tilt, float), 0, 90), np.mod(np.asarray(azimuth, float), 360)]
        )
        return self._plane(points), self._specific(points)

    @property
    def optimum(self) -> tuple[float, float, float]:
        """(tilt, azimuth, kWh/kWp) of the best bin."""
        i, j = np.unravel_index(np.argmax(self.specific), self.specific.shape)
        return float(self.tilts[i]), float(self.azimuths[j]), float(self.specific[i, j])

    def __post_init__(self) -> None:
        grid = (self.tilts, self.azimuths)
        object.__setattr__(self, "_plane", RegularGridInterpolator(grid, self.plane))
        object.__setattr__(self, "_specific", RegularGridInterpolator(grid, self.specific))


def build_table(site: Site = DE_BILT, path: Path = CLIMATE_FILE) -> YieldTable:
    weather = typical_year(site, path)
    tilt, azimuth = np.meshgrid(TILTS, AZIMUTHS, indexing="ij")
    plane, specific = plane_yields(weather, tilt, azimuth)
    shape = tilt.shape
    return YieldTable(
        TILTS,
        AZIMUTHS,
        plane.reshape(shape),
        specific.reshape(shape),
        weather.ghi_kwh_m2,
        weather.diffuse_fraction,
    )


@lru_cache(maxsize=1)
def yield_table() -> YieldTable:
    """The table for the climate basis at De Bilt, built once per process (about a second)."""
    return build_table()


@lru_cache(maxsize=64)
def weather_at(latitude: float, longitude: float) -> Weather:
    """A typical year with the sun's path at a given place (the climate basis stays De Bilt's)."""
    return typical_year(Site(latitude, longitude))
