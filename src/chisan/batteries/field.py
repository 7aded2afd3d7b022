"""A car pack, not a lab cell: pack temperature in the car, and the field calibration of the lab-cell models.

The published ageing models (:mod:`chisan.batteries.ageing`) were fitted to single cells in climate chambers.
A pack in a shared car differs in two ways this module makes explicit and visible:

**Temperature.** The cells sit at the air temperature plus what the car adds (:func:`pack_temperature`): sun on
a parked car (the pack under the floor warms with the body and the road surface) and the heat of charging.
Nissan's owner's manual for the LEAF names both as what shortens battery life ("park/store your vehicle in cool
locations out of direct sunlight", "allow the vehicle and Li-ion battery to cool down after use before
charging") [1]_ but publishes no figures; no published measurement of the pack's rise above the air was found
(searched 2026-12-04 in the library's pages, docs, code and issues: Neubauer & Wood 2014 and Smith et al. 2012
(NREL BLAST-V), Yuksel & Michalek 2015, Yuksel et al. 2017, Geotab/Recurrent telematics, parked-car studies; none
of the papers' text or tables is in the library, only citations of them). The closest published model with its
parameters is the two-node cabin/pack thermal network of LBNL's V2G-Sim [6]_. ``[batteries] pack_thermal_model``
selects how the pack's temperature is made: ``"offsets"`` (default, chisan's behaviour so far:
:data:`SUN_OFFSET_C_AT_1_KW_PER_M2`, :data:`CHARGING_OFFSET_C`, stated assumptions shown in every report) or
``"v2g_sim"``, V2G-Sim's network stepped exactly hour by hour (:mod:`chisan.batteries.thermal`), its solar input
set from a peer-reviewed measurement of parked cars' cabin air (McLaren et al. 2005, 22.2 K in full sun).

**Field calibration.** Real fleets fade faster than the lab cells' models say for the same SOC and temperature
(the models know nothing of cell-to-cell spread, pack imbalance, the BMS's margins or real-world abuse).
Geotab's telematics studies of fleet and private EVs give the measured rate: 2.3 %/year on average over 6,300
vehicles in 2019 [2]_, 1.8 %/year over about 10,000 in 2024 with 1.0 %/year for the best current models [3]_,
and 2.3 %/year again over 22,700 vehicles in 2025, about 1.5 %/year for those charged mostly with AC and up to
3.0 %/year for those fast-charged above 100 kW [4]_. Shared cars charged with AC at their station sit in the
middle of that, so the central target is 1.8 %/year, with 1.0 and 2.3 %/year as the band
(:data:`FIELD_FADE_PER_YEAR_FRACTION`). The calibration factor multiplies the model's calendar and cycling fade
(:func:`chisan.batteries.ageing.calibrated`, BLAST-Lite's ``degradation_scalar`` [5]_);
:data:`DEFAULT_FIELD_CALIBRATION` holds, per model, the factor that brings the bundled example fleet's mean
fade over its first :data:`CALIBRATION_YEARS` years to the central 1.8 %/year (``benchmarks/bench_roadmap.py``
recomputes it; ``tests/batteries/test_battery_field.py`` checks it). The band scales the factor by 1.0/1.8 and
2.3/1.8.

References
----------
.. [1] Nissan LEAF 2023 Owner's Manual, section 3.7.3 "Li-ion battery life",
   https://nissan.co.uk/owners/car-repair/car-owner-manual/manuals/iom/leaf/0ze1/e0/2023/li-ion-battery-life-1.shtml
.. [2] C. Argue (2019, updated 2020), What can 6,000 electric vehicles tell us about EV battery health?, Geotab,
   https://www.geotab.com/blog/ev-battery-health/ (6,300 fleet and consumer EVs, 2.3 %/year average).
.. [3] Geotab (2024), update of the EV battery health study, as reported by J. S. Hill, The Driven,
   2024-09-19, https://thedriven.io/2024/09/19/new-study-finds-vast-majority-of-ev-batteries-will-outlast-the-vehicle/
   (about 10,000 EVs, 1.8 %/year average) and CV Show News, https://news.cvshow.com/evs/ev-battery-longevity-fears-laid-to-rest
   (best-performing models 1.0 %/year).
.. [4] Geotab (2025), EV Battery Health Report, as reported by FreightWaves, 2026-02-04,
   https://www.freightwaves.com/news/ev-battery-degradation-geotab-study-2026 and Power Progress, 2026-01-13
   (22,700 EVs of 21 makes: 2.3 %/year; about 1.5 %/year for AC charging, up to 3.0 %/year above 100 kW DC).
.. [5] P. Gasper, N. Prakash, K. Smith (2023), BLAST-Lite 1.1, NREL, https://github.com/NREL/BLAST-Lite
   (``BatteryDegradationModel(degradation_scalar=...)`` "scales all state changes by a coefficient").
.. [6] V2G-Sim (Lawrence Berkeley National Laboratory), battery-degradation module, repository Samveg/V2G-Sim-beta,
   ``v2gsim/battery_degradation/BDcore.py`` (commit 739fa09) and ``BatteryDegradation.py`` (commit 2bf8da5), read
   2026-12-04: cabin and pack as two thermal masses, ``M_c`` = 101,771 J/K and ``M_b`` = 182,000 J/K, conductances
   pack-air ``K_ab`` = 4.343 W/K, cabin-air ``K_ac`` = 22.6 W/K, cabin-pack ``K_bc`` = 3.468 W/K; solar heat enters
   the cabin (``rad`` [W]); while parked and idle no thermal management runs; the pack's heat is ``R·I²`` with
   ``R`` = 0.15 Ω and the charging current = power / 380 V.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from chisan.batteries.cycles import ACTIVE_SOC_RATE_PER_H
from chisan.batteries.thermal import (
    CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2,
    DEFAULT_CHARGE_POWER_KW,
    cabin_solar_heat_w,
    charging_heat_w,
    two_node_temperatures,
)
from chisan.exceptions import ScenarioError

FIELD_FADE_PER_YEAR_FRACTION: Mapping[str, float] = MappingProxyType({"low": 0.010, "central": 0.018, "high": 0.023})
"""Fleet-average capacity fade of car packs [fraction/year], Geotab [2]_ [3]_ [4]_: low 1.0 %/year (best current
models, 2024), central 1.8 %/year (10,000 EVs, 2024), high 2.3 %/year (2019 and 2025 averages)."""

FIELD_CALIBRATION_SOURCE: str = (
    "Geotab telematics of fleet and private EVs: 2.3 %/year (6,300 EVs, 2019), 1.8 %/year (about 10,000 EVs, 2024; "
    "best models 1.0 %/year), 2.3 %/year (22,700 EVs, 2025; about 1.5 %/year when charged with AC)"
)
"""The source of the calibration, as the reports name it."""

CALIBRATION_YEARS: int = 8
"""Years over which the fleet's mean fade rate is compared with the field data: ``(1 - SOH(8)) / 8``, the age
span of the vehicles in Geotab's studies and the usual battery warranty (8 years)."""

