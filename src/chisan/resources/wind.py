"""Wind turbine output per kW rated, hour by hour, from weather, with windpowerlib.

Turbines come from the OpenEnergy Database (OEDB) turbine library that windpowerlib ships in
``windpowerlib/oedb/*.csv``; nothing is downloaded. Wind speed is extrapolated from the measurement height to
hub height by the logarithmic profile (or Hellman's power law), and the power curve is corrected for air
density when temperature and pressure are available [1].

The bundled library holds no turbine below 800 kW. The smallest machines in it, Enercon E-53/800 (53 m rotor,
hubs 50-73 m; the default) and Enercon E48/800 (48 m rotor, hubs 50-76 m), are the ones that fit near a town;
for a truly small turbine (tens of kW) pass its manufacturer power curve as ``power_curve``.

References
----------
.. [1] S. Haas, B. Schachler and U. Krien, "windpowerlib - a Python library to model wind power plants",
   Journal of Open Source Software 4(36), 1352, 2019, :doi:`10.21105/joss.01352`.
.. [2] E. Hau, "Wind Turbines: Fundamentals, Technologies, Application, Economics", 3rd ed., Springer, 2013,
   :doi:`10.1007/978-3-642-27151-9` (logarithmic wind profile).
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import ModelChain, WindTurbine
from windpowerlib import wind_speed as wpl_wind_speed
from windpowerlib.wind_turbine import get_turbine_data_from_file

from chisan.exceptions import DataError, ScenarioError
from chisan.units import KELVIN_OFFSET, W_PER_KW

__all__ = [
    "DEFAULT_TURBINE_TYPE",
    "TEMPERATURE_HEIGHT_M",
    "TOWN_TURBINE_TYPE",
    "WIND_SPEED_MODELS",
    "available_turbines",
    "turbine_hub_heights_m",
    "wind_output_per_kw",
    "wind_speed_at_hub",
]

DEFAULT_TURBINE_TYPE: str = "E-53/800"
"""Enercon E-53/800: 800 kW, 53 m rotor, a low-wind-speed machine (the default)."""

TOWN_TURBINE_TYPE: str = "E48/800"
"""Enercon E48/800: the smallest rotor (48 m) in windpowerlib's bundled library."""

WIND_SPEED_MODELS: tuple[str, ...] = ("logarithmic", "hellman")
"""Hub-height extrapolations from one measurement height (windpowerlib ``ModelChain.wind_speed_model``)."""

TEMPERATURE_HEIGHT_M: float = 2.0
"""Height of weather-station air temperature [m] (screen height)."""

_OEDB_DIR = Path(windpowerlib.__file__).parent / "oedb"


@cache
def _bundled_power_curve_types() -> tuple[str, ...]:
    curves = pd.read_csv(_OEDB_DIR / "power_curves.csv", index_col=0, usecols=[0])
    return tuple(sorted(str(name) for name in curves.index))


def available_turbines() -> list[str]:
    """Names of the turbine types with a power curve in windpowerlib's bundled OEDB library."""
    return list(_bundled_power_curve_types())


def _unknown_turbine(turbine_type: str) -> ScenarioError:
    names = available_turbines()
    simplified = {re.sub(r"[^0-9a-z/]", "", n.lower()): n for n in names}
    close = difflib.get_close_matches(turbine_type, names, n=5, cutoff=0.5)
    key = re.sub(r"[^0-9a-z/]", "", turbine_type.lower())
    if key in simplified and simplified[key] not in close:
        close.insert(0, simplified[key])
    hint = f" Did you mean {close}?" if close else ""
    return ScenarioError(
        f"unknown wind turbine_type {turbine_type!r}.{hint} Allowed: the {len(names)} types of "
        "chisan.resources.wind.available_turbines() (windpowerlib's bundled OEDB library), or pass a "
        "power_curve."
    )


def turbine_hub_heights_m(turbine_type: str) -> list[float]:
    """Hub heights the bundled library lists for a turbine type [m], ascending (may be empty).

    Raises
    ------
    ScenarioError
        If the type has no bundled power curve (the message lists close matches).
    """
    if turbine_type not in _bundled_power_curve_types():
        raise _unknown_turbine(turbine_type)
    data = get_turbine_data_from_file(turbine_type, str(_OEDB_DIR / "turbine_data.csv"))
    text = str(data["hub_height"].iloc[0])
    rotor_radius_m = float(data["rotor_diameter"].iloc[0]) / 2.0
    heights = {float(h) for h in re.findall(r"\d+(?:\.\d+)?", text)}
    return sorted(h for h in heights if h > rotor_radius_m)


