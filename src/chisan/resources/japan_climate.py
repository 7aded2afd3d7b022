"""A Japanese municipality's weather year from the eight regional typical years and the measured annual GHI.

The builder (:func:`japan_weather_year`) makes, for a latitude and longitude in Japan:

Climate region
    The **nearest of the eight representative stations** of the regional typical years of Japan's
    energy-efficiency standard (great-circle distance from the town to Kitami, Iwamizawa, Morioka, Nagano,
    Utsunomiya, Okayama, Miyazaki, Naha; :data:`REGION_STATIONS`). This is a distance rule, not the official
    municipal climate-region list (which also follows altitude and heating degree-days): e.g. Tokyo falls to
    Utsunomiya (region 5) although the list puts it in region 6.
Temperature
    The station's hourly temperature, shifted per month by the latitude gradient of the eight stations'
    monthly means: T = T_station + b_m · (φ − φ_station), b_m the least-squares slope of the month's mean
    temperature against latitude over the eight stations [°C/°] (:func:`latitude_gradient_c_per_deg`;
    −1.40 °C/° in January, −0.60 °C/° in July, −0.44 °C/° in August). Leave-one-out on the stations halves
    the monthly error of the plain nearest station (below). Altitude is not used: the stations' elevations
    are not in the data.
Irradiance
    The station's hourly GHI, DNI and DHI (GHI = DNI · cos z + DHI, z at the middle of each hour at the
    station), scaled per month by f_m = c · H0_m(φ) / H0_m(φ_station) — H0 the monthly extraterrestrial
    irradiation (:func:`~chisan.resources.climate.monthly_extraterrestrial_kwh_per_m2_day`), which keeps the
    station's monthly clearness index [Liu & Jordan 1960] — with the one c that makes the annual GHI equal the
    **measured annual GHI at the town**: the inverse-distance-squared mean of the 4 nearest of NEDO's 840
    points (:func:`annual_ghi_at`). The diffuse fraction of each hour stays the station's. The sun of the
    hourly shape stands where it stood at the station (timing offset |Δλ| × 4 min: ≤ 6 min on the main
    islands' far ends, 14 min at Ishigaki, 19 min at Yonaguni); chisan's PV model, which takes the sun at the
    town, then yields 0.7 % less at Ishigaki (1,210 against 1,219 kWh/kW with Naha's sun) and 0.2 % more at
    Shikaoi (1,143 against 1,141).
Wind
    **Not local**: the regional typical years have no wind. ``wind_speed`` is chisan's seeded synthetic wind of
    the Tokyo (Hyakuri) IWEC monthly means (:data:`~chisan.resources.climate.MONTHLY_CLIMATES` ``"tokyo"``,
    Weibull k = 2), good enough for PV cell temperature, not for sizing a wind turbine; the source text says so.

Two ways to get the hourly shape, and the source text names the one used:

- **hourly files** from a data folder (``data_dir``, else the environment variable ``CHISAN_DATA``) laid out
  like chisan's shared data: ``weather/japan_climate_regions/region{1..8}_{station}.csv`` and
  ``solar/japan_annual_ghi_points.csv``;
- **bundled figures** otherwise: the regions' monthly mean GHI and temperature and the points' annual GHI
  (``resources/data/``, derived from those files, sources in their headers), driving chisan's synthetic year
  (:func:`~chisan.resources.climate.synthetic_weather_year`) at the town with the same monthly targets.

Method error (measured by :func:`method_error`, recomputed in ``tests/resources/test_japan_climate.py``)
------------------------------------------------------------------------------------------------------------
Annual GHI at a place, points leave-one-out (each of the 840 points predicted from the other 839):
mean absolute error 2.55 %, 95th percentile 6.6 % (:data:`GHI_METHOD_ERROR_FRACTION` = 0.066), largest 25.7 %
(Minamitorishima, 1,100 km from any other point).

Regional years, leave-one-out (each station predicted from the points and the other seven stations):

========== ============= ============ ============== ====================
station    annual GHI    monthly T,   monthly T,     predicted from
                         MAE          largest
========== ============= ============ ============== ====================
Kitami     +3.1 %        1.16 °C      3.1 °C         Iwamizawa
Iwamizawa  +0.1 %        1.13 °C      3.0 °C         Kitami
Morioka    +1.7 %        0.52 °C      1.6 °C         Utsunomiya
Nagano     −2.3 %        1.63 °C      2.7 °C         Utsunomiya
Utsunomiya +3.1 %        1.63 °C      2.7 °C         Nagano
Okayama    −1.3 %        0.89 °C      2.0 °C         Miyazaki
Miyazaki   −1.5 %        0.91 °C      2.0 °C         Okayama
Naha       +1.8 %        1.63 °C      3.0 °C         Miyazaki
========== ============= ============ ============== ====================

All stations: annual GHI within ±3.1 % (the points against the typical years, which come from other years'
records), monthly temperature mean absolute error 1.19 °C, RMS 1.46 °C, largest 3.1 °C (Kitami in winter,
from Iwamizawa). The plain nearest station (no latitude gradient) gives 2.36 °C mean absolute, 9.6 °C largest
(Naha from Miyazaki).

Tokyo (Hyakuri, 36.18 N 140.42 E) against the ASHRAE IWEC typical year, built from the hourly files:
region 5 (Utsunomiya, 64 km); annual GHI 1,289.6 kWh/m² against 1,306.8 (−1.3 %); monthly mean GHI mean
absolute error 10.4 % (typical years pick each month from different years); monthly temperature mean absolute
error 0.74 °C, annual mean 13.6 °C against 13.1 °C.

References
----------
.. [1] Regional typical years ("expanded AMeDAS" standard years of Japan's energy-efficiency standard, climate
   regions 1-8) as distributed in BRI-EES-House/heat_load_calc, ``heat_load_calc/expanded_amedas/``.
.. [2] NEDO solar radiation database, annual mean daily global irradiation per point, as distributed in
   masami-ryu/demo-pv-app, ``src/data/pvpoints.ts``.
.. [3] B. Y. H. Liu and R. C. Jordan, "The interrelationship and characteristic distribution of direct,
   diffuse and total solar radiation", Solar Energy 4(3), 1-19, 1960, :doi:`10.1016/0038-092X(60)90062-1`.
.. [4] D. Shepard, "A two-dimensional interpolation function for irregularly-spaced data", Proc. 23rd ACM
   National Conference, 517-524, 1968, :doi:`10.1145/800186.810616` (inverse-distance weighting).
.. [5] ASHRAE, International Weather for Energy Calculations (IWEC), 2001: TOKYO HYAKURI, WMO 477150.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from chisan.exceptions import DataError, ScenarioError
from chisan.resources.climate import (
    MonthlyClimate,
    _synthetic_wind,
    monthly_climate,
    monthly_extraterrestrial_kwh_per_m2_day,
    synthetic_weather_year,
)
from chisan.resources.weather import EPW_WIND_HEIGHT_M, plan_year_index, solar_position

__all__ = [
    "DATA_ENV",
    "GHI_METHOD_ERROR_FRACTION",
    "IDW_NEIGHBOURS",
    "JST",
    "REGION_STATIONS",
    "RegionClimate",
    "annual_ghi_at",
    "bundled_tables",
    "derive_tables",
    "ghi_points",
    "japan_climate_description",
    "japan_weather_year",
    "latitude_gradient_c_per_deg",
    "method_error",
    "nearest_region",
    "regional_climates",
    "resolve_data_dir",
]

DATA_ENV = "CHISAN_DATA"
"""Environment variable naming the data folder when none is given."""

JST = "Asia/Tokyo"
"""Clock of the regional typical years (JST, UTC+9, no daylight saving)."""

REGION_STATIONS: dict[int, tuple[str, float, float]] = {
    1: ("kitami", 43.82, 143.91),
    2: ("iwamizawa", 43.21, 141.79),
    3: ("morioka", 39.70, 141.17),
    4: ("nagano", 36.66, 138.20),
    5: ("utsunomiya", 36.55, 139.87),
    6: ("okayama", 34.66, 133.92),
    7: ("miyazaki", 31.94, 131.42),
    8: ("naha", 26.21, 127.685),
}
"""Climate region → (representative station, latitude [°N], longitude [°E]) of the regional typical years [1]."""

IDW_NEIGHBOURS: int = 4
"""Points averaged by :func:`annual_ghi_at` (inverse distance squared [4]); 4 gave the lowest leave-one-out
error of 1, 2, 4, 6, 8, 12 on the 840 points (mean absolute 3.19, 2.76, 2.55, 2.52, 2.53, 2.54 %; 95th
percentile 8.7, 7.4, 6.6, 6.7, 6.8, 6.7 %)."""

GHI_METHOD_ERROR_FRACTION: float = 0.066
"""Stated error of a town's annual GHI [-]: the 95th percentile of the points' leave-one-out relative error
(:func:`method_error`)."""

JAPAN_LATITUDE_DEG = (20.0, 46.0)
JAPAN_LONGITUDE_DEG = (122.0, 154.5)

_EARTH_RADIUS_KM = 6371.0
_REGION_DIR = Path("weather") / "japan_climate_regions"
_POINTS_FILE = Path("solar") / "japan_annual_ghi_points.csv"
_EPW_FILE = Path("weather") / "JPN_Tokyo.Hyakuri.477150_IWEC.epw"
_REGION_COLUMNS = ("month", "day", "hour_ending_jst", "temp_air_c", "dni_w_m2", "dhi_w_m2")
_WIND_SOURCE = "Tokyo (Hyakuri) IWEC monthly mean wind, synthetic hourly (Weibull k = 2): not local"


# --- data folder and tables ---------------------------------------------------------------------------------


def resolve_data_dir(data_dir: str | PathLike[str] | None = None) -> Path | None:
    """The data folder to read hourly files from: ``data_dir``, else ``$CHISAN_DATA``, else None (bundled).

    Raises
    ------
    DataError
        If the folder is given (or named by ``CHISAN_DATA``) but is not a directory.
    """
    where = "data folder (weather.data_dir or --data)"
    if data_dir is None or str(data_dir) == "":
        env = os.environ.get(DATA_ENV, "").strip()
        if not env:
            return None
        data_dir, where = env, f"data folder ${DATA_ENV}"
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise DataError(
            f"{where} = {str(data_dir)!r} is not a folder; allowed: a folder laid out like chisan's shared data "
            f"(with {_REGION_DIR}/ and {_POINTS_FILE}), or none to use the bundled monthly figures."
        )
    return path


def _region_file(data_dir: Path, region: int) -> Path:
    station = REGION_STATIONS[region][0]
    path = data_dir / _REGION_DIR / f"region{region}_{station}.csv"
    if not path.is_file():
        raise DataError(
            f"data folder {data_dir}: {path.relative_to(data_dir)} not found; allowed: a folder laid out like "
            "chisan's shared data (weather/japan_climate_regions/region1_kitami.csv ... region8_naha.csv), or no "
            "folder to use the bundled monthly figures."
        )
    return path


@functools.lru_cache(maxsize=16)
def _read_region_hourly(path: str, region: int) -> pd.DataFrame:
    """A region's typical year on JST interval starts: ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C].

    Stamps: hour ending 1-24 of the file → interval start hour_ending − 1 (the chisan convention) on a
    non-leap year's clock. GHI = DNI · cos z + DHI, z at the middle of the hour at the station.
    """
    raw = pd.read_csv(path)
    missing = [c for c in _REGION_COLUMNS if c not in raw.columns]
    if missing or len(raw) != 8760:
        raise DataError(
            f"{path}: {len(raw)} rows, missing columns {missing}; allowed: 8,760 rows with {list(_REGION_COLUMNS)}."
        )
    index = plan_year_index(2001, JST)  # any non-leap year: only month, day and hour are used
    expected = (index.month, index.day, index.hour + 1)
    got = (raw["month"].to_numpy(), raw["day"].to_numpy(), raw["hour_ending_jst"].to_numpy())
    if not all(np.array_equal(e, g) for e, g in zip(expected, got, strict=True)):
        raise DataError(f"{path}: rows are not the 8,760 hours of a non-leap year in order (month, day, hour 1-24).")
    _, lat, lon = REGION_STATIONS[region]
    zenith = solar_position(index, lat, lon)["zenith"].to_numpy()
    cos_zenith = np.clip(np.cos(np.radians(zenith)), 0.0, None)
    dni = raw["dni_w_m2"].to_numpy(float)
    dhi = raw["dhi_w_m2"].to_numpy(float)
    return pd.DataFrame(
        {
            "ghi": dni * cos_zenith + dhi,  # closure equation GHI = DNI cos z + DHI
            "dni": dni,
            "dhi": dhi,
            "temp_air": raw["temp_air_c"].to_numpy(float),
        },
        index=index,
    )


def _monthly_means(hourly: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean daily GHI [kWh/m²/day] and mean temperature [°C] of each month of an hourly year."""
    month = hourly.index.month.to_numpy()
    hours = np.bincount(month, minlength=13)[1:]
    ghi = np.bincount(month, weights=hourly["ghi"].to_numpy(), minlength=13)[1:] / 1000.0 / (hours / 24.0)
    temp = np.bincount(month, weights=hourly["temp_air"].to_numpy(), minlength=13)[1:] / hours
    return ghi, temp


