"""PV and temperature forecasts for the schedule: a supplied series, or the scenario's weather.

The scenario's weather is a typical (or synthetic) year. For a day of operation it gives the PV output per kW
and the air temperature of the same month, day and hour in the scenario's year, on the town's clock (29 February
takes 28 February). PV output per kW comes from :func:`chisan.resources.solar.pv_output_per_kw` with the
scenario's array, exactly as the planning core computes it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.plan.prepare import load_weather
from chisan.resources.solar import pv_output_per_kw
from chisan.scenario.load import load_scenario

NEUTRAL_TEMPERATURE_C = 20.0
"""Air temperature assumed without weather [°C]: inside the neutral band of
:func:`chisan.mobility.energy.temperature_factor`, so trips take their neutral energy."""


@functools.lru_cache(maxsize=8)
def scenario_weather(path: str) -> pd.DataFrame:
    """Hourly ``pv_kw_per_kw`` [kW/kWp] and ``temp_air`` [°C] of a scenario's year, on the town's clock.

    Cached per path (the service reads a scenario once).
    """
    scenario = load_scenario(Path(path))
    weather, _ = load_weather(scenario)
    pv = scenario.technologies.pv
    muni = scenario.municipality
    pv_kw_per_kw = pv_output_per_kw(
        weather,
        muni.latitude_deg,
        muni.longitude_deg,
        muni.altitude_m,
        tilt_deg=pv.tilt_deg,
        azimuth_deg=pv.azimuth_deg,
        dc_ac_ratio=pv.dc_ac_ratio,
        losses_percent=pv.losses_percent,
    ).clip(lower=0.0)
    return pd.DataFrame(
        {"pv_kw_per_kw": pv_kw_per_kw.to_numpy(float), "temp_air": weather["temp_air"].to_numpy(float)},
        index=weather.index,
    )


def weather_on(weather: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Values of an hourly typical-year ``weather`` at the same month, day and hour as each time of ``index``.

    Parameters
    ----------
    weather : pd.DataFrame
        Hourly, tz-aware (the town's clock), one year.
    index : pd.DatetimeIndex
        tz-aware times (any step); converted to the weather's time zone.
    """
    local = index.tz_convert(weather.index.tz)
    key_weather = weather.index.month * 10_000 + weather.index.day * 100 + weather.index.hour
    day = np.where((local.month == 2) & (local.day == 29), 28, local.day)
    key = local.month * 10_000 + day * 100 + local.hour
    table = pd.DataFrame(weather.to_numpy(), index=np.asarray(key_weather), columns=weather.columns)
    table = table[~table.index.duplicated()]
    values = table.reindex(np.asarray(key))
    values.index = index
    return values.astype(float).ffill().bfill()
