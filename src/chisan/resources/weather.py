"""Weather: readers that return pvlib glossary columns on a tz-aware index, sampling checks, the plan year.

This module gathers the public names of the weather modules, so ``from chisan.resources.weather import …``
keeps working: :mod:`chisan.resources.time_index` (sampling checks and step), :mod:`chisan.resources.sun`
(sun position, clear sky, cloud cover, GHI split), :mod:`chisan.resources.weather_files` (EPW and TMY3),
:mod:`chisan.resources.weather_csv` (CSV with stated units) and :mod:`chisan.resources.plan_year` (the plan
year and weather laid on it).

Every reader returns ``(weather, metadata)``:

- ``weather`` — a DataFrame on a tz-aware :class:`pandas.DatetimeIndex` with the pvlib glossary columns
  ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] (at ``metadata["wind_height_m"]``)
  and, when the source has them, ``pressure`` [Pa], ``relative_humidity`` [%] and ``cloud_cover`` [%].
- ``metadata`` — a dict with ``latitude``, ``longitude`` [°], ``altitude`` [m], ``tz`` (a name pandas and
  :mod:`zoneinfo` accept), ``source`` (what the data are and where they came from) and ``wind_height_m`` [m].

The time convention (each stamp labels the start of its interval; the sun is taken at its middle) and the
references are given where they apply: :mod:`chisan.resources.sun`, :mod:`chisan.resources.weather_files`,
:mod:`chisan.resources.weather_csv`.
"""

from __future__ import annotations

from chisan.resources.plan_year import plan_year_index, to_plan_year
from chisan.resources.sun import (
    CLOUD_COVER_GHI_OFFSET_PERCENT,
    clear_sky_irradiance,
    ghi_from_cloud_cover,
    solar_position,
    split_ghi,
)
from chisan.resources.time_index import check_regular, dt_hours
from chisan.resources.weather_csv import ALLOWED_UNITS, WEATHER_COLUMNS, read_weather_csv
from chisan.resources.weather_files import EPW_MISSING_CODES, EPW_WIND_HEIGHT_M, read_epw, read_tmy3

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
