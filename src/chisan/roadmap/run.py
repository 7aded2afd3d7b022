"""The roadmap: the town run forward year by year, its packs through cars, second life and recycling.

Each year of the roadmap:

1. **Fleet.** The fleet is ``N0 (1 + g)^(y - y0)`` vehicles (rounded), split over the stations in proportion
   to the scenario's (largest remainder); members (and so bookings) and chargers grow with it. Every vehicle
   holds one pack. At the start of the year a pack leaves its car if it reached ``retire_soh_fraction``
   during the previous year, or if its vehicle reached ``vehicle_service_years`` (then vehicle and pack are
   replaced, whatever the pack's SOH); a new pack takes its place.
2. **4R.** The packs leaving cars are routed (:func:`chisan.batteries.lifecycle.route_retired_packs`:
   healthiest first to resell, reuse, refabricate, recycle, in the configured shares). Reused packs stay in
   the town as stationary storage; resold and refabricated packs leave it; recycled ones go to recycling.
3. **Plan** (planned years only). The scenario is planned with the roadmap's changes: the fleet, the
   renewables already built as a floor (``min_kw``), the year's grid factor, and **as its only stationary
   storage the town's own reused packs**, offered up to their usable capacity (nominal × SOH × derate) at
   the second-life price annualised over the second-life lifetime (none before any pack is reused). The loop
   closes: packs retired from cars become storage the plan may use, and the plan's use of it ages them.
4. **Ageing.** Every pack's fade is advanced through the 365 days of the year with the daily stress of the
   latest planned year: packs in cars with the SOC of a vehicle of that plan (vehicle ``i`` follows plan
   vehicle ``i mod n``); reused packs, healthiest first, up to the storage the plan used, with the storage's
   SOC, and the rest idle at ``second_life_idle_soc_fraction`` (calendar ageing only). Packs in cars that
   reach ``retire_soh_fraction`` leave at the end of the year; reused packs that reach
   ``second_life_end_soh_fraction`` go to recycling.

After the last year, the last year's stress is repeated (up to :data:`PROJECTION_YEARS`) to find when the
packs still in cars would reach the threshold and when reused packs would end their second life; the whole
fleet of packs then goes through :func:`chisan.batteries.lifecycle.stock_flow` for the stocks, flows, materials
and EU recovery checks, so pack counts and kilograms balance exactly.

Planned and derived years: a full plan of a 30-vehicle town takes 6-9 s (30 s when it uses storage), so only
``plan_years`` years are planned (by default 3: first, middle, last); the energy flows, capacities and cost of
the other years are interpolated linearly between the planned years around them, and their ageing uses the
operation of the latest planned year before them. The fleet, the packs, the grid factor and the emissions are
computed for every year.

Emissions of each year [kg CO2e]:

* ``scope2_kg`` = grid import × that year's location-based grid factor × the hourly shape of the plan
  (Σ import_t f_t / (Σ import_t · mean f); 1 for a flat factor).
* ``embodied_*_kg``: PV and wind capacity × ``technologies.*.embodied_kg_per_kw``, and new packs × battery
  kWh × ``cell_production_kg_co2e_per_kwh`` (IVL 2019: 61-106 kg CO2e/kWh). ``annualised`` (default,
  DESIGN.md §6): PV and wind capacity in service × factor / lifetime (which also re-builds them at the end of
  their life); each pack's footprint spread evenly over its years in a car (the projected ones for packs still
  in a car at the end). ``upfront``: in the year built or made. Reused packs carry no new footprint (its
  footprint belongs to their first life: cut-off); no recycling credit is taken (no cited figure).
* ``export_credit_kg`` = export × grid factor (× shape), subtracted from ``net_kg`` only when
  ``export_credit = true`` (GHG Protocol scope 2 does not net exports).
* ``net_kg`` = scope 2 + embodied (− export credit). The peak year is the year of the largest net emissions,
  the net-zero year the first year they are ≤ 0; otherwise the gap left is the net emissions of the target year.
* ``baseline_kg``/``avoided_kg``: the km driven by private gasoline cars (scenario ``baseline``), reported
  beside, not netted.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.batteries.ageing import ageing_model, calibrated
from chisan.batteries.lifecycle import StockFlowResult, stock_flow
from chisan.economics.drivetrain import depot_year_scenario, shares_in_year
from chisan.exceptions import ChisanError
from chisan.roadmap import health
from chisan.roadmap.accounts import _years_table
from chisan.roadmap.accounts import trajectory_summary as trajectory_summary  # re-exported: tests
from chisan.roadmap.packs import (
    _SECOND,
    _age_one_year,
    _health_rows,
    _pack_table,
    _Packs,
    _project_beyond,
    _route,
    _Slots,
    _start_of_year,
)
from chisan.roadmap.packs import PROJECTION_YEARS as PROJECTION_YEARS  # re-exported: the module docstring's reference
from chisan.roadmap.schema import ResolvedRoadmap, RoadmapSettings, resolve
from chisan.scenario.schema import Scenario, SecondLife

Progress = Callable[[str, float], None]
"""``f(message, fraction_of_the_roadmap_done)``."""

ENERGY_COLUMNS: tuple[str, ...] = (
    "charging_kwh",
    "grid_import_kwh",
    "grid_export_kwh",
    "pv_kwh",
    "wind_kwh",
    "curtailed_kwh",
    "storage_charge_kwh",
    "storage_discharge_kwh",
)
"""Annual energy flows of a plan [kWh/year] (keys of :attr:`chisan.plan.results.PlanResults.energy_balance`)."""


@dataclass(frozen=True)
class PlannedYear:
    """What the roadmap needs from the plan of one year.

    Attributes
    ----------
    capacities : dict[str, float]
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw`` [kW, kWh].
    energy_kwh : dict[str, float]
        Annual flows of :data:`ENERGY_COLUMNS` [kWh/year].
    km : float
        Distance driven [km/year].
    cost_per_year : float
        Annualised total cost [currency/year].
    scope2_shape, export_shape : float
        Σ flow_t f_t / (Σ flow_t · mean f) for import and export [-] (1 for a flat grid factor).
    operation : chisan.roadmap.health.PlanOperation
        SOC of the vehicles and the storage, air temperature.
    seconds : float
        Wall time of the plan [s].
    """

    capacities: dict[str, float]
    energy_kwh: dict[str, float]
    km: float
    cost_per_year: float
    scope2_shape: float
    export_shape: float
    operation: health.PlanOperation
    seconds: float = 0.0
    second_life: dict | None = None


Planner = Callable[[Scenario, Progress | None], PlannedYear]
"""``planner(scenario_of_the_year, progress) -> PlannedYear``; :func:`plan_year` by default."""


def _shape(flow_kw: pd.Series, factor: pd.Series) -> float:
    """Σ flow_t f_t / (Σ flow_t · mean f) [-]; 1 when nothing flows or the factor is 0."""
    total = float(flow_kw.sum())
    mean = float(factor.mean())
    if total <= 0 or mean <= 0:
        return 1.0
    return float((flow_kw * factor).sum()) / (total * mean)


def plan_year(scenario: Scenario, progress: Progress | None = None) -> PlannedYear:
    """Plan one year with :func:`chisan.plan.pipeline.plan_scenario` (checked) and keep what the roadmap needs."""
    from chisan.plan.pipeline import plan_scenario

    t0 = time.perf_counter()
    run = plan_scenario(scenario, progress=progress)
    results = run.results
    dispatch = results.dispatch
    factor = dispatch["emission_factor_kg_per_kwh"]
    reused = results.method.get("second_life")
    capacities = {k: float(v) for k, v in results.capacities.items()}
    if reused is not None:  # the roadmap's storage is the second-life family
        capacities["storage_kwh"] = float(reused["used_kwh"])
    return PlannedYear(
        capacities=capacities,
        energy_kwh={k: float(results.energy_balance[k]) for k in ENERGY_COLUMNS},
        km=results.kpi("km_per_year"),
        cost_per_year=results.kpi("total_cost_per_year"),
        scope2_shape=_shape(dispatch["grid_import_kw"], factor),
        export_shape=_shape(dispatch["grid_export_kw"], factor),
        operation=health.plan_operation(run),
        seconds=time.perf_counter() - t0,
        second_life=reused,
    )


# --- the town's changes, year by year ------------------------------------------------------------------------


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Whole numbers summing to ``total`` in proportion to ``weights`` (Hamilton's method, ties to the first)."""
    weights_arr = np.asarray(weights, dtype=float)
    if total <= 0 or weights_arr.sum() <= 0:
        return [0] * len(weights)
    quotas = total * weights_arr / weights_arr.sum()
    counts = np.floor(quotas + 1e-9).astype(int)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - int(counts.sum())]:
        counts[i] += 1
    return counts.tolist()


