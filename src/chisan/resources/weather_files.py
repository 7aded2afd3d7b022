"""Readers of typical-year weather files, EnergyPlus EPW and NREL TMY3 (through ``pvlib.iotools``): pvlib
glossary columns on a tz-aware index of interval starts, and the site's metadata.

References
----------
.. [1] EnergyPlus, "Auxiliary Programs", chapter "Weather Converter Program" (EPW format, missing-value codes,
   hour-ending convention). https://energyplus.readthedocs.io/en/latest/
.. [2] S. Wilcox and W. Marion, "Users Manual for TMY3 Data Sets", NREL/TP-581-43156, 2008,
   :doi:`10.2172/928611`.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from chisan.exceptions import DataError

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

EPW_WIND_HEIGHT_M: float = 10.0
"""Height of EPW and TMY3 wind speeds [m]: WMO standard anemometer height, which EnergyPlus assumes for the
weather station (``Site:WeatherStation``, default wind sensor height 10 m)."""

_EPW_COLUMNS = ["ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure", "relative_humidity"]


def _fixed_offset_tz_name(utc_offset_hours: float) -> str:
    """Name of a fixed-offset zone that pandas and :mod:`zoneinfo` both accept (``Etc/GMT-9`` = UTC+9)."""
    if float(utc_offset_hours).is_integer():
        hours = int(utc_offset_hours)
        return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # the Etc/ zones count with inverted sign
    sign = "+" if utc_offset_hours >= 0 else "-"
    minutes = round(abs(utc_offset_hours) * 60)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


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
    weather["pressure"] = weather["pressure"] * 100.0  # TMY3 pressure is in mbar = hPa [2]; 1 hPa = 100 Pa
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