DEFAULT_FIELD_CALIBRATION: Mapping[str, float] = MappingProxyType(
    {
        # example fleet (a meter per base), lab model: fade over 8 years [%/year] -> factor = 1.8 / that
        "nmc622_denso": 1.79,  # 1.007 %/year: the default for NMC622 packs (the catalogue's cars)
        "nmc111_kokam": 10.5,  # 0.171 %/year: low mean SOC (0.19) and a cool climate (13.7 °C pack mean)
        "lfp_250ah": 3.27,  # 0.550 %/year
        "lfp_naumann": 1.42,  # 1.266 %/year
        "nmc811_lgmj1": 0.323,  # 5.57 %/year: a high-energy 18650 of short calendar life
        "nca_panasonic": 2.05,  # 0.879 %/year
        "lmo_nissan_leaf": 1.0,
    }
)
"""Field calibration factor per ageing model [-] (module docstring). ``lmo_nissan_leaf`` stays 1: it was fitted to
used Leaf modules in second-life service, already field data, and there is no fleet study of stationary second
life to calibrate it against."""

SUN_OFFSET_C_AT_1_KW_PER_M2: float = 4.0
"""Pack temperature above the air temperature of a car standing in full sun (1 kW/m² on the horizontal) [°C],
scaled by the hour's global horizontal irradiance. Assumption (no published measurement, see [1]_): the pack lies
under the floor, shaded by the body, heated by the body and the road surface; a few kelvin, less than the cabin's
tens. Closest published model, V2G-Sim [6]_: at steady state, parked and idle, the pack rises
``K_bc / ((K_ab + K_bc)(K_ac + K_bc) − K_bc²)`` = 0.0181 K per watt of solar heat absorbed by the cabin (by hand
from its conductances), with time constants of 1.1 h and 7.0 h; the 4 K here is that model's steady state for
about 220 W absorbed, or a larger gain over the few hours of a sunny day (V2G-Sim gives no W per W/m² to convert
irradiance). Kept as chisan's assumption."""

