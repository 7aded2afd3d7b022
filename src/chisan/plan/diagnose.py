"""Why a plan is infeasible: the policy targets relaxed one at a time, with the achievable value of each.

Split out of :mod:`chisan.plan.solve`; the names stay importable from there.
"""

from __future__ import annotations

import dataclasses

import linopy
import numpy as np
import pandas as pd

from chisan.exceptions import InfeasibleError, SolverError
from chisan.plan.highs import solve_model as _solve
from chisan.plan.inputs import PlanInputs
from chisan.plan.model import build_model
from chisan.plan.slack import Shortfall, build_elastic_model, describe, shortfalls


def without_policy(inputs: PlanInputs) -> PlanInputs:
    """``inputs`` with every policy target removed."""
    return dataclasses.replace(inputs, renewable_share_min=None, max_grid_import_kwh=None, max_emissions_kg=None)


def policy_trials(inputs: PlanInputs) -> list[tuple[str, PlanInputs]]:
    """One variant of ``inputs`` per policy target, carrying only that target: ``(scenario field, inputs)``."""
    base = without_policy(inputs)
    trials = []
    if inputs.renewable_share_min:
        trials.append(
            (
                "policy.renewable_share_min_fraction",
                dataclasses.replace(
                    base,
                    renewable_share_min=inputs.renewable_share_min,
                    renewable_share_basis=inputs.renewable_share_basis,
                ),
            )
        )
    if inputs.max_grid_import_kwh is not None:
        trials.append(
            (
                "policy.max_grid_import_kwh_per_year",
                dataclasses.replace(base, max_grid_import_kwh=inputs.max_grid_import_kwh),
            )
        )
    if inputs.max_emissions_kg is not None:
        trials.append(
            ("policy.max_emissions_kg_per_year", dataclasses.replace(base, max_emissions_kg=inputs.max_emissions_kg))
        )
    return trials


def _policy_shortfalls(agg: PlanInputs, options: dict) -> dict[str, float]:
    """How far each policy target of ``agg`` (capacities fixed) misses, from elastic re-solves."""
    out = {}
    for target, trial in policy_trials(agg):
        res = _best_achievable(trial, target, options)
        if res is not None:
            required, achievable = res
            out[target] = abs(required - achievable)
    return out


def diagnose_infeasibility(
    inputs: PlanInputs, options: dict, days: pd.DatetimeIndex | None = None, typical_days: int | None = None
) -> InfeasibleError:
    """Find which requirement makes ``inputs`` infeasible and how far it can be met.

    The policy rows are relaxed one at a time with a slack whose size is minimised; the smallest slack tells
    how much of the target is achievable. If the model without any policy row is still infeasible, the cause is
    physical (bookings, station or grid limits): the elastic model (:mod:`chisan.plan.slack`) names the meter,
    the week and the kWh missing; so it does when no single target explains it. ``days`` are the calendar
    dates of the steps (for typical days); ``typical_days`` is their number when ``inputs`` is the typical-day
    sizing: then a physical failure is the sizing's (typical days approximate the year, which may have a plan),
    and the message says how to size on more of them or on the whole year.
    """
    m = build_model(without_policy(inputs))
    if _solve(m, options) != "optimal":
        where = _elastic_text(without_policy(inputs), options, days)
        if typical_days is not None:
            return InfeasibleError(
                f"the sizing on {typical_days} typical days cannot serve their bookings within the station and grid "
                f"limits, even without policy targets{where}; the typical days only approximate the year, which may "
                f"still have a plan: raise solver.typical_days (now {typical_days}) or set solver.method = 'full', "
                "else check grid.connection_limit_kw, sites[].connection_limit_kw, stations[].connection_limit_kw "
                "and the capacity limits (max_kw)",
                target="physical limits",
            )
        return InfeasibleError(
            "no plan can serve the bookings within the station and grid limits, even without policy targets"
            f"{where}: check grid.connection_limit_kw, sites[].connection_limit_kw, "
            "stations[].connection_limit_kw and the capacity limits (max_kw)",
            target="physical limits",
        )
    for target, trial in policy_trials(inputs):
        achievable = _best_achievable(trial, target, options)
        if achievable is not None:
            required, best = achievable
            return InfeasibleError(
                f"{target} = {_fmt(target, required)} cannot be met: at most {_fmt(target, best)} is achievable "
                "with the "
                "capacity limits (technologies.*.max_kw / max_kwh) and the grid and station limits",
                target=target,
                required=required,
                achievable=best,
            )
    where = _elastic_text(inputs, options, days)
    return InfeasibleError(f"the plan is infeasible, but no single policy target explains it{where}", target="unknown")


