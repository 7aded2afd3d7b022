"""The plan's time index, the weather on it and PV and wind output per kW (pvlib, windpowerlib).

Weather comes from a file (EPW, TMY3, CSV), the built-in synthetic year, or a Japanese town's own climate; the
hourly values are repeated on finer snapshots when ``horizon.step_minutes`` < 60.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.resources.climate import climate_at_site, monthly_climate, synthetic_weather_year
from chisan.resources.solar import pv_output_per_kw
from chisan.resources.weather import plan_year_index, read_epw, read_tmy3, read_weather_csv, to_plan_year
from chisan.resources.wind import wind_output_per_kw
from chisan.scenario.schema import Scenario


def plan_index(scenario: Scenario) -> pd.DatetimeIndex:
    """Snapshots of the planned period (tz-aware; hourly stamps, or finer when ``step_minutes`` < 60)."""
    h = scenario.horizon
    hours = plan_year_index(h.year, scenario.municipality.timezone)
    months = [(h.start_month - 1 + k) % 12 + 1 for k in range(h.months)]
    hours = hours[np.isin(hours.month, months)]
    if h.step_minutes == 60:
        return hours
    per_hour = 60 // h.step_minutes
    offsets = pd.to_timedelta(np.tile(np.arange(per_hour) * h.step_minutes, len(hours)), unit="min")
    return hours.repeat(per_hour) + offsets


def load_weather(scenario: Scenario) -> tuple[pd.DataFrame, str]:
    """Weather of the planned year on hourly stamps of the town's time zone, and a description of its source."""
    w, muni = scenario.weather, scenario.municipality
    tz = muni.timezone
    if w.source == "synthetic":
        climate = monthly_climate(w.climate)
        if w.site == "municipality":
            climate = climate_at_site(climate, muni.latitude_deg, muni.longitude_deg, muni.altitude_m)
        data, _ = synthetic_weather_year(climate, scenario.horizon.year, seed=w.seed, timezone=tz)
        source = f"synthetic year from the built-in '{w.climate}' monthly climate (seed {w.seed})"
        if w.site == "municipality":
            source += " moved to the municipality (same monthly clearness index, temperature and wind)"
    elif w.source == "japan":
        from chisan.resources.japan_climate import japan_weather_year

        folder = scenario.resolve(w.data_dir)
        data, meta = japan_weather_year(
            muni.latitude_deg,
            muni.longitude_deg,
            scenario.horizon.year,
            data_dir=folder,
            seed=w.seed,
            altitude=muni.altitude_m,
        )
        data = to_plan_year(data, scenario.horizon.year, tz)
        source = meta["source"]
    else:
        path = scenario.resolve(w.path)
        if path is None or not path.is_file():
            raise ScenarioError(f"weather.path = {str(w.path)!r}: file not found (looked at {path})")
        if w.source == "epw":
            data, _ = read_epw(path)
        elif w.source == "tmy3":
            data, _ = read_tmy3(path)
        else:
            data, _ = read_weather_csv(
                path,
                units=w.units,
                columns=w.columns,
                timezone=tz,
                time_column=w.time_column,
                latitude=muni.latitude_deg,
                longitude=muni.longitude_deg,
                altitude=muni.altitude_m,
                wind_height_m=w.wind_height_m,
            )
        data = to_plan_year(data, scenario.horizon.year, tz)
        source = f"{w.source.upper()} file {path.name}"
    return data, source


def on_snapshots(series: pd.Series, snapshots: pd.DatetimeIndex) -> pd.Series:
    """Hourly values repeated on (possibly finer) snapshots."""
    hourly = series.reindex(snapshots.floor("h"))
    if hourly.isna().any():
        missing = snapshots[hourly.isna().to_numpy()][0]
        raise ScenarioError(f"the weather does not cover the planned period (first missing hour {missing})")
    return pd.Series(hourly.to_numpy(float), index=snapshots, name=series.name)


def renewable_output_per_kw(
    scenario: Scenario, weather_hourly: pd.DataFrame, snapshots: pd.DatetimeIndex
) -> tuple[pd.Series, pd.Series]:
    """PV and wind output per kW installed on the snapshots [kW/kW] (zero for a disabled technology).

    Returns
    -------
    pv_kw_per_kw, wind_kw_per_kw : pd.Series
    """
    muni = scenario.municipality
    tech = scenario.technologies
    zeros = pd.Series(0.0, index=snapshots)
    if tech.pv.enabled:
        pv_hourly = pv_output_per_kw(
            weather_hourly,
            muni.latitude_deg,
            muni.longitude_deg,
            muni.altitude_m,
            tilt_deg=tech.pv.tilt_deg,
            azimuth_deg=tech.pv.azimuth_deg,
            dc_ac_ratio=tech.pv.dc_ac_ratio,
            losses_percent=tech.pv.losses_percent,
        )
        pv = on_snapshots(pv_hourly.clip(lower=0).rename("pv_kw_per_kw"), snapshots)
    else:
        pv = zeros.rename("pv_kw_per_kw")
    if tech.wind.enabled:
        wind_hourly = wind_output_per_kw(
            weather_hourly,
            turbine_type=tech.wind.turbine_type,
            hub_height_m=tech.wind.hub_height_m,
            roughness_length_m=tech.wind.roughness_length_m,
            wind_height_m=scenario.weather.wind_height_m,
        )
        wind = on_snapshots(wind_hourly.clip(lower=0).rename("wind_kw_per_kw"), snapshots)
    else:
        wind = zeros.rename("wind_kw_per_kw")
    return pv, wind