def fleet_path(years: list[int], base_vehicles: dict[str, int], growth_per_year: float) -> pd.DataFrame:
    """Vehicles per station in each year: ``round(N0 (1 + g)^(y - y0))`` split like the base fleet.

    Returns
    -------
    pandas.DataFrame
        Index ``year``, one column per station [vehicles].
    """
    n0 = sum(base_vehicles.values())
    rows = []
    for y in years:
        total = round(n0 * (1.0 + growth_per_year) ** (y - years[0]))
        rows.append(largest_remainder(total, list(base_vehicles.values())))
    return pd.DataFrame(rows, index=pd.Index(years, name="year"), columns=list(base_vehicles))


def base_members(scenario: Scenario) -> int:
    """Members of the car-sharing in the scenario (given, or population × membership fraction)."""
    b = scenario.bookings
    return b.members if b.members is not None else round(scenario.municipality.population * b.membership_fraction)


def year_scenario(
    scenario: Scenario,
    *,
    vehicles: dict[str, int],
    members: int,
    pv_floor_kw: float,
    wind_floor_kw: float,
    second_life_kwh: float,
    second_life_price_per_kwh: float,
    second_life_lifetime_years: float,
    grid_factor_kg_per_kwh: float,
) -> Scenario:
    """The scenario of one roadmap year.

    Stations get ``vehicles`` (chargers scaled alike, rounded up), bookings ``members``; PV and wind keep what
    is built (``min_kw`` = floor, within ``max_kw``); the storage is the second-life storage: up to
    ``second_life_kwh`` at ``second_life_price_per_kwh`` over ``second_life_lifetime_years`` (none when 0);
    a constant grid factor is set to the year's (an hourly file is kept and scaled in the accounting).
    """
    stations = []
    for s in scenario.stations:
        n = vehicles[s.name]
        chargers = s.chargers
        if chargers is not None and s.vehicles:
            chargers = math.ceil(chargers * n / s.vehicles - 1e-9)
        stations.append(s.model_copy(update={"vehicles": n, "chargers": chargers}))
    tech = scenario.technologies

    def floored(t, floor_kw: float):
        if t.fixed_kw is not None or not t.enabled:
            return t
        floor = max(t.min_kw, floor_kw)
        if t.max_kw is not None:
            floor = min(floor, t.max_kw)
        return t.model_copy(update={"min_kw": floor})

    st = tech.storage
    # the reused packs are the plan's second-life family (chisan.plan.second_life), new storage is not offered
    storage = st.model_copy(update={"enabled": False, "fixed_kwh": None, "fixed_kw": None})
    reused = None
    if second_life_kwh > 1e-6:
        limit = second_life_kwh if st.max_kwh is None else min(second_life_kwh, st.max_kwh)
        reused = SecondLife(
            offered_kwh=limit,
            price_per_kwh=second_life_price_per_kwh,
            lifetime_years=second_life_lifetime_years,
            site=st.site or "any",
            round_trip_efficiency_fraction=st.charge_efficiency_fraction * st.discharge_efficiency_fraction,
            max_c_rate_per_h=st.max_c_rate_per_h,
        )
    technologies = tech.model_copy(
        update={"pv": floored(tech.pv, pv_floor_kw), "wind": floored(tech.wind, wind_floor_kw), "storage": storage}
    )
    grid = scenario.grid
    if grid.emission_factor_path is None:
        grid = grid.model_copy(update={"emission_factor_kg_per_kwh": grid_factor_kg_per_kwh})
    bookings = scenario.bookings
    if bookings.source == "generated":
        bookings = bookings.model_copy(update={"members": int(members)})
    return scenario.model_copy(
        update={
            "stations": stations,
            "technologies": technologies,
            "grid": grid,
            "bookings": bookings,
            "second_life": reused,
        }
    )


