"""Monthly climate tables and a seeded synthetic hourly weather year built from them.

When a town gives no weather file, :func:`synthetic_weather_year` makes a reproducible hourly year whose
monthly means equal a :class:`MonthlyClimate` table exactly:

- GHI = clear sky (Ineichen-Perez [1], pvlib's Linke turbidity climatology) × a daily clear-sky index
  (AR(1) through a Gaussian copula onto a beta distribution) × hourly noise, capped at
  :data:`GHI_CLEAR_SKY_CAP` × clear sky and rescaled per month to the table; DNI/DHI by Erbs [2].
- Air temperature = monthly mean + a diurnal cosine (amplitude :data:`TEMP_DIURNAL_AMPLITUDE_C`, maximum
  :data:`TEMP_MAX_LAG_H` after solar noon [3]) + hourly AR(1) noise, shifted per month to the table.
- Wind speed at 10 m = Weibull (k = 2 [4]) per month, with hour-to-hour correlation through a Gaussian
  copula on an AR(1) process, rescaled per month to the table.

The process parameters (day-to-day and hour-to-hour correlation, spreads) are statistics of the Tokyo
(Hyakuri) IWEC typical year, stated at each constant.

References
----------
.. [1] P. Ineichen and R. Perez, "A new airmass independent formulation for the Linke turbidity coefficient",
   Solar Energy 73(3), 151-157, 2002, :doi:`10.1016/S0038-092X(02)00045-2`.
.. [2] D. G. Erbs, S. A. Klein and J. A. Duffie, "Estimation of the diffuse radiation fraction for hourly,
   daily and monthly-average global radiation", Solar Energy 28(4), 293-302, 1982,
   :doi:`10.1016/0038-092X(82)90302-4`.
.. [3] W. J. Parton and J. A. Logan, "A model for diurnal variation in soil and air temperature",
   Agricultural Meteorology 23, 205-216, 1981, :doi:`10.1016/0002-1571(81)90105-9`.
.. [4] C. G. Justus, W. R. Hargraves, A. Mikhail and D. Graber, "Methods for estimating wind speed frequency
   distributions", Journal of Applied Meteorology 17(3), 350-353, 1978,
   :doi:`10.1175/1520-0450(1978)017<0350:MFEWSF>2.0.CO;2`.
.. [5] ASHRAE, International Weather for Energy Calculations (IWEC), 2001: TOKYO HYAKURI, WMO 477150
   (file JPN_Tokyo.Hyakuri.477150_IWEC.epw, distributed with EnergyPlus-based tools).
.. [6] B. Y. H. Liu and R. C. Jordan, "The interrelationship and characteristic distribution of direct,
   diffuse and total solar radiation", Solar Energy 4(3), 1-19, 1960, :doi:`10.1016/0038-092X(60)90062-1`.
.. [7] J. A. Duffie and W. A. Beckman, Solar Engineering of Thermal Processes, 4th ed., Wiley, 2013,
   section 1.10 (extraterrestrial radiation on a horizontal surface), :doi:`10.1002/9781118671603`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pvlib
from scipy import signal, stats

from chisan.exceptions import DataError, ScenarioError
from chisan.resources.weather import (
    EPW_WIND_HEIGHT_M,
    clear_sky_irradiance,
    dt_hours,
    plan_year_index,
    solar_position,
    split_ghi,
)

__all__ = [
    "GHI_CLEAR_SKY_CAP",
    "MONTHLY_CLIMATES",
    "TEMP_DIURNAL_AMPLITUDE_C",
    "TEMP_MAX_LAG_H",
    "WIND_WEIBULL_SHAPE",
    "MonthlyClimate",
    "climate_at_site",
    "monthly_climate",
    "monthly_climate_from_weather",
    "monthly_extraterrestrial_kwh_per_m2_day",
    "synthetic_weather_year",
]

_MONTHS = 12


def _twelve(values: Any, name: str) -> tuple[float, ...]:
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"MonthlyClimate.{name}: {values!r} is not a list of 12 numbers.") from exc
    if len(numbers) != _MONTHS or not all(math.isfinite(v) for v in numbers):
        raise ScenarioError(
            f"MonthlyClimate.{name}: got {len(numbers)} value(s) {numbers}; allowed: 12 finite monthly "
            "values, January first."
        )
    return numbers


@dataclass(frozen=True)
class MonthlyClimate:
    """Monthly mean climate of a site: the facts a synthetic weather year reproduces.

    Parameters
    ----------
    ghi_kwh_per_m2_day : tuple of 12 float
        Mean daily global horizontal irradiation of each month [kWh/m²/day], > 0.
    temp_air_c : tuple of 12 float
        Mean air temperature of each month [°C].
    wind_speed_ms : tuple of 12 float
        Mean wind speed of each month at ``wind_height_m`` [m/s], > 0.
    latitude, longitude : float
        Site [°], north and east positive.
    altitude : float
        Site elevation [m].
    tz : str
        IANA time zone in which the months are counted, e.g. ``"Asia/Tokyo"``.
    source : str
        Where the numbers come from.
    wind_height_m : float, default 10
        Height of ``wind_speed_ms`` [m].
    """

    ghi_kwh_per_m2_day: tuple[float, ...]
    temp_air_c: tuple[float, ...]
    wind_speed_ms: tuple[float, ...]
    latitude: float
    longitude: float
    altitude: float
    tz: str
    source: str
    wind_height_m: float = field(default=EPW_WIND_HEIGHT_M)

    def __post_init__(self) -> None:
        for name in ("ghi_kwh_per_m2_day", "temp_air_c", "wind_speed_ms"):
            object.__setattr__(self, name, _twelve(getattr(self, name), name))
        for name in ("ghi_kwh_per_m2_day", "wind_speed_ms"):
            if min(getattr(self, name)) <= 0:
                raise ScenarioError(f"MonthlyClimate.{name}: {getattr(self, name)}; allowed: values > 0.")
        if not -90.0 <= self.latitude <= 90.0:
            raise ScenarioError(f"MonthlyClimate.latitude: {self.latitude}; allowed: -90 to 90 [°].")
        if not -180.0 <= self.longitude <= 180.0:
            raise ScenarioError(f"MonthlyClimate.longitude: {self.longitude}; allowed: -180 to 180 [°].")
        if self.wind_height_m <= 0:
            raise ScenarioError(f"MonthlyClimate.wind_height_m: {self.wind_height_m}; allowed: > 0 [m].")


MONTHLY_CLIMATES: dict[str, MonthlyClimate] = {
    "tokyo": MonthlyClimate(
        ghi_kwh_per_m2_day=(2.52, 3.15, 3.54, 4.61, 4.79, 4.14, 4.39, 4.81, 3.47, 2.93, 2.49, 2.09),
        temp_air_c=(1.9, 3.2, 6.2, 11.3, 16.3, 19.1, 22.6, 24.4, 20.7, 16.0, 9.5, 4.8),
        wind_speed_ms=(1.85, 3.04, 3.50, 3.33, 3.78, 2.99, 3.23, 3.34, 3.30, 2.48, 2.35, 2.13),
        latitude=36.18,
        longitude=140.42,
        altitude=35.0,
        tz="Asia/Tokyo",
        source=(
            "Monthly means of the Tokyo (Hyakuri) IWEC typical year, ASHRAE 2001, WMO 477150 "
            "(JPN_Tokyo.Hyakuri.477150_IWEC.epw), as tabulated in chisan DESIGN.md section 7; "
            "annual GHI 1,306.8 kWh/m2"
        ),
    ),
    "shanghai": MonthlyClimate(
        # Baoshan (WMO 58362), 31.40 N, 121.45 E, 4 m. GHI: no Shanghai monthly normals were found in a source, so
        # the Tokyo (Hyakuri) monthly clearness index at Shanghai's latitude, i.e. climate_at_site(tokyo, 31.40,
        # 121.45, 4) rounded to 0.01 (Liu & Jordan [6]): annual 1,376.9 kWh/m2 — a method, not a measurement.
        ghi_kwh_per_m2_day=(2.93, 3.51, 3.77, 4.73, 4.80, 4.11, 4.37, 4.88, 3.63, 3.20, 2.85, 2.47),
        # (average daily high + average daily low) / 2 of the CMA 1971–2000 normals for Shanghai: highs 8.1 9.2
        # 12.8 19.1 24.1 27.6 31.8 31.3 27.2 22.6 17.0 11.1, lows 1.1 2.2 5.6 10.9 16.1 20.8 then 25 25 21 15 9 3
        # (the chart's whole degrees), as quoted at https://www.liquisearch.com/geography_of_shanghai/climate.
        temp_air_c=(4.6, 5.7, 9.2, 15.0, 20.1, 24.2, 28.4, 28.2, 24.1, 18.8, 13.0, 7.1),
        # Wind: no Shanghai source found; the Tokyo (Hyakuri) monthly means are a placeholder.
        wind_speed_ms=(1.85, 3.04, 3.50, 3.33, 3.78, 2.99, 3.23, 3.34, 3.30, 2.48, 2.35, 2.13),
        latitude=31.40,
        longitude=121.45,
        altitude=4.0,
        tz="Asia/Shanghai",
        source=(
            "Shanghai (Baoshan) synthetic climate: air temperature = mean of the CMA 1971-2000 average daily high "
            "and low (as quoted at https://www.liquisearch.com/geography_of_shanghai/climate); GHI = the Tokyo "
            "(Hyakuri) IWEC monthly clearness index moved to 31.40 N (no Shanghai irradiation normals found), "
            "annual 1,376.9 kWh/m2; wind = Tokyo (Hyakuri) placeholder (no Shanghai source found)"
        ),
    ),
}
"""Named monthly climates; look them up with :func:`monthly_climate`."""


def monthly_climate(name: str) -> MonthlyClimate:
    """Look up a named monthly climate of :data:`MONTHLY_CLIMATES` (case-insensitive).

    Raises
    ------
    ScenarioError
        If the name is unknown; the message lists the valid names.
    """
    key = str(name).strip().lower()
    if key not in MONTHLY_CLIMATES:
        raise ScenarioError(f"unknown monthly climate {name!r}; allowed: {sorted(MONTHLY_CLIMATES)}.")
    return MONTHLY_CLIMATES[key]


def monthly_climate_from_weather(
    weather: pd.DataFrame, metadata: dict[str, Any], *, source: str | None = None
) -> MonthlyClimate:
    """Monthly means of a weather frame (e.g. a typical year read by ``read_epw``).

    Mean daily GHI of a month = Σ ghi · Δt / 1000 / (days of that month in the data) [kWh/m²/day];
    temperature and wind are plain means of the month's stamps. Months are counted on the index's clock.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s], covering all 12 months.
    metadata : dict
        As returned by the readers (``latitude``, ``longitude``, ``altitude``, ``tz``, ``source``,
        ``wind_height_m``).
    source : str, optional
        Overrides ``metadata["source"]``.
    """
    step_h = dt_hours(weather.index)
    month = weather.index.month
    groups = weather.groupby(month)
    if len(groups) != _MONTHS:
        raise DataError(f"weather covers months {sorted(set(month))}; a monthly climate needs all 12 months.")
    days = groups.size() * step_h / 24.0
    ghi = groups["ghi"].sum() * step_h / 1000.0 / days  # [Wh/m2] -> [kWh/m2] per day
    return MonthlyClimate(
        ghi_kwh_per_m2_day=tuple(ghi),
        temp_air_c=tuple(groups["temp_air"].mean()),
        wind_speed_ms=tuple(groups["wind_speed"].mean()),
        latitude=float(metadata["latitude"]),
        longitude=float(metadata["longitude"]),
        altitude=float(metadata.get("altitude") or 0.0),
        tz=str(metadata["tz"]),
        source=source or f"monthly means of {metadata.get('source', 'a weather file')}",
        wind_height_m=float(metadata.get("wind_height_m", EPW_WIND_HEIGHT_M)),
    )


def monthly_extraterrestrial_kwh_per_m2_day(latitude: float, *, step_minutes: int = 10) -> np.ndarray:
    """Mean daily extraterrestrial irradiation on a horizontal surface of each month [kWh/m²/day].

    H0 = ∫ G_on · max(cos θz, 0) dt over each day [7] (section 1.10), integrated numerically over the hour angle
    every ``step_minutes`` of solar time for each day of a non-leap year, with pvlib's Spencer (1971)
    declination, its analytical zenith and ``get_extra_radiation`` for G_on. The daily sum depends on the
    latitude and the day only (not on longitude or the equation of time).

    Parameters
    ----------
    latitude : float
        Site latitude [°], north positive.
    step_minutes : int, default 10
        Integration step [min of solar time].

    Returns
    -------
    numpy.ndarray
        12 values, January first [kWh/m²/day].
    """
    doy = np.arange(1, 366)
    declination = pvlib.solarposition.declination_spencer71(doy)  # [rad]
    g_on = np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype=float)  # [W/m2] normal to the sun's rays
    minutes = np.arange(step_minutes / 2.0, 24 * 60, step_minutes)  # middles of the steps of a solar day
    hour_angle = np.radians((minutes / 60.0 - 12.0) * 15.0)  # 15° per hour from solar noon
    zenith = pvlib.solarposition.solar_zenith_analytical(
        np.radians(latitude), hour_angle[None, :], declination[:, None]
    )
    daily_kwh = g_on * np.clip(np.cos(zenith), 0.0, None).sum(axis=1) * step_minutes / 60.0 / 1000.0
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    month = np.repeat(np.arange(12), days)
    return np.bincount(month, weights=daily_kwh, minlength=12) / days


def climate_at_site(
    climate: MonthlyClimate, latitude: float, longitude: float, altitude: float = 0.0
) -> MonthlyClimate:
    """A monthly climate moved to another site, keeping its monthly clearness index, temperature and wind.

    The sun and the clear sky of a synthetic year made from the result are those of the new site. Monthly
    mean daily GHI is scaled by the ratio of extraterrestrial irradiation, H' = H · H0(φ') / H0(φ), which keeps
    the monthly clearness index K_T = H / H0 of the original climate [6]; temperature and wind are unchanged.
    An approximation for sites without their own data: it moves the sun, not the clouds.

    Parameters
    ----------
    climate : MonthlyClimate
        The climate of the original site.
    latitude, longitude : float
        New site [°], north and east positive.
    altitude : float, default 0
        New site elevation [m].

    Returns
    -------
    MonthlyClimate
    """
    if not -66.0 <= latitude <= 66.0:
        raise ScenarioError(
            f"climate_at_site: latitude {latitude}; allowed: -66 to 66 [°] (polar days and nights make the "
            "clearness-index transfer meaningless)."
        )
    ratio = monthly_extraterrestrial_kwh_per_m2_day(latitude) / monthly_extraterrestrial_kwh_per_m2_day(
        climate.latitude
    )
    return MonthlyClimate(
        ghi_kwh_per_m2_day=tuple(np.asarray(climate.ghi_kwh_per_m2_day) * ratio),
        temp_air_c=climate.temp_air_c,
        wind_speed_ms=climate.wind_speed_ms,
        latitude=float(latitude),
        longitude=float(longitude),
        altitude=float(altitude),
        tz=climate.tz,
        source=f"{climate.source}; moved to {latitude:.4f} N, {longitude:.4f} E (same monthly clearness index, "
        "temperature and wind)",
        wind_height_m=climate.wind_height_m,
    )


# --- synthetic year: parameters -----------------------------------------------------------------------------

GHI_CLEAR_SKY_CAP: float = 1.1
"""Upper bound of synthetic hourly GHI as a multiple of clear-sky GHI [-]. Hourly means above clear sky come
from cloud enhancement and are small: in the Hyakuri IWEC year the largest hourly GHI/clear-sky ratio
(clear sky > 50 W/m²) is 1.045."""

DAILY_CLEAR_SKY_INDEX_STD: float = 0.23
"""Standard deviation of the daily clear-sky index within a month [-]; 0.16-0.26 by month, 0.23 typical, in
the Hyakuri IWEC year."""

DAILY_CLEAR_SKY_INDEX_LAG1: float = 0.24
"""Day-to-day autocorrelation of the daily clear-sky index [-]; 0.24 in the Hyakuri IWEC year."""

HOURLY_CLEAR_SKY_NOISE_PER_CLOUDINESS: float = 0.7
"""Hourly log-noise of the clear-sky index around its daily value, per unit of daily cloudiness (1 − K) [-].
Clear days hardly vary hour to hour; with the Tokyo mean K ≈ 0.63 this gives σ ≈ 0.26, the spread of
log(hourly / daily clear-sky index) in the Hyakuri IWEC year."""

HOURLY_CLEAR_SKY_NOISE_LAG1: float = 0.49
"""Hour-to-hour autocorrelation of that log-noise [-]; 0.49 in the Hyakuri IWEC year."""

TEMP_DIURNAL_AMPLITUDE_C: float = 4.0
"""Half the daily swing of the mean diurnal temperature cycle [°C]. The mean diurnal cycle of the Hyakuri
IWEC year spans −3.5 °C (05:00) to +4.4 °C (13:00) around the daily mean, half-range 3.97 °C."""

TEMP_MAX_LAG_H: float = 1.86
"""Lag of the daily temperature maximum after solar noon [h]: Parton & Logan [3], Table 1, air at 150 cm."""

TEMP_NOISE_STD_C: float = 3.4
"""Standard deviation of hourly temperature departures from the month's mean diurnal cycle [°C]; 3.39 in the
Hyakuri IWEC year."""

TEMP_NOISE_LAG1: float = 0.965
"""Hour-to-hour autocorrelation of those departures [-]: 0.961 at 1 h and 0.43 at 24 h in the Hyakuri IWEC
year; 0.965 reproduces both (0.965^24 = 0.43)."""

WIND_WEIBULL_SHAPE: float = 2.0
"""Weibull shape k of hourly wind speeds within a month [-] (k ≈ 2, the Rayleigh case, typical of
mid-latitude sites [4])."""

WIND_LAG1: float = 0.86
"""Hour-to-hour autocorrelation of the Gaussian process behind wind speed [-]; the wind speeds of the Hyakuri
IWEC year have lag-1 autocorrelation 0.86."""


# --- synthetic year: building blocks ------------------------------------------------------------------------


def _ar1_gaussian(rng: np.random.Generator, n: int, lag1: float) -> np.ndarray:
    """Stationary AR(1) with unit variance: z_t = φ z_{t−1} + √(1−φ²) ε_t."""
    shocks = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = shocks[0]  # drawn from the stationary N(0, 1)
    # the recursion as a linear filter; zi carries φ z_0 into the first step
    z[1:] = signal.lfilter([math.sqrt(1.0 - lag1**2)], [1.0, -lag1], shocks[1:], zi=[lag1 * z[0]])[0]
    return z


def _scale_to_total_with_cap(values: np.ndarray, caps: np.ndarray, total: float) -> np.ndarray:
    """min(s · values, caps) with the one s ≥ 0 that makes the sum equal ``total``.

    f(s) = Σ min(s x_i, c_i) is continuous, piecewise linear and non-decreasing; between breakpoints
    b_i = c_i / x_i it equals Σ_{b_i ≤ s} c_i + s Σ_{b_i > s} x_i, solved for s on the segment that holds
    ``total``.
    """
    positive = values > 0
    if total > caps[positive].sum() * (1 + 1e-12):
        raise DataError(
            f"cannot reach {total:.6g} with values capped at {caps[positive].sum():.6g}: the monthly GHI of "
            f"the climate exceeds {GHI_CLEAR_SKY_CAP} x clear sky; check the table's units (kWh/m2/day)."
        )
    x = values[positive]
    c = caps[positive]
    order = np.argsort(c / x)
    x_sorted, c_sorted = x[order], c[order]
    breaks = c_sorted / x_sorted
    clipped_below = np.concatenate([[0.0], np.cumsum(c_sorted)[:-1]])  # Σ c of entries clipped before j
    free_from = np.cumsum(x_sorted[::-1])[::-1]  # Σ x of entries j.. (not yet clipped)
    f_at_break = clipped_below + breaks * free_from
    j = int(np.searchsorted(f_at_break, total, side="left"))
    j = min(j, len(x_sorted) - 1)
    scale = (total - clipped_below[j]) / free_from[j]
    return np.minimum(values * scale, caps)


def _synthetic_ghi(
    rng: np.random.Generator,
    clear_ghi: pd.Series,
    climate: MonthlyClimate,
    step_h: float,
) -> pd.Series:
    index = clear_ghi.index
    month = index.month.to_numpy()
    day_of_run = np.unique(index.normalize(), return_inverse=True)[1]
    n_days = int(day_of_run.max()) + 1
    days_in_month = pd.Series(month).groupby(month).size().to_numpy() * step_h / 24.0
    target_kwh = np.asarray(climate.ghi_kwh_per_m2_day) * days_in_month  # [kWh/m2] per month
    clear_kwh = clear_ghi.groupby(month).sum().to_numpy() * step_h / 1000.0

    # daily clear-sky index K: AR(1) Gaussian copula onto beta(mean m, std s) of each month
    mean_k = np.clip(target_kwh / clear_kwh, 0.05, 0.95)
    std_k = DAILY_CLEAR_SKY_INDEX_STD
    concentration = np.maximum(mean_k * (1 - mean_k) / std_k**2 - 1.0, 2.0)  # beta: var = m(1−m)/(ν+1)
    z_day = _ar1_gaussian(rng, n_days, DAILY_CLEAR_SKY_INDEX_LAG1)
    day_month = pd.Series(month).groupby(day_of_run).first().to_numpy()
    m_day = mean_k[day_month - 1]
    nu_day = concentration[day_month - 1]
    k_day = stats.beta.ppf(stats.norm.cdf(z_day), m_day * nu_day, (1 - m_day) * nu_day)[day_of_run]

    # hourly log-noise, larger on cloudier days
    sigma = HOURLY_CLEAR_SKY_NOISE_PER_CLOUDINESS * (1.0 - k_day)
    z_hour = _ar1_gaussian(rng, len(index), HOURLY_CLEAR_SKY_NOISE_LAG1)
    k_hour = k_day * np.exp(sigma * z_hour - sigma**2 / 2.0)  # mean-preserving lognormal factor

    raw = clear_ghi.to_numpy() * k_hour
    caps = clear_ghi.to_numpy() * GHI_CLEAR_SKY_CAP
    ghi = np.empty(len(index))
    for m in range(1, _MONTHS + 1):
        rows = month == m
        total = target_kwh[m - 1] * 1000.0 / step_h  # Σ ghi [W/m2] that gives the month's kWh/m2
        ghi[rows] = _scale_to_total_with_cap(raw[rows], caps[rows], total)
    return pd.Series(ghi, index=index, name="ghi")


def _synthetic_temperature(
    rng: np.random.Generator, index: pd.DatetimeIndex, climate: MonthlyClimate, amplitude_c: float
) -> pd.Series:
    utc_hours = (index.tz_convert("UTC") - index.tz_convert("UTC").normalize()) / pd.Timedelta(hours=1)
    middle_solar_hours = (np.asarray(utc_hours) + dt_hours(index) / 2 + climate.longitude / 15.0) % 24.0
    # local mean solar time (equation of time, ±16 min, neglected); maximum TEMP_MAX_LAG_H after noon [3]
    diurnal = amplitude_c * np.cos(2 * np.pi * (middle_solar_hours - 12.0 - TEMP_MAX_LAG_H) / 24.0)
    noise = TEMP_NOISE_STD_C * _ar1_gaussian(rng, len(index), TEMP_NOISE_LAG1)
    temp = pd.Series(diurnal + noise, index=index)
    month = index.month
    table = np.asarray(climate.temp_air_c)[month - 1]
    return (temp - temp.groupby(month).transform("mean") + table).rename("temp_air")


def _synthetic_wind(rng: np.random.Generator, index: pd.DatetimeIndex, climate: MonthlyClimate) -> pd.Series:
    month = index.month
    mean = np.asarray(climate.wind_speed_ms)[month - 1]
    scale = mean / math.gamma(1.0 + 1.0 / WIND_WEIBULL_SHAPE)  # Weibull mean = λ Γ(1 + 1/k) [4]
    z = _ar1_gaussian(rng, len(index), WIND_LAG1)
    # Gaussian copula: exceedance probability of z -> Weibull quantile (isf keeps precision in the tail)
    speed = pd.Series(stats.weibull_min.isf(stats.norm.sf(z), WIND_WEIBULL_SHAPE, scale=scale), index=index)
    return (speed * mean / speed.groupby(month).transform("mean")).rename("wind_speed")


def synthetic_weather_year(
    climate: MonthlyClimate,
    year: int,
    *,
    seed: int,
    timezone: str | None = None,
    temp_diurnal_amplitude_c: float = TEMP_DIURNAL_AMPLITUDE_C,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A seeded, reproducible synthetic hourly weather year whose monthly means equal ``climate`` exactly.

    See the module docstring for the model. Monthly mean daily GHI, mean temperature and mean wind speed
    equal the table to floating-point precision, so the annual GHI is Σ days × monthly mean; hourly GHI never
    exceeds :data:`GHI_CLEAR_SKY_CAP` × clear-sky GHI. The same seed gives the same frame.

    Parameters
    ----------
    climate : MonthlyClimate
        Monthly means and site (e.g. ``monthly_climate("tokyo")``).
    year : int
        Calendar year; 8,760 hours (29 February dropped in leap years, see ``plan_year_index``).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    timezone : str, optional
        IANA zone of the index and of the month boundaries; default ``climate.tz``.
    temp_diurnal_amplitude_c : float, default :data:`TEMP_DIURNAL_AMPLITUDE_C`
        Half the daily temperature swing [°C].

    Returns
    -------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] at
        ``climate.wind_height_m``, ``pressure`` [Pa] (standard atmosphere at the site's altitude, constant).
    metadata : dict
        ``latitude``, ``longitude``, ``altitude``, ``tz``, ``source``, ``wind_height_m``.
    """
    zone = timezone or climate.tz
    index = plan_year_index(year, zone)
    step_h = 1.0
    rng = np.random.default_rng(seed)
    position = solar_position(index, climate.latitude, climate.longitude, climate.altitude)
    clear = clear_sky_irradiance(index, climate.latitude, climate.longitude, climate.altitude, position=position)
    ghi = _synthetic_ghi(rng, clear["ghi"], climate, step_h)
    temp_air = _synthetic_temperature(rng, index, climate, temp_diurnal_amplitude_c)
    wind_speed = _synthetic_wind(rng, index, climate)
    split = split_ghi(ghi, position)
    weather = pd.DataFrame(
        {
            "ghi": ghi,
            "dni": split["dni"],
            "dhi": split["dhi"],
            "temp_air": temp_air,
            "wind_speed": wind_speed,
            "pressure": float(pvlib.atmosphere.alt2pres(climate.altitude)),
        },
        index=index,
    )
    metadata: dict[str, Any] = {
        "latitude": climate.latitude,
        "longitude": climate.longitude,
        "altitude": climate.altitude,
        "tz": zone,
        "source": f"synthetic weather year {year} (seed {seed}) from {climate.source}",
        "wind_height_m": climate.wind_height_m,
    }
    return weather, metadata
