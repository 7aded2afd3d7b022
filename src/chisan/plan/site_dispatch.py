"""The per-vehicle rolling dispatch of a metered town, split into independent parts run side by side.

With a meter per site and no line between sites, the windows of :func:`chisan.plan.dispatch.rolling_dispatch`
share no row across sites: each site balances on its own meter, pays its own contract, and the annual policy
targets reach the windows only as shadow prices. Only the soft end-of-window target of the whole fleet couples
them; it is split by the aggregate year's energy per site. So the sites are dealt into blocks of about
:data:`BLOCK_VEHICLES` vehicles (HiGHS's time per window grows faster than the window), each block dispatched as
its own town (its sites, cars, PV and storage; the wind turbine with the block of its site), the blocks dealt
onto separate processes of about equal numbers of vehicles, and the values are put back together. The result is the
same set of per-site problems the joint dispatch solves, and the after-solve checks run on the whole town.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from chisan.plan.dispatch import Dispatch, RollingSettings, rolling_dispatch
from chisan.plan.inputs import Capacity, PlanInputs

MIN_VEHICLES_PER_PART = 60
"""Fewer vehicles than this per process and one process is faster than starting another (import ≈ 3 s)."""

BLOCK_VEHICLES = 50
"""About this many vehicles per rolling dispatch. HiGHS's time for a window grows faster than the window: measured
on the 300-car example town (2 cores under other load, warm-started windows, CPU seconds per window per car) about
2 ms at 60 cars, 4 ms at 150 and 7 ms at 300, while below ≈ 30 cars the fixed cost of each window (update, diff,
read-back ≈ 0.1 s) dominates. So a part's sites are dispatched in blocks of about this size, one after another."""


def _deal(count: pd.Series, n: int) -> list[list[str]]:
    """Sites dealt into ``n`` lists of about equal vehicle counts (largest first onto the lightest)."""
    parts: list[list[str]] = [[] for _ in range(n)]
    load = np.zeros(n)
    for site in count.sort_values(ascending=False, kind="stable").index:
        j = int(load.argmin())
        parts[j].append(site)
        load[j] += count[site]
    return [p for p in parts if p]


def _vehicles_per_site(inputs: PlanInputs, sites: list[str]) -> pd.Series:
    site_of_vehicle = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy())
    return site_of_vehicle.value_counts().reindex(sites).fillna(0)