def _elastic_text(inputs: PlanInputs, options: dict, days: pd.DatetimeIndex | None) -> str:
    """ ", <what the elastic model finds short>" for a message, or "" when it finds nothing (or fails)."""
    try:
        found, _ = _elastic_shortfalls(inputs, options, days)
    except (SolverError, KeyError, ValueError):
        return ""
    text = describe(found, inputs, inputs.opex_scale)
    return f" ({text})" if text else ""


def _elastic_shortfalls(
    inputs: PlanInputs, options: dict, days: pd.DatetimeIndex | None = None
) -> tuple[list[Shortfall], float]:
    """Solve the elastic model of ``inputs``: its shortfalls and the charging + other load it served [kWh]."""
    m = build_elastic_model(inputs)
    condition = _solve(m, options)
    if condition != "optimal":
        raise SolverError(f"the elastic model (every row with a priced slack) ended {condition!r}")
    wdt = inputs.weight.to_numpy(float) * inputs.dt_hours
    load = float((_charging(m) * wdt).sum() + (inputs.other_load_kw.to_numpy(float) * wdt).sum())
    return shortfalls(m, inputs, days), load


def _fmt(target: str, value: float) -> str:
    """A target value with its unit, for messages."""
    if target.endswith("fraction"):
        return f"{value:.1%}"
    return f"{value:,.0f} {'kWh' if 'import' in target else 'kg CO2e'}"


def _best_achievable(trial: PlanInputs, target: str, options: dict) -> tuple[float, float] | None:
    """Re-solve with the target's row made elastic; return (required, achievable) when the row was the cause."""

    def elastic(m: linopy.Model, inputs: PlanInputs) -> None:
        slack = m.add_variables(lower=0, name="Policy-slack")
        name = {
            "policy.renewable_share_min_fraction": "Policy-renewable_share",
            "policy.max_grid_import_kwh_per_year": "Policy-grid_import",
            "policy.max_emissions_kg_per_year": "Policy-emissions",
        }[target]
        con = m.constraints[name]
        lhs = con.lhs
        sign = str(con.sign.item()) if hasattr(con.sign, "item") else str(con.sign)
        rhs = float(con.rhs)
        m.remove_constraints(name)
        if sign == ">=":
            m.add_constraints(lhs + slack >= rhs, name=name)
        else:
            m.add_constraints(lhs - slack <= rhs, name=name)
        m.parameters["slack_name"] = "Policy-slack"

    m = build_model(trial, extra_functionality=elastic)
    m.add_objective(1.0 * m.variables["Policy-slack"], overwrite=True)
    if _solve(m, options) != "optimal":
        return None
    slack = float(m.variables["Policy-slack"].solution)
    if slack <= 1e-6:
        return None
    wdt = trial.weight.to_numpy(float) * trial.dt_hours
    if target == "policy.renewable_share_min_fraction":
        load = float((_charging(m) * wdt).sum() + (trial.other_load_kw.to_numpy(float) * wdt).sum())
        required = float(trial.renewable_share_min)
        return required, max(0.0, required - slack / max(load, 1e-9))
    if target == "policy.max_grid_import_kwh_per_year":
        required = float(trial.max_grid_import_kwh)
        return required, required + slack
    required = float(trial.max_emissions_kg)
    return required, required + slack


def _charging(m: linopy.Model) -> np.ndarray | float:
    """Charging of the model's vehicles per step [kW]; 0 when it has none (their charging is then other load)."""
    for name in ("Vehicle-charge_kw", "Fleet-charge_kw"):
        if name in m.variables:
            sol = np.nan_to_num(m.variables[name].solution.to_numpy())
            return sol.sum(axis=1)
    return 0.0