def wind_speed_at_hub(
    wind_speed: pd.Series,
    *,
    hub_height_m: float,
    wind_height_m: float = 10.0,
    roughness_length_m: float = 0.1,
    obstacle_height_m: float = 0.0,
    wind_speed_model: str = "logarithmic",
) -> pd.Series:
    """Wind speed at hub height [m/s], extrapolated from one measurement height by windpowerlib.

    ``"logarithmic"``: v_hub = v · ln((h_hub − 0.7 d) / z0) / ln((h − 0.7 d) / z0), d = obstacle height [2];
    ``"hellman"``: power law with the exponent windpowerlib derives from z0.

    Parameters
    ----------
    wind_speed : pandas.Series
        Wind speed at ``wind_height_m`` [m/s].
    hub_height_m : float
        Hub height [m].
    wind_height_m : float, default 10
        Measurement height [m].
    roughness_length_m : float, default 0.1
        Surface roughness length z0 [m] (0.1: farmland with some hedges and scattered buildings).
    obstacle_height_m : float, default 0
        Height of surrounding obstacles [m] (logarithmic model only).
    wind_speed_model : str, default "logarithmic"
        One of :data:`WIND_SPEED_MODELS`.
    """
    if wind_speed_model not in WIND_SPEED_MODELS:
        raise ScenarioError(f"wind_speed_model {wind_speed_model!r}; allowed: {list(WIND_SPEED_MODELS)}.")
    if wind_speed_model == "logarithmic":
        hub = wpl_wind_speed.logarithmic_profile(
            wind_speed, wind_height_m, hub_height_m, roughness_length_m, obstacle_height_m
        )
    else:
        hub = wpl_wind_speed.hellman(wind_speed, wind_height_m, hub_height_m, roughness_length_m)
    return pd.Series(np.asarray(hub, dtype=float), index=wind_speed.index, name="wind_speed_hub")


def _turbine(
    turbine_type: str,
    hub_height_m: float | None,
    power_curve: pd.DataFrame | None,
    nominal_power_kw: float | None,
) -> WindTurbine:
    if power_curve is not None:
        if not {"wind_speed", "power_kw"} <= set(power_curve.columns):
            raise ScenarioError(
                f"power_curve has columns {list(power_curve.columns)}; allowed: 'wind_speed' [m/s] and 'power_kw' [kW]."
            )
        if hub_height_m is None:
            raise ScenarioError("a custom power_curve needs hub_height_m [m].")
        curve = pd.DataFrame(
            {
                "wind_speed": power_curve["wind_speed"].astype(float).to_numpy(),
                "value": power_curve["power_kw"].astype(float).to_numpy() * W_PER_KW,
            }
        ).sort_values("wind_speed", ignore_index=True)
        nominal_kw = float(nominal_power_kw) if nominal_power_kw is not None else float(curve["value"].max() / W_PER_KW)
        if nominal_kw <= 0:
            raise ScenarioError(f"nominal_power_kw = {nominal_kw}; allowed: > 0 [kW].")
        return WindTurbine(
            hub_height=float(hub_height_m), nominal_power=nominal_kw * W_PER_KW, power_curve=curve, path=None
        )
    return _library_turbine(turbine_type, hub_height_m)


@cache
def _library_turbine(turbine_type: str, hub_height_m: float | None) -> WindTurbine:
    """A turbine of windpowerlib's library, read once per process (windpowerlib reads its CSV files on every
    ``WindTurbine``: ≈ 0.05 s, once per municipality of a sweep). ModelChain only reads it."""
    heights = turbine_hub_heights_m(turbine_type)
    if hub_height_m is None:
        if not heights:
            raise ScenarioError(
                f"turbine_type {turbine_type!r} lists no hub height in the bundled library; pass hub_height_m [m]."
            )
        hub_height_m = heights[0]
    try:
        return WindTurbine(hub_height=float(hub_height_m), turbine_type=turbine_type)
    except ValueError as exc:  # windpowerlib refuses hubs lower than the rotor radius
        raise ScenarioError(f"hub_height_m = {hub_height_m} for {turbine_type!r}: {exc}.") from exc