@dataclass
class RoadmapResult:
    """A roadmap, year by year.

    Attributes
    ----------
    config : ResolvedRoadmap
        The settings with their defaults filled in.
    years : pandas.DataFrame
        Index ``year``: ``planned`` (bool), ``vehicles``, ``members``, capacities ``pv_kw``, ``wind_kw``,
        ``second_life_offered_kwh`` and ``storage_kwh`` (used) [kW, kWh], the flows of :data:`ENERGY_COLUMNS`
        and ``km`` [km/year], ``cost_per_year`` [currency/year], ``grid_factor_kg_per_kwh``, emissions
        ``scope2_kg``, ``embodied_pv_kg``, ``embodied_wind_kg``, ``embodied_battery_kg``, ``embodied_kg``,
        ``export_credit_kg``, ``net_kg``, ``baseline_kg``, ``avoided_kg`` [kg CO2e/year], and pack counts
        ``new_packs``, ``retired_packs`` [packs].
    packs : pandas.DataFrame
        One row per pack: ``pack_id``, ``vehicle``, ``chemistry``, ``capacity_kwh``, ``year_in_service``,
        ``retire_year`` (year it leaves its car), ``retire_age_years`` (age when it reached the threshold,
        fractional; projected beyond the roadmap for packs still in a car), ``retire_reason``
        (``soh_threshold``, ``vehicle_replaced``, ``fleet_reduced``), ``soh_at_retirement``, ``route``,
        ``end_year``, as passed to :func:`chisan.batteries.lifecycle.stock_flow`.
    health : pandas.DataFrame
        Long table ``year, pack_id, vehicle, state, soh``: SOH [fraction] at the end of each year of every
        pack in a car (``in_car``) or in the town's storage (``second_life``).
    lifecycle : StockFlowResult
        Stocks, flows, materials and EU recovery checks of every pack.
    summary : dict
        ``peak_year``, ``peak_kg``, ``net_zero_year`` (None if not reached), ``target_year``,
        ``net_at_target_kg``, ``gap_at_target_kg``, ``reaches_target``.
    timings : dict
        Wall time [s]: ``plan_<year>`` per planned year, ``ageing``, ``total``.
    """

    config: ResolvedRoadmap
    years: pd.DataFrame
    packs: pd.DataFrame
    health: pd.DataFrame
    lifecycle: StockFlowResult
    summary: dict
    timings: dict = field(default_factory=dict)


