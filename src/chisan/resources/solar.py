"""PV output per kW of DC nameplate, hour by hour, from weather, built from pvlib's PVWatts functions.

The chain (one function per step, :func:`pv_output_per_kw` strings them together):

1. sun position at the middle of each interval (``weather.solar_position``);
2. plane-of-array irradiance, Perez sky diffuse model [2] (:func:`plane_of_array_irradiance`);
3. reflection losses of the module glass on the beam, pvlib's physical IAM model as PVWatts v5 does [1]
   (:func:`effective_irradiance`);
4. cell temperature, SAPM [3] or PVsyst model (:func:`cell_temperature`);
5. DC power by PVWatts v5 (``pvlib.pvsystem.pvwatts_dc``), less the system losses (``pvwatts_losses``);
6. AC power by the PVWatts inverter model (``pvlib.inverter.pvwatts``) with AC rating = DC / dc_ac_ratio,
   so the inverter clips.

References
----------
.. [1] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014, :doi:`10.2172/1158421`.
.. [2] R. Perez, P. Ineichen, R. Seals, J. Michalsky and R. Stewart, "Modeling daylight availability and
   irradiance components from direct and global irradiance", Solar Energy 44(5), 271-289, 1990,
   :doi:`10.1016/0038-092X(90)90055-H`.
.. [3] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic Array Performance Model",
   SAND2004-3535, Sandia National Laboratories, 2004, :doi:`10.2172/919131`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib

from chisan.exceptions import DataError, ScenarioError
from chisan.resources.weather import solar_position

__all__ = [
    "PVWATTS_DEFAULT_LOSSES_PERCENT",
    "PVWATTS_INVERTER_EFFICIENCY_NOMINAL",
    "TEMPERATURE_MODELS",
    "cell_temperature",
    "effective_irradiance",
    "plane_of_array_irradiance",
    "pv_output_per_kw",
    "temperature_model_parameters",
]

PVWATTS_DEFAULT_LOSSES_PERCENT: float = 14.08
"""PVWatts v5 default system losses [%] [1]: soiling 2, shading 3, mismatch 2, wiring 2, connections 0.5,
light-induced degradation 1.5, nameplate 1, availability 3, combined multiplicatively
(``pvlib.pvsystem.pvwatts_losses()`` = 14.0757, shown rounded as 14.08 by PVWatts)."""

PVWATTS_INVERTER_EFFICIENCY_NOMINAL: float = 0.96
"""Nominal inverter efficiency of PVWatts v5 [-] [1] (pvlib ``inverter.pvwatts`` default)."""

TEMPERATURE_MODELS: dict[str, tuple[str, dict[str, float]]] = {
    name: (family, params)
    for family in ("sapm", "pvsyst")
    for name, params in pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS[family].items()
}
"""Cell temperature parameter sets by mounting name -> (model family, parameters), from pvlib's
``TEMPERATURE_MODEL_PARAMETERS`` (SAPM [3]; PVsyst)."""


def temperature_model_parameters(name: str) -> tuple[str, dict[str, float]]:
    """Look up a cell temperature parameter set of :data:`TEMPERATURE_MODELS`.

    Raises
    ------
    ScenarioError
        If the name is unknown; the message lists the valid names.
    """
    if name not in TEMPERATURE_MODELS:
        raise ScenarioError(f"unknown PV temperature_model {name!r}; allowed: {sorted(TEMPERATURE_MODELS)}.")
    return TEMPERATURE_MODELS[name]


def plane_of_array_irradiance(
    weather: pd.DataFrame,
    latitude: float,
    longitude: float,
    altitude_m: float = 0.0,
    *,
    tilt_deg: float = 20.0,
    azimuth_deg: float = 180.0,
    albedo: float = 0.2,
    sky_model: str = "perez",
) -> pd.DataFrame:
    """Irradiance on a fixed tilted plane, by ``pvlib.irradiance.get_total_irradiance``.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²] (and ``temp_air`` [°C], used for refraction) on a tz-aware index of
        interval starts.
    latitude, longitude : float
        Site [°].
    altitude_m : float, default 0
        Site elevation [m].
    tilt_deg : float, default 20
        Tilt from horizontal [°].
    azimuth_deg : float, default 180
        Azimuth the plane faces, clockwise from north [°] (180 = south).
    albedo : float, default 0.2
        Ground reflectance [-].
    sky_model : str, default "perez"
        pvlib sky diffuse model (``"perez"`` [2], ``"haydavies"``, ``"isotropic"``, ...).

    Returns
    -------
    pandas.DataFrame
        ``poa_global``, ``poa_direct``, ``poa_diffuse`` [W/m²] and ``aoi`` (angle of incidence [°]).
    """
    temp_air = weather.get("temp_air", 12.0)
    position = solar_position(weather.index, latitude, longitude, altitude_m, temp_air)
    zenith = position["apparent_zenith"]
    dni_extra = pvlib.irradiance.get_extra_radiation(weather.index.dayofyear)
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        zenith,
        position["azimuth"],
        weather["dni"],
        weather["ghi"],
        weather["dhi"],
        dni_extra=dni_extra,
        airmass=airmass,
        albedo=albedo,
        model=sky_model,
    )
    # sky-model formulas are undefined with the sun below the horizon (airmass NaN): no irradiance then
    result = poa[["poa_global", "poa_direct", "poa_diffuse"]].fillna(0.0).clip(lower=0.0)
    result["poa_global"] = result["poa_direct"] + result["poa_diffuse"]
    result["aoi"] = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, zenith, position["azimuth"])
    return result


def effective_irradiance(poa: pd.DataFrame) -> pd.Series:
    """Irradiance reaching the cells [W/m²]: beam × IAM + diffuse.

    The incidence angle modifier is pvlib's physical (Fresnel + absorption) model of the module glass
    (n = 1.526, K = 4 /m, L = 2 mm), applied to the beam only, as PVWatts v5 does [1].

    Parameters
    ----------
    poa : pandas.DataFrame
        Output of :func:`plane_of_array_irradiance`.
    """
    iam = pvlib.iam.physical(poa["aoi"])
    return (poa["poa_direct"] * iam + poa["poa_diffuse"]).rename("effective_irradiance")


def cell_temperature(
    poa_global: pd.Series,
    temp_air: pd.Series,
    wind_speed: pd.Series,
    temperature_model: str = "open_rack_glass_polymer",
) -> pd.Series:
    """Cell temperature [°C] by the SAPM [3] or PVsyst model, with a named pvlib parameter set.

    Parameters
    ----------
    poa_global : pandas.Series
        Plane-of-array irradiance [W/m²].
    temp_air : pandas.Series
        Air temperature [°C].
    wind_speed : pandas.Series
        Wind speed at 10 m [m/s] (the height the SAPM coefficients were fitted for [3]).
    temperature_model : str, default "open_rack_glass_polymer"
        A name of :data:`TEMPERATURE_MODELS`.
    """
    family, params = temperature_model_parameters(temperature_model)
    if family == "sapm":
        temp_cell = pvlib.temperature.sapm_cell(poa_global, temp_air, wind_speed, **params)
    else:
        temp_cell = pvlib.temperature.pvsyst_cell(poa_global, temp_air, wind_speed, **params)
    return pd.Series(temp_cell, index=poa_global.index, name="temp_cell")


def _check_pv_arguments(
    tilt_deg: float, azimuth_deg: float, dc_ac_ratio: float, losses_percent: float, albedo: float
) -> None:
    checks = (
        ("tilt_deg", tilt_deg, 0.0 <= tilt_deg <= 90.0, "0 to 90 [°]"),
        ("azimuth_deg", azimuth_deg, 0.0 <= azimuth_deg <= 360.0, "0 to 360 [°], clockwise from north"),
        ("dc_ac_ratio", dc_ac_ratio, dc_ac_ratio > 0.0, "> 0 (typically 1.0-1.5)"),
        ("losses_percent", losses_percent, 0.0 <= losses_percent < 100.0, "0 to < 100 [%]"),
        ("albedo", albedo, 0.0 <= albedo <= 1.0, "0 to 1"),
    )
    for name, value, ok, allowed in checks:
        if not ok:
            raise ScenarioError(f"PV {name} = {value}; allowed: {allowed}.")


def pv_output_per_kw(
    weather: pd.DataFrame,
    latitude: float,
    longitude: float,
    altitude_m: float = 0.0,
    *,
    tilt_deg: float = 20.0,
    azimuth_deg: float = 180.0,
    dc_ac_ratio: float = 1.2,
    losses_percent: float = PVWATTS_DEFAULT_LOSSES_PERCENT,
    temperature_model: str = "open_rack_glass_polymer",
    albedo: float = 0.2,
    gamma_pdc_per_c: float = -0.0037,
) -> pd.Series:
    """AC output of a fixed PV array per kW of DC nameplate [kW/kWp], for each interval of ``weather``.

    PVWatts v5 [1] from pvlib functions (see the module docstring). The sun is placed at the middle of each
    interval (stamps label interval starts). Multiply by Δt [h] for energy per kWp [kWh/kWp].

    Parameters
    ----------
    weather : pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s] at 10 m, on a tz-aware
        index.
    latitude, longitude : float
        Site [°].
    altitude_m : float, default 0
        Site elevation [m].
    tilt_deg : float, default 20
        Array tilt [°].
    azimuth_deg : float, default 180
        Array azimuth, clockwise from north [°].
    dc_ac_ratio : float, default 1.2
        DC nameplate / inverter AC rating [-]; AC output never exceeds ``1 / dc_ac_ratio`` kW per kWp.
    losses_percent : float, default 14.08
        System losses between module DC and inverter input [%] (PVWatts default).
    temperature_model : str, default "open_rack_glass_polymer"
        Cell temperature parameter set (:data:`TEMPERATURE_MODELS`).
    albedo : float, default 0.2
        Ground reflectance [-].
    gamma_pdc_per_c : float, default -0.0037
        Temperature coefficient of DC power [1/°C]; between PVWatts v5's "standard" (−0.47 %/°C) and
        "premium" (−0.35 %/°C) module types [1].

    Returns
    -------
    pandas.Series
        AC power per kW of DC nameplate [kW/kWp], named ``pv_output_kw_per_kwp``.
    """
    _check_pv_arguments(tilt_deg, azimuth_deg, dc_ac_ratio, losses_percent, albedo)
    missing = [c for c in ("ghi", "dni", "dhi", "temp_air", "wind_speed") if c not in weather]
    if missing:
        raise DataError(f"PV output needs weather columns {missing}; the weather has {list(weather.columns)}.")
    poa = plane_of_array_irradiance(
        weather, latitude, longitude, altitude_m, tilt_deg=tilt_deg, azimuth_deg=azimuth_deg, albedo=albedo
    )
    temp_cell = cell_temperature(poa["poa_global"], weather["temp_air"], weather["wind_speed"], temperature_model)
    pdc_kw = pvlib.pvsystem.pvwatts_dc(effective_irradiance(poa), temp_cell, pdc0=1.0, gamma_pdc=gamma_pdc_per_c)
    pdc_kw = pdc_kw * (1.0 - losses_percent / 100.0)
    ac_rating_kw = 1.0 / dc_ac_ratio
    pac_kw = pvlib.inverter.pvwatts(
        pdc_kw,
        pdc0=ac_rating_kw / PVWATTS_INVERTER_EFFICIENCY_NOMINAL,
        eta_inv_nom=PVWATTS_INVERTER_EFFICIENCY_NOMINAL,
    )
    return pd.Series(np.asarray(pac_kw, dtype=float), index=weather.index, name="pv_output_kw_per_kwp")
