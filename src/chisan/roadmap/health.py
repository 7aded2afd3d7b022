"""State of health of the town's packs from the planned operation: in the cars, and in second-life storage.

A plan gives each vehicle's battery energy and the stationary storage's energy in every step; divided by the
usable capacity they are state-of-charge (SOC) series. With the scenario's air temperature (plus an optional
offset for the cell) they are turned into daily stress factors (rainflow cycles, depth of discharge, C-rate,
mean SOC, temperature: :func:`chisan.batteries.ageing.step_stress`) once per planned year, and the fade of
every pack is advanced with the virtual-time state update, year after year
(:func:`chisan.batteries.ageing.advance_state`). A plan shorter than a year is repeated to fill 365 days.

:func:`plan_health` projects every vehicle and the storage of one plan forward by repeating its year, and
gives the year each pack reaches its retirement threshold (issue 3, point 2); the roadmap
(:mod:`chisan.roadmap.run`) advances packs year by year through changing plans and second lives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.batteries.ageing import AgeingModel, FadeState, advance_state, ageing_model, check_threshold, step_stress
from chisan.batteries.field import pack_temperature

DAYS_PER_YEAR = 365
"""Daily update steps in a roadmap year."""


@dataclass(frozen=True)
class PlanOperation:
    """How the batteries were operated in one planned year.

    Attributes
    ----------
    vehicle_soc : pandas.DataFrame
        SOC of each vehicle's battery [fraction of usable capacity], steps × vehicles.
    storage_soc : pandas.Series or None
        SOC of the stationary storage [fraction of its energy capacity]; None when the plan has none.
    storage_kwh : float
        Energy capacity of the storage in the plan [kWh].
    temp_c : pandas.Series
        Cell temperature [°C] on the same steps.
    dt_hours : float
        Step length [h].
    ghi_w_per_m2 : pandas.Series or None
        Global horizontal irradiance [W/m²] on the same steps, for the sun on parked cars; None = unknown.
    """

    vehicle_soc: pd.DataFrame
    storage_soc: pd.Series | None
    storage_kwh: float
    temp_c: pd.Series
    dt_hours: float
    ghi_w_per_m2: pd.Series | None = None


def soc_from_energy(energy_kwh: pd.DataFrame | pd.Series, capacity_kwh: float | pd.Series) -> pd.DataFrame:
    """State of charge [fraction] = energy [kWh] / capacity [kWh], clipped to [0, 1] (solver round-off)."""
    soc = energy_kwh.div(capacity_kwh, axis=1) if isinstance(energy_kwh, pd.DataFrame) else energy_kwh / capacity_kwh
    return soc.clip(lower=0.0, upper=1.0)


def plan_operation(run, *, temp_offset_c: float = 0.0) -> PlanOperation:
    """The battery operation of a solved plan (:class:`chisan.plan.pipeline.PlanRun`).

    Parameters
    ----------
    run : chisan.plan.pipeline.PlanRun
    temp_offset_c : float, default 0
        Cell temperature above the air temperature [°C] (0: the packs sit at ambient temperature).
    """
    results = run.results
    inputs = run.prepared.inputs
    vehicle_soc = soc_from_energy(results.vehicle_energy_kwh, inputs.vehicles["usable_kwh"])
    storage_kwh = float(results.capacities["storage_kwh"])
    energy = results.dispatch["storage_energy_kwh"] if storage_kwh > 1e-6 else None
    reused = (getattr(results, "method", None) or {}).get("second_life")
    if reused is not None and reused["used_kwh"] > 1e-6:  # second-life packs (chisan.plan.second_life)
        storage_kwh = float(reused["used_kwh"])
        energy = results.dispatch["second_life_energy_kwh"]
    storage_soc = None
    if energy is not None:
        storage_soc = soc_from_energy(energy, storage_kwh).rename("storage")
    weather = run.prepared.weather
    temp = weather["temp_air"].reindex(vehicle_soc.index) + temp_offset_c
    ghi = weather["ghi"].reindex(vehicle_soc.index).fillna(0.0) if "ghi" in weather else None
    return PlanOperation(
        vehicle_soc=vehicle_soc,
        storage_soc=storage_soc,
        storage_kwh=storage_kwh,
        temp_c=temp.rename("temp_c"),
        dt_hours=float(inputs.dt_hours),
        ghi_w_per_m2=ghi,
    )


def to_year(stress: dict[str, np.ndarray], days: int = DAYS_PER_YEAR) -> dict[str, np.ndarray]:
    """Daily stress arrays (packs × steps) repeated or cut to ``days`` steps: a shorter plan stands for a year."""
    return {name: np.resize(value, (value.shape[0], days)) for name, value in stress.items()}


@dataclass(frozen=True)
class YearStress:
    """Daily stress of one year for every way a pack can be used (arrays packs × 365 days).

    Attributes
    ----------
    vehicles : dict of numpy.ndarray
        One row per vehicle of the plan.
    storage : dict of numpy.ndarray or None
        One row: a pack of the stationary storage (all its packs work in parallel at the storage's SOC).
    idle : dict of numpy.ndarray
        One row: a pack kept unused at ``idle_soc`` (calendar ageing only).
    """

    vehicles: dict[str, np.ndarray]
    storage: dict[str, np.ndarray] | None
    idle: dict[str, np.ndarray]


def year_stress(
    operation: PlanOperation,
    model: str | AgeingModel,
    *,
    idle_soc: float = 0.5,
    c_rate_definition: str = "while_cycling",
    sun_offset_c: float = 0.0,
    charging_offset_c: float = 0.0,
    pack_thermal_model: str = "offsets",
    cabin_solar_rise_c: float = 22.2,
) -> YearStress:
    """Daily stress of a planned year for the vehicles, a storage pack and an idle pack.

    Parameters
    ----------
    operation : PlanOperation
    model : str or AgeingModel
    idle_soc : float, default 0.5
        SOC at which unused packs are kept [fraction].
    c_rate_definition : {"while_cycling", "time_average"}, default "while_cycling"
        See :data:`chisan.batteries.cycles.C_RATE_DEFINITIONS`.
    sun_offset_c, charging_offset_c : float, default 0
        Car packs above the air temperature in full sun and while charging [°C]
        (:func:`chisan.batteries.field.pack_temperature`); stationary packs stay at the air temperature.
    pack_thermal_model : {"offsets", "v2g_sim"}, default "offsets"
        ``"v2g_sim"``: car packs follow LBNL V2G-Sim's cabin/pack network instead of the offsets, the cabin
        ``cabin_solar_rise_c`` [°C] above the air in 1 kW/m² sun (:mod:`chisan.batteries.thermal`).
    """
    dt = operation.dt_hours
    temp = operation.temp_c
    kind = {"dt_hours": dt, "step": "1D", "c_rate_definition": c_rate_definition}
    car_temp = temp
    if sun_offset_c or charging_offset_c or pack_thermal_model != "offsets":
        car_temp = pack_temperature(
            temp,
            operation.ghi_w_per_m2,
            operation.vehicle_soc,
            dt_hours=dt,
            sun_offset_c=sun_offset_c,
            charging_offset_c=charging_offset_c,
            thermal_model=pack_thermal_model,
            cabin_solar_rise_c=cabin_solar_rise_c,
        )
    vehicles, _ = step_stress(operation.vehicle_soc, car_temp, model, **kind)
    storage = None
    if operation.storage_soc is not None:
        storage, _ = step_stress(operation.storage_soc, temp, model, **kind)
        storage = to_year(storage)
    idle_soc_series = pd.Series(idle_soc, index=operation.vehicle_soc.index, name="idle")
    idle, _ = step_stress(idle_soc_series, temp, model, **kind)
    return YearStress(vehicles=to_year(vehicles), storage=storage, idle=to_year(idle))


def take_rows(stress: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Stress arrays of the given rows (one row per pack that follows that stress)."""
    return {name: value[rows] for name, value in stress.items()}


def stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stress arrays of several groups of packs, one after the other."""
    parts = [p for p in parts if next(iter(p.values())).shape[0] > 0]
    if not parts:
        return {}
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def first_crossing(capacity: np.ndarray, threshold: float, before: np.ndarray) -> np.ndarray:
    """Fraction of the steps elapsed when each pack's capacity first reaches ``threshold``; NaN if it does not.

    Linear between update steps (the capacity before the first step is ``before``).

    Parameters
    ----------
    capacity : numpy.ndarray
        Relative capacity after each step [fraction], packs × steps.
    threshold : float
        [fraction].
    before : numpy.ndarray
        Relative capacity before the first step [fraction], one per pack.

    Returns
    -------
    numpy.ndarray
        In (0, 1] (1 = at the end of the last step), NaN where the threshold is not reached.
    """
    n_packs, n_steps = capacity.shape
    if n_packs == 0:
        return np.empty(0)
    below = capacity <= threshold
    reached = below.any(axis=1)
    first = np.argmax(below, axis=1)
    rows = np.arange(n_packs)
    c_prev = np.where(first > 0, capacity[rows, np.maximum(first - 1, 0)], before)
    c_hit = capacity[rows, first]
    frac = np.divide(c_prev - threshold, c_prev - c_hit, out=np.ones(n_packs), where=c_prev > c_hit)
    frac = np.where(c_prev <= threshold, 0.0, frac)  # already at the threshold before the first step
    return np.where(reached, (first + frac) / n_steps, np.nan)


def project(
    state: FadeState,
    stress: dict[str, np.ndarray],
    model: str | AgeingModel,
    years: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat one year of stress for ``years`` years from ``state``.

    Returns
    -------
    soh : numpy.ndarray
        Relative capacity at the end of each year [fraction], packs × years.
    crossing_years : numpy.ndarray
        Years [fractional] until each pack first reaches ``threshold``; NaN when not within ``years``.
    """
    model = ageing_model(model)
    n = state.calendar.size
    soh = np.empty((n, years))
    crossing = np.full(n, np.nan)
    current = state.relative_capacity(model)
    for y in range(years):
        state, capacity = advance_state(state, stress, model)
        frac = first_crossing(capacity, threshold, current)
        new = np.isnan(crossing) & ~np.isnan(frac)
        crossing[new] = y + frac[new]
        soh[:, y] = capacity[:, -1]
        current = capacity[:, -1]
    return soh, crossing


@dataclass(frozen=True)
class PlanHealth:
    """State of health of a plan's packs, projected by repeating the planned year.

    Attributes
    ----------
    soh : pandas.DataFrame
        Relative capacity [fraction] at the end of each year (index ``year`` = 0 new .. years), one column per
        vehicle and a column ``storage`` when the plan has storage.
    retire_years : pandas.Series
        Years until each pack reaches its threshold [years, fractional]; NaN when not within the projection.
    thresholds : pandas.Series
        The threshold of each pack [fraction]: ``retire_soh`` for vehicles, ``storage_end_soh`` for storage.
    """

    soh: pd.DataFrame
    retire_years: pd.Series
    thresholds: pd.Series


def plan_health(
    run,
    *,
    model: str | AgeingModel,
    years: int = 30,
    retire_soh: float = 0.8,
    storage_end_soh: float = 0.6,
    temp_offset_c: float = 0.0,
) -> PlanHealth:
    """Project the state of health of every vehicle and of the storage of a plan, year after year.

    The planned year (repeated to 365 days if shorter) is applied again every year; the fade is carried
    across steps and years with the virtual-time update.

    Parameters
    ----------
    run : chisan.plan.pipeline.PlanRun
    model : str or AgeingModel
        Ageing model (see :func:`chisan.batteries.ageing.ageing_model`).
    years : int, default 30
    retire_soh : float, default 0.8
        SOH at which a pack leaves its car [fraction] (70-80 %, NREL; DESIGN.md §5).
    storage_end_soh : float, default 0.6
        SOH at which a stationary pack is retired [fraction].
    temp_offset_c : float, default 0
        Cell temperature above the air temperature [°C].
    """
    retire_soh = check_threshold(retire_soh, "retire_soh")
    storage_end_soh = check_threshold(storage_end_soh, "storage_end_soh")
    operation = plan_operation(run, temp_offset_c=temp_offset_c)
    stress = year_stress(operation, model)
    columns = list(operation.vehicle_soc.columns)
    soh, crossing = project(FadeState.new(len(columns)), stress.vehicles, model, years, retire_soh)
    thresholds = [retire_soh] * len(columns)
    if stress.storage is not None:
        s_soh, s_cross = project(FadeState.new(1), stress.storage, model, years, storage_end_soh)
        soh, crossing = np.vstack([soh, s_soh]), np.concatenate([crossing, s_cross])
        columns.append("storage")
        thresholds.append(storage_end_soh)
    table = pd.DataFrame(np.hstack([np.ones((len(columns), 1)), soh]).T, columns=columns)
    table.index.name = "year"
    return PlanHealth(
        soh=table,
        retire_years=pd.Series(crossing, index=columns, name="retire_years"),
        thresholds=pd.Series(thresholds, index=columns, name="threshold"),
    )