def wind_output_per_kw(
    weather: pd.DataFrame,
    *,
    turbine_type: str = DEFAULT_TURBINE_TYPE,
    hub_height_m: float | None = None,
    roughness_length_m: float = 0.1,
    wind_height_m: float = 10.0,
    obstacle_height_m: float = 0.0,
    wind_speed_model: str = "logarithmic",
    power_curve: pd.DataFrame | None = None,
    nominal_power_kw: float | None = None,
) -> pd.Series:
    """Electrical output of one wind turbine per kW of its rated power [kW/kW], for each interval.

    windpowerlib's ``ModelChain`` with the turbine's power curve: wind speed extrapolated to hub height
    (:func:`wind_speed_at_hub`), power curve corrected for air density (barometric formula, temperature
    lapse to hub height) when ``weather`` has ``temp_air`` and ``pressure``, and no output outside the
    curve's wind-speed range (below cut-in, above cut-out). Output is divided by the nominal (rated) power;
    where a manufacturer curve peaks above it (E-53/800: 810 kW) the result slightly exceeds 1.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``wind_speed`` [m/s] at ``wind_height_m``; optionally ``temp_air`` [°C] at 2 m and ``pressure`` [Pa]
        at ground level.
    turbine_type : str, default "E-53/800"
        A name of :func:`available_turbines` (label only when ``power_curve`` is given).
    hub_height_m : float, optional
        Hub height [m]; default the lowest hub height the library lists for the type.
    roughness_length_m : float, default 0.1
        Surface roughness length [m].
    wind_height_m : float, default 10
        Height of ``weather["wind_speed"]`` [m].
    obstacle_height_m : float, default 0
        Height of surrounding obstacles [m].
    wind_speed_model : str, default "logarithmic"
        One of :data:`WIND_SPEED_MODELS`.
    power_curve : pandas.DataFrame, optional
        A custom turbine: columns ``wind_speed`` [m/s] and ``power_kw`` [kW] (``hub_height_m`` then
        required).
    nominal_power_kw : float, optional
        Rated power of the custom turbine [kW]; default the curve's maximum.

    Returns
    -------
    pandas.Series
        Output per kW rated [kW/kW], named ``wind_output_kw_per_kw``.
    """
    if "wind_speed" not in weather:
        raise DataError(f"wind output needs a 'wind_speed' column; the weather has {list(weather.columns)}.")
    if wind_speed_model not in WIND_SPEED_MODELS:
        raise ScenarioError(f"wind_speed_model {wind_speed_model!r}; allowed: {list(WIND_SPEED_MODELS)}.")
    for name, value in (("roughness_length_m", roughness_length_m), ("wind_height_m", wind_height_m)):
        if not value > 0:
            raise ScenarioError(f"wind {name} = {value}; allowed: > 0 [m].")
    if not 0.0 <= obstacle_height_m < wind_height_m / 0.7:
        raise ScenarioError(
            f"wind obstacle_height_m = {obstacle_height_m}; allowed: 0 to < wind_height_m / 0.7 = "
            f"{wind_height_m / 0.7:.1f} [m] (the measurement must be above 0.7 × obstacle height)."
        )
    turbine = _turbine(turbine_type, hub_height_m, power_curve, nominal_power_kw)

    columns = {
        ("wind_speed", float(wind_height_m)): weather["wind_speed"].to_numpy(dtype=float),
        ("roughness_length", 0.0): np.full(len(weather), float(roughness_length_m)),
    }
    density_correction = "temp_air" in weather and "pressure" in weather
    if density_correction:
        columns[("temperature", TEMPERATURE_HEIGHT_M)] = weather["temp_air"].to_numpy(dtype=float) + KELVIN_OFFSET
        columns[("pressure", 0.0)] = weather["pressure"].to_numpy(dtype=float)
    weather_df = pd.DataFrame(columns, index=weather.index)
    chain = ModelChain(
        turbine,
        wind_speed_model=wind_speed_model,
        density_model="barometric",
        temperature_model="linear_gradient",
        power_output_model="power_curve",
        density_correction=density_correction,
        obstacle_height=obstacle_height_m,
    )
    hub = np.asarray(chain.wind_speed_hub(weather_df), dtype=float)
    speeds = turbine.power_curve["wind_speed"].to_numpy(float)
    watts = turbine.power_curve["value"].to_numpy(float)
    if density_correction:
        power_w = density_corrected_power_w(hub, speeds, watts, np.asarray(chain.density_hub(weather_df), float))
    else:
        power_w = np.interp(hub, speeds, watts, left=0.0, right=0.0)  # windpowerlib power_output.power_curve
    output = power_w / float(turbine.nominal_power)
    return pd.Series(output, index=weather.index, name="wind_output_kw_per_kw")


def density_corrected_power_w(
    wind_speed_hub: np.ndarray, curve_wind_speed: np.ndarray, curve_power_w: np.ndarray, density_kg_per_m3: np.ndarray
) -> np.ndarray:
    """Power of a density-corrected power curve at each step [W], windpowerlib's correction without its loop.

    The curve's wind speeds at site density are v_site = v_std (ρ0 / ρ)^p(v_std), p rising linearly from 1/3 at
    7.5 m/s to 2/3 at 12.5 m/s, ρ0 = 1.225 kg/m³ (Svenningsen 2010, as ``windpowerlib.power_output.
    power_curve_density_correction``); the output is the curve interpolated at each step's own v_site, 0 outside
    it. windpowerlib calls ``np.interp`` once per step (≈ 0.15 s a year); here one search over all steps.
    """
    exponent = np.interp(curve_wind_speed, [7.5, 12.5], [1 / 3, 2 / 3])
    site = (1.225 / density_kg_per_m3)[:, None] ** exponent[None, :] * curve_wind_speed[None, :]  # steps × points
    v = np.asarray(wind_speed_hub, dtype=float)
    m = site.shape[1]
    j = np.clip((site <= v[:, None]).sum(axis=1) - 1, 0, m - 2)  # segment of each step
    rows = np.arange(len(v))
    x0, x1 = site[rows, j], site[rows, j + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(x1 > x0, (v - x0) / (x1 - x0), 0.0)
    power = curve_power_w[j] + frac * (curve_power_w[j + 1] - curve_power_w[j])
    inside = (v >= site[:, 0]) & (v <= site[:, -1])
    power = np.where(v == site[:, -1], curve_power_w[-1], power)
    return np.where(inside, power, 0.0)
