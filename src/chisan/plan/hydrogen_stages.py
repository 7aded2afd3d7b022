"""The hydrogen station in the two-stage method (:mod:`chisan.plan.solve`): sizing, aggregate year, dispatch.

The station couples to the battery vehicles only through its site's electricity balance, and the fuel-cell
vehicles' draws are fixed by their duties, so each stage models it as follows.

1. Typical-day sizing (:func:`typical_day_hydrogen`): the fuel-cell vehicles are not modelled one by one. Their
   duties become one hourly hydrogen demand, each duty's need spread evenly over the whole steps of its refuelling
   window (:func:`even_fill_kw`; a feasible refuelling of the full model: the need fits the tank and the fill rate
   × the window, :func:`chisan.plan.hydrogen.check_refuelling_windows`). tsam clusters that demand with the other
   series (annual mean kept), and the hydrogen store is linked across the calendar days like the battery storage
   (Kotzur et al. 2018, doi:10.1016/j.apenergy.2018.01.023), so a store carried over days and weeks is valued.
   The sizing thereby sees the electrolyser's electricity when it sizes PV, wind and storage.
2. Aggregate year (:func:`chisan.plan.solve.aggregate_year`): every hour of the horizon, the fuel-cell vehicles one
   by one (their tanks are small rows), the hydrogen capacities *free*: the year decides them and the
   electrolyser's hourly load. Free, because a year of hydrogen store is seasonal (what the store must carry from
   summer to winter is a property of the whole year, not of 24 typical days), the dispenser's peak depends on the
   fill timing the sizing fixed evenly, and the three capacities are one scalar each coupled only to the station's
   own rows and its site's balance (not every site's hours, as a free PV split would be).
3. Per-vehicle dispatch (:func:`fold_hydrogen_into_load`): the year's electrolyser + compressor electricity is a
   fixed extra load of the hydrogen site (or the town bus), and the year's hydrogen schedule (electrolyser,
   store, bought, fills, tanks) joins the solution's values as it is, so the hydrogen balance closes as in the
   year-long LP and the after-solve check (:mod:`chisan.plan.check`) rebuilds the electricity balances with it.
"""

from __future__ import annotations

import dataclasses

import linopy
import numpy as np
import pandas as pd

from chisan.plan.hydrogen import FCV, HydrogenInputs, electricity_drawn_kw, hydrogen_values_of


def even_fill_kw(h: HydrogenInputs, dt_hours: float) -> pd.DataFrame:
    """Each fuel-cell vehicle's refuelling spread evenly over its refuelling windows [kW LHV], snapshots × vehicles.

    A duty leaving in step s_k after the previous departure step s_{k−1} (cyclic over the horizon) takes its need
    N_k at the rate N_k / (whole steps at the site in (s_{k−1}, s_k] × Δt) in each of those steps: the window of
    :func:`chisan.plan.hydrogen.refuelling_windows`, so Σ fill Δt over the window = N_k, the rate is at most the
    fill rate (N_k ≤ fill × window, checked when the inputs were built) and the tank never holds more than N_k.
    """
    at = h.at_site.to_numpy(bool)
    draw = h.draw_kwh.to_numpy(float)
    n = len(at)
    out = np.zeros_like(draw)
    cum = np.cumsum(at, axis=0)
    steps_all = np.arange(n)
    for j in range(draw.shape[1]):  # vehicles, not time
        steps = np.flatnonzero(draw[:, j] > 0)
        if not len(steps):
            continue
        count = cum[steps, j] - cum[np.roll(steps, 1), j]
        count[0] = cum[steps[0], j] + cum[-1, j] - cum[steps[-1], j]  # the first window wraps around the horizon
        duty = np.searchsorted(steps, steps_all, side="left") % len(steps)  # the next departure of each step
        rate = np.where(count > 0, draw[steps, j] / np.maximum(count, 1) / dt_hours, 0.0)  # [kW] = [kWh] / [h]
        out[:, j] = np.where(at[:, j], rate[duty], 0.0)
    return pd.DataFrame(out, index=h.at_site.index, columns=h.at_site.columns)


