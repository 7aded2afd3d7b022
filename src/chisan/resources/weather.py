"""Weather: readers that return pvlib glossary columns on a tz-aware index, sampling checks, the plan year.

Every reader returns ``(weather, metadata)``:

- ``weather`` — a DataFrame on a tz-aware :class:`pandas.DatetimeIndex` with the pvlib glossary columns
  ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] (at ``metadata["wind_height_m"]``)
  and, when the source has them, ``pressure`` [Pa], ``relative_humidity`` [%] and ``cloud_cover`` [%].
- ``metadata`` — a dict with ``latitude``, ``longitude`` [°], ``altitude`` [m], ``tz`` (a name pandas and
  :mod:`zoneinfo` accept), ``source`` (what the data are and where they came from) and ``wind_height_m`` [m].

Time convention (the one pvlib applies to EPW files): each stamp labels the *start* of its interval, and
irradiance is the mean over ``[t, t + Δt)``. Sun positions are therefore evaluated at the interval's middle,
``t + Δt/2`` (see :func:`solar_position`), so that, for hourly data, the sun of 11:30 lights the hour labelled
11:00 and solar noon stays at noon.

References
----------
.. [1] EnergyPlus, "Auxiliary Programs", chapter "Weather Converter Program" (EPW format, missing-value codes,
   hour-ending convention). https://energyplus.readthedocs.io/en/latest/
.. [2] S. Wilcox and W. Marion, "Users Manual for TMY3 Data Sets", NREL/TP-581-43156, 2008,
   :doi:`10.2172/928611`.
.. [3] P. Ineichen and R. Perez, "A new airmass independent formulation for the Linke turbidity coefficient",
   Solar Energy 73(3), 151-157, 2002, :doi:`10.1016/S0038-092X(02)00045-2`.
.. [4] D. P. Larson, L. Nonnenmacher and C. F. M. Coimbra, "Day-ahead forecasting of solar power output from
   photovoltaic plants in the American Southwest", Renewable Energy 91, 11-20, 2016,
   :doi:`10.1016/j.renene.2016.01.039`.
.. [5] D. G. Erbs, S. A. Klein and J. A. Duffie, "Estimation of the diffuse radiation fraction for hourly,
   daily and monthly-average global radiation", Solar Energy 28(4), 293-302, 1982,
   :doi:`10.1016/0038-092X(82)90302-4`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from chisan.exceptions import DataError
from chisan.units import fahrenheit_to_celsius, kelvin_to_celsius, kmh_to_ms

__all__ = [
    "ALLOWED_UNITS",
    "CLOUD_COVER_GHI_OFFSET_PERCENT",
    "EPW_MISSING_CODES",
    "EPW_WIND_HEIGHT_M",
    "WEATHER_COLUMNS",
    "check_regular",
    "clear_sky_irradiance",
    "dt_hours",
    "ghi_from_cloud_cover",
    "plan_year_index",
    "read_epw",
    "read_tmy3",
    "read_weather_csv",
    "solar_position",
    "split_ghi",
    "to_plan_year",
]

WEATHER_COLUMNS: dict[str, str] = {
    "ghi": "W/m2",
    "dni": "W/m2",
    "dhi": "W/m2",
    "temp_air": "degC",
    "wind_speed": "m/s",
    "pressure": "Pa",
    "relative_humidity": "%",
    "cloud_cover": "%",
}
"""The glossary columns a weather frame may hold (pvlib names), each with the unit it is stored in."""


def _identity(values: pd.Series) -> pd.Series:
    return values


def _hpa_to_pa(values: pd.Series) -> pd.Series:
    return values * 100.0  # 1 hPa = 100 Pa


ALLOWED_UNITS: dict[str, dict[str, Callable[[pd.Series], pd.Series]]] = {
    "ghi": {"W/m2": _identity},
    "dni": {"W/m2": _identity},
    "dhi": {"W/m2": _identity},
    "temp_air": {"degC": _identity, "K": kelvin_to_celsius, "degF": fahrenheit_to_celsius},
    "wind_speed": {"m/s": _identity, "km/h": kmh_to_ms},
    "pressure": {"Pa": _identity, "hPa": _hpa_to_pa},
    "relative_humidity": {"%": _identity},
    "cloud_cover": {"%": _identity},
}
"""Units :func:`read_weather_csv` accepts for each glossary column, with the conversion to the stored unit."""

EPW_MISSING_CODES: dict[str, float] = {
    "temp_air": 99.9,
    "relative_humidity": 999.0,
    "pressure": 999999.0,
    "ghi": 9999.0,
    "dni": 9999.0,
    "dhi": 9999.0,
    "wind_speed": 999.0,
}
"""Values that mark a missing field in an EPW file ("missing" column of the EPW field table in [1])."""

CLOUD_COVER_GHI_OFFSET_PERCENT: float = 35.0
"""GHI under full (100 %) cloud cover as a share of clear-sky GHI [%], Larson et al. 2016 [4] (the default of
pvlib's former ``forecast`` module, ``cloud_cover_to_ghi_linear``)."""

EPW_WIND_HEIGHT_M: float = 10.0
"""Height of EPW and TMY3 wind speeds [m]: WMO standard anemometer height, which EnergyPlus assumes for the
weather station (``Site:WeatherStation``, default wind sensor height 10 m)."""

_EPW_COLUMNS = ["ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure", "relative_humidity"]
_REQUIRED_COLUMNS = ["temp_air", "wind_speed"]


# --- time index ---------------------------------------------------------------------------------------------


def _fixed_offset_tz_name(utc_offset_hours: float) -> str:
    """Name of a fixed-offset zone that pandas and :mod:`zoneinfo` both accept (``Etc/GMT-9`` = UTC+9)."""
    if float(utc_offset_hours).is_integer():
        hours = int(utc_offset_hours)
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # the Etc/ zones count with inverted sign
    sign = "+" if utc_offset_hours >= 0 else "-"
    minutes = round(abs(utc_offset_hours) * 60)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _steps(index: pd.DatetimeIndex) -> pd.TimedeltaIndex:
    return pd.TimedeltaIndex(index[1:] - index[:-1])


def _is_leap_day_gap(index: pd.DatetimeIndex, position: int, step: pd.Timedelta) -> bool:
    """Whether the step after ``index[position]`` skips just a dropped 29 February (see plan_year_index)."""
    before, after = index[position], index[position + 1]
    return (
        after - before == step + pd.Timedelta(days=1)
        and before.month == 2
        and before.day == 28
        and after.month == 3
        and after.day == 1
        and before.is_leap_year
    )


def check_regular(
    index: pd.DatetimeIndex,
    *,
    source: str | None = None,
    first_row: int = 0,
    allow_leap_day_gap: bool = False,
) -> pd.Timedelta:
    """Check that a time index is tz-aware, strictly increasing and regularly sampled.

    Modelled on pvlib's ``tools._get_sample_intervals``, but raising an error that names where the sampling
    breaks.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time stamps, at least two.
    source : str, optional
        What the index belongs to (e.g. a file name), put at the start of the error message.
    first_row : int, default 0
        Number added to positions in the message, so that they read as row (line) numbers of a file.
    allow_leap_day_gap : bool, default False
        Accept a jump over 29 February, the one irregularity of a plan year of a leap year
        (see :func:`plan_year_index`).

    Returns
    -------
    pandas.Timedelta
        The sampling step.

    Raises
    ------
    DataError
        If the index is not tz-aware, has fewer than two stamps, repeats or goes back in time, or if any step
        differs from the first one (a gap or irregular sampling).
    """
    where = f"{source}: " if source else ""
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(f"{where}the time index must be a pandas.DatetimeIndex, got {type(index).__name__}.")
    if index.tz is None:
        raise DataError(
            f"{where}the time index has no time zone; allowed: tz-aware stamps (localize with the site's "
            "time zone, e.g. 'Asia/Tokyo')."
        )
    if len(index) < 2:
        raise DataError(f"{where}the time index has {len(index)} stamp(s); at least 2 are needed.")
    steps = _steps(index)
    step = steps[0]
    if step <= pd.Timedelta(0):
        raise DataError(
            f"{where}time stamps repeat or go back in time at rows {first_row} and {1 + first_row} "
            f"({index[0]} -> {index[1]}); allowed: strictly increasing stamps."
        )
    for position in np.flatnonzero(steps != step):
        if allow_leap_day_gap and _is_leap_day_gap(index, position, step):
            continue
        before, after = index[position], index[position + 1]
        raise DataError(
            f"{where}time stamps are not regularly sampled: rows {position + first_row} and "
            f"{position + 1 + first_row} ({before} -> {after}) are {after - before} apart, while the first "
            f"step is {step}; allowed: one constant step without gaps, repeats or reversals (resample or "
            "fill the gap first)."
        )
    return step


def dt_hours(index: pd.DatetimeIndex) -> float:
    """Sampling step of a time index [h]: the most frequent interval between consecutive stamps.

    A typical meteorological year (EPW, TMY3) glues months of different years, and a plan year of a leap year
    skips 29 February; both are sampled at one step although their stamps jump. Use :func:`check_regular`
    to require strictly regular sampling.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        At least two stamps.

    Returns
    -------
    float
        Step [h].
    """
    if len(index) < 2:
        raise DataError(f"a time index needs at least 2 stamps to have a step, got {len(index)}.")
    steps = _steps(index)
    step = pd.Series(steps[steps > pd.Timedelta(0)]).mode()
    if step.empty:
        raise DataError("the time index never increases; allowed: increasing stamps.")
    return float(step.iloc[0] / pd.Timedelta(hours=1))


def plan_year_index(year: int, timezone: str) -> pd.DatetimeIndex:
    """The 8,760 hourly stamps of one calendar year in a time zone (29 February dropped in leap years).

    A plan year always has 365 days so that annual sums compare between years. In a leap year the stamps of
    29 February are left out: the index then jumps from 28 February 23:00 to 1 March 00:00
    (:func:`check_regular` accepts this with ``allow_leap_day_gap=True``). In a zone with daylight saving time
    the stamps are regular in absolute time (the local clock skips and repeats an hour).

    Parameters
    ----------
    year : int
        Calendar year.
    timezone : str
        IANA time zone of the municipality, e.g. ``"Asia/Tokyo"``.

    Returns
    -------
    pandas.DatetimeIndex
        8,760 stamps, each the start of its hour, named ``time``.
    """
    try:
        start = pd.Timestamp(year=year, month=1, day=1, tz=timezone)
        end = pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
    except Exception as exc:  # pytz/zoneinfo raise different types for unknown zones
        raise DataError(
            f"time zone {timezone!r} is not known; allowed: IANA names such as 'Asia/Tokyo' or 'UTC'."
        ) from exc
    index = pd.date_range(start, end, freq="h", inclusive="left", name="time")
    return index[~((index.month == 2) & (index.day == 29))]


# --- sun and sky --------------------------------------------------------------------------------------------


def _interval_middles(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index + pd.Timedelta(hours=dt_hours(index) / 2.0)


def solar_position(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float = 0.0,
    temp_air: float | pd.Series = 12.0,
) -> pd.DataFrame:
    """Sun position at the middle of each interval, by pvlib's NREL SPA (``get_solarposition``).

    Stamps label the start of their interval (module docstring), so the position is evaluated at
    ``t + Δt/2``: for hourly data, at half past each hour.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware interval starts.
    latitude, longitude : float
        Site [°], north and east positive.
    altitude : float, default 0
        Site elevation [m].
    temp_air : float or pandas.Series, default 12
        Air temperature [°C], for the refraction correction.

    Returns
    -------
    pandas.DataFrame
        pvlib's columns (``apparent_zenith``, ``zenith``, ``azimuth``, ... [°]) on ``index``.
    """
    middles = _interval_middles(index)
    temperature = temp_air.to_numpy() if isinstance(temp_air, pd.Series) else temp_air
    position = pvlib.solarposition.get_solarposition(
        middles, latitude, longitude, altitude=altitude, temperature=temperature
    )
    position.index = index
    return position


def clear_sky_irradiance(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float = 0.0,
    *,
    position: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Clear-sky irradiance by the Ineichen-Perez model [3] with pvlib's bundled Linke turbidity climatology.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware interval starts; the sky is evaluated at interval middles.
    latitude, longitude : float
        Site [°].
    altitude : float, default 0
        Site elevation [m].
    position : pandas.DataFrame, optional
        Output of :func:`solar_position` for the same index, to avoid computing it twice.

    Returns
    -------
    pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²] on ``index``.
    """
    if position is None:
        position = solar_position(index, latitude, longitude, altitude)
    middles = _interval_middles(index)
    linke_turbidity = pvlib.clearsky.lookup_linke_turbidity(middles, latitude, longitude).to_numpy()
    airmass_relative = pvlib.atmosphere.get_relative_airmass(position["apparent_zenith"].to_numpy())
    airmass_absolute = pvlib.atmosphere.get_absolute_airmass(airmass_relative, pvlib.atmosphere.alt2pres(altitude))
    dni_extra = pvlib.irradiance.get_extra_radiation(middles).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # airmass is NaN/inf with the sun down
        clear = pvlib.clearsky.ineichen(
            position["apparent_zenith"].to_numpy(),
            airmass_absolute,
            linke_turbidity,
            altitude=altitude,
            dni_extra=dni_extra,
        )
    return pd.DataFrame({name: np.nan_to_num(clear[name]) for name in ("ghi", "dni", "dhi")}, index=index)


def ghi_from_cloud_cover(
    cloud_cover: pd.Series,
    ghi_clear: pd.Series,
    offset_percent: float = CLOUD_COVER_GHI_OFFSET_PERCENT,
) -> pd.Series:
    """GHI from total cloud cover by the linear model of Larson et al. 2016 [4].

    ``ghi = (offset + (1 - offset) * (1 - cloud_cover)) * ghi_clear`` with fractions: clear sky at 0 % cover,
    ``offset`` × clear sky at 100 % (as in pvlib's former ``forecast.cloud_cover_to_ghi_linear``).

    Parameters
    ----------
    cloud_cover : pandas.Series
        Total cloud cover [%], 0-100.
    ghi_clear : pandas.Series
        Clear-sky GHI [W/m²].
    offset_percent : float, default 35
        GHI at full cover as a share of clear-sky GHI [%].

    Returns
    -------
    pandas.Series
        GHI [W/m²], named ``ghi``.
    """
    offset = offset_percent / 100.0
    cover = cloud_cover / 100.0
    ghi = (offset + (1.0 - offset) * (1.0 - cover)) * ghi_clear  # linear model of [4]
    return ghi.rename("ghi")


def split_ghi(ghi: pd.Series, position: pd.DataFrame) -> pd.DataFrame:
    """Split GHI into DNI and DHI by the Erbs diffuse-fraction correlation [5] (``pvlib.irradiance.erbs``).

    Parameters
    ----------
    ghi : pandas.Series
        Global horizontal irradiance [W/m²] on interval starts.
    position : pandas.DataFrame
        Output of :func:`solar_position` on the same index (``zenith`` [°] at interval middles).

    Returns
    -------
    pandas.DataFrame
        ``dni``, ``dhi`` [W/m²].
    """
    day_of_year = _interval_middles(ghi.index).dayofyear.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # erbs divides by extraterrestrial GHI at night
        parts = pvlib.irradiance.erbs(ghi.to_numpy(), position["zenith"].to_numpy(), day_of_year)
    return pd.DataFrame(
        {"dni": np.asarray(parts["dni"], dtype=float), "dhi": np.asarray(parts["dhi"], dtype=float)},
        index=ghi.index,
    )


# --- readers ------------------------------------------------------------------------------------------------


def _check_epw_missing(weather: pd.DataFrame, path: str | PathLike[str]) -> None:
    for column, code in EPW_MISSING_CODES.items():
        values = weather[column]
        missing = (values >= code) | values.isna()
        if missing.any():
            position = int(np.flatnonzero(missing.to_numpy())[0])
            raise DataError(
                f"{path}: column {column!r}, data row {position + 1} ({weather.index[position]}): value "
                f"{values.iloc[position]} is the EPW missing-data code (>= {code}) and {int(missing.sum())} "
                "row(s) have it; allowed: measured values (fill the file's gaps first)."
            )


def read_epw(path: str | PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an EnergyPlus weather (EPW) file with ``pvlib.iotools.read_epw``.

    pvlib moves EPW's hour-ending stamps (hour 1 = 00:00-01:00) to the start of each hour, the convention of
    this module. The stamps keep the file's years, which differ between months of a typical year; use
    :func:`to_plan_year` to lay them on a calendar year.

    Parameters
    ----------
    path : str or path-like
        EPW file.

    Returns
    -------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] at 10 m, ``pressure`` [Pa],
        ``relative_humidity`` [%], in the file's standard time (fixed UTC offset).
    metadata : dict
        ``latitude``, ``longitude`` [°], ``altitude`` [m], ``tz``, ``source``, ``wind_height_m`` [m].

    Raises
    ------
    DataError
        If the file cannot be parsed or holds EPW missing-data codes.
    """
    try:
        data, header = pvlib.iotools.read_epw(path)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DataError(f"{path}: not a readable EPW file ({exc}); allowed: EnergyPlus EPW format.") from exc
    weather = data.rename(columns={"atmospheric_pressure": "pressure"})[_EPW_COLUMNS].astype(float)
    weather.index.name = "time"
    _check_epw_missing(weather, path)
    metadata: dict[str, Any] = {
        "latitude": float(header["latitude"]),
        "longitude": float(header["longitude"]),
        "altitude": float(header["altitude"]),
        "tz": _fixed_offset_tz_name(float(header["TZ"])),
        "source": (
            f"EPW {Path(path).name}: {header.get('city', '')} ({header.get('data_type', '')}, "
            f"WMO {header.get('WMO_code', '')})"
        ),
        "wind_height_m": EPW_WIND_HEIGHT_M,
    }
    return weather, metadata


def read_tmy3(path: str | PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read an NREL TMY3 file with ``pvlib.iotools.read_tmy3``.

    TMY3 stamps end their hour (01:00 = 00:00-01:00) [2]; they are moved back one hour to the start of
    each hour, the convention of this module. Pressure is converted from mbar to Pa.

    Parameters
    ----------
    path : str or path-like
        TMY3 CSV file.

    Returns
    -------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] at 10 m, ``pressure`` [Pa],
        ``relative_humidity`` [%].
    metadata : dict
        ``latitude``, ``longitude`` [°], ``altitude`` [m], ``tz``, ``source``, ``wind_height_m`` [m].
    """
    try:
        data, header = pvlib.iotools.read_tmy3(path, map_variables=True)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DataError(f"{path}: not a readable TMY3 file ({exc}); allowed: NREL TMY3 CSV format.") from exc
    weather = data[_EPW_COLUMNS].astype(float)
    weather["pressure"] = _hpa_to_pa(weather["pressure"])  # TMY3 pressure is in mbar = hPa [2]
    weather.index = (weather.index - pd.Timedelta(hours=1)).rename("time")  # hour-ending -> hour-start
    missing = weather.isna()
    if missing.any().any():
        column = str(missing.any()[missing.any()].index[0])
        position = int(np.flatnonzero(missing[column].to_numpy())[0])
        raise DataError(f"{path}: column {column!r}, data row {position + 1}: value is missing.")
    metadata: dict[str, Any] = {
        "latitude": float(header["latitude"]),
        "longitude": float(header["longitude"]),
        "altitude": float(header["altitude"]),
        "tz": _fixed_offset_tz_name(float(header["TZ"])),
        "source": f"TMY3 {Path(path).name}: {header.get('Name', '')} (USAF {header.get('USAF', '')})",
        "wind_height_m": EPW_WIND_HEIGHT_M,
    }
    return weather, metadata


def _csv_column_map(
    header: list[str], columns: Mapping[str, str] | None, time_column: str, path: str
) -> dict[str, str]:
    """Glossary name -> source column, checked against the file header."""
    if time_column not in header:
        raise DataError(
            f"{path}: time column {time_column!r} not found; the file has columns {header} (pass time_column=...)."
        )
    mapping: dict[str, str] = {}
    for source, name in (columns or {}).items():
        if name not in WEATHER_COLUMNS:
            raise DataError(
                f"{path}: columns maps {source!r} to {name!r}, which is not a weather quantity; allowed: "
                f"{sorted(WEATHER_COLUMNS)}."
            )
        if source not in header:
            raise DataError(
                f"{path}: column {source!r} (given in columns for {name!r}) not found; the file has {header}."
            )
        if name in mapping:
            raise DataError(f"{path}: columns maps both {mapping[name]!r} and {source!r} to {name!r}.")
        mapping[name] = source
    for name in WEATHER_COLUMNS:
        if name not in mapping and name in header:
            mapping[name] = name
    return mapping


def _csv_check_units(mapping: Mapping[str, str], units: Mapping[str, str], path: str) -> None:
    for name, source in mapping.items():
        allowed = sorted(ALLOWED_UNITS[name])
        if name not in units:
            raise DataError(
                f"{path}: column {source!r} ({name}) has no unit; state it in units={{{name!r}: ...}}, "
                f"allowed: {allowed}."
            )
        if units[name] not in ALLOWED_UNITS[name]:
            raise DataError(f"{path}: column {source!r} ({name}) has unknown unit {units[name]!r}; allowed: {allowed}.")
    for name in units:
        if name not in mapping:
            raise DataError(
                f"{path}: units names {name!r}, but no column of the file is mapped to it; mapped "
                f"quantities: {sorted(mapping)}."
            )


def _csv_numbers(raw: pd.Series, name: str, unit: str, path: str) -> pd.Series:
    """Parse one column of strings into numbers; file line = position + 2 (after the header line)."""
    text = raw.astype(str).str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        position = int(np.flatnonzero(empty)[0])
        raise DataError(
            f"{path}: column {raw.name!r} ({name}), line {position + 2}: value is empty (a gap in the data; "
            f"{int(empty.sum())} empty cell(s) in this column); allowed: a number in {unit} in every row."
        )
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() | ~np.isfinite(numbers)).to_numpy()
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: column {raw.name!r} ({name}), line {position + 2}: value {text.iloc[position]!r} is "
            f"not a number ({int(bad.sum())} such cell(s) in this column); allowed: finite numbers in {unit}."
        )
    return numbers.astype(float)


def _csv_times(raw: pd.Series, timezone: str | None, path: str) -> pd.DatetimeIndex:
    text = raw.astype(str).str.strip()
    times = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = times.isna().to_numpy()
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: column {raw.name!r}, line {position + 2}: value {text.iloc[position]!r} is not a time; "
            "allowed: ISO 8601 times such as '2020-01-01T00:00' or '2020-01-01 00:00+09:00'."
        )
    index = pd.DatetimeIndex(times, name="time")
    try:
        if index.tz is None:
            if timezone is None:
                raise DataError(
                    f"{path}: column {raw.name!r} holds times without a UTC offset and no timezone was "
                    "given; pass timezone='Asia/Tokyo' (the zone the times are in) or add offsets to the "
                    "times."
                )
            index = index.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
        elif timezone is not None:
            index = index.tz_convert(timezone)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path}: column {raw.name!r}: the times cannot be placed in time zone {timezone!r} ({exc}); "
            "allowed: a known IANA zone, and local times that exist and are unambiguous in it (use UTC or a "
            "zone without daylight saving time otherwise)."
        ) from exc
    return index


def _check_range(values: pd.Series, name: str, source: str, low: float, high: float, path: str) -> None:
    outside = ((values < low) | (values > high)).to_numpy()
    if outside.any():
        position = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"{path}: column {source!r} ({name}), line {position + 2}: value {values.iloc[position]} is out "
            f"of range; allowed: {low} to {high} {WEATHER_COLUMNS[name]}."
        )


def read_weather_csv(
    path: str | PathLike[str],
    *,
    units: Mapping[str, str],
    columns: Mapping[str, str] | None = None,
    timezone: str | None = None,
    time_column: str = "time",
    latitude: float | None = None,
    longitude: float | None = None,
    altitude: float | None = None,
    wind_height_m: float = 10.0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a regularly sampled weather CSV whose units are stated explicitly.

    The file has one time column and one column per quantity. ``columns`` maps source names to glossary
    names (like pvlib's ``iotools`` ``VARIABLE_MAP``); columns already named like the glossary are taken as
    they are, others are ignored. Every quantity read needs its unit in ``units``.

    When the file has no ``ghi`` but has ``cloud_cover``, GHI is derived from clear-sky GHI (Ineichen [3])
    and the cloud cover by the linear model of Larson et al. [4], and a warning says so. When ``dni`` or
    ``dhi`` is missing, both are split from GHI by Erbs [5]. Values are taken to represent the interval that
    starts at their stamp.

    Parameters
    ----------
    path : str or path-like
        CSV file with a header line.
    units : mapping
        Glossary name -> unit of the file's column, e.g. ``{"wind_speed": "km/h", "temp_air": "degC"}``;
        allowed units per quantity are in :data:`ALLOWED_UNITS` (wind m/s or km/h; temperature degC, K or
        degF; irradiance W/m2; pressure Pa or hPa; relative humidity and cloud cover %).
    columns : mapping, optional
        Source column name -> glossary name, e.g. ``{"windspeed_10m_kmh": "wind_speed"}``.
    timezone : str, optional
        IANA zone of times written without a UTC offset (required then); times with offsets are converted
        to it.
    time_column : str, default "time"
        Name of the time column.
    latitude, longitude : float, optional
        Site [°]; required when irradiance must be derived or split.
    altitude : float, optional
        Site elevation [m]; looked up in pvlib's bundled elevation map when needed and not given.
    wind_height_m : float, default 10
        Height of the wind speed [m].

    Returns
    -------
    weather : pandas.DataFrame
        Glossary columns in their stored units (:data:`WEATHER_COLUMNS`).
    metadata : dict
        ``latitude``, ``longitude``, ``altitude``, ``tz``, ``source``, ``wind_height_m``.

    Raises
    ------
    DataError
        Naming file, column, line and value: a missing or unknown unit, text or empty cells, unparsable
        times, gaps or irregular sampling, values out of range, missing required quantities.
    """
    path_text = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path_text}: not a readable CSV file ({exc}).") from exc
    header = [str(name) for name in raw.columns]
    mapping = _csv_column_map(header, columns, time_column, path_text)
    _csv_check_units(mapping, units, path_text)
    missing = [name for name in _REQUIRED_COLUMNS if name not in mapping]
    if "ghi" not in mapping and "cloud_cover" not in mapping:
        missing.append("ghi (or cloud_cover to derive it)")
    if missing:
        raise DataError(f"{path_text}: the file lacks {missing}; it has columns {header} (map them with columns=...).")

    index = _csv_times(raw[time_column], timezone, path_text)
    check_regular(index, source=path_text, first_row=2)
    weather = pd.DataFrame(index=index)
    for name in WEATHER_COLUMNS:
        if name in mapping:
            numbers = _csv_numbers(raw[mapping[name]], name, units[name], path_text)
            weather[name] = ALLOWED_UNITS[name][units[name]](numbers).to_numpy()
    for name, low, high in (("cloud_cover", 0.0, 100.0), ("relative_humidity", 0.0, 100.0)):
        if name in weather:
            _check_range(weather[name], name, mapping[name], low, high, path_text)
    for name in ("wind_speed", "ghi", "dni", "dhi"):
        if name in weather:
            _check_range(weather[name], name, mapping[name], 0.0, np.inf, path_text)

    metadata: dict[str, Any] = {
        "latitude": latitude,
        "longitude": longitude,
        "altitude": altitude,
        "tz": str(index.tz),
        "source": f"CSV {Path(path_text).name}",
        "wind_height_m": float(wind_height_m),
    }
    if not {"ghi", "dni", "dhi"} <= set(weather.columns):
        weather, metadata = _complete_irradiance(weather, metadata, path_text)
    columns_out = [name for name in WEATHER_COLUMNS if name in weather]
    return weather[columns_out], metadata


def _complete_irradiance(
    weather: pd.DataFrame, metadata: dict[str, Any], path: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Derive GHI from cloud cover (if absent) and split DNI/DHI by Erbs."""
    latitude, longitude = metadata["latitude"], metadata["longitude"]
    if latitude is None or longitude is None:
        raise DataError(
            f"{path}: irradiance must be derived (the file lacks "
            f"{sorted({'ghi', 'dni', 'dhi'} - set(weather))}), which needs the site: pass latitude=... and "
            "longitude=... [°]."
        )
    if metadata["altitude"] is None:
        metadata["altitude"] = float(pvlib.location.lookup_altitude(latitude, longitude))
    position = solar_position(weather.index, latitude, longitude, metadata["altitude"], weather["temp_air"])
    weather = weather.copy()
    if "ghi" not in weather:
        clear = clear_sky_irradiance(weather.index, latitude, longitude, metadata["altitude"], position=position)
        weather["ghi"] = ghi_from_cloud_cover(weather["cloud_cover"], clear["ghi"])
        metadata["source"] += (
            "; GHI derived from cloud cover (Ineichen clear sky x Larson et al. 2016 linear model), DNI/DHI by Erbs"
        )
        warnings.warn(
            f"{path}: the file has no irradiance; GHI is derived from cloud cover (clear-sky GHI x the "
            "linear cloud-cover model of Larson et al. 2016) and split into DNI/DHI by Erbs. Expect hourly "
            "errors of tens of percent; prefer measured or satellite irradiance where available.",
            UserWarning,
            stacklevel=3,
        )
    else:
        metadata["source"] += "; DNI/DHI split from GHI by Erbs"
    weather[["dni", "dhi"]] = split_ghi(weather["ghi"], position)
    return weather, metadata


# --- plan year ----------------------------------------------------------------------------------------------


def _typical_year_keys(index: pd.DatetimeIndex) -> pd.MultiIndex:
    """(month, day, hour) of each stamp, with 29 February read as 28 February."""
    day = np.where((index.month == 2) & (index.day == 29), 28, index.day)
    return pd.MultiIndex.from_arrays([index.month, day, index.hour], names=["month", "day", "hour"])


def to_plan_year(weather: pd.DataFrame, year: int, timezone: str) -> pd.DataFrame:
    """Lay hourly weather on the 8,760 hours of one calendar year in the municipality's time zone.

    - If ``weather`` covers every hour of that year (a multi-year series), those hours are taken.
    - Otherwise, if it is a typical year (one value per month-day-hour, as in EPW or TMY3 files whose months
      come from different years), each hour of the plan year takes the value stored for the same month, day
      and hour of the weather's own (standard) clock. The sun therefore stands where it stood when the data
      were recorded: solar noon stays at noon even if the plan's zone keeps daylight saving time.

    The plan year has 365 days: in a leap year 29 February is dropped (see :func:`plan_year_index`).

    Parameters
    ----------
    weather : pandas.DataFrame
        Hourly weather on a tz-aware index of interval starts (as the readers return it).
    year : int
        Calendar year of the plan.
    timezone : str
        IANA time zone of the municipality, e.g. ``"Asia/Tokyo"``.

    Returns
    -------
    pandas.DataFrame
        Same columns, on :func:`plan_year_index` ``(year, timezone)``.

    Raises
    ------
    DataError
        If the weather is not hourly, lacks a time zone, or neither covers the year nor is a typical year.
    """
    target = plan_year_index(year, timezone)
    index = weather.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError("to_plan_year needs weather on a tz-aware DatetimeIndex (as the readers return it).")
    step = dt_hours(index)
    if step != 1.0:
        raise DataError(f"to_plan_year needs hourly weather, got a step of {step} h; resample it to 1 h first.")
    if index.is_unique:
        found = weather.reindex(target)
        if found.notna().all().all():
            return found
    keys = _typical_year_keys(index)
    if keys.is_unique and len(keys) >= 8760:
        lookup = weather.set_axis(keys)
        wanted = _typical_year_keys(target.tz_convert(index.tz).floor("h"))
        mapped = lookup.reindex(wanted)
        if mapped.notna().all().all():
            return mapped.set_axis(target)
    years = sorted({int(y) for y in index.year})
    raise DataError(
        f"weather with stamps {index.min()} .. {index.max()} (years {years}) neither covers every hour of "
        f"{year} in {timezone} nor is a typical year with one value per month, day and hour; allowed: a "
        "series that includes the whole plan year, or a typical year (EPW/TMY3)."
    )
