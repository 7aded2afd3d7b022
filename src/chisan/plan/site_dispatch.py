"""The per-vehicle rolling dispatch of a metered town, split into independent parts run side by side.

With a meter per site and no line between sites, the windows of :func:`chisan.plan.dispatch.rolling_dispatch`
share no row across sites: each site balances on its own meter, pays its own contract, and the annual policy
targets reach the windows only as shadow prices. Only the soft end-of-window target of the whole fleet couples
them; it is split by the aggregate year's energy per site. So the sites are dealt into parts of about equal
numbers of vehicles, each part dispatched as its own town (its sites, cars, PV and storage; the wind turbine
with the part of its site), on separate processes, and the values are put back together. The result is the
same set of per-site problems the joint dispatch solves, and the after-solve checks run on the whole town.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from chisan.plan.dispatch import Dispatch, RollingSettings, rolling_dispatch
from chisan.plan.inputs import Capacity, PlanInputs

MIN_VEHICLES_PER_PART = 60
"""Fewer vehicles than this per part and one process is faster than starting another (import ≈ 3 s)."""


def dispatch_parts(inputs: PlanInputs, site_fleet_kwh: pd.DataFrame | None, workers: int) -> list[list[str]]:
    """Sites dealt into at most ``workers`` parts of about equal vehicle counts; one part when not decomposable.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs with capacities fixed.
    site_fleet_kwh : pd.DataFrame or None
        The aggregate year's fleet energy per site [kWh] (snapshots × sites); without it the fleet target cannot
        be split and the dispatch stays whole.
    workers : int
        Processes available.
    """
    sites = list(inputs.sites.index.astype(str)) if inputs.per_site else []
    coupled = (
        not inputs.per_site
        or (inputs.links is not None and len(inputs.links) > 0)
        or inputs.grid_connection_limit_kw is not None
        or site_fleet_kwh is None
    )
    n_parts = min(workers, len(sites), len(inputs.vehicles) // MIN_VEHICLES_PER_PART)
    if coupled or n_parts < 2:
        return [sites]
    site_of_vehicle = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy())
    count = site_of_vehicle.value_counts().reindex(sites).fillna(0)
    parts: list[list[str]] = [[] for _ in range(n_parts)]
    load = np.zeros(n_parts)
    for site in count.sort_values(ascending=False).index:  # largest first onto the lightest part
        j = int(load.argmin())
        parts[j].append(site)
        load[j] += count[site]
    return [p for p in parts if p]


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
    """:func:`rolling_dispatch` of ``inputs``, split into independent parts on ``workers`` processes.

    Returns the dispatch of the whole town and the number of parts (1 = the joint dispatch was run).
    """
    workers = workers or min(2, os.cpu_count() or 1)
    parts = dispatch_parts(inputs, site_fleet_kwh, workers)
    if len(parts) == 1:
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
    jobs, subs = [], []
    for sites in parts:
        sub = part_inputs(inputs, sites)
        part_targets = pd.DataFrame({"vehicle": site_fleet_kwh[sites].sum(axis=1).to_numpy()}, index=targets.index)
        own = [f"storage:{x}" for x in inputs.storage_sites if x in sites]
        if own and all(c in targets for c in own):  # the part's storage sites' energy in the aggregate year
            part_targets["storage"] = targets[own].sum(axis=1).to_numpy()
        elif "storage" in targets and own:
            part_targets["storage"] = targets["storage"].to_numpy()
        jobs.append(
            (
                sub,
                settings,
                solver_options,
                part_targets,
                shortfall_cost_per_kwh,
                float(part_targets["vehicle"].iloc[-1]),
            )
        )
        subs.append(sub)
    # spawn: a fresh interpreter per worker (forking a process that has run HiGHS threads is not safe)
    pool = ProcessPoolExecutor(max_workers=len(parts), mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(_run_part, job) for job in jobs]
        results = [f.result() for f in futures]  # the first part's error is raised as soon as it is known
    except BaseException:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # do not leave another part running after an error
            proc.terminate()
        raise
    pool.shutdown(wait=True)
    if on_window is not None:
        on_window(results[0].windows, results[0].windows)
    return merge_dispatches(inputs, subs, results), len(parts)


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
