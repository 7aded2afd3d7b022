"""The aggregate year of a town whose metered sites share no row, solved site by site on the process pool.

The year-long aggregate dispatch (:func:`chisan.plan.solve.aggregate_year`) of a town with a meter per site is one
LP over every site. When nothing is sized (capacities fixed: the business-as-usual town, :mod:`chisan.economics.bau`)
and nothing town-wide binds, its rows split into one block per site: each site balances on its own meter
(``Site-balance``) and pays its own contract (``Tariff-peak_kw`` per site), the town's import and export are the sums
of the sites' (``Grid-site_import_sum``) and the objective is a sum of per-site terms. A block-diagonal LP is solved
by solving its blocks (Dantzig & Wolfe 1960, "Decomposition principle for linear programs", Oper. Res. 8(1):101–111,
the trivial case without linking rows): the optimum is the sum of the blocks' optima. HiGHS's simplex time grows
faster than the LP, so the blocks also solve faster one by one than together, and they run side by side on the
processes the rolling dispatch uses (:mod:`chisan.plan.site_dispatch`).

Couplings that make the year one LP again, and send it back to the joint solve (:func:`town_coupling` says which):
a town connection limit, links between sites, a policy target over the town, a second-life store or hydrogen
station sized for the town, an outage-survival requirement, or a capacity still to be sized.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan import second_life, survival
from chisan.plan.inputs import PlanInputs
from chisan.plan.model_parts import SITE, STATION
from chisan.plan.site_dispatch import _vehicles_per_site, part_inputs, processes_allowed
from chisan.plan.site_year_worker import solve_site  # the processes' job, in a module that imports little

MIN_VEHICLES_FOR_PROCESSES = 20
"""Fewer vehicles than this and the sites are solved one after another here: starting a process costs ≈ 3 s CPU
(the imports), more than a year of a few cars takes."""

BUSY_CORES_BESIDE = 0
"""Cores that another process of the same run keeps busy: the business-as-usual worker of
:func:`chisan.plan.pipeline.plan_scenario` sets 1 (the plan solves beside it), so that on two cores its sites are
solved one after another in it instead of in a helper process that would only share the two busy cores and cost its
imports (≈ 3 s of CPU; measured on the bundled example, the helper's process took 4.0 s of CPU for 2.6 s of
solves)."""


def default_workers() -> int:
    """Processes for the site-by-site year: up to 2, the cores not kept busy by another process of the run."""
    return max(1, min(2, (os.cpu_count() or 1) - BUSY_CORES_BESIDE))


@dataclass
class _Solved:
    """The solution of one variable (``solution`` as linopy gives it: an xarray DataArray)."""

    solution: xr.DataArray


@dataclass
class _Objective:
    value: float


@dataclass
class SiteYear:
    """The aggregate year put together from its sites' solves, read as a solved :class:`linopy.Model` is.

    Attributes
    ----------
    variables : dict[str, _Solved]
        Each variable's solution over the whole town: per-site and per-station arrays side by side in the town's
        order, town-wide time series and capacities summed over the sites.
    objective : _Objective
        The town's objective [currency/year]: the sum of the sites' optima.
    constraints : dict
        Empty: without policy rows there are no shadow prices to read (:func:`chisan.plan.solve._policy_prices`).
    sites_solved : int
        Number of per-site LPs.
    """

    variables: dict[str, _Solved]
    objective: _Objective
    constraints: dict = field(default_factory=dict)
    sites_solved: int = 0


def town_coupling(inputs: PlanInputs) -> str | None:
    """What couples the sites of ``inputs`` in the aggregate year, or None when they are independent.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs of the aggregate year (capacities fixed).

    Returns
    -------
    str or None
        A short reason ("a town connection limit", ...) for the report's details; None = solve site by site.
    """
    checks = (
        (not inputs.per_site, "one town meter"),
        (inputs.per_site and len(inputs.sites) < 2, "one metered site"),
        (inputs.links is not None and len(inputs.links) > 0, "links between sites"),
        (inputs.grid_connection_limit_kw is not None, "a town connection limit"),
        (
            bool(inputs.renewable_share_min)
            or inputs.max_grid_import_kwh is not None
            or inputs.max_emissions_kg is not None,
            "a town-wide policy target",
        ),
        (second_life.offer_of(inputs) is not None, "second-life storage"),
        (inputs.hydrogen is not None, "a hydrogen station"),
        (survival.requirement_of(inputs) is not None, "an outage-survival requirement"),
        (any(c.enabled and c.fixed_units is None for c in inputs.capacities.values()), "capacities to size"),
        (inputs.fleet_mode != "vehicle", "a fleet already aggregated"),
    )
    return next((why for coupled, why in checks if coupled), None)


def _station_order(inputs: PlanInputs, town: bool) -> pd.Index:
    """The stations of the aggregate fleet in the joint model's order (:func:`chisan.plan.reduce.aggregate_fleet`)."""
    if town:  # the stations behind each meter merged, in order of first appearance
        return pd.Index(pd.unique(inputs.stations["site"].astype(str).to_numpy()))
    return inputs.stations.index