CHARGING_OFFSET_C: float = 2.0
"""Pack temperature above its parked temperature while charging [°C]. Assumption (no published measurement, see
[1]_): AC charging at 3-6.6 kW is 0.1-0.3 C for 20-62 kWh packs. Closest published model, V2G-Sim [6]_: its pack
heat ``R·I²`` is 0.15 Ω × (6 kW / 380 V)² = 37 W at 6 kW, and its passive pack (no thermal management) rises by
1.8 K at the end of a 3 h charge (0.96 K on average over it) and by 0.74 K after 6 h at 3 kW, integrated by hand
from its two-node network (steady state 0.136 K/W, 5.1 K at 37 W, reached with a 7.0 h time constant); with its
thermal management above 20 °C (354 W/K) the rise is about 0.1 K. The 2 K here is that model's upper end for a
passively cooled pack. Kept as chisan's assumption."""


PACK_THERMAL_MODELS: tuple[str, ...] = ("offsets", "v2g_sim")
"""How a car pack's temperature follows the air: ``"offsets"`` (:data:`SUN_OFFSET_C_AT_1_KW_PER_M2`,
:data:`CHARGING_OFFSET_C`, stated assumptions; the default, chisan's behaviour so far) or ``"v2g_sim"`` (LBNL
V2G-Sim's published cabin/pack thermal network, :mod:`chisan.batteries.thermal`)."""


def pack_temperature(
    temp_air_c: pd.Series,
    ghi_w_per_m2: pd.Series | None,
    soc: pd.DataFrame,
    *,
    dt_hours: float,
    sun_offset_c: float = SUN_OFFSET_C_AT_1_KW_PER_M2,
    charging_offset_c: float = CHARGING_OFFSET_C,
    thermal_model: str = "offsets",
    cabin_solar_rise_c: float = CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2,
    charge_power_kw: float = DEFAULT_CHARGE_POWER_KW,
) -> pd.DataFrame:
    """Cell temperature of each car's pack [°C], by the offsets or by V2G-Sim's thermal network.

    ``thermal_model="offsets"`` (the default): ``T = T_air + sun_offset_c · GHI / (1000 W/m²)`` in hours the
    pack is not charging, and ``T = T_air + charging_offset_c`` in hours it charges (its SOC rises faster than
    :data:`chisan.batteries.cycles.ACTIVE_SOC_RATE_PER_H`; a charging car stands at its station, its sun load
    taken as part of the charging offset).

    ``thermal_model="v2g_sim"``: LBNL V2G-Sim's parked cabin/pack network
    (:func:`chisan.batteries.thermal.two_node_temperatures`), the sun heating the cabin in every hour
    (:func:`~chisan.batteries.thermal.cabin_solar_heat_w`, ``cabin_solar_rise_c`` at 1 kW/m²) and ``R·I²`` at
    ``charge_power_kw`` heating the pack in the hours it charges; the offsets are then not used.

    Parameters
    ----------
    temp_air_c : pandas.Series
        Air temperature [°C] on the SOC's index.
    ghi_w_per_m2 : pandas.Series or None
        Global horizontal irradiance [W/m²] on the same index; None = no sun offset.
    soc : pandas.DataFrame
        State of charge [fraction], one column per car.
    dt_hours : float
        Step [h].
    sun_offset_c, charging_offset_c : float
        [°C] (module constants by default); ``"offsets"`` only.
    thermal_model : {"offsets", "v2g_sim"}
        See above (:data:`PACK_THERMAL_MODELS`).
    cabin_solar_rise_c : float
        Cabin air above the air temperature of a closed car in 1 kW/m² sun [°C]; ``"v2g_sim"`` only.
    charge_power_kw : float
        AC charging power [kW] of the pack's heat while charging; ``"v2g_sim"`` only.

    Returns
    -------
    pandas.DataFrame
        Same shape as ``soc`` [°C].
    """
    if thermal_model not in PACK_THERMAL_MODELS:
        raise ScenarioError(
            f"[batteries] pack_thermal_model = {thermal_model!r}; allowed: {', '.join(PACK_THERMAL_MODELS)}."
        )
    for name, value in (("sun_offset_c", sun_offset_c), ("charging_offset_c", charging_offset_c)):
        if not (np.isfinite(value) and -20.0 <= value <= 40.0):
            raise ScenarioError(f"[batteries] {name} = {value!r}; allowed: a number of °C in [-20, 40].")
    air = np.asarray(temp_air_c, dtype=float)[:, None]
    rise = np.zeros_like(soc.to_numpy(dtype=float))
    rise[1:] = np.diff(soc.to_numpy(dtype=float), axis=0)
    charging = rise >= ACTIVE_SOC_RATE_PER_H * dt_hours
    ghi = np.zeros(len(air)) if ghi_w_per_m2 is None else np.asarray(ghi_w_per_m2, dtype=float)
    if thermal_model == "v2g_sim":
        if not (np.isfinite(charge_power_kw) and 0.0 <= charge_power_kw <= 50.0):
            raise ScenarioError(
                f"[batteries] charge_power_kw = {charge_power_kw!r}; allowed: a number of kW in [0, 50]."
            )
        q_sun = cabin_solar_heat_w(ghi, cabin_rise_c_at_1_kw_per_m2=cabin_solar_rise_c)[:, None]
        q_pack = np.where(charging, float(charging_heat_w(charge_power_kw)), 0.0)
        _, temp = two_node_temperatures(air[:, 0], q_sun, q_pack, dt_hours=dt_hours)
    else:
        sun = np.clip(ghi, 0.0, None)[:, None] / 1000.0
        temp = air + np.where(charging, charging_offset_c, sun_offset_c * sun)
    return pd.DataFrame(temp, index=soc.index, columns=soc.columns)


