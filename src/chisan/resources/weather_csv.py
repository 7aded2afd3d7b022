"""Reader of weather CSV files whose units are stated explicitly: each glossary column converted to its stored
unit, the sampling checked, and irradiance derived from cloud cover or split from GHI when the file lacks it.

References
----------
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
from chisan.resources.sun import clear_sky_irradiance, ghi_from_cloud_cover, solar_position, split_ghi
from chisan.resources.time_index import check_regular
from chisan.units import fahrenheit_to_celsius, kelvin_to_celsius, kmh_to_ms

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

_REQUIRED_COLUMNS = ["temp_air", "wind_speed"]


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