def dispatch_parts(
    inputs: PlanInputs, site_fleet_kwh: pd.DataFrame | None, workers: int, block_vehicles: int | None = None
) -> list[list[list[str]]]:
    """The sites dealt into processes and, within each, into blocks dispatched one after another.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs with capacities fixed.
    site_fleet_kwh : pd.DataFrame or None
        The aggregate year's fleet energy per site [kWh] (snapshots × sites); without it the fleet target cannot
        be split and the dispatch stays whole.
    workers : int
        Processes available.
    block_vehicles : int, optional
        About how many vehicles each block holds (default :data:`BLOCK_VEHICLES`).

    Returns
    -------
    list of list of list of str
        Per process, its blocks of sites; ``[[sites]]`` (one block in this process) when not decomposable.
    """
    sites = list(inputs.sites.index.astype(str)) if inputs.per_site else []
    coupled = (
        not inputs.per_site
        or (inputs.links is not None and len(inputs.links) > 0)
        or inputs.grid_connection_limit_kw is not None
        or site_fleet_kwh is None
    )
    if coupled or len(sites) < 2:
        return [[sites]]
    count = _vehicles_per_site(inputs, sites)
    block_vehicles = BLOCK_VEHICLES if block_vehicles is None else block_vehicles
    n_procs = max(1, min(workers, len(sites), len(inputs.vehicles) // MIN_VEHICLES_PER_PART))
    n_blocks = min(len(sites), max(n_procs, round(len(inputs.vehicles) / max(1, block_vehicles))))
    if n_blocks < 2:
        return [[sites]]
    blocks = _deal(count, n_blocks)
    sizes = pd.Series([count[b].sum() for b in blocks], index=range(len(blocks)))
    return [[blocks[i] for i in proc] for proc in _deal(sizes, n_procs)]


def _structurally_split(inputs: PlanInputs, workers: int) -> int:
    """How many processes :func:`dispatch_parts` will use for ``inputs`` (before the sizing has run), 1 = none."""
    if (
        not inputs.per_site
        or (inputs.links is not None and len(inputs.links) > 0)
        or inputs.grid_connection_limit_kw is not None
    ):
        return 1
    return max(1, min(workers, len(inputs.sites), len(inputs.vehicles) // MIN_VEHICLES_PER_PART))


_WARM: dict[str, tuple[ProcessPoolExecutor, int, list[Future]]] = {}
"""The worker pool started by :func:`start_workers`, taken by the next :func:`parallel_rolling_dispatch`."""


def _warm_up() -> int:
    """Import what a block's dispatch needs and build a two-variable model once (in a worker, while the parent
    sizes): the imports and xarray's first look-up of array backends cost ≈ 3–5 s of CPU per process."""
    import linopy
    import xarray as xr
    from xarray.namedarray.pycompat import array_type

    from chisan.plan.dispatch import DirectHighs  # noqa: F401  (imports chisan.plan.model and HiGHS)
    from chisan.plan.highs import quiet_highs

    for mod in ("dask", "cupy", "sparse", "cubed"):  # xarray imports these on first use to test array types
        array_type(mod)  # (≈ 2.4 s of CPU when dask is installed: measured in a block's first build_model)

    m = linopy.Model(force_dim_names=True)
    x = m.add_variables(lower=xr.DataArray(np.zeros(2), dims=["snapshot"]), name="x")
    m.add_constraints(x.sum() >= 1.0, name="c")
    m.add_objective(x.sum())
    with quiet_highs():
        linopy.solvers.Solver.from_name("highs", model=m, io_api="direct").close()
    return os.getpid()


def processes_allowed() -> bool:
    """Whether this process may start worker processes: not inside a daemonic one (a Dask worker of ``chisan
    compare`` or the sweep), where :mod:`multiprocessing` refuses children with an AssertionError."""
    return not multiprocessing.current_process().daemon


def start_workers(inputs: PlanInputs, workers: int | None = None) -> None:
    """Start the dispatch's worker processes now, so that they import on the second core while the sizing runs.

    Only for towns whose dispatch will be split over processes (:func:`dispatch_parts`); the next
    :func:`parallel_rolling_dispatch` takes the pool (and shuts it down if it does not need it). Where no process
    can be started (a daemonic Dask worker) nothing happens and the dispatch starts its own as before.
    """
    stop_workers()
    n = _structurally_split(inputs, workers or min(2, os.cpu_count() or 1))
    if n < 2:
        return
    try:
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        # one task each: ProcessPoolExecutor spawns a process per submit while none is idle
        warming = [pool.submit(_warm_up) for _ in range(n)]
    except (OSError, RuntimeError, AssertionError):  # AssertionError: daemonic processes may not have children
        return
    _WARM["pool"] = (pool, n, warming)


def stop_workers() -> None:
    """Shut down a pool left by :func:`start_workers` (a plan that failed before its dispatch)."""
    warm = _WARM.pop("pool", None)
    if warm is not None:
        warm[0].shutdown(wait=False, cancel_futures=True)


def _take_pool(n: int) -> ProcessPoolExecutor:
    """The pool of :func:`start_workers` when it has ``n`` processes and none failed to warm up, else a new one
    (the old one shut down)."""
    warm = _WARM.pop("pool", None)
    if warm is not None and warm[1] == n and not any(f.done() and f.exception() is not None for f in warm[2]):
        return warm[0]
    if warm is not None:
        warm[0].shutdown(wait=False, cancel_futures=True)
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))


def part_inputs(inputs: PlanInputs, sites: list[str]) -> PlanInputs:
    """The town reduced to ``sites``: their stations, vehicles, PV, storage and other load; wind if theirs."""
    stations = inputs.stations[inputs.stations["site"].astype(str).isin(sites)]
    keep = inputs.vehicles["station"].isin(stations.index).to_numpy()
    vehicles = inputs.vehicles[keep]
    caps = dict(inputs.capacities)
    site_pv = inputs.site_pv_fixed_kw.reindex(sites) if inputs.site_pv_fixed_kw is not None else None
    if caps["pv_kw"].enabled and site_pv is not None:
        caps["pv_kw"] = caps["pv_kw"].fixed_at(float(site_pv.sum()))
    stored = [x for x in inputs.storage_sites if x in sites]
    if not stored:
        caps["storage_kwh"] = caps["storage_kw"] = Capacity(enabled=False)
    elif inputs.site_storage_fixed_kwh is not None:  # the part's own storage total
        caps["storage_kwh"] = caps["storage_kwh"].fixed_at(float(inputs.site_storage_fixed_kwh.reindex(stored).sum()))
        caps["storage_kw"] = caps["storage_kw"].fixed_at(float(inputs.site_storage_fixed_kw.reindex(stored).sum()))
    initial = inputs.initial_storage_kwh
    if isinstance(initial, pd.Series):
        initial = initial.reindex(stored)
    if str(inputs.wind_site) not in sites:
        caps["wind_kw"] = Capacity(enabled=False)
    carried = inputs.contract_kw_min_by_site
    return dataclasses.replace(
        inputs,
        stations=stations,
        vehicles=vehicles,
        plugged=inputs.plugged.loc[:, keep],
        trip_energy_kwh=inputs.trip_energy_kwh.loc[:, keep],
        initial_energy_kwh=None if inputs.initial_energy_kwh is None else inputs.initial_energy_kwh[keep],
        terminal_energy_kwh=None if inputs.terminal_energy_kwh is None else inputs.terminal_energy_kwh[keep],
        capacities=caps,
        sites=inputs.sites.loc[sites],
        site_other_load_kw=inputs.site_other_load_kw[sites],
        site_pv_fixed_kw=site_pv,
        storage_site=None,  # already in sites["storage_max_kwh"]
        wind_site=inputs.wind_site if str(inputs.wind_site) in sites else sites[0],
        contract_kw_min_by_site=None if carried is None else carried.reindex(sites),
        site_storage_fixed_kwh=None if inputs.site_storage_fixed_kwh is None else inputs.site_storage_fixed_kwh[sites],
        site_storage_fixed_kw=None if inputs.site_storage_fixed_kw is None else inputs.site_storage_fixed_kw[sites],
        initial_storage_kwh=initial if stored else None,
    )


def _run_part(args: tuple) -> Dispatch:
    inputs, settings, options, targets, cost, start = args
    return rolling_dispatch(
        inputs,
        settings,
        solver_options=options,
        targets=targets,
        shortfall_cost_per_kwh=cost,
        start_fleet_kwh=start,
    )


def parallel_rolling_dispatch(
    inputs: PlanInputs,
    settings: RollingSettings,
    *,
    solver_options: dict,
    targets: pd.DataFrame,
    site_fleet_kwh: pd.DataFrame | None,
    shortfall_cost_per_kwh: float,
    workers: int | None = None,
    on_window: Callable[[int, int], None] | None = None,
) -> tuple[Dispatch, int]:
    """:func:`rolling_dispatch` of ``inputs``, split into independent blocks of sites on ``workers`` processes.

    Returns the dispatch of the whole town and the number of blocks (1 = the joint dispatch was run).
    """
    workers = (workers or min(2, os.cpu_count() or 1)) if processes_allowed() else 1
    procs = dispatch_parts(inputs, site_fleet_kwh, workers)
    if len(procs) == 1:
        stop_workers()  # no process needed
    if len(procs) == 1 and len(procs[0]) == 1:
        dispatch = rolling_dispatch(
            inputs,
            settings,
            solver_options=solver_options,
            on_window=on_window,
            targets=targets,
            shortfall_cost_per_kwh=shortfall_cost_per_kwh,
            start_fleet_kwh=float(targets["vehicle"].iloc[-1]),
        )
        return dispatch, 1
    jobs: list[list[tuple]] = []
    subs: list[PlanInputs] = []
    for blocks in procs:
        jobs.append([])
        for sites in blocks:
            sub = part_inputs(inputs, sites)
            block_targets = pd.DataFrame({"vehicle": site_fleet_kwh[sites].sum(axis=1).to_numpy()}, index=targets.index)
            own = [f"storage:{x}" for x in inputs.storage_sites if x in sites]
            if own and all(c in targets for c in own):  # the block's storage sites' energy in the aggregate year
                block_targets["storage"] = targets[own].sum(axis=1).to_numpy()
            elif "storage" in targets and own:
                block_targets["storage"] = targets["storage"].to_numpy()
            start = float(block_targets["vehicle"].iloc[-1])
            jobs[-1].append((sub, settings, solver_options, block_targets, shortfall_cost_per_kwh, start))
            subs.append(sub)
    if len(jobs) == 1:  # one process: its blocks here, with progress
        results = []
        n_windows = len(jobs[0]) * math.ceil(len(inputs.snapshots) / settings.steps(inputs.dt_hours)[0])
        for i, (sub, sett, opts, tgt, cost, start) in enumerate(jobs[0]):
            done = i * n_windows // len(jobs[0])
            results.append(
                rolling_dispatch(
                    sub,
                    sett,
                    solver_options=opts,
                    targets=tgt,
                    shortfall_cost_per_kwh=cost,
                    start_fleet_kwh=start,
                    on_window=None if on_window is None else (lambda k, n, d=done: on_window(d + k, n_windows)),
                )
            )
        return merge_dispatches(inputs, subs, results), len(subs)
    # spawn: a fresh interpreter per worker (forking a process that has run HiGHS threads is not safe)
    # Each block is its own task, the most vehicles first (longest-processing-time-first, Graham 1969,
    # doi:10.1137/0117039): a process that finishes early takes the next block instead of idling while the other
    # works through a fixed share (the blocks' times differ with their storage and bookings, not only their cars).
    flat = [job for proc in jobs for job in proc]
    order = sorted(range(len(flat)), key=lambda i: -len(flat[i][0].vehicles))
    pool = _take_pool(len(jobs))
    try:
        futures = {i: pool.submit(_run_part, flat[i]) for i in order}
        per_block = math.ceil(len(inputs.snapshots) / settings.steps(inputs.dt_hours)[0])
        for done, future in enumerate(as_completed(futures.values()), start=1):
            future.result()  # a block's error is raised as soon as it is known
            if on_window is not None:  # progress moves block by block
                on_window(done * per_block, len(flat) * per_block)
        results = [futures[i].result() for i in range(len(flat))]  # in the order of subs
    except BaseException:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # do not leave another part running after an error
            proc.terminate()
        raise
    pool.shutdown(wait=True)
    return merge_dispatches(inputs, subs, results), len(subs)


def merge_dispatches(inputs: PlanInputs, subs: list[PlanInputs], results: list[Dispatch]) -> Dispatch:
    """The town's dispatch from its parts': vehicles and sites in the town's order, town flows summed."""
    n = len(inputs.snapshots)
    vehicles = inputs.vehicles.index
    sites = inputs.sites.index.astype(str)
    values: dict[str, np.ndarray] = {}
    for sub, res in zip(subs, results, strict=True):
        v_pos = vehicles.get_indexer(sub.vehicles.index)
        s_pos = sites.get_indexer(sub.sites.index.astype(str))
        st_pos = inputs.storage_sites.get_indexer(sub.storage_sites)
        for name, arr in res.values.items():
            if arr.ndim == 2 and name.startswith("Vehicle-"):
                values.setdefault(name, np.zeros((n, len(vehicles))))[:, v_pos] = arr
            elif arr.ndim == 2 and name.startswith("Site-storage_"):  # over the storage sites only
                values.setdefault(name, np.zeros((n, len(inputs.storage_sites))))[:, st_pos] = arr
            elif arr.ndim == 2 and name.startswith("Site-"):
                values.setdefault(name, np.zeros((n, len(sites))))[:, s_pos] = arr
            else:
                values[name] = values.get(name, np.zeros(n)) + arr
    initial = pd.concat([r.initial_energy_kwh for r in results]).reindex(vehicles)
    storage = [r.initial_storage_kwh for s, r in zip(subs, results, strict=True) if s.capacities["storage_kwh"].enabled]
    per_site = [x for x in storage if isinstance(x, pd.Series)]
    start = pd.concat(per_site).reindex(inputs.storage_sites).fillna(0.0) if per_site else 0.0
    return Dispatch(
        values=values,
        windows=max(r.windows for r in results),
        solve_seconds=sum(r.solve_seconds for r in results),
        initial_energy_kwh=initial,
        initial_storage_kwh=start,
    )