def pack_temperature_note(
    thermal_model: str, sun_offset_c: float, charging_offset_c: float, cabin_solar_rise_c: float
) -> str:
    """How the car packs' temperature was made, as the reports say it (one clause, no final stop)."""
    if thermal_model == "v2g_sim":
        return (
            "at the pack temperature of LBNL V2G-Sim's parked cabin/pack thermal network (published parameters; "
            f"the cabin {cabin_solar_rise_c:g} °C above the air in 1 kW/m² sun after McLaren et al. 2005, and "
            "V2G-Sim's R·I² heat while charging; chisan.batteries.thermal)"
        )
    return (
        f"at the air temperature + {sun_offset_c:g} °C in full sun while parked and + {charging_offset_c:g} °C "
        "while charging (assumptions: no published measurement; the closest published model, LBNL's V2G-Sim, is "
        "selectable as [batteries] pack_thermal_model = 'v2g_sim', chisan.batteries.thermal)"
    )


def field_factor(model: str, factor: float | None = None) -> float:
    """The field calibration factor: ``factor`` when given, else the model's (:data:`DEFAULT_FIELD_CALIBRATION`)."""
    if factor is not None:
        return float(factor)
    return float(DEFAULT_FIELD_CALIBRATION.get(str(model).strip().lower(), 1.0))


def band_factors(central: float, band: Mapping[str, float] = FIELD_FADE_PER_YEAR_FRACTION) -> dict[str, float]:
    """Low, central and high calibration factors: the central one scaled by the band's fade rates.

    E.g. central 3.0 with the Geotab band (1.0, 1.8, 2.3 %/year) gives 3.0 · 1.0/1.8 = 1.667, 3.0 and
    3.0 · 2.3/1.8 = 3.833.
    """
    mid = float(band["central"])
    return {name: float(central) * float(band[name]) / mid for name in ("low", "central", "high")}


def fleet_fade_per_year(soh: Any, years: float) -> float:
    """Fleet-average fade rate [fraction/year]: the mean of ``(1 - SOH) / years`` over the packs."""
    return float(np.mean((1.0 - np.asarray(soh, dtype=float)) / float(years)))