def _assemble(inputs: PlanInputs, town: bool, solved: list[dict[str, xr.DataArray]]) -> dict[str, _Solved]:
    """The town's solution from the parts': arrays over sites or stations side by side, the others summed."""
    out: dict[str, _Solved] = {}
    names = dict.fromkeys(name for part in solved for name in part)
    for name in names:
        arrays = [part[name] for part in solved if name in part]
        dims = arrays[0].dims
        along = next((d for d in (SITE, STATION) if d in dims), None)
        if along is None:  # town-wide: a time series or a capacity, the sum of the sites'
            total = arrays[0].copy(deep=True)
            total.values = np.sum([np.nan_to_num(a.to_numpy()) for a in arrays], axis=0)
            out[name] = _Solved(total)
            continue
        joined = xr.concat(arrays, dim=along)
        if along == STATION:
            order = [x for x in _station_order(inputs, town) if x in set(joined.indexes[STATION])]
        else:
            order = [x for x in inputs.sites.index.astype(str) if x in set(joined.indexes[SITE].astype(str))]
        out[name] = _Solved(joined.sel({along: order}))
    return out


def _side_by_side(jobs: list[tuple], vehicles: np.ndarray, helpers: int) -> list[tuple]:
    """Run ``jobs`` on ``helpers`` spawned processes and here at once: the processes take the most vehicles first
    (longest processing time first, Graham 1969, doi:10.1137/0117039), this process takes the other end of the
    queue while they start (a spawn costs ≈ 3 s of imports) and until the queue is empty."""
    order = sorted(range(len(jobs)), key=lambda i: -vehicles[i])
    results: dict[int, tuple] = {}
    # spawn: a fresh interpreter (forking a process that has run HiGHS threads is not safe)
    pool = ProcessPoolExecutor(max_workers=helpers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {i: pool.submit(solve_site, jobs[i]) for i in order}
        for i in reversed(order):  # a job not yet handed to a process is cancelled and run here
            if futures[i].cancel():
                results[i] = solve_site(jobs[i])
        for i in order:
            if i not in results:
                results[i] = futures[i].result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(jobs))]


def solve_year_by_site(inputs: PlanInputs, options: dict, workers: int | None = None) -> tuple[SiteYear | None, str]:
    """The aggregate year of ``inputs`` as one LP per metered site, side by side on ``workers`` processes.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs with every capacity fixed (and each site's PV and storage), no town coupling
        (:func:`town_coupling` returns None).
    options : dict
        HiGHS options.
    workers : int, optional
        Processes (default :func:`default_workers`: up to 2, the cores not kept busy beside; one process here for a
        town of few cars).

    Returns
    -------
    SiteYear or None, str
        The assembled year and ``"optimal"``; None and the first site's termination condition when a site's LP
        is not optimal (the caller then solves the joint LP for the diagnosis).
    """
    town = bool(inputs.stations["connection_limit_kw"].isna().all())  # as aggregate_fleet decides for the town
    sites = list(inputs.sites.index.astype(str))
    jobs = [(part_inputs(inputs, [site]), town, options) for site in sites]
    workers = workers or default_workers()
    if workers < 2 or len(inputs.vehicles) < MIN_VEHICLES_FOR_PROCESSES or not processes_allowed():
        results = [solve_site(job) for job in jobs]
    else:
        results = _side_by_side(jobs, _vehicles_per_site(inputs, sites).to_numpy(), workers - 1)
    for condition, _, _ in results:
        if condition != "optimal":
            return None, condition
    variables = _assemble(inputs, town, [r[2] for r in results])
    objective = _Objective(float(sum(r[1] for r in results)))
    return SiteYear(variables=variables, objective=objective, sites_solved=len(jobs)), "optimal"
