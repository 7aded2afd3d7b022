"""chisan.resources: weather in, renewable output per kW out.

- :mod:`~chisan.resources.weather` — EPW / TMY3 / CSV readers returning pvlib glossary columns on a tz-aware
  index, sampling checks, the 8,760-hour plan year, sun and clear-sky helpers.
- :mod:`~chisan.resources.climate` — monthly climate tables (Tokyo built in), a seeded synthetic weather year.
- :mod:`~chisan.resources.japan_climate` — a Japanese town's weather year: its climate region's typical year,
  irradiance scaled to the measured annual GHI nearby (hourly files of a data folder, or bundled monthly means).
- :mod:`~chisan.resources.solar` — PV AC output per kW of DC nameplate (PVWatts v5 from pvlib functions).
- :mod:`~chisan.resources.wind` — wind turbine output per kW rated (windpowerlib, bundled OEDB power curves).
"""

from chisan.resources.climate import (
    MONTHLY_CLIMATES,
    MonthlyClimate,
    monthly_climate,
    monthly_climate_from_weather,
    synthetic_weather_year,
)
from chisan.resources.solar import pv_output_per_kw
from chisan.resources.weather import (
    check_regular,
    dt_hours,
    plan_year_index,
    read_epw,
    read_tmy3,
    read_weather_csv,
    to_plan_year,
)
from chisan.resources.wind import available_turbines, wind_output_per_kw

__all__ = [
    "MONTHLY_CLIMATES",
    "MonthlyClimate",
    "available_turbines",
    "check_regular",
    "dt_hours",
    "monthly_climate",
    "monthly_climate_from_weather",
    "plan_year_index",
    "pv_output_per_kw",
    "read_epw",
    "read_tmy3",
    "read_weather_csv",
    "synthetic_weather_year",
    "to_plan_year",
    "wind_output_per_kw",
]
