"""The reduced plan used for sweeps: typical days, the town's fleet as one battery, representative stations.

``chisan plan`` solves a town in two stages (:mod:`chisan.plan.solve`): capacities sized on typical days with the
fleet aggregated, a year-long dispatch of that aggregate, then every vehicle dispatched hour by hour over the year.
The per-vehicle stage takes most of the time and grows with the fleet (Yokohama would need ≈ 3,700 cars). A sweep
needs every municipality's figures, not its per-vehicle schedules, so :func:`plan_reduced` stops before it:

1. **Representative stations.** A town with more than ``max_stations`` stations is represented by its first
   ``max_stations`` (with their share of the members); its bookings, trip energies, fleet assignment and
   plug-in availability are computed for those stations only (:func:`chisan.plan.prepare.prepare_inputs`) and
   scaled to the whole town: fleet energy, charging power and chargers by the ratio of vehicles, trip energy,
   km and bookings by the ratio of members. Millions of bookings are never generated. The stations a sweep
   derives repeat the template's, so a whole number of template cycles is a faithful sample.
2. **Sizing on typical days.** The chronological year (weather, PV and wind per kW, prices, grid factor, the
   fleet's available power and trip energy) is reduced to ``n_typical_days`` linked typical days by tsam
   (:func:`chisan.plan.reduce.typical_days`, Kotzur et al. 2018, doi:10.1016/j.apenergy.2018.01.023) and the
   capacities co-optimised with their operation — the sizing stage of ``chisan plan``, same inputs, same LP.
3. **The year at those capacities.** The aggregate fleet, storage and grid over all 8,760 hours with the
   capacities fixed, the policy rows elastic: a target the year misses tightens the sizing, which is repeated
   (as ``chisan plan`` does). The key figures come from this year, with the definitions of
   :mod:`chisan.plan.results` (same names, units and wording; :func:`key_figures`): the CO2 avoided split like
   with like, the shared cars' km and charging against private cars and the depots' against diesel, the depots
   pooled apart from the cars (:mod:`chisan.sweep.depots`).
4. **The pool's bias.** A pooled fleet lets one car charge for another, so its year imports less than the cars
   can: its hourly-matched share is reported less :data:`POOLED_HOURLY_SHARE_BIAS` (calibrated against chisan
   plan, never below an hourly target). Valid rows that remove part of the bias at ≈ 1 s CPU are an option
   (:mod:`chisan.sweep.headroom`, :mod:`chisan.sweep.parked`).

Both LPs are assembled by :mod:`chisan.sweep.lp` (the formulation of :mod:`chisan.plan.model`, built in
milliseconds instead of linopy's ≈ 0.5 s, checked against it in tests/sweep/test_lp.py). The error against the
full-year per-vehicle plan (:func:`chisan.plan.pipeline.plan_scenario`) is measured by :func:`compare_with_full`;
benchmarks/bench_sweep.py reports it on a sample of municipalities.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.exceptions import InfeasibleError, SolverError
from chisan.plan.inputs import PlanInputs
from chisan.plan.prepare import capacities, prepare_inputs
from chisan.plan.reduce import Reduction, typical_days
from chisan.plan.results import PlanResults, key_figures, mobility_per_year
from chisan.plan.solve import diagnose_infeasibility
from chisan.scenario.schema import Scenario
from chisan.sweep.depots import depot_diesel_l_per_year, depot_names, is_depot, pool_fleet
from chisan.sweep.headroom import headroom_rows
from chisan.sweep.lp import AggregateSolution, solve_aggregate
from chisan.sweep.parked import parked_split

DEFAULT_MAX_STATIONS = 10
"""Stations computed in full before the rest are represented by them (two cycles of the example's five)."""

FLOW_VARIABLES = {
    "PV-output_kw": "pv_kw",
    "Wind-output_kw": "wind_kw",
    "Storage-charge_kw": "storage_charge_kw",
    "Storage-discharge_kw": "storage_discharge_kw",
    "Grid-import_kw": "grid_import_kw",
    "Grid-export_kw": "grid_export_kw",
}
"""Model variables → columns of the (typical-day) dispatch table, as in :data:`chisan.plan.results.DISPATCH_COLUMNS`."""


@dataclass
class ReducedPlan:
    """The key figures of a reduced plan.

    Attributes
    ----------
    scenario : Scenario
        The scenario planned.
    capacities : dict[str, float]
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw`` [kW, kWh].
    kpis : pd.DataFrame
        ``value``, ``unit``, ``definition`` by KPI name — the names of :class:`chisan.plan.results.PlanResults`.
    costs : pd.DataFrame
        Annualised cost by component [currency/year], as :func:`chisan.plan.results.cost_table`.
    energy_balance : pd.Series
        Annual energy flows [kWh/year].
    emissions : pd.Series
        Annual emissions and avoided emissions [kg CO2e/year].
    details : dict
        Typical days, stations represented and scale factors, objective, timings [s].
    dispatch : pd.DataFrame, optional
        The operation the figures come from, on its own steps with their ``weight`` (:func:`typical_dispatch`),
        and ``depot_charging_kw`` when the town has depots [kW].
    """

    scenario: Scenario
    capacities: dict[str, float]
    kpis: pd.DataFrame
    costs: pd.DataFrame
    energy_balance: pd.Series
    emissions: pd.Series
    details: dict = field(default_factory=dict)
    dispatch: pd.DataFrame | None = None

    def kpi(self, name: str) -> float:
        """The value of one KPI."""
        return float(self.kpis.loc[name, "value"])


def representative_scenario(scenario: Scenario, max_stations: int) -> tuple[Scenario, float, float]:
    """The scenario cut to its first ``max_stations`` stations, and the factors that scale them to the town.

    Returns
    -------
    representative : Scenario
        The first stations with their share of the members (shares renormalised); everything else unchanged.
    vehicle_ratio : float
        Town vehicles / represented vehicles [-] (members ratio when a station's fleet is left open).
    member_ratio : float
        Town members / represented members [-].
    """
    if max_stations < 1:
        raise ValueError(f"max_stations must be ≥ 1, got {max_stations}")
    stations = scenario.stations
    if len(stations) <= max_stations:
        return scenario, 1.0, 1.0
    b = scenario.bookings
    members = b.members if b.members is not None else round(scenario.municipality.population * b.membership_fraction)
    given = [s.member_share_fraction for s in stations]
    shares = given if given[0] is not None else [1.0 / len(stations)] * len(stations)
    kept = stations[:max_stations]
    kept_share = float(sum(shares[:max_stations]))
    kept_members = max(1, round(members * kept_share))
    new_stations = [
        s.model_copy(update={"member_share_fraction": shares[k] / kept_share}) if given[0] is not None else s
        for k, s in enumerate(kept)
    ]
    representative = scenario.model_copy(
        update={"stations": new_stations, "bookings": b.model_copy(update={"members": kept_members})}
    )
    member_ratio = members / kept_members
    if all(s.vehicles is not None for s in stations):
        vehicle_ratio = sum(s.vehicles for s in stations) / max(1, sum(s.vehicles for s in kept))
    else:
        vehicle_ratio = member_ratio
    return representative, float(vehicle_ratio), float(member_ratio)


def scale_fleet(
    agg: PlanInputs, vehicle_ratio: float, member_ratio: float, fixed: np.ndarray | None = None
) -> PlanInputs:
    """Aggregated inputs (``fleet_mode="station"``) scaled from the represented stations to the whole town.

    Fleet energy bounds (usable and reserve), available charging power, chargers and station connection limits
    scale with the vehicles; trip energy with the members. ``fixed`` (bool per aggregate station) marks stations
    left as they are: the depots, which are never sampled (:mod:`chisan.sweep.depots`).
    """
    if agg.fleet_mode != "station":
        raise ValueError("scale_fleet needs aggregated inputs (chisan.plan.reduce.aggregate_fleet)")
    if vehicle_ratio == 1.0 and member_ratio == 1.0:
        return agg
    keep = np.zeros(len(agg.stations), bool) if fixed is None else np.asarray(fixed, bool)
    by_station = pd.Series(np.where(keep, 1.0, vehicle_ratio), index=agg.stations.index)
    trips_by_station = np.where(keep, 1.0, member_ratio)
    per_vehicle = by_station.reindex(agg.vehicles["station"].to_numpy()).to_numpy(float)
    vehicles = agg.vehicles.copy()
    vehicles["usable_kwh"] = vehicles["usable_kwh"] * per_vehicle
    vehicles["reserve_kwh"] = vehicles["reserve_kwh"] * per_vehicle
    stations = agg.stations.copy()
    stations["chargers"] = stations["chargers"] * by_station.to_numpy()
    stations["connection_limit_kw"] = stations["connection_limit_kw"] * by_station.to_numpy()
    changes = {
        "vehicles": vehicles,
        "stations": stations,
        "station_available_kw": agg.station_available_kw * by_station.to_numpy()[None, :],
        "station_trip_energy_kwh": agg.station_trip_energy_kwh * trips_by_station[None, :],
    }
    need = getattr(agg, "station_min_energy_kwh", None)
    if need is not None:  # the vehicles' least energies: reserves and own later trips, per vehicle
        changes["station_min_energy_kwh"] = need * by_station.to_numpy()[None, :]
    return dataclasses.replace(agg, **changes)


def fleet_counts(scenario: Scenario, represented: PlanInputs, vehicle_ratio: float) -> tuple[int, int]:
    """Car-sharing vehicles of the whole town, and all its chargers (the depots' too, as chisan plan counts them).

    The scenario's numbers, or the represented ones scaled; the depots' chargers are never scaled.
    """
    stations = scenario.stations
    depots = depot_names(scenario)
    at_depot = represented.stations.index.isin(depots)
    depot_chargers = int(represented.stations.loc[at_depot, "chargers"].sum())
    if all(s.vehicles is not None for s in stations):
        vehicles = sum(s.vehicles for s in stations)
        chargers = sum(s.chargers if s.chargers is not None else s.vehicles for s in stations)
        return int(vehicles), int(chargers) + depot_chargers
    cars = ~represented.vehicles["station"].isin(depots)
    return (
        round(int(cars.sum()) * vehicle_ratio),
        round(float(represented.stations.loc[~at_depot, "chargers"].sum()) * vehicle_ratio) + depot_chargers,
    )


POOLED_HOURLY_SHARE_BIAS = 0.025
"""How far the pooled year's hourly-matched renewable share lies above the per-vehicle year's [-], calibrated.

The pool lets one car charge for another (:mod:`chisan.sweep.headroom`), so its year imports less than the cars
can. On the realistic template of benchmarks/bench_sweep.py, in the three sample towns where the hourly 90 %
target does not bind (Shikaoi, Yonabaru, Hinode), the pooled share was 2.99, 2.62 and 1.82 points above chisan
plan's at the same capacities: mean 2.48, taken as 2.5 points. :func:`plan_reduced` subtracts it from the
share it reports, never going below an hourly target (chisan plan re-sizes until its per-vehicle year meets it).
Stated error of the corrected share on the six towns of ``benchmarks/bench_sweep.py --accuracy-codes six``: within
±0.8 points (three of them are the calibration's, in sample). Adding the bias to the target the pooled year must
meet, so as to re-size like chisan plan, was tried and dropped: the pool met the higher target by cycling energy
through V2G at the same capacities (Koumi), or by charging more, which the hourly row counts as load (Tōbetsu's
annual balance −20 %).

What the pool leaves out, measured on the six towns (realistic template, chisan plan two-stage, the pool with no
bias): per vehicle, one car charged in the sun sends energy back through V2G for another car to charge (99–652
kWh/year of V2G; the pool sends none), and chisan plan's charging exceeds the pool's by 0.80–1.01 × that V2G / η²
(η = the fleet's charge efficiency): 1.5–3.0 % more charging, which is the whole error of the annual balance
(+1.9…+3.0 %) where PV is the same (Shikaoi, Hinode, Yonabaru), and it imports where the pool moves energy for
free (850 against 532 kWh in Shikaoi). Where the hourly target binds (Koumi, Tōbetsu, Nose), chisan plan's
per-vehicle year misses it at the sized capacities and re-sizes (PV +7–8 %, 1–2 kWh of storage) where the pool
meets it: the annual balance's −4.6…−6.0 %. Only per-vehicle energies remove the trade between cars (the rows of
:mod:`chisan.sweep.headroom` and the split of :mod:`chisan.sweep.parked` together halve the share's bias, 2.99 →
1.35 points in Shikaoi, for ≈ 1.5 s more CPU per town).
"""

POLICY_SLACK_COST = 1.0e4
"""Cost of missing a policy target by one unit in the year-long check of a reduced plan [currency/kWh or /kg]:
far above any price, so a target is missed only where the sized capacities cannot meet it."""


def _tightened(inputs: PlanInputs, shortfalls: dict[str, float], load_kwh: float) -> PlanInputs:
    """Sizing inputs with each missed target tightened by 1.05 × its shortfall on the year (as chisan.plan.solve)."""
    changes: dict = {}
    short = shortfalls.get("policy.renewable_share_min_fraction")
    if short:
        changes["renewable_share_min"] = min(
            1.0 if inputs.renewable_share_basis == "hourly" else np.inf,
            inputs.renewable_share_min + 1.05 * short / max(load_kwh, 1e-9),
        )
    short = shortfalls.get("policy.max_grid_import_kwh_per_year")
    if short:
        changes["max_grid_import_kwh"] = max(0.0, inputs.max_grid_import_kwh - 1.05 * short)
    short = shortfalls.get("policy.max_emissions_kg_per_year")
    if short:
        changes["max_emissions_kg"] = max(0.0, inputs.max_emissions_kg - 1.05 * short)
    return dataclasses.replace(inputs, **changes)


POLICY_FIELDS = ("renewable_share_min", "max_grid_import_kwh", "max_emissions_kg")
"""The policy targets of PlanInputs that the sizing tightens."""


def other_day_counts(n_days: int) -> list[int]:
    """Numbers of typical days tried, in order, after ``n_days`` proved physically infeasible (24 → 25, 20, 32, 12)."""
    out = []
    for n in (n_days + 1, n_days - 4, n_days + 8, n_days // 2):
        if 2 <= n <= 366 and n != n_days and n not in out:
            out.append(n)
    return out


def _size(
    agg: PlanInputs, reduction: Reduction, targets: dict, time_limit_s: float | None, threads: int
) -> tuple[Reduction, PlanInputs, AggregateSolution]:
    """Size on typical days; on a physically infeasible set of typical days, try other numbers of days.

    tsam clusters the fleet's available power and its trip energy as separate series and rescales each to its
    annual mean, so for a fleet of one or two cars a typical day can ask for more driving than its plugged-in
    hours can recharge, although the real year can (chisan plan fails the same way for ten one-car villages of
    the 1,741). Another number of days (:func:`other_day_counts`) ends that artefact; the year-long check then
    runs on the real year.

    Raises
    ------
    InfeasibleError
        The targets cannot be met (diagnosed by :func:`chisan.plan.solve.diagnose_infeasibility`), or no number
        of typical days tried is feasible even without targets.
    """
    options = {"output_flag": False, "threads": int(threads)}
    for n_days in [reduction.n_days, *other_day_counts(reduction.n_days)]:
        if n_days != reduction.n_days:
            reduction = typical_days(agg, n_days)
        sizing_inputs = dataclasses.replace(reduction.inputs, **targets)
        sized = solve_aggregate(sizing_inputs, time_limit_s=time_limit_s, threads=threads)
        if sized.status == "optimal":
            return reduction, sizing_inputs, sized
        if sized.status not in ("infeasible", "infeasible_or_unbounded"):
            raise SolverError(f"reduced plan, sizing on typical days: HiGHS stopped with {sized.status!r}")
        free = dataclasses.replace(sizing_inputs, **dict.fromkeys(POLICY_FIELDS))
        if solve_aggregate(free, time_limit_s=time_limit_s, threads=threads).status == "optimal":
            raise diagnose_infeasibility(sizing_inputs, options)  # a target, not the typical days
    raise diagnose_infeasibility(sizing_inputs, options)


def _flows(inputs: PlanInputs, solution: AggregateSolution) -> dict[str, np.ndarray]:
    """Per-step system flows of an aggregate solution, by dispatch-table column [kW]."""
    n = len(inputs.snapshots)
    values = {col: solution.values.get(var, np.zeros(n)) for var, col in FLOW_VARIABLES.items()}
    for var, col in (("Fleet-charge_kw", "charging_kw"), ("Fleet-discharge_kw", "v2g_kw")):
        values[col] = solution.values[var].sum(axis=1) if var in solution.values else np.zeros(n)
    if inputs.period_order is None and "Fleet-energy_kwh" in solution.values:
        # the fleet's energy on a chronological (or unlinked) horizon is absolute, so the cost table can bill the
        # battery holding cost on it as chisan plan does (Σ_t w_t Δt k × energy_t × cost, results.cost_table);
        # on linked typical days it is an offset from each day's start, and the line says it is not in the dispatch
        values["fleet_energy_kwh"] = solution.values["Fleet-energy_kwh"].sum(axis=1)
    return values


def plan_reduced(
    scenario: Scenario,
    *,
    n_typical_days: int | None = None,
    max_stations: int = DEFAULT_MAX_STATIONS,
    operation: str = "year",
    time_limit_s: float | None = None,
    threads: int = 1,
    max_policy_passes: int = 4,
    split_parked: bool = False,
    own_headroom: bool = False,
    hourly_share_bias: float = POOLED_HOURLY_SHARE_BIAS,
) -> ReducedPlan:
    """Plan one scenario with the reduced representation (module docstring).

    Parameters
    ----------
    scenario : Scenario
    n_typical_days : int, optional
        Typical days of the sizing LP; default the scenario's ``solver.typical_days``.
    max_stations : int
        Stations computed in full; more are represented by the first ``max_stations``.
    operation : {"year", "typical-days"}
        Where the operating figures (imports, exports, hourly-matched share, scope 2) come from: the year-long
        LP of the aggregate fleet at the sized capacities (default; the annual targets are checked on it and the
        sizing repeated with tightened targets where the year misses them), or the typical days of the sizing LP
        (faster, biased: see benchmarks/bench_sweep.py).
    time_limit_s : float, optional
        HiGHS time limit per LP [s]; default the scenario's ``solver.time_limit_s``.
    threads : int
        HiGHS threads.
    max_policy_passes : int
        Sizing passes when the year misses a target.
    split_parked : bool
        The year's fleet as its parked and its on-road cars (:mod:`chisan.sweep.parked`) instead of one pool per
        station, which lets parked cars charge into the room of the cars out driving. Off by default: on five
        climates of the realistic template it moved the hourly-matched share towards chisan plan's by 0.7 points
        in one town (Shikaoi) and not at all in four, for ≈ 0.5 s more CPU per town.

    own_headroom : bool
        Make the year's pool charge in the dim hours at least what its cars need there, car by car
        (:mod:`chisan.sweep.headroom`), so that one car cannot charge for another. Off by default: on Shikaoi
        (realistic template) it moved the hourly-matched share's error from +3.27 % to +2.36 % of chisan plan's,
        for ≈ 1 s more CPU per town.

    hourly_share_bias : float
        The pooled year's bias on the hourly-matched share [-] (:data:`POOLED_HOURLY_SHARE_BIAS`): subtracted from
        the reported share (and self-sufficiency), not below an hourly target (which chisan plan always meets).
        0 reports the pooled year as it is.

    Raises
    ------
    ScenarioError, DataError, InfeasibleError, SolverError
    """
    if operation not in ("year", "typical-days"):
        raise ValueError(f"operation must be 'year' or 'typical-days', got {operation!r}")
    settings = {
        "n_typical_days": n_typical_days,
        "max_stations": max_stations,
        "operation": operation,
        "time_limit_s": time_limit_s,
        "threads": threads,
        "max_policy_passes": max_policy_passes,
        "split_parked": split_parked,
        "own_headroom": own_headroom,
    }
    return _plan_once(scenario, hourly_share_bias, **settings)


def _plan_once(
    scenario: Scenario,
    bias: float,
    *,
    n_typical_days: int | None,
    max_stations: int,
    operation: str,
    time_limit_s: float | None,
    threads: int,
    max_policy_passes: int,
    split_parked: bool,
    own_headroom: bool,
) -> ReducedPlan:
    """:func:`plan_reduced` with the hourly-share bias ``bias`` [-]."""
    seconds: dict[str, float] = {}
    limit = time_limit_s or scenario.solver.time_limit_s
    t = time.perf_counter()
    n_days = n_typical_days or scenario.solver.typical_days
    representative, vehicle_ratio, member_ratio = representative_scenario(scenario, max_stations)
    prepared = prepare_inputs(representative)
    inputs = dataclasses.replace(prepared.inputs, capacities=capacities(scenario))
    seconds["prepare_s"] = time.perf_counter() - t

    t = time.perf_counter()
    depots = depot_names(scenario)
    pooled = pool_fleet(inputs, depots)  # the depots apart from the shared cars (chisan.sweep.depots)
    agg = scale_fleet(pooled, vehicle_ratio, member_ratio, fixed=is_depot(pooled.stations.index, depots))
    split = None
    if split_parked and not inputs.vehicles.empty:
        split = parked_split(inputs, pooled, vehicle_ratio, member_ratio)
    headroom = None
    if own_headroom and not inputs.vehicles.empty:
        headroom = headroom_rows(inputs, pooled, vehicle_ratio, member_ratio)
    reduction = typical_days(agg, n_days)
    seconds["reduce_s"] = time.perf_counter() - t

    seconds["sizing_s"] = seconds["year_s"] = 0.0
    passes: list[dict] = []
    targets: dict[str, float | None] = {}  # policy targets of the sizing, tightened where the year misses them
    for attempt in range(1, max_policy_passes + 1):
        t = time.perf_counter()
        reduction, sizing_inputs, sized = _size(agg, reduction, targets, limit, threads)
        seconds["sizing_s"] += time.perf_counter() - t
        caps = sized.capacities
        if operation == "typical-days":
            result, result_inputs = sized, sizing_inputs
            break
        t = time.perf_counter()
        year_inputs = agg.with_capacities_fixed(caps)
        year = solve_aggregate(
            year_inputs,
            time_limit_s=limit,
            threads=threads,
            policy_slack_cost=POLICY_SLACK_COST,
            split=split,
            headroom=headroom,
        )
        seconds["year_s"] += time.perf_counter() - t
        if year.status != "optimal":
            raise SolverError(
                f"reduced plan, year of the aggregate fleet at the sized capacities: HiGHS stopped with "
                f"{year.status!r} (the bookings cannot be served within the station and grid limits?)"
            )
        load_kwh = float((year.values["Fleet-charge_kw"].sum() + agg.other_load_kw.sum()) * agg.dt_hours)
        missed = {k: v for k, v in year.policy_shortfalls.items() if v > max(1e-3, 1e-6 * load_kwh)}
        passes.append({"pass": attempt, "capacities": dict(caps), "shortfalls": dict(year.policy_shortfalls)})
        result, result_inputs = year, year_inputs
        if not missed:
            break
        if attempt == max_policy_passes:
            what, amount = max(missed.items(), key=lambda kv: kv[1])
            raise InfeasibleError(
                f"{what} is missed by {amount:,.1f} on the year after {max_policy_passes} sizing passes of the reduced "
                "plan (typical days meet it, the year at those capacities does not); raise the capacity limits",
                target=what,
            )
        tightened = _tightened(sizing_inputs, missed, load_kwh)
        targets = {k: getattr(tightened, k) for k in POLICY_FIELDS}

    t = time.perf_counter()
    dispatch = typical_dispatch(result_inputs, caps, _flows(result_inputs, result))
    n_vehicles, n_chargers = fleet_counts(scenario, inputs, vehicle_ratio)
    # like with like (chisan.plan.results): the shared cars' km and charging against private cars, the depots'
    # against diesel; the depots are not sampled, so their shifts scale to a year only
    bookings = prepared.assignment.bookings
    mobility = mobility_per_year(bookings[~bookings["station"].isin(depots)], member_ratio * inputs.opex_scale)
    depot_kw = None
    at_depot = is_depot(result_inputs.stations.index, depots)
    if at_depot.any() and "Fleet-charge_kw" in result.values:
        depot_kw = result.values["Fleet-charge_kw"][:, at_depot].sum(axis=1)
        dispatch["depot_charging_kw"] = depot_kw
    costs, balance, emissions, kpis = key_figures(
        scenario,
        result_inputs,
        caps,
        dispatch,
        n_vehicles,
        n_chargers,
        mobility,
        depot_charging_kw=depot_kw,
        depot_diesel_l_per_year=depot_diesel_l_per_year(scenario, bookings, inputs.opex_scale),
    )
    if bias:
        hourly = agg.renewable_share_basis == "hourly" and agg.renewable_share_min is not None
        kpis = _debiased(kpis, bias, float(agg.renewable_share_min) if hourly else 0.0)
    seconds["results_s"] = time.perf_counter() - t
    details = {
        "method": "reduced",
        "operation": operation,
        "typical_days": reduction.n_days,
        "stations": len(scenario.stations),
        "stations_computed": len(representative.stations),
        "vehicle_ratio": vehicle_ratio,
        "member_ratio": member_ratio,
        "sizing_objective": sized.objective,
        "objective": result.objective,
        "policy_passes": passes,
        "weather_source": prepared.weather_source,
        "hourly_share_bias": bias,
        **seconds,
    }
    return ReducedPlan(
        scenario=scenario,
        capacities=caps,
        kpis=kpis,
        costs=costs,
        energy_balance=balance,
        emissions=emissions,
        details=details,
        dispatch=dispatch,
    )


def _debiased(kpis: pd.DataFrame, bias: float, floor: float) -> pd.DataFrame:
    """The KPIs with the hourly-matched share and self-sufficiency less the pool's bias [-], never below ``floor``.

    ``floor`` is the hourly target when there is one: chisan plan re-sizes until its per-vehicle year meets it
    (:func:`chisan.plan.solve.solve_two_stage`), so its share is never below the target.
    """
    kpis = kpis.copy()
    for name in ("renewable_share_hourly_matched", "self_sufficiency"):
        if name in kpis.index:
            pooled = float(kpis.loc[name, "value"])
            kpis.loc[name, "value"] = min(pooled, max(floor, pooled - bias))
            kpis.loc[name, "definition"] = (
                f"{kpis.loc[name, 'definition']}; the pooled year's figure less {bias:.1%} (its calibrated bias "
                "against per-vehicle dispatch, chisan.sweep.reduced.POOLED_HOURLY_SHARE_BIAS), not below an "
                "hourly target"
            )
    return kpis


def typical_dispatch(inputs: PlanInputs, caps: dict[str, float], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """The dispatch table of a reduced plan on its own steps, with each step's ``weight`` [steps of the year].

    Columns as :func:`chisan.plan.results.dispatch_table` [kW, currency/kWh, kg CO2e/kWh].
    """
    table = pd.DataFrame(index=inputs.snapshots)
    table["weight"] = inputs.weight.to_numpy(float)
    table["pv_available_kw"] = caps["pv_kw"] * inputs.pv_kw_per_kw.to_numpy(float)
    table["wind_available_kw"] = caps["wind_kw"] * inputs.wind_kw_per_kw.to_numpy(float)
    for col in (*FLOW_VARIABLES.values(), "charging_kw", "v2g_kw"):
        table[col] = values[col]
    if "fleet_energy_kwh" in values:
        table["fleet_energy_kwh"] = values["fleet_energy_kwh"]
    table["other_load_kw"] = inputs.other_load_kw.to_numpy(float)
    table["curtailed_kw"] = (
        table["pv_available_kw"] + table["wind_available_kw"] - table["pv_kw"] - table["wind_kw"]
    ).clip(lower=0)
    table["import_price_per_kwh"] = inputs.import_price_per_kwh.to_numpy(float)
    table["export_price_per_kwh"] = inputs.export_price_per_kwh.to_numpy(float)
    table["emission_factor_kg_per_kwh"] = inputs.emission_factor_kg_per_kwh.to_numpy(float)
    return table


COMPARED_KPIS = (
    "total_cost_per_year",
    "energy_system_cost_per_year",
    "renewable_share_annual",
    "renewable_share_hourly_matched",
    "pv_kw",
    "wind_kw",
    "storage_kwh",
    "charging_kwh_per_year",
    "grid_import_kwh",
    "co2_avoided_kg",
)


def compare_with_full(reduced: ReducedPlan, full: PlanResults) -> pd.DataFrame:
    """Relative error of a reduced plan's key figures against a full plan's (:class:`~chisan.plan.results.PlanResults`).

    Returns
    -------
    pd.DataFrame
        Index: the KPIs of :data:`COMPARED_KPIS`; ``reduced``, ``full``, ``relative_error`` = reduced / full − 1
        [-] (NaN when the full plan's value is 0). ``grid_import_kwh`` comes from the energy balances.
    """
    rows = {}
    for name in COMPARED_KPIS:
        if name == "grid_import_kwh":
            r, f = float(reduced.energy_balance[name]), float(full.energy_balance[name])
        else:
            r, f = reduced.kpi(name), full.kpi(name)
        rows[name] = {"reduced": r, "full": f, "relative_error": (r / f - 1.0) if abs(f) > 1e-9 else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")