def hydrogen_demand_kw(inputs) -> pd.Series:
    """The fuel-cell fleets' hydrogen as one hourly demand at the station [kW LHV] (:func:`even_fill_kw`, summed)."""
    h = inputs.hydrogen
    if h.demand_kw is not None:
        return h.demand_kw
    return pd.Series(even_fill_kw(h, inputs.dt_hours).sum(axis=1).to_numpy(float), index=inputs.snapshots)


def typical_day_hydrogen(h: HydrogenInputs, demand_kw: np.ndarray, snapshots: pd.DatetimeIndex) -> HydrogenInputs:
    """The hydrogen station on typical days: no vehicles, the clustered demand ``demand_kw`` [kW LHV] per step."""
    none = pd.Index([], name=FCV)
    empty = pd.DataFrame(index=snapshots, columns=none, dtype=float)
    return dataclasses.replace(
        h,
        vehicles=h.vehicles.iloc[:0],
        at_site=empty.astype(bool),
        draw_kwh=empty,
        duties=None,
        demand_kw=pd.Series(np.clip(np.asarray(demand_kw, dtype=float), 0.0, None), index=snapshots),
    )


def fold_hydrogen_into_load(inputs, m: linopy.Model, year_inputs=None) -> tuple[object, dict[str, np.ndarray]]:
    """The inputs of the per-vehicle dispatch with the hydrogen station of the solved year ``m`` as a fixed load.

    ``year_inputs`` are the inputs ``m`` was built from when they differ from ``inputs`` (sites grouped).

    Returns
    -------
    inputs : PlanInputs
        ``hydrogen`` = None; the electrolyser + compressor electricity of ``m`` [kW] added to the other load of
        the hydrogen site (and the town's other load), or of the town bus with one meter.
    values : dict
        The hydrogen variables of ``m`` per step, and the marginal value of electricity at the hydrogen site in
        the year (``Hydrogen-electricity_value``, the dual of its balance [currency/year per kW]): what the
        levelised cost of hydrogen prices its electricity at (:mod:`chisan.plan.hydrogen_results`), as the full
        co-optimisation's dual does.
    """
    if getattr(inputs, "hydrogen", None) is None:
        return inputs, {}
    values = hydrogen_values_of(m, inputs if year_inputs is None else year_inputs)
    return with_hydrogen_as_load(inputs, values), values


def with_hydrogen_as_load(inputs, values: dict[str, np.ndarray]):
    """``inputs`` without the hydrogen station, its electricity in ``values`` [kW] added to the other load
    (``inputs`` unchanged without hydrogen)."""
    if getattr(inputs, "hydrogen", None) is None:
        return inputs
    drawn = electricity_drawn_kw(inputs, values)
    changes: dict = {"hydrogen": None, "other_load_kw": inputs.other_load_kw + drawn}
    if inputs.per_site and inputs.site_other_load_kw is not None:
        load = inputs.site_other_load_kw.copy()
        col = load.columns[[str(c) for c in load.columns].index(str(inputs.hydrogen.site))]
        load[col] = load[col].to_numpy(float) + drawn
        changes["site_other_load_kw"] = load
    return dataclasses.replace(inputs, **changes)


def hydrogen_on_groups(grouping, inputs):
    """A sizing grouping of the sites (:func:`chisan.plan.site_groups.group_sites`) with the hydrogen station on
    the group of its site; ``grouping`` unchanged without hydrogen or without grouping."""
    if grouping is None or getattr(inputs, "hydrogen", None) is None:
        return grouping
    group = str(grouping.group_of_site[str(inputs.hydrogen.site)])
    h2 = dataclasses.replace(inputs.hydrogen, site=group)
    return dataclasses.replace(grouping, inputs=dataclasses.replace(grouping.inputs, hydrogen=h2))