def _vehicle_chemistry(scenario: Scenario) -> tuple[str, float, str]:
    """Material set, gross pack energy [kWh] and pack chemistry (which selects the ageing model) of the car."""
    from chisan.plan.prepare import resolve_vehicle

    vehicle = resolve_vehicle(scenario)
    pack = vehicle.chemistry if scenario.fleet.chemistry is not None else vehicle.pack_chemistry
    return vehicle.chemistry, float(vehicle.battery_kwh), pack


def _base_vehicles(scenario: Scenario) -> dict[str, int]:
    """Vehicles per station; stations that leave it open are sized once from the bookings."""
    given = {s.name: s.vehicles for s in scenario.stations}
    if all(v is not None for v in given.values()):
        return {k: int(v) for k, v in given.items()}
    from chisan.plan.prepare import prepare_inputs

    counts = prepare_inputs(scenario).assignment.vehicles_per_station
    return {name: int(v) if v is not None else int(counts.get(name, 0)) for name, v in given.items()}


def run_roadmap(
    scenario: Scenario,
    settings: RoadmapSettings | None = None,
    *,
    years: tuple[int, int] | None = None,
    planner: Planner | None = None,
    progress: Progress | None = None,
) -> RoadmapResult:
    """Run the town forward year by year (module docstring): fleet, 4R, plans, ageing, emissions.

    Parameters
    ----------
    scenario : Scenario
        The town (its planning year sets the weather of every plan).
    settings : RoadmapSettings, optional
        The ``[roadmap]`` table (default: all defaults).
    years : (int, int), optional
        First and last year, overriding the settings.
    planner : callable, optional
        ``planner(scenario, progress) -> PlannedYear``; default :func:`plan_year`.
    progress : callable, optional
        ``progress(message, fraction_done)``.

    Raises
    ------
    ScenarioError, DataError, InfeasibleError, SolverError, CheckError
        The message says which roadmap year failed.
    """
    t_start = time.perf_counter()
    settings = settings or RoadmapSettings()
    planner = planner or plan_year
    say = progress or (lambda msg, frac: None)
    chemistry, pack_kwh, pack_chemistry = _vehicle_chemistry(scenario)
    base_factor = scenario.grid.emission_factor_kg_per_kwh
    if scenario.grid.emission_factor_path is not None:
        from chisan.carbon.factors import read_hourly_emission_factors

        hourly = read_hourly_emission_factors(
            scenario.resolve(scenario.grid.emission_factor_path), column=scenario.grid.emission_factor_column
        )
        base_factor = float(np.asarray(hourly, dtype=float).mean())
    cfg = resolve(
        settings,
        scenario,
        chemistry=chemistry,
        base_grid_factor_kg_per_kwh=base_factor,
        years=years,
        pack_chemistry=pack_chemistry,
    )
    s = cfg.settings
    model = calibrated(cfg.ageing_model, cfg.field_factors["central"])  # a car pack, not a lab cell
    # reused packs age with the second-life model (NREL's fit to used Nissan Leaf modules by default), not calibrated
    # to car use; "car" keeps the car's model running on (virtual time)
    sl_model = None if s.second_life_ageing_model == "car" else ageing_model(s.second_life_ageing_model)
    sl_stress: health.YearStress | None = None
    car_pack = scenario.batteries
    all_years = cfg.years
    last = all_years[-1]

    base_counts = _base_vehicles(scenario)
    fleet = fleet_path(all_years, base_counts, s.fleet_growth_per_year_fraction)
    n0 = max(1, sum(base_counts.values()))
    m0 = base_members(scenario)
    if s.fleet_growth_per_year_fraction and scenario.bookings.source == "csv":
        warnings.warn(
            "bookings come from a CSV file: the fleet grows by fleet_growth_per_year_fraction but the bookings do not",
            stacklevel=2,
        )

    packs = _Packs(pack_kwh)
    slots = _Slots()
    rows: dict[int, dict] = {}
    plans: dict[int, PlannedYear] = {}
    health_rows: list[pd.DataFrame] = []
    built = {"pv_kw": 0.0, "wind_kw": 0.0}
    stress: health.YearStress | None = None
    used_kwh = 0.0
    timings: dict[str, float] = {}
    t_ageing = 0.0
    n_planned = len(cfg.planned_years)

    for y in all_years:
        n_y = int(fleet.loc[y].sum())
        _start_of_year(packs, slots, y, n_y, cfg)
        second = np.flatnonzero(packs.where == _SECOND)
        usable = packs.capacity_kwh * packs.soh[second] * s.second_life_derate_fraction
        offered_kwh = float(usable.sum())
        row = {
            "planned": y in cfg.planned_years,
            "vehicles": n_y,
            "members": round(m0 * n_y / n0),
            "second_life_offered_kwh": offered_kwh,
        }
        if s.depot_drivetrain_shares:
            shares = shares_in_year(s.depot_drivetrain_shares, y)
            row.update({f"depot_{d}_share": x for d, x in shares.items()})

        if y in cfg.planned_years:
            done = sum(1 for p in cfg.planned_years if p < y)
            year_sc = year_scenario(
                scenario,
                vehicles=fleet.loc[y].to_dict(),
                members=row["members"],
                pv_floor_kw=built["pv_kw"],
                wind_floor_kw=built["wind_kw"],
                second_life_kwh=offered_kwh,
                second_life_price_per_kwh=cfg.second_life_price_per_kwh,
                second_life_lifetime_years=s.second_life_lifetime_years,
                grid_factor_kg_per_kwh=float(cfg.grid_factor_kg_per_kwh.loc[y]),
            )
            if s.depot_drivetrain_shares:
                year_sc = depot_year_scenario(year_sc, shares)

            say(f"{y}: planning ({done + 1}/{n_planned})", done / n_planned)
            try:
                plan = planner(year_sc, _year_progress(say, y, done, n_planned))
            except ChisanError as err:
                raise type(err)(f"roadmap year {y}: {err}") from err
            plans[y] = plan
            timings[f"plan_{y}"] = plan.seconds
            if plan.second_life is not None:  # why the plan uses the reused packs or not (plan/second_life.py)
                row["second_life_break_even_price_per_kwh"] = plan.second_life["break_even_price_per_kwh"]
                row["second_life_reason"] = plan.second_life["reason"]
            for tech in ("pv_kw", "wind_kw"):
                built[tech] = max(built[tech], plan.capacities[tech])
            t0 = time.perf_counter()
            operation = dataclasses.replace(
                plan.operation, temp_c=plan.operation.temp_c + s.battery_temperature_offset_c
            )
            stress = health.year_stress(
                operation,
                model,
                idle_soc=s.second_life_idle_soc_fraction,
                c_rate_definition=car_pack.c_rate_definition,
                sun_offset_c=car_pack.sun_offset_c,
                charging_offset_c=car_pack.charging_offset_c,
                pack_thermal_model=car_pack.pack_thermal_model,
                cabin_solar_rise_c=car_pack.cabin_solar_rise_c,
            )
            if sl_model is not None:
                sl_stress = health.year_stress(
                    operation,
                    sl_model,
                    idle_soc=s.second_life_idle_soc_fraction,
                    c_rate_definition=car_pack.c_rate_definition,
                )
            used_kwh = plan.capacities["storage_kwh"] if stress.storage is not None else 0.0
            t_ageing += time.perf_counter() - t0
        else:
            used_kwh = min(used_kwh, offered_kwh)
        row["storage_kwh"] = used_kwh

        t0 = time.perf_counter()
        assert stress is not None
        _age_one_year(packs, slots.pack, y, stress, used_kwh, model, cfg, sl_model, sl_stress)
        health_rows.append(_health_rows(packs, y, model, cfg.field_factors, sl_model))
        t_ageing += time.perf_counter() - t0
        rows[y] = row

    t0 = time.perf_counter()
    _route(packs, last + 1, cfg)  # packs that reached the threshold in the last year
    _project_beyond(packs, slots, last, stress, used_kwh, model, cfg, sl_model, sl_stress)
    t_ageing += time.perf_counter() - t0
    timings["ageing"] = t_ageing

    table = _years_table(rows, plans, cfg, scenario, packs)
    pack_table = _pack_table(packs, cfg)
    lifecycle = stock_flow(
        pack_table,
        all_years,
        process=s.recycling_process,
        end_soh=s.second_life_end_soh_fraction,
        second_life_derate=s.second_life_derate_fraction,
        good_module_share=s.good_module_share_fraction,
    )
    summary = trajectory_summary(table["net_kg"], cfg.target_year, cfg.peak_by_year)
    timings["total"] = time.perf_counter() - t_start
    return RoadmapResult(
        config=cfg,
        years=table,
        packs=pack_table,
        health=pd.concat(health_rows, ignore_index=True),
        lifecycle=lifecycle,
        summary=summary,
        timings=timings,
    )


def _year_progress(say: Progress, year: int, done: int, n_planned: int) -> Progress:
    """The progress of one plan as a part of the roadmap's; the plan's stages restart at 0, the bar never goes back."""
    seen = [0.0]

    def inner(msg: str, frac: float) -> None:
        seen[0] = max(seen[0], min(max(frac, 0.0), 1.0))
        say(f"{year}: {msg}", (done + seen[0]) / n_planned)

    return inner
