"""The whole planning pipeline for one scenario: inputs → solve → check → results.

Used by ``chisan plan``, the roadmap and the sweep, so that each runs exactly the same steps.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from chisan.economics.appraisal import Economics, appraise
from chisan.economics.bau import bau_inputs
from chisan.exceptions import ScenarioError
from chisan.plan import survival
from chisan.plan.bau_worker import solve_bau
from chisan.plan.check import CheckReport, check_solution
from chisan.plan.dispatch import RollingSettings
from chisan.plan.inputs import PlanInputs
from chisan.plan.prepare import PreparedPlan, prepare_inputs
from chisan.plan.results import PlanResults, build_results
from chisan.plan.solve import Solution, choose_method, solve_plan
from chisan.resilience.outage import OutageResult
from chisan.resilience.plan import simulate_plan
from chisan.scenario.sanity import warn_implausible
from chisan.scenario.schema import Scenario

Stage = Callable[[str, float], None]
"""``f(stage_message, fraction_of_stage_done)``."""


@dataclass
class PlanRun:
    """Everything one planning run produced.

    Attributes
    ----------
    prepared : PreparedPlan
        Inputs, weather, bookings and fleet.
    solution : Solution
        Capacities and hourly values.
    checks : CheckReport
        After-solve checks (all passed, or :func:`plan_scenario` raised).
    results : PlanResults
        Tables and KPIs.
    seconds : dict[str, float]
        Wall time per stage [s].
    bau : PlanResults or None
        The business-as-usual case (no new PV, wind or storage; same fleet, chargers and tariff), solved and
        checked the same way; None when skipped.
    economics : Economics or None
        The plan appraised against ``bau``.
    resilience : OutageResult or None
        Outage survival of the shelters over every start step (scenarios with a ``[resilience]`` table).
    survival : dict or None
        With ``[resilience] require_survival``: the plan is the one that keeps the shelters supplied
        (:mod:`chisan.plan.survival`); ``cost_without_per_year``, ``cost_with_per_year``, ``cost_per_year``
        (their difference) [currency/year], ``start_steps``, ``passes``, ``full_outage_probability_without`` and
        ``_with`` [fraction], ``kept_kwh_min`` and ``need_kwh_max`` [kWh]; None otherwise.
    """

    prepared: PreparedPlan
    solution: Solution
    checks: CheckReport
    results: PlanResults
    seconds: dict[str, float]
    bau: PlanResults | None = None
    economics: Economics | None = None
    resilience: OutageResult | None = None
    survival: dict | None = None


SURVIVAL_PASSES = 3
"""Most plans solved with the N worst outage starts added (``survival_start_hours = N``)."""


def _require_survival(run: PlanRun, method: str, say: Stage) -> None:
    """Re-plan with the survival constraint (:mod:`chisan.plan.survival`) and compare with the plan without it.

    ``run`` holds the plan without the constraint; afterwards it holds the plan with it and ``run.survival`` the
    comparison. Start steps: all, or the N worst starts of the outage simulation, with the new worst starts of each
    plan added, until every simulated start survives or :data:`SURVIVAL_PASSES` plans.
    """
    scenario = run.prepared.scenario
    res = scenario.resilience
    inputs = run.prepared.inputs
    if choose_method(inputs, method) != "full":
        raise ScenarioError(
            "resilience.require_survival = true needs solver.method = 'full' (the two-stage plan cannot carry the "
            "outage constraint into its week-by-week dispatch yet); this town would be planned in two stages"
        )
    base_cost = run.results.kpi("total_cost_per_year")
    base_probability = run.resilience.full_outage_probability_fraction
    n = len(inputs.snapshots)
    if res.survival_start_hours == "all":
        starts = np.arange(n)
    else:
        starts = _worst_starts(run.resilience, res.survival_start_hours, np.empty(0, dtype=int))
    passes = 0
    while True:
        passes += 1
        say(f"planning with the shelters' survival required at {len(starts)} outage starts (pass {passes})", 0.0)
        required = survival.with_requirement(inputs, survival.requirement_for(scenario, inputs, starts))
        solution = solve_plan(required, method="full", time_limit_s=scenario.solver.time_limit_s)
        checks = check_solution(required, solution, run.prepared.assignment)
        checks.raise_if_failed()
        results = build_results(scenario, required, solution, run.prepared.assignment)
        outage = simulate_plan(scenario, required, results)
        if res.survival_start_hours == "all" or passes >= SURVIVAL_PASSES:
            break
        new = _worst_starts(outage, res.survival_start_hours, starts)
        if not len(new):
            break
        starts = np.union1d(starts, new)
    kept = survival.kept_energy_kwh(required, solution.values)
    run.solution, run.checks, run.results, run.resilience = solution, checks, results, outage
    run.survival = {
        "cost_without_per_year": base_cost,
        "cost_with_per_year": results.kpi("total_cost_per_year"),
        "cost_per_year": results.kpi("total_cost_per_year") - base_cost,
        "start_steps": len(starts),
        "passes": passes,
        "full_outage_probability_without": float(base_probability),
        "full_outage_probability_with": float(outage.full_outage_probability_fraction),
        "kept_kwh_min": float(kept.min()),
    }
    results.method["survival"] = run.survival


def _worst_starts(outage: OutageResult, count: int, already: np.ndarray) -> np.ndarray:
    """Positions of the ``count`` starts that survive the fewest hours (below the full outage), not in ``already``."""
    hours = outage.survival["hours_survived_h"].to_numpy(float)
    order = np.argsort(hours, kind="stable")
    failing = [i for i in order if hours[i] < outage.outage_h - 1e-9 and i not in set(already.tolist())]
    return np.asarray(failing[:count], dtype=int)


def solve_settings(
    scenario: Scenario,
    *,
    method: str | None = None,
    n_typical_days: int | None = None,
    rolling: RollingSettings | None = None,
) -> dict:
    """The keyword arguments of :func:`chisan.plan.solve.solve_plan` for ``scenario`` (the overrides first)."""
    return {
        "method": method or scenario.solver.method,
        "n_typical_days": n_typical_days or scenario.solver.typical_days,
        "rolling": rolling,
        "time_limit_s": scenario.solver.time_limit_s,
        "threads": scenario.solver.threads,
    }


def _start_bau(bau: PlanInputs, settings: dict) -> tuple[ProcessPoolExecutor, Future] | None:
    """Start :func:`chisan.plan.bau_worker.solve_bau` in a process of its own, or None where there is no second
    core or no process can be started (a daemonic Dask worker): business as usual is then solved here after the plan.

    Spawned, not forked, as in :mod:`chisan.plan.site_dispatch`: a fork of a process whose HiGHS threads have run,
    or whose other threads (the progress bar's) hold a lock, may deadlock in the child. Starting the interpreter
    costs ≈ 2 s of CPU, on the second core while the plan solves on the first.
    """
    if (os.cpu_count() or 1) < 2:
        return None
    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return pool, pool.submit(solve_bau, bau, settings)
    except (OSError, RuntimeError, AssertionError):  # AssertionError: daemonic processes may not have children
        return None


def _stop_bau(started: tuple[ProcessPoolExecutor, Future] | None) -> None:
    """Stop the business-as-usual worker (the plan failed, or its result is in)."""
    if started is None:
        return
    pool, future = started
    if not future.done():
        future.cancel()
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def plan_scenario(
    scenario: Scenario,
    *,
    method: str | None = None,
    n_typical_days: int | None = None,
    lower_bound: bool = False,
    rolling: RollingSettings | None = None,
    progress: Stage | None = None,
    business_as_usual: bool = False,
    prepared: PreparedPlan | None = None,
    solution: Solution | None = None,
    bau_solution: Solution | None = None,
    bau_alongside: bool = False,
) -> PlanRun:
    """Plan one scenario and check the plan.

    Parameters
    ----------
    scenario : Scenario
    method : str, optional
        ``"auto"``, ``"full"`` or ``"two-stage"``; default the scenario's ``solver.method``.
    n_typical_days : int, optional
        Default the scenario's ``solver.typical_days``.
    lower_bound : bool
        Also certify the two-stage gap with the year-long aggregate co-optimisation (slower).
    rolling : RollingSettings, optional
        Window lengths of the per-vehicle dispatch.
    progress : callable, optional
        Called with a message and the fraction done of the current stage.
    business_as_usual : bool
        Also solve and check the business-as-usual case (:func:`chisan.economics.bau.bau_inputs`) with the same
        method and appraise the plan against it (``chisan plan`` does unless ``--no-bau``; the sweep and the
        roadmap do not need it and skip it by default).
    prepared, solution, bau_solution : optional
        Work already done for this scenario (``chisan compare`` prepares and solves each distinct set of inputs
        once and shares it between variants that differ only after the solve): used as given, then checked.
    bau_alongside : bool
        Solve business as usual in a second process while the plan is solved here (two cores: the wall time of
        ``chisan plan`` is then about the plan's, not the sum of both). The same solve on the same inputs, so the
        same figures. If the worker fails, business as usual is solved here afterwards, so its errors read as
        without this option.

    Raises
    ------
    ScenarioError, DataError, InfeasibleError, SolverError, CheckError
    """
    say = progress or (lambda msg, frac: None)
    warn_implausible(scenario)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    if prepared is None:
        prepared = prepare_inputs(scenario, progress=lambda msg: say(msg, 0.0))
    seconds["prepare"] = time.perf_counter() - t
    t = time.perf_counter()
    settings = solve_settings(scenario, method=method, n_typical_days=n_typical_days, rolling=rolling)
    started = None
    if business_as_usual and bau_alongside and bau_solution is None:
        started = _start_bau(bau_inputs(prepared.inputs), settings)
    try:
        if solution is None:
            solution = solve_plan(prepared.inputs, **settings, lower_bound=lower_bound, progress=say)
        seconds["solve"] = time.perf_counter() - t
        t = time.perf_counter()
        say("checking the plan", 0.0)
        checks = check_solution(prepared.inputs, solution, prepared.assignment)
        checks.raise_if_failed()
        results = build_results(scenario, prepared.inputs, solution, prepared.assignment)
        seconds["check_results"] = time.perf_counter() - t
        run = PlanRun(prepared=prepared, solution=solution, checks=checks, results=results, seconds=seconds)
        if scenario.resilience is not None:
            t = time.perf_counter()
            say("simulating outages from every start hour", 0.0)
            run.resilience = simulate_plan(scenario, prepared.inputs, results)
            seconds["resilience"] = time.perf_counter() - t
            if scenario.resilience.require_survival:
                t = time.perf_counter()
                _require_survival(run, method or scenario.solver.method, say)
                seconds["survival"] = time.perf_counter() - t
    except BaseException:
        _stop_bau(started)
        raise
    if business_as_usual:
        t = time.perf_counter()
        say("business as usual: the same town without new PV, wind or storage", 0.0)
        bau = bau_inputs(prepared.inputs)
        if started is not None:  # the worker's answer, or None (then solved here)
            bau_solution = _bau_result(started, say)
        if bau_solution is None:
            bau_solution = solve_plan(
                bau, **settings, progress=lambda msg, frac: say(f"business as usual: {msg}", frac)
            )
        check_solution(bau, bau_solution, prepared.assignment).raise_if_failed()
        run.bau = build_results(scenario, bau, bau_solution, prepared.assignment)
        run.economics = appraise(scenario, results, run.bau)
        seconds["business_as_usual"] = time.perf_counter() - t
    return run


def _bau_result(started: tuple[ProcessPoolExecutor, Future], say: Stage) -> Solution | None:
    """The business-as-usual solution of the worker, or None (solved here then) when the worker failed."""
    say("business as usual: solved alongside the plan", 0.0)
    try:
        solution, raised = started[1].result()
    except Exception:  # the serial solve that follows raises the error as the plan would without the worker
        return None
    finally:
        _stop_bau(started)
    for text, category in raised:
        warnings.warn(text, category, stacklevel=2)
    return solution