@dataclass(frozen=True)
class RegionClimate:
    """Monthly means of one regional typical year.

    Attributes
    ----------
    region : int
        Climate region, 1-8.
    station : str
        Representative station.
    latitude, longitude : float
        Station [°].
    ghi_kwh_per_m2_day : numpy.ndarray
        Mean daily GHI of each month [kWh/m²/day], January first.
    temp_air_c : numpy.ndarray
        Mean air temperature of each month [°C].
    """

    region: int
    station: str
    latitude: float
    longitude: float
    ghi_kwh_per_m2_day: np.ndarray
    temp_air_c: np.ndarray

    @property
    def ghi_kwh_per_m2_year(self) -> float:
        """Annual GHI [kWh/m²] (Σ days of month × monthly mean, non-leap year)."""
        return float(np.dot(self.ghi_kwh_per_m2_day, _DAYS_IN_MONTH))


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def derive_tables(data_dir: str | PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures chisan bundles, derived from a data folder (so the bundled files can be checked or remade).

    Returns
    -------
    regions : pandas.DataFrame
        One row per (region, month): ``region``, ``station``, ``latitude_deg``, ``longitude_deg``, ``month``,
        ``ghi_kwh_per_m2_day`` (3 decimals), ``temp_air_c`` (2 decimals).
    points : pandas.DataFrame
        ``point_id``, ``name``, ``latitude_deg``, ``longitude_deg``, ``ghi_kwh_per_m2_year`` (values unchanged).
    """
    folder = Path(data_dir)
    rows = []
    for region, (station, lat, lon) in REGION_STATIONS.items():
        ghi, temp = _monthly_means(_read_region_hourly(str(_region_file(folder, region)), region))
        for m in range(12):
            rows.append((region, station, lat, lon, m + 1, round(float(ghi[m]), 3), round(float(temp[m]), 2)))
    regions = pd.DataFrame(
        rows,
        columns=["region", "station", "latitude_deg", "longitude_deg", "month", "ghi_kwh_per_m2_day", "temp_air_c"],
    )
    return regions, _read_points_file(folder / _POINTS_FILE)


def _read_points_file(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path} not found; allowed: a data folder with {_POINTS_FILE} (NEDO annual GHI points).")
    raw = pd.read_csv(path)
    need = ["point_id", "name_kana_romaji", "lat", "lon", "ghi_kwh_per_m2_year"]
    if missing := [c for c in need if c not in raw.columns]:
        raise DataError(f"{path}: missing columns {missing}; allowed: a file with {need}.")
    return pd.DataFrame(
        {
            "point_id": raw["point_id"].astype(int),
            "name": raw["name_kana_romaji"].astype(str),
            "latitude_deg": raw["lat"].astype(float),
            "longitude_deg": raw["lon"].astype(float),
            "ghi_kwh_per_m2_year": raw["ghi_kwh_per_m2_year"].astype(float),
        }
    )


@functools.lru_cache(maxsize=1)
def bundled_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled regional monthly means and points' annual GHI (same layout as :func:`derive_tables`)."""
    data = resources.files("chisan.resources").joinpath("data")
    with data.joinpath("japan_climate_regions_monthly.csv").open("r", encoding="utf-8") as f:
        regions = pd.read_csv(f, comment="#")
    with data.joinpath("japan_annual_ghi_points.csv").open("r", encoding="utf-8") as f:
        points = pd.read_csv(f, comment="#")
    return regions, points


def regional_climates(data_dir: Path | None = None) -> dict[int, RegionClimate]:
    """Monthly means of the eight regional years: from the hourly files of ``data_dir``, or the bundled table."""
    if data_dir is None:
        table = bundled_tables()[0]
        out = {}
        for region, rows in table.groupby("region"):
            rows = rows.sort_values("month")
            out[int(region)] = RegionClimate(
                int(region),
                str(rows["station"].iloc[0]),
                float(rows["latitude_deg"].iloc[0]),
                float(rows["longitude_deg"].iloc[0]),
                rows["ghi_kwh_per_m2_day"].to_numpy(float),
                rows["temp_air_c"].to_numpy(float),
            )
        return out
    out = {}
    for region, (station, lat, lon) in REGION_STATIONS.items():
        ghi, temp = _monthly_means(_read_region_hourly(str(_region_file(data_dir, region)), region))
        out[region] = RegionClimate(region, station, lat, lon, ghi, temp)
    return out


def ghi_points(data_dir: Path | None = None) -> pd.DataFrame:
    """NEDO's annual GHI points [2]: from ``data_dir``'s ``solar/japan_annual_ghi_points.csv``, or bundled."""
    if data_dir is None:
        return bundled_tables()[1]
    return _cached_points(str(data_dir / _POINTS_FILE))


@functools.lru_cache(maxsize=4)
def _cached_points(path: str) -> pd.DataFrame:
    return _read_points_file(Path(path))


# --- the rules ----------------------------------------------------------------------------------------------


def _distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance by the haversine formula on a sphere of radius 6,371 km [km]."""
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2.0 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _check_in_japan(latitude: float, longitude: float) -> None:
    (lat_lo, lat_hi), (lon_lo, lon_hi) = JAPAN_LATITUDE_DEG, JAPAN_LONGITUDE_DEG
    if not (lat_lo <= latitude <= lat_hi and lon_lo <= longitude <= lon_hi):
        raise ScenarioError(
            f"Japan climate (weather.source = 'japan'): location {latitude} N, {longitude} E is outside Japan; "
            f"allowed: latitude {lat_lo} to {lat_hi} [°N] and longitude {lon_lo} to {lon_hi} [°E]."
        )


def nearest_region(
    latitude: float, longitude: float, climates: dict[int, RegionClimate] | None = None
) -> tuple[int, float]:
    """Climate region of a place: the one whose representative station is nearest (great circle).

    Returns
    -------
    region : int
    distance_km : float
        Distance to its station [km].
    """
    regions = list(climates) if climates is not None else list(REGION_STATIONS)
    lats = [REGION_STATIONS[r][1] for r in regions]
    lons = [REGION_STATIONS[r][2] for r in regions]
    d = _distance_km(latitude, longitude, lats, lons)
    k = int(np.argmin(d))
    return regions[k], float(d[k])


def latitude_gradient_c_per_deg(climates: dict[int, RegionClimate]) -> np.ndarray:
    """Least-squares slope of each month's mean temperature against latitude over the given stations [°C/°]."""
    lat = np.array([c.latitude for c in climates.values()])
    temp = np.array([c.temp_air_c for c in climates.values()])  # (stations, 12)
    x = lat - lat.mean()
    return (x @ (temp - temp.mean(axis=0))) / (x @ x)  # ordinary least squares slope per month


def annual_ghi_at(
    latitude: float, longitude: float, points: pd.DataFrame, *, neighbours: int = IDW_NEIGHBOURS
) -> tuple[float, pd.DataFrame]:
    """Measured annual GHI at a place: inverse-distance-squared mean of the nearest points [4] [kWh/m²].

    A point closer than 0.1 km is taken alone.

    Returns
    -------
    ghi_kwh_per_m2_year : float
    used : pandas.DataFrame
        The points averaged, with ``distance_km`` and ``weight``.
    """
    d = _distance_km(latitude, longitude, points["latitude_deg"], points["longitude_deg"])
    order = np.argsort(d)[:neighbours]
    dist = np.maximum(d[order], 0.1)
    weight = 1.0 / dist**2
    weight /= weight.sum()
    used = points.iloc[order].assign(distance_km=d[order], weight=weight)
    return float(np.dot(weight, used["ghi_kwh_per_m2_year"])), used


@dataclass(frozen=True)
class _Plan:
    """What the builder decided for a place (shared by the builder and the description)."""

    region: int
    station: str
    distance_km: float
    ghi_target_kwh_per_m2_year: float
    nearest_point: str
    nearest_point_km: float
    month_factor: np.ndarray  # irradiance scale per month [-]
    temp_offset_c: np.ndarray  # temperature shift per month [°C]
    climate: RegionClimate


def _plan(latitude: float, longitude: float, climates: dict[int, RegionClimate], points: pd.DataFrame) -> _Plan:
    _check_in_japan(latitude, longitude)
    region, dist = nearest_region(latitude, longitude, climates)
    c = climates[region]
    target, used = annual_ghi_at(latitude, longitude, points)
    h0_ratio = monthly_extraterrestrial_kwh_per_m2_day(latitude) / monthly_extraterrestrial_kwh_per_m2_day(c.latitude)
    moved = c.ghi_kwh_per_m2_day * h0_ratio  # same monthly clearness index at the town's latitude [3]
    scale = target / float(np.dot(moved, _DAYS_IN_MONTH))
    offset = latitude_gradient_c_per_deg(climates) * (latitude - c.latitude)
    return _Plan(
        region,
        c.station,
        dist,
        target,
        str(used["name"].iloc[0]),
        float(used["distance_km"].iloc[0]),
        h0_ratio * scale,
        offset,
        c,
    )


def _describe(plan: _Plan, data_dir: Path | None, seed: int) -> str:
    shape = (
        f"hourly typical year of region {plan.region} ({plan.station.title()}) from {data_dir / _REGION_DIR}"
        if data_dir is not None
        else f"bundled monthly means of region {plan.region} ({plan.station.title()}) driving chisan's synthetic "
        f"year (seed {seed}); no data folder given (--data DIR or ${DATA_ENV})"
    )
    return (
        f"Japan climate: {shape}; region = nearest representative station ({plan.distance_km:.0f} km); "
        "temperature shifted by the stations' latitude gradient; irradiance scaled to the measured annual GHI "
        f"{plan.ghi_target_kwh_per_m2_year:,.1f} kWh/m2 (inverse-distance mean of the {IDW_NEIGHBOURS} nearest "
        f"NEDO points, nearest {plan.nearest_point.title()} {plan.nearest_point_km:.0f} km); wind: {_WIND_SOURCE}"
    )


def japan_climate_description(
    latitude: float, longitude: float, data_dir: str | PathLike[str] | None = None, *, seed: int = 0
) -> str:
    """The source text :func:`japan_weather_year` would give, without building the year (bundled figures only)."""
    folder = resolve_data_dir(data_dir)
    plan = _plan(float(latitude), float(longitude), regional_climates(None), bundled_tables()[1])
    return _describe(plan, folder, seed)


# --- the builder --------------------------------------------------------------------------------------------


def japan_weather_year(
    latitude: float,
    longitude: float,
    year: int,
    *,
    data_dir: str | PathLike[str] | None = None,
    seed: int = 0,
    altitude: float = 0.0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The hourly weather year of a place in Japan (module docstring: region, temperature, irradiance, wind).

    Parameters
    ----------
    latitude, longitude : float
        Place [°N, °E], inside Japan.
    year : int
        Calendar year of the stamps (8,760 hours, 29 February dropped; see ``plan_year_index``).
    data_dir : path, optional
        Folder laid out like chisan's shared data; default ``$CHISAN_DATA``; without one, the bundled monthly
        figures drive a synthetic year.
    seed : int, default 0
        Seed of the synthetic parts (the wind; the whole year on the bundled path).
    altitude : float, default 0
        Elevation [m], for the pressure column only.

    Returns
    -------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] at 10 m (not local),
        ``pressure`` [Pa] on JST interval starts.
    metadata : dict
        ``latitude``, ``longitude``, ``altitude``, ``tz``, ``source``, ``wind_height_m``, and ``region``,
        ``station``, ``ghi_target_kwh_per_m2_year``, ``climate_data`` (``"hourly files"`` or
        ``"bundled monthly means"``).

    Raises
    ------
    ScenarioError
        The place is outside Japan.
    DataError
        The data folder is given but lacks a file or a file is malformed.
    """
    latitude, longitude = float(latitude), float(longitude)
    folder = resolve_data_dir(data_dir)
    plan = _plan(latitude, longitude, regional_climates(folder), ghi_points(folder))
    source = _describe(plan, folder, seed)
    tokyo = monthly_climate("tokyo")
    if folder is None:
        climate = MonthlyClimate(
            ghi_kwh_per_m2_day=tuple(plan.climate.ghi_kwh_per_m2_day * plan.month_factor),
            temp_air_c=tuple(plan.climate.temp_air_c + plan.temp_offset_c),
            wind_speed_ms=tokyo.wind_speed_ms,
            latitude=latitude,
            longitude=longitude,
            altitude=float(altitude),
            tz=JST,
            source=source,
            wind_height_m=tokyo.wind_height_m,
        )
        weather, _ = synthetic_weather_year(climate, year, seed=seed, timezone=JST)
    else:
        station = _read_region_hourly(str(_region_file(folder, plan.region)), plan.region)
        index = plan_year_index(year, JST)  # same month-day-hour order as the station's non-leap year
        month = index.month.to_numpy() - 1
        factor = plan.month_factor[month]
        weather = pd.DataFrame(
            {
                "ghi": station["ghi"].to_numpy() * factor,
                "dni": station["dni"].to_numpy() * factor,
                "dhi": station["dhi"].to_numpy() * factor,
                "temp_air": station["temp_air"].to_numpy() + plan.temp_offset_c[month],
            },
            index=index,
        )
        wind_climate = dataclasses.replace(tokyo, latitude=latitude, longitude=longitude)
        weather["wind_speed"] = _synthetic_wind(np.random.default_rng(seed), index, wind_climate).to_numpy()
        weather["pressure"] = float(pvlib.atmosphere.alt2pres(altitude))
    metadata: dict[str, Any] = {
        "latitude": latitude,
        "longitude": longitude,
        "altitude": float(altitude),
        "tz": JST,
        "source": source,
        "wind_height_m": EPW_WIND_HEIGHT_M,
        "region": plan.region,
        "station": plan.station,
        "ghi_target_kwh_per_m2_year": plan.ghi_target_kwh_per_m2_year,
        "climate_data": "hourly files" if folder is not None else "bundled monthly means",
    }
    return weather, metadata


# --- method error -------------------------------------------------------------------------------------------


def method_error(data_dir: str | PathLike[str]) -> dict[str, Any]:
    """Measure the builder's error on the data of ``data_dir`` (the figures quoted in the module docstring).

    - ``points``: each of the points' annual GHI predicted from the others by :func:`annual_ghi_at`; relative
      error (predicted − measured) / measured: ``mean_abs_fraction``, ``p95_abs_fraction``, ``max_abs_fraction``.
    - ``stations``: per station (DataFrame indexed by station): ``ghi_error_fraction`` (annual GHI predicted
      from the points vs the station's typical year), ``temp_mae_c`` and ``temp_max_abs_c`` (monthly means
      predicted from the other seven stations: nearest of them + their latitude gradient), and
      ``temp_mae_nearest_c`` (without the gradient); plus ``temp_mae_c``, ``temp_rms_c``, ``temp_max_abs_c``
      over all stations and months, and ``temp_mae_nearest_c``.
    - ``tokyo_iwec``: the year built from the hourly files at Hyakuri against the IWEC EPW: ``ghi_built`` and
      ``ghi_epw`` [kWh/m²], ``ghi_error_fraction``, ``ghi_monthly_mae_fraction``, ``temp_monthly_mae_c``,
      ``temp_mean_built_c``, ``temp_mean_epw_c``, ``region``.
    """
    from chisan.resources.climate import monthly_climate_from_weather
    from chisan.resources.weather import read_epw

    folder = Path(data_dir)
    climates = regional_climates(folder)
    points = ghi_points(folder)

    lat = points["latitude_deg"].to_numpy()
    lon = points["longitude_deg"].to_numpy()
    ghi = points["ghi_kwh_per_m2_year"].to_numpy()
    d = _distance_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, :IDW_NEIGHBOURS]
    w = 1.0 / np.maximum(np.take_along_axis(d, order, axis=1), 0.1) ** 2
    predicted = (w * ghi[order]).sum(axis=1) / w.sum(axis=1)
    rel = np.abs(predicted - ghi) / ghi
    out: dict[str, Any] = {
        "points": {
            "n": len(ghi),
            "mean_abs_fraction": float(rel.mean()),
            "p95_abs_fraction": float(np.percentile(rel, 95)),
            "max_abs_fraction": float(rel.max()),
            "max_at": str(points["name"].iloc[int(np.argmax(rel))]),
        }
    }

    rows, errors, errors_nearest = {}, [], []
    for region, c in climates.items():
        others = {r: o for r, o in climates.items() if r != region}
        predicted_ghi, _ = annual_ghi_at(c.latitude, c.longitude, points)
        near, _ = nearest_region(c.latitude, c.longitude, others)
        slope = latitude_gradient_c_per_deg(others)
        temp = others[near].temp_air_c + slope * (c.latitude - others[near].latitude)
        err = temp - c.temp_air_c
        err_nearest = others[near].temp_air_c - c.temp_air_c
        errors.append(err)
        errors_nearest.append(err_nearest)
        rows[c.station] = {
            "ghi_error_fraction": predicted_ghi / c.ghi_kwh_per_m2_year - 1.0,
            "temp_mae_c": float(np.abs(err).mean()),
            "temp_max_abs_c": float(np.abs(err).max()),
            "temp_mae_nearest_c": float(np.abs(err_nearest).mean()),
            "predicted_from": others[near].station,
        }
    e, e_near = np.array(errors), np.array(errors_nearest)
    out["stations"] = pd.DataFrame.from_dict(rows, orient="index")
    out["temp_mae_c"] = float(np.abs(e).mean())
    out["temp_rms_c"] = float(np.sqrt((e**2).mean()))
    out["temp_max_abs_c"] = float(np.abs(e).max())
    out["temp_mae_nearest_c"] = float(np.abs(e_near).mean())
    out["temp_max_abs_nearest_c"] = float(np.abs(e_near).max())

    epw_path = folder / _EPW_FILE
    if not epw_path.is_file():
        raise DataError(f"{epw_path} not found; allowed: a data folder with {_EPW_FILE} (the Tokyo IWEC year).")
    epw, meta = read_epw(epw_path)
    epw_monthly = monthly_climate_from_weather(epw, meta)
    built, built_meta = japan_weather_year(meta["latitude"], meta["longitude"], 2001, data_dir=folder)
    built_ghi, built_temp = _monthly_means(built)
    epw_ghi = np.asarray(epw_monthly.ghi_kwh_per_m2_day)
    epw_temp = np.asarray(epw_monthly.temp_air_c)
    ghi_built = float(built["ghi"].sum() / 1000.0)
    ghi_epw = float(epw["ghi"].sum() / 1000.0)
    out["tokyo_iwec"] = {
        "region": built_meta["region"],
        "ghi_built": ghi_built,
        "ghi_epw": ghi_epw,
        "ghi_error_fraction": ghi_built / ghi_epw - 1.0,
        "ghi_monthly_mae_fraction": float(np.mean(np.abs(built_ghi / epw_ghi - 1.0))),
        "temp_monthly_mae_c": float(np.mean(np.abs(built_temp - epw_temp))),
        "temp_mean_built_c": float(built["temp_air"].mean()),
        "temp_mean_epw_c": float(epw["temp_air"].mean()),
    }
    return out
