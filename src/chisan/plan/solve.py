"""Solve a plan: the full co-optimisation, or sizing on typical days followed by the full-year dispatch.

Two methods (``Solver.method`` in the scenario):

``full``
    One LP: capacities and every vehicle's hourly operation for the whole horizon. Exact, but HiGHS needs
    minutes for a year of 30 vehicles (benchmarks/bench_plan.py measures it).
``two-stage``
    1. Sizing: the same model on typical days (tsam), linked across the calendar days, with the town's fleet as
       one battery bounded below by the vehicles' summed needs (:mod:`chisan.plan.reduce`) → capacities.
    2. Aggregate year: the fleet as one battery over every step at those capacities, with the policy rows
       (:func:`aggregate_year`) → a lower bound of the dispatch cost, each week's energy target and the targets'
       shadow prices. If a target cannot be met there, sizing is repeated with the target tightened.
    3. Per-vehicle year: every vehicle, the storage and the grid, week by week on one persistent HiGHS model
       (:mod:`chisan.plan.dispatch`), guided by the targets and shadow prices of step 2.
    4. Targets are checked on the full-year dispatch: a missed annual renewable share adds renewable capacity by
       the shortfall and re-dispatches; a missed hourly share or cap keeps the vehicles' charging and re-sizes the
       supply side over the year (:func:`resize_supply`).
``auto``
    ``full`` when the per-vehicle model is small (≤ 150,000 vehicle-steps, fuel-cell vehicles counted), else
    ``two-stage``.

With a hydrogen station every stage keeps it (:mod:`chisan.plan.hydrogen_stages`): its refuelling as one demand on
the typical days, the station sized over every hour in step 2, and the year's electrolyser load fixed in step 3.

Either way the result is a :class:`Solution` on the chronological horizon, checked afterwards by
:mod:`chisan.plan.check`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import linopy
import numpy as np
import pandas as pd

from chisan.exceptions import InfeasibleError, SolverError
from chisan.plan import second_life
from chisan.plan.diagnose import _elastic_shortfalls, _fmt, diagnose_infeasibility
from chisan.plan.diagnose import policy_trials as policy_trials  # re-exported: the names moved with the split
from chisan.plan.diagnose import without_policy as without_policy
from chisan.plan.dispatch import DISPATCH_VARIABLES, RollingSettings, minimum_energy_kwh, unreachable_needs
from chisan.plan.highs import solve_model
from chisan.plan.hydrogen import electricity_drawn_kw, hydrogen_capacities_of, hydrogen_cost, hydrogen_values_of
from chisan.plan.hydrogen_stages import fold_hydrogen_into_load, hydrogen_on_groups, with_hydrogen_as_load
from chisan.plan.inputs import CAPACITIES, PlanInputs
from chisan.plan.model import build_model
from chisan.plan.reduce import aggregate_fleet, typical_days
from chisan.plan.resize import ANNUAL_TARGET_MARGIN as ANNUAL_TARGET_MARGIN  # re-exported: moved with the split
from chisan.plan.resize import _annual_margin, _raise_renewables, resize_supply
from chisan.plan.site_dispatch import parallel_rolling_dispatch, start_workers
from chisan.plan.site_groups import group_sites, split_group_pv, split_group_storage
from chisan.plan.site_split import (
    roofs,
    scaled_site_pv,
    site_contract_of,
    site_fleet_kwh,
    site_pv_of,
    site_storage_of,
)
from chisan.plan.site_year import SiteYear, solve_year_by_site, town_coupling
from chisan.plan.slack import Shortfall, describe, short_days
from chisan.plan.tariff_constraints import PEAK, basic_charge_cost, has_tariff_peak
from chisan.plan.tariffs import grid_energy_bill

AUTO_FULL_MAX_VEHICLE_STEPS = 150_000
"""``method="auto"`` solves the full co-optimisation up to this many vehicle × steps."""

RENEWABLE_TIE_BREAK_PER_KWH = 1e-4
"""Least credit per kWh of renewable output in the per-vehicle dispatch under an annual renewable target
[currency/kWh]. When the aggregate year meets the target by exporting at a zero price, the target's dual is 0 and
the dispatch, indifferent between exporting and curtailing, curtails: the year then misses the target it met
(seen with the Shanghai district's electrolyser, 3,477 kWh of PV curtailed in two months). The tie-break makes
the dispatch keep renewable output that costs nothing to export."""

SIZING_HIGHS_OPTIONS = {"simplex_dual_edge_weight_strategy": 0}
"""HiGHS options of the sizing LP on typical days: the dual simplex prices with Dantzig's rule (0) instead of its
default choice (-1), as the re-sizing LP does (:data:`chisan.plan.resize.RESIZE_HIGHS_OPTIONS`, where the values are
cited). Measured with highspy on the LPs written by the pipeline (CPU s of the solve, one thread, load ≈ 8–11, the
same objective to 1e-6 each time): the bundled example's sizing (22,649 columns) 3.48 and 3.54 with the default, 2.03
and 2.20 with Dantzig (devex 2.57, primal 3.90, interior point 3.62); the 40-car, 8-meter town of
``benchmarks/bench_decision.py`` row 2 (32,539 columns) 6.35 against 6.09. The year-long aggregate LP gains nothing
(2.76 against 2.60) and keeps the default. Options given by the caller take precedence."""

Progress = Callable[[str, float], None]
"""``f(message, fraction_done)`` — how the solver reports progress to a CLI."""


@dataclass
class Solution:
    """A solved plan on the chronological horizon.

    Attributes
    ----------
    capacities : dict[str, float]
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw`` [kW or kWh].
    values : dict[str, np.ndarray]
        Hourly values of the dispatch variables (names of :mod:`chisan.plan.model`), (steps,) or
        (steps, vehicles); charging variables are 0 while unplugged.
    method : str
        ``"full"`` or ``"two-stage"``.
    status : str
        Solver termination condition (``"optimal"``).
    initial_energy_kwh : pd.Series or None
        Vehicle energy before the first step [kWh]; None when the horizon is cyclic.
    initial_storage_kwh : float, pd.Series or None
        Storage energy before the first step [kWh] (per storage site with metered sites); None when cyclic.
    details : dict
        Method details for the report: typical days, windows, shadow prices, passes, timings [s].
    site_pv_kw : pd.Series or None
        PV installed at each metered site [kW] (sums to ``capacities["pv_kw"]``); None with one town meter.
    site_storage : pd.DataFrame or None
        Storage at each metered site, columns ``storage_kwh`` [kWh] and ``storage_kw`` [kW] (sum to the
        capacities); None with one town meter.
    hydrogen_capacities : dict[str, float] or None
        ``electrolyser_kw`` [kW], ``h2_storage_kwh`` [kWh LHV], ``h2_dispenser_kw`` [kW LHV]; None without hydrogen.
    """

    capacities: dict[str, float]
    values: dict[str, np.ndarray]
    method: str
    status: str
    initial_energy_kwh: pd.Series | None = None
    initial_storage_kwh: float | pd.Series | None = None
    details: dict = field(default_factory=dict)
    site_pv_kw: pd.Series | None = None
    site_storage: pd.DataFrame | None = None
    hydrogen_capacities: dict[str, float] | None = None


def _highs_options(time_limit_s: float | None, threads: int | None, extra: dict | None = None) -> dict:
    opts: dict = {"output_flag": False}
    if time_limit_s is not None:
        opts["time_limit"] = float(time_limit_s)
    if threads is not None:
        opts["threads"] = int(threads)
    opts.update(extra or {})
    return opts


_solve = solve_model  # the old private name, kept for callers


def capacities_of(m: linopy.Model) -> dict[str, float]:
    """Capacity values of a solved model [kW or kWh] (0 for technologies not in the model)."""
    out = {}
    for name in CAPACITIES:
        var = f"Capacity-{name}"
        out[name] = max(0.0, float(m.variables[var].solution)) if var in m.variables else 0.0
    return out


def values_of(m: linopy.Model) -> dict[str, np.ndarray]:
    """Hourly values of the dispatch variables of a solved per-vehicle model (NaN of masked slots → 0)."""
    return {
        name: np.nan_to_num(m.variables[name].solution.to_numpy()) for name in DISPATCH_VARIABLES if name in m.variables
    } | second_life.values_of(m)


def _policy_prices(m: linopy.Model, inputs: PlanInputs) -> dict[str, float]:
    """Shadow prices of the policy rows of a solved (sizing) model, as per-kWh / per-kg adders.

    linopy reports duals as d(objective)/d(rhs): ≥ rows give ≥ 0, ≤ rows give ≤ 0.
    """
    prices = {"renewable_credit_per_kwh": 0.0, "import_penalty_per_kwh": 0.0, "carbon_adder_per_kg": 0.0}
    cons = m.constraints
    if "Policy-renewable_share" in cons:
        dual = float(cons["Policy-renewable_share"].dual)
        if inputs.renewable_share_basis == "annual":
            prices["renewable_credit_per_kwh"] = max(RENEWABLE_TIE_BREAK_PER_KWH, dual)
        else:
            prices["import_penalty_per_kwh"] += max(0.0, -dual)
    if "Policy-grid_import" in cons:
        prices["import_penalty_per_kwh"] += max(0.0, -float(cons["Policy-grid_import"].dual)) * inputs.opex_scale
    if "Policy-emissions" in cons:
        prices["carbon_adder_per_kg"] = max(0.0, -float(cons["Policy-emissions"].dual)) * inputs.opex_scale
    return prices


def evaluate_objective(inputs: PlanInputs, solution: Solution) -> float:
    """The model's objective [currency/year] evaluated on any solution (full or two-stage), without the
    shadow-price terms a decomposed dispatch adds: annualised capacity cost + annualised grid cost and revenue
    + carbon price + V2G wear + battery holding cost. Comparable with the objective of :func:`full_lower_bound`
    and of the full co-optimisation.
    """
    caps = solution.capacities
    total = sum(inputs.capacities[k].annual_cost_per_unit * caps[k] for k in caps if inputs.capacities[k].enabled)
    wdt = inputs.weight.to_numpy(float) * inputs.dt_hours * inputs.opex_scale
    v = solution.values
    zeros = np.zeros(len(wdt))
    imp = v.get("Grid-import_kw", zeros)
    exp = v.get("Grid-export_kw", zeros)
    total += float((wdt * imp * inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)).sum())
    cost, revenue = grid_energy_bill(inputs, wdt, imp, exp, v.get("Site-import_kw"), v.get("Site-export_kw"))
    total += cost - revenue  # at each site's own tariff when the sites have one (plan/tariffs.py)
    if "Vehicle-discharge_kw" in v:
        total += float((wdt * v["Vehicle-discharge_kw"].sum(axis=1)).sum() * inputs.v2g_cost_per_kwh)
    if "Vehicle-energy_kwh" in v:
        total += float((wdt * v["Vehicle-energy_kwh"].sum(axis=1)).sum() * inputs.vehicle_holding_cost_per_kwh_h)
    if "Link-forward_kw" in v and inputs.links is not None:  # self-wheeling fee per kWh carried
        carried = v["Link-forward_kw"] + v["Link-backward_kw"]
        total += float((wdt[:, None] * carried * inputs.links["fee_per_kwh"].to_numpy(float)[None, :]).sum())
    if has_tariff_peak(inputs):  # basic charge on the highest 30-minute demand (tariff_constraints)
        total += basic_charge_cost(inputs, v["Site-import_kw"] if inputs.per_site else imp)
    total += hydrogen_cost(inputs, solution.hydrogen_capacities or {}, v)
    if (offer := second_life.offer_of(inputs)) is not None and solution.details.get("second_life"):
        total += offer.annual_cost_per_kwh * solution.details["second_life"]["used_kwh"]
    return total


def choose_method(inputs: PlanInputs, method: str) -> str:
    """Resolve ``method="auto"`` by the size of the per-vehicle model."""
    if method != "auto":
        return method
    fuel_cell = 0 if inputs.hydrogen is None else len(inputs.hydrogen.vehicles)  # per-vehicle tanks in the full LP
    vehicle_steps = len(inputs.snapshots) * max(1, len(inputs.vehicles) + fuel_cell)
    return "full" if vehicle_steps <= AUTO_FULL_MAX_VEHICLE_STEPS else "two-stage"


def solve_plan(
    inputs: PlanInputs,
    *,
    method: str = "auto",
    n_typical_days: int = 24,
    rolling: RollingSettings | None = None,
    time_limit_s: float | None = 600.0,
    threads: int | None = None,
    max_policy_passes: int = 4,
    lower_bound: bool = False,
    progress: Progress | None = None,
) -> Solution:
    """Solve the planning problem of ``inputs`` (chronological, per vehicle).

    Raises
    ------
    InfeasibleError
        A target or limit cannot be met; the message says which and what is achievable.
    SolverError
        HiGHS stopped without an optimal solution (time limit, numerical trouble).
    """
    method = choose_method(inputs, method)
    report = progress or (lambda msg, frac: None)
    options = _highs_options(time_limit_s, threads)
    if method == "full":
        return _solve_full(inputs, options, report)
    if method == "two-stage":
        # a booking chain no charging can serve fails the per-vehicle dispatch: say so before minutes of sizing
        per_vehicle = inputs.fleet_mode == "vehicle" and len(inputs.vehicles)
        if per_vehicle and (why := unreachable_needs(inputs, minimum_energy_kwh(inputs, cyclic=True))) is not None:
            raise SolverError(f"the per-vehicle dispatch cannot be run: {why}")
        solution = _solve_two_stage(
            inputs, options, n_typical_days, rolling or RollingSettings(), max_policy_passes, report
        )
        if lower_bound:
            report("certifying the gap: year-long co-optimisation of the aggregate fleet", 1.0)
            t0 = time.perf_counter()
            solution.details["full_lower_bound"] = full_lower_bound(inputs, options)
            solution.details["lower_bound_s"] = time.perf_counter() - t0
        return solution
    raise ValueError(f"method must be 'auto', 'full' or 'two-stage', got {method!r}")


def _raise_unsolved(m: linopy.Model, inputs: PlanInputs, condition: str, options: dict, stage: str) -> None:
    if condition in ("infeasible", "infeasible_or_unbounded"):
        raise diagnose_infeasibility(inputs, options)
    hint = "raise solver.time_limit_s" + (" or use solver.method = 'two-stage'" if stage.startswith("full") else "")
    raise SolverError(
        f"{stage}: HiGHS stopped with {condition!r} (time limit {options.get('time_limit', 'none')} s, "
        f"wall clock); {hint}"
    )


def _solve_full(inputs: PlanInputs, options: dict, report: Progress) -> Solution:
    t0 = time.perf_counter()
    report("building the full model", 0.0)
    m = build_model(inputs)
    t_build = time.perf_counter() - t0
    stage = f"solving {m.nvars:,} variables × {m.ncons:,} constraints with HiGHS"
    report(stage, 0.1)
    # HiGHS's own progress between 0.1 and 0.95 (plan/highs.py: throttled, never back, the solution unchanged)
    condition = _solve(m, options, progress=lambda msg, frac: report(f"{stage} ({msg})", 0.1 + 0.9 * frac))
    if condition != "optimal":
        _raise_unsolved(m, inputs, condition, options, "full co-optimisation")
    report("solved", 1.0)
    return Solution(
        capacities=capacities_of(m),
        site_pv_kw=site_pv_of(m, inputs),
        site_storage=site_storage_of(m, inputs),
        values={**values_of(m), **hydrogen_values_of(m, inputs)},
        hydrogen_capacities=hydrogen_capacities_of(m) if inputs.hydrogen is not None else None,
        method="full",
        status=condition,
        initial_energy_kwh=inputs.initial_energy_kwh,
        initial_storage_kwh=inputs.initial_storage_kwh,
        details={
            "objective": float(m.objective.value),
            "variables": int(m.nvars),
            "constraints": int(m.ncons),
            "build_s": t_build,
            "solve_s": time.perf_counter() - t0 - t_build,
            "second_life": second_life.break_even(m, inputs),
        },
    )


def _renewable_share_shortfall_kwh(inputs: PlanInputs, values: dict[str, np.ndarray]) -> float:
    """How many kWh of renewable output the annual target lacks in a dispatch (≤ 0 when met)."""
    dt = inputs.dt_hours
    res = sum(values[n].sum() for n in ("PV-output_kw", "Wind-output_kw") if n in values) * dt
    load = (values["Vehicle-charge_kw"].sum() + inputs.other_load_kw.sum()) * dt
    load += electricity_drawn_kw(inputs, values).sum() * dt  # electrolyser and compressor: load in the policy row
    return inputs.renewable_share_min * load - res


def _import_excess_kwh(inputs: PlanInputs, values: dict[str, np.ndarray]) -> float:
    """How many kWh of import exceed the hourly-matched target or the caps (≤ 0 when met)."""
    dt = inputs.dt_hours
    imp = values["Grid-import_kw"].sum() * dt
    excess = -np.inf
    if inputs.renewable_share_min and inputs.renewable_share_basis == "hourly":
        load = (values["Vehicle-charge_kw"].sum() + inputs.other_load_kw.sum()) * dt
        load += electricity_drawn_kw(inputs, values).sum() * dt
        excess = max(excess, imp - (1 - inputs.renewable_share_min) * load)
    if inputs.max_grid_import_kwh is not None:
        excess = max(excess, imp * inputs.opex_scale - inputs.max_grid_import_kwh)
    if inputs.max_emissions_kg is not None:
        kg = (values["Grid-import_kw"] * inputs.emission_factor_kg_per_kwh.to_numpy(float)).sum() * dt
        mean_ef = max(1e-9, float(inputs.emission_factor_kg_per_kwh.mean()))
        excess = max(excess, (kg * inputs.opex_scale - inputs.max_emissions_kg) / mean_ef)
    return float(excess)


def _has_policy(inputs: PlanInputs) -> bool:
    return (
        bool(inputs.renewable_share_min)
        or inputs.max_grid_import_kwh is not None
        or (inputs.max_emissions_kg is not None)
    )


def _tightened(inputs: PlanInputs, shortfalls: dict[str, float]) -> PlanInputs:
    """Inputs whose targets are tightened by the shortfalls measured on the full year (+5 %)."""
    changes = {}
    if "policy.renewable_share_min_fraction" in shortfalls:
        changes["renewable_share_min"] = (
            inputs.renewable_share_min + 1.05 * shortfalls["policy.renewable_share_min_fraction"]
        )
    if "policy.max_grid_import_kwh_per_year" in shortfalls:
        changes["max_grid_import_kwh"] = max(
            0.0, inputs.max_grid_import_kwh - 1.05 * shortfalls["policy.max_grid_import_kwh_per_year"]
        )
    if "policy.max_emissions_kg_per_year" in shortfalls:
        changes["max_emissions_kg"] = max(
            0.0, inputs.max_emissions_kg - 1.05 * shortfalls["policy.max_emissions_kg_per_year"]
        )
    return dataclasses.replace(inputs, **changes)


def aggregate_year(
    inputs: PlanInputs,
    capacities: dict[str, float],
    options: dict,
    site_pv_kw: pd.Series | None = None,
    site_storage: pd.DataFrame | None = None,
) -> tuple[linopy.Model, str]:
    """Dispatch the town's fleet as one battery over the whole year at fixed capacities, with the policy rows.

    A relaxation of the per-vehicle dispatch at the same capacities, so its cost is a lower bound of it; its
    hourly energy trajectory guides the per-vehicle windows (:func:`chisan.plan.dispatch.rolling_dispatch`).
    With metered sites, one battery per site, and the PV of each site fixed at ``site_pv_kw`` (the sizing's
    split): a free split couples every hour of every site and makes this LP ten times slower to solve; the
    storage of each site likewise at ``site_storage``.
    """
    agg = aggregate_fleet(inputs).with_capacities_fixed(capacities, site_pv_kw, site_storage)
    m = build_model(agg)
    return m, _solve(m, options)


def _year_by_site(
    inputs: PlanInputs,
    capacities: dict[str, float],
    options: dict,
    site_pv_kw: pd.Series | None,
    site_storage: pd.DataFrame | None,
    how: dict,
) -> tuple[linopy.Model | SiteYear, str]:
    """:func:`aggregate_year` at capacities nothing was sized for, one LP per metered site when no row couples them
    (:mod:`chisan.plan.site_year`), else the joint LP; ``how`` records which (``aggregate_year_sites``: LPs solved,
    or ``aggregate_year_joint``: what couples the sites)."""
    fixed = inputs.with_capacities_fixed(capacities, site_pv_kw, site_storage)
    why = town_coupling(fixed)
    if why is None:
        year, condition = solve_year_by_site(fixed, options)
        if year is not None:
            how["aggregate_year_sites"] = year.sites_solved
            return year, condition
        why = f"a site's year ended {condition!r}; the joint LP diagnoses it"
    how["aggregate_year_joint"] = why
    return aggregate_year(inputs, capacities, options, site_pv_kw, site_storage)


def _nothing_to_size(inputs: PlanInputs) -> bool:
    """Every capacity is off or fixed at 0 units (the business-as-usual town): no sizing LP is needed."""
    return all(not c.enabled or c.fixed_units == 0 for c in inputs.capacities.values())


def _objective(m: linopy.Model | None) -> float:
    return float("nan") if m is None else float(m.objective.value)


def _size(
    sizing_inputs: PlanInputs,
    inputs: PlanInputs,
    n_days: int,
    options: dict,
    max_passes: int,
    report: Progress,
    history: list[dict],
):
    """Sizing on typical days, then the year-long aggregate dispatch with the real targets.

    When the aggregate year cannot run at the sized capacities, its elastic version (:mod:`chisan.plan.slack`)
    says where and when it runs short: those days join the sizing set as typical days of their own (at most
    :data:`KEPT_DAYS_PER_PASS` a pass) and a missed target is tightened by its shortfall, and sizing is repeated.
    """
    keep: list[int] = []
    day0 = inputs.snapshots[0].normalize()
    for attempt in range(1, max_passes + 1):
        if _nothing_to_size(sizing_inputs):  # business as usual: the typical days would return the zeros
            m1 = reduction = None
            caps = dict.fromkeys(CAPACITIES, 0.0)
            site_pv = pd.Series(0.0, index=sizing_inputs.sites.index, name="pv_kw") if inputs.per_site else None
            site_storage = (
                pd.DataFrame(0.0, index=sizing_inputs.sites.index.astype(str), columns=["storage_kwh", "storage_kw"])
                if inputs.per_site
                else None
            )
        else:
            extra = f", {len(keep)} days kept as they are" if keep else ""
            report(f"sizing on {n_days} typical days{extra} (pass {len(history) + 1})", 0.0)
            reduction = typical_days(sizing_inputs, n_days, keep_days=keep)
            m1 = build_model(reduction.inputs)
            condition = _solve(m1, {**SIZING_HIGHS_OPTIONS, **options})
            if condition != "optimal":
                if condition in ("infeasible", "infeasible_or_unbounded"):
                    dates = _typical_dates(reduction, inputs)
                    raise diagnose_infeasibility(reduction.inputs, options, days=dates, typical_days=n_days)
                _raise_unsolved(m1, reduction.inputs, condition, options, "sizing on typical days")
            caps = capacities_of(m1)
            site_pv = site_pv_of(m1, reduction.inputs)
            site_storage = site_storage_of(m1, reduction.inputs)
        report("year-long dispatch of the aggregate fleet", 0.05)
        # second life fixed at the sizing's kWh, like the other capacities (free, it couples the whole year)
        sized = second_life.with_fixed_capacity(inputs, {} if m1 is None else second_life.capacity_of(m1))
        how: dict = {}
        if m1 is None:  # nothing sized: the sites may be independent (site_year.py)
            m2, condition = _year_by_site(sized, caps, options, site_pv, site_storage, how)
        else:
            m2, condition = aggregate_year(sized, caps, options, site_pv, site_storage)
        history.append(
            {
                "pass": len(history) + 1,
                "capacities": dict(caps),
                "sizing_objective": _objective(m1),
                "aggregate_year": condition,
                "kept_days": len(keep),
                **how,
            }
        )
        if condition == "optimal":
            return m1, reduction, caps, m2, site_pv, site_storage
        if condition not in ("infeasible", "infeasible_or_unbounded"):
            _raise_unsolved(m2, inputs, condition, options, "year-long aggregate dispatch")
        fixed = aggregate_fleet(inputs).with_capacities_fixed(caps, site_pv, site_storage)
        found, load_kwh = _elastic_shortfalls(fixed, options)
        history[-1]["short"] = describe(found, fixed, fixed.opex_scale)
        days = [int((d - day0).days) for d in short_days(found, fixed)]
        new = [d for d in days if d not in keep][:KEPT_DAYS_PER_PASS]
        policy = _target_shortfalls(found, fixed, load_kwh)
        if attempt == max_passes or (not new and not policy):
            raise _named_infeasibility(inputs, options, found, fixed, attempt)
        keep += new
        sizing_inputs = _tightened(sizing_inputs, policy) if policy else sizing_inputs
    raise AssertionError("unreachable")


KEPT_DAYS_PER_PASS = 7
"""Most days a sizing pass adds to the typical days when the year ran short (the worst first)."""


def _typical_dates(reduction, inputs: PlanInputs) -> pd.DatetimeIndex:
    """A calendar date for each step of a reduced year: the first day its typical day stands for."""
    red = reduction.inputs
    steps_per_day = max(1, round(24.0 / red.dt_hours))
    first_day = reduction.day_of_cluster.reset_index().groupby("cluster")["day"].min()
    period = np.asarray(red.period, dtype=int)
    day = first_day.reindex(period).fillna(0).to_numpy(int)
    step = np.arange(len(period)) % steps_per_day
    start = inputs.snapshots[0].normalize()
    return pd.DatetimeIndex(start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(step * red.dt_hours, unit="h"))


def _target_shortfalls(found: list[Shortfall], inputs: PlanInputs, load_kwh: float) -> dict[str, float]:
    """The policy shortfalls of an elastic solve, in the targets' units (as :func:`_policy_shortfalls`)."""
    out = {}
    for s in found:
        if s.family == "hourly renewable target" or s.family == "policy.renewable_share_min_fraction":
            out["policy.renewable_share_min_fraction"] = s.kwh / max(load_kwh, 1e-9)
        elif s.family.startswith("policy."):
            out[s.family] = s.kwh * inputs.opex_scale
    return out


def _named_infeasibility(
    inputs: PlanInputs, options: dict, found: list[Shortfall], fixed: PlanInputs, passes: int
) -> InfeasibleError:
    """Why the two-stage sizing gave up: the proof over the year with capacities free when there is one, else
    what the year lacked at the last sized capacities (family, site, week, kWh)."""
    proof = diagnose_infeasibility(aggregate_fleet(inputs), options)
    if proof.target not in ("unknown", ""):
        return proof
    short = describe(found, fixed, fixed.opex_scale) or "no row (a numerical failure)"
    return InfeasibleError(
        f"the year with each site's cars pooled and every capacity free meets every target and limit, but after "
        f"{passes} sizing passes on typical days (the short days kept as they are) the sized capacities still "
        f"leave {short}; plan with more typical days (solver.typical_days) or solver.method = 'full'",
        target="sizing",
    )


def _dispatch_pass(
    inputs: PlanInputs,
    caps: dict[str, float],
    m2: linopy.Model,
    options: dict,
    rolling: RollingSettings,
    report: Progress,
    attempt: int,
    site_pv: pd.Series | None = None,
    year_inputs: PlanInputs | None = None,
    site_storage: pd.DataFrame | None = None,
):
    """The per-vehicle year at ``caps``, guided by the aggregate year ``m2`` (targets and shadow prices).

    ``year_inputs`` are the inputs ``m2`` was built from when they differ from ``inputs`` (sites grouped for
    sizing, :mod:`chisan.plan.site_groups`); ``site_pv`` is the PV of each real site [kW].
    """
    year_inputs = inputs if year_inputs is None else year_inputs
    prices = _policy_prices(m2, aggregate_fleet(year_inputs))
    targets = pd.DataFrame(
        {"vehicle": m2.variables["Fleet-energy_kwh"].solution.to_numpy().sum(axis=1)}, index=inputs.snapshots
    )
    if "Storage-energy_kwh" in m2.variables:
        targets["storage"] = m2.variables["Storage-energy_kwh"].solution.to_numpy()
    if "Site-storage_energy_kwh" in m2.variables and site_storage is not None:  # each real site's share
        energy = m2.variables["Site-storage_energy_kwh"].solution.to_numpy()
        group_e = year_inputs.sites.index.astype(str)
        of_year = pd.Series(group_e, index=group_e) if year_inputs is inputs else None
        for site in inputs.storage_sites:
            year_site = site if of_year is not None else _group_of(year_inputs, inputs, site)
            col = list(year_inputs.storage_sites).index(year_site) if year_site in year_inputs.storage_sites else -1
            total = float(site_storage.reindex(_members(year_inputs, inputs, year_site))["storage_kwh"].sum())
            share = float(site_storage.at[site, "storage_kwh"]) / total if total > 0 else 0.0
            targets[f"storage:{site}"] = energy[:, col] * share if col >= 0 else 0.0
    penalty = prices["import_penalty_per_kwh"]
    carbon = inputs.carbon_price_per_kg + prices["carbon_adder_per_kg"]
    per_site = inputs.per_site
    fixed = dataclasses.replace(
        inputs.with_capacities_fixed(caps, scaled_site_pv(site_pv, caps.get("pv_kw"), roofs(inputs)), site_storage),
        renewable_credit_per_kwh=prices["renewable_credit_per_kwh"],
        import_penalty_per_kwh=penalty,
        carbon_price_per_kg=carbon,
        contract_kw_min=float(m2.variables[PEAK].solution)
        if PEAK in m2.variables and not per_site
        else inputs.contract_kw_min,
        contract_kw_min_by_site=site_contract_of(m2, inputs) if year_inputs is inputs else None,
    )
    fixed, reused = second_life.fold_into_load(fixed, m2)  # the aggregate year's second-life schedule, as a load
    fixed, h2_values = fold_hydrogen_into_load(fixed, m2, year_inputs)  # the year's electrolyser, as a load
    eta_min = float(inputs.vehicles["charge_efficiency"].min()) if len(inputs.vehicles) else 1.0
    top_price = fixed.import_price_per_kwh.to_numpy(float)
    if fixed.site_priced:  # the dearest meter's tariff (sites.tariff)
        top_price = np.maximum(top_price, fixed.site_import_price_per_kwh.to_numpy(float).max(axis=1))
    shortfall_cost = float((top_price + penalty + carbon * fixed.emission_factor_kg_per_kwh.to_numpy(float)).max())
    shortfall_cost /= eta_min

    def on_window(done: int, total: int) -> None:
        report(
            f"dispatching every vehicle over the year (pass {attempt}, window {done}/{total})", 0.1 + 0.9 * done / total
        )

    report(f"dispatching every vehicle over the year (pass {attempt})", 0.1)
    dispatch, parts = parallel_rolling_dispatch(
        fixed,
        rolling,
        solver_options=options,
        targets=targets,
        site_fleet_kwh=site_fleet_kwh(m2, inputs, year_inputs),
        shortfall_cost_per_kwh=shortfall_cost,
        on_window=on_window,
    )
    prices["dispatch_parts"] = parts
    dispatch.values.update({k: v for k, v in reused.items() if not k.startswith("_")})
    dispatch.values.update(h2_values)
    return dispatch, prices


def _group_of(year_inputs: PlanInputs, inputs: PlanInputs, site: str) -> str:
    """The site of ``year_inputs`` (a sizing group) that a real site of ``inputs`` belongs to, by its stations."""
    station = inputs.stations.index[inputs.stations["site"].astype(str) == site]
    if len(station):
        return str(year_inputs.stations.at[station[0], "site"])
    return site  # a site without stations keeps its name when not grouped


def _members(year_inputs: PlanInputs, inputs: PlanInputs, year_site: str) -> list[str]:
    """The real sites of ``inputs`` within the site (group) ``year_site`` of ``year_inputs``."""
    if year_inputs is inputs:
        return [year_site]
    return [x for x in inputs.sites.index.astype(str) if _group_of(year_inputs, inputs, x) == year_site]


def _solve_two_stage(
    inputs: PlanInputs,
    options: dict,
    n_days: int,
    rolling: RollingSettings,
    max_passes: int,
    report: Progress,
) -> Solution:
    """Sizing → aggregate year → per-vehicle year, repeated until the full-year dispatch meets the targets.

    A missed annual renewable share raises the renewable capacity by the shortfall (output scales with capacity);
    a missed hourly share or cap keeps every vehicle's charging and re-sizes the supply side (PV, wind, storage,
    only upwards) with a year-long LP against that charging (:func:`resize_supply`).
    """
    timings = {"sizing_s": 0.0, "dispatch_s": 0.0}
    history: list[dict] = []
    passes: list[dict] = []
    grouping = hydrogen_on_groups(group_sites(inputs), inputs)
    year = inputs if grouping is None else grouping.inputs  # the town the sizing LPs see
    sizing_inputs = year
    resize = True
    m1 = reduction = m2 = None
    sized_split = site_pv = site_storage = None
    lower_bound = float("nan")
    caps: dict[str, float] = {}
    start_workers(inputs)  # the dispatch's processes import on the second core while the sizing runs
    for attempt in range(1, max_passes + 1):
        t0 = time.perf_counter()
        if resize:
            m1, reduction, caps, m2, sized_split, year_storage = _size(
                sizing_inputs, year, n_days, options, max_passes, report, history
            )
            site_storage = year_storage
            if grouping is not None:  # the groups' PV and storage onto their real sites
                sized_split = split_group_pv(grouping, sized_split, inputs.sites["pv_max_kw"])
                if year_storage is not None:
                    site_storage = split_group_storage(grouping, year_storage, inputs.sites["storage_max_kwh"])
            year_load = with_hydrogen_as_load(year, hydrogen_values_of(m2, year))  # the electrolyser is load too
            caps = _annual_margin(year, aggregate_fleet(year_load), m2, caps)
            lower_bound = float(m2.objective.value)
        timings["sizing_s"] += time.perf_counter() - t0
        t1 = time.perf_counter()
        dispatch, prices = _dispatch_pass(
            inputs, caps, m2, options, rolling, report, attempt, sized_split, year, site_storage
        )
        site_pv = scaled_site_pv(sized_split, caps.get("pv_kw"), roofs(inputs))
        timings["dispatch_s"] += time.perf_counter() - t1
        annual = bool(inputs.renewable_share_min) and inputs.renewable_share_basis == "annual"
        short = _renewable_share_shortfall_kwh(inputs, dispatch.values) if annual else -np.inf
        excess = _import_excess_kwh(inputs, dispatch.values)
        load_kwh = float(dispatch.values["Vehicle-charge_kw"].sum() + inputs.other_load_kw.sum()) * inputs.dt_hours
        passes.append(
            {
                "pass": attempt,
                "capacities": dict(caps),
                "renewable_shortfall_kwh": max(0.0, short),
                "import_excess_kwh": max(0.0, excess),
            }
        )
        tol = 1e-6 * max(1.0, load_kwh)
        if short <= tol and excess <= tol:
            break
        if attempt == max_passes:
            what = "renewable_share_min_fraction" if short > tol else "renewable_share_min_fraction / caps"
            raise InfeasibleError(
                f"the per-vehicle dispatch still misses policy.{what} by {max(short, excess):,.0f} kWh after "
                f"{max_passes} passes; plan with solver.method = 'full'",
                target=f"policy.{what}",
            )
        if short > tol:  # renewable output is already used in full: only more capacity closes the gap
            caps = _raise_renewables(inputs, caps, short)
            resize = False
            continue
        # An hourly target or a cap is missed: the per-vehicle fleet is less flexible than the aggregate the
        # capacities were sized on. Keep every vehicle's charging and re-optimise the supply side against it.
        report("re-sizing supply against the per-vehicle charging (hourly target)", 0.95)
        t2 = time.perf_counter()
        try:
            caps, system = resize_supply(with_hydrogen_as_load(inputs, dispatch.values), caps, dispatch.values, options)
        except InfeasibleError as err:
            raise _no_supply_for_the_dispatch(inputs, year, dispatch.values, options, err) from None
        site_pv = system.pop("_site_pv_kw", site_pv)
        site_storage = system.pop("_site_storage", site_storage)
        timings["supply_resize_s"] = time.perf_counter() - t2
        dispatch.values.update(system)
        dispatch.initial_storage_kwh = None  # the re-sized storage runs cyclically over the year
        lower_bound = float("nan")  # the aggregate bound was for the first capacities, not the re-sized ones
        passes.append({"pass": attempt + 1, "capacities": dict(caps), "supply_resized": True})
        break
    return Solution(
        capacities=caps,
        site_pv_kw=site_pv,
        site_storage=site_storage,
        values=dispatch.values,
        method="two-stage",
        status="optimal",
        initial_energy_kwh=dispatch.initial_energy_kwh,
        initial_storage_kwh=dispatch.initial_storage_kwh,
        hydrogen_capacities=None if inputs.hydrogen is None else hydrogen_capacities_of(m2),
        details={
            "hydrogen_sizing_capacities": None if inputs.hydrogen is None or m1 is None else hydrogen_capacities_of(m1),
            "typical_days": 0 if reduction is None else reduction.n_days,
            "sizing_site_groups": None if grouping is None else len(grouping.inputs.sites),
            "sizing_objective": _objective(m1),
            "sizing_passes": history,
            "aggregate_lower_bound": lower_bound,
            "windows": dispatch.windows,
            "commit_hours": rolling.commit_hours,
            "lookahead_hours": rolling.lookahead_hours,
            "shadow_prices": prices,
            "dispatch_passes": passes,
            "clustering_rmse": {} if reduction is None else reduction.rmse.to_dict(),
            # the sizing decides second life: its duals give the break-even (m2 has the kWh fixed, and its PV
            # fixed under the policy rows values storage differently)
            "second_life": None if m1 is None else second_life.break_even(m1, reduction.inputs),
            **timings,
        },
    )


def full_lower_bound(inputs: PlanInputs, options: dict) -> float:
    """A lower bound of the full co-optimisation [currency/year]: the year-long co-optimisation of capacities and
    operation with the town's fleet as one battery (a relaxation: every per-vehicle plan is an aggregate plan).

    Slower than the two-stage plan (a year with capacities free: ≈ 10–20 s for a town), but certifies its gap.
    """
    m = build_model(aggregate_fleet(inputs))
    condition = _solve(m, options)
    if condition != "optimal":
        _raise_unsolved(m, inputs, condition, options, "year-long aggregate co-optimisation (lower bound)")
    return float(m.objective.value)


def _no_supply_for_the_dispatch(
    inputs: PlanInputs, year: PlanInputs, values: dict, options: dict, err: InfeasibleError
) -> InfeasibleError:
    """Why no supply meets the targets against the per-vehicle charging, and whether any plan could.

    The aggregate fleet over the whole year with every capacity free is a relaxation of the plan (the cars of a
    site pooled into one battery): when its best value misses the target too, no plan meets it — a proof, with
    the achievable value an upper bound; when it meets it, the two-stage method failed where a plan may exist.
    """
    dt = inputs.dt_hours
    load = float((values["Vehicle-charge_kw"].sum(axis=1) + inputs.other_load_kw.to_numpy(float)).sum() * dt)
    load += float(electricity_drawn_kw(inputs, values).sum() * dt)
    reached = 1.0 - float(values["Grid-import_kw"].sum() * dt) / load if load else 1.0
    bound = diagnose_infeasibility(aggregate_fleet(year), options)
    if bound.achievable is not None and bound.target == err.target:
        return InfeasibleError(
            f"{bound.target} = {_fmt(bound.target, bound.required)} cannot be met by any plan: the year with each "
            f"site's cars pooled into one battery (a relaxation) reaches at most {_fmt(bound.target, bound.achievable)}"
            f"; the per-vehicle dispatch reached {reached:.1%} (local renewable share of charging, hour by hour). "
            "A lower target, more PV roof or storage (sites.storage_max_kwh, technologies.storage.max_kwh) or "
            "grid.topology = 'single_meter' for one meter make it reachable",
            target=bound.target,
            required=bound.required,
            achievable=bound.achievable,
        )
    return InfeasibleError(
        f"{err} — against the per-vehicle charging of the two-stage plan ({reached:.1%} of charging met by local "
        "renewables hour by hour); the pooled year (a relaxation) does meet the target, so a plan may exist: "
        "try solver.method = 'full'",
        target=err.target,
        required=getattr(err, "required", None),
        achievable=getattr(err, "achievable", None),
    )
