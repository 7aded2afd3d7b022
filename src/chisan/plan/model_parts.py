"""Building blocks shared by the constraint families of the planning model (:mod:`chisan.plan.model`).

The dimension names, the integer step index, a variable at the previous step (cyclic within periods), the
inter-period linking of a reduced year, capacity look-ups and the placing of expressions on metered sites.
Energy in kWh, power in kW.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan.inputs import PlanInputs

SNAPSHOT = "snapshot"


VEHICLE = "vehicle"


STATION = "station"


SITE = "site"


LINK = "link"


def _t(inputs: PlanInputs) -> pd.Index:
    return pd.Index(np.arange(len(inputs.snapshots)), name=SNAPSHOT)


def _series(inputs: PlanInputs, values: pd.Series | np.ndarray) -> xr.DataArray:
    """A time series as a DataArray on the integer snapshot dimension."""
    return xr.DataArray(np.asarray(values, dtype=float), coords=[_t(inputs)])


def previous_step(period: pd.Series) -> np.ndarray:
    """Position of the step before each step, wrapping around within its period (cyclic blocks).

    Parameters
    ----------
    period : pd.Series
        Block label of each step; steps of one block are contiguous.

    Returns
    -------
    np.ndarray
        ``prev[i]`` = i − 1, except at the first step of a block where it is the block's last step.
    """
    labels = np.asarray(period)
    n = len(labels)
    prev = np.arange(n) - 1
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], n] - 1
    prev[starts] = ends
    return prev


def _previous(var: linopy.Variable, inputs: PlanInputs, cyclic: bool) -> linopy.LinearExpression:
    """``var`` at the previous step.

    Cyclic within periods; or, for typical periods linked across the year (``period_order``), 0 at the first step
    of each period (the variable then holds the change since the period started); or absent (→ 0) at the first
    step when not cyclic.
    """
    if cyclic and inputs.period_order is not None:
        prev = previous_step(inputs.period)
        starts = prev >= np.arange(len(prev))  # a period's first step wraps forward to its last
        keep = xr.DataArray((~starts).astype(float), coords=[_t(inputs)])
        shifted = var.isel({SNAPSHOT: xr.DataArray(prev, dims=SNAPSHOT)}).assign_coords({SNAPSHOT: _t(inputs)})
        return shifted * keep
    if cyclic:
        prev = xr.DataArray(previous_step(inputs.period), dims=SNAPSHOT)
        return var.isel({SNAPSHOT: prev}).assign_coords({SNAPSHOT: _t(inputs)}).to_linexpr()
    return var.shift({SNAPSHOT: 1}).fillna(0)


def define_inter_period_linking(
    m: linopy.Model, inputs: PlanInputs, family: str, lower, upper, prefix: str | None = None
) -> None:
    """Link an energy state across the real periods of a reduced year (``<family>-inter_*``).

    With typical periods, ``<family>-energy_kwh`` holds the change of energy since its period began (δ). The
    energy at the start of real period d is E_d, with E_{d+1} = E_d + δ(c_d, last step) (cyclic over the year),
    and lower ≤ E_d + min_t δ(c_d, t), E_d + max_t δ(c_d, t) ≤ upper bound it within the period — the
    inter-period formulation of Kotzur et al. 2018 (doi:10.1016/j.apenergy.2018.01.023, Eqs. 17–21), with
    self-discharge neglected inside a period.

    Parameters
    ----------
    family : str
        ``"Storage"`` or ``"Fleet"`` (``"Site-storage"`` for the storage of metered sites).
    lower, upper : float, DataArray or linopy expression
        Bounds of the energy [kWh] (per station for fleets; the storage capacity variable for storage).
    prefix : str, optional
        Start of the variable and constraint names (default ``f"{family}-"``; ``"Site-storage_"`` gives
        ``Site-storage_energy_kwh``, ``Site-storage_inter_energy_kwh`` …).
    """
    pre = f"{family}-" if prefix is None else prefix
    intra = m.variables[f"{pre}energy_kwh"]
    order = np.asarray(inputs.period_order, dtype=int)
    labels = np.asarray(inputs.period, dtype=int)
    periods = pd.Index(np.unique(labels), name="period")
    days = pd.Index(np.arange(len(order)), name="day")
    extra = [d for d in intra.dims if d != SNAPSHOT]
    extra_coords = [intra.indexes[d] for d in extra]
    inter = m.add_variables(coords=[days, *extra_coords], name=f"{pre}inter_energy_kwh")
    hi = m.add_variables(lower=0, coords=[periods, *extra_coords], name=f"{pre}intra_max_kwh")
    lo = m.add_variables(upper=0, coords=[periods, *extra_coords], name=f"{pre}intra_min_kwh")
    per_step = xr.DataArray(np.searchsorted(periods.to_numpy(), labels), dims=SNAPSHOT)
    t = _t(inputs)
    m.add_constraints(intra - hi.isel(period=per_step).assign_coords({SNAPSHOT: t}) <= 0, name=f"{pre}intra_max")
    m.add_constraints(intra - lo.isel(period=per_step).assign_coords({SNAPSHOT: t}) >= 0, name=f"{pre}intra_min")
    last_step = np.array([np.flatnonzero(labels == p)[-1] for p in periods])
    pos = np.searchsorted(periods.to_numpy(), order)
    delta_last = intra.isel({SNAPSHOT: xr.DataArray(last_step[pos], dims="day")}).assign_coords(day=days)
    nxt = xr.DataArray((np.arange(len(order)) + 1) % len(order), dims="day")
    inter_next = inter.isel(day=nxt).assign_coords(day=days)
    m.add_constraints(inter_next - inter - delta_last == 0, name=f"{pre}inter_balance")
    hi_d = hi.isel(period=xr.DataArray(pos, dims="day")).assign_coords(day=days)
    lo_d = lo.isel(period=xr.DataArray(pos, dims="day")).assign_coords(day=days)
    m.add_constraints(inter + hi_d - upper <= 0, name=f"{pre}inter_upper")
    m.add_constraints(inter + lo_d - lower >= 0, name=f"{pre}inter_lower")


def _first_step_constant(inputs: PlanInputs, value: np.ndarray | float) -> xr.DataArray:
    """A constant that is ``value`` at the first step and 0 elsewhere (initial conditions)."""
    n = len(inputs.snapshots)
    first = np.zeros(n)
    first[0] = 1.0
    return xr.DataArray(first, coords=[_t(inputs)]) * value


def _has(m: linopy.Model, name: str) -> bool:
    return f"Capacity-{name}" in m.variables


def _fixed(inputs: PlanInputs, name: str) -> float | None:
    """The fixed value of a capacity [kW or kWh], or None when it is optimised."""
    cap = inputs.capacities[name]
    return cap.upper if cap.enabled and cap.lower == cap.upper else None


def site_index(inputs: PlanInputs) -> pd.Index:
    """The metered sites, as the ``site`` dimension."""
    return pd.Index(inputs.sites.index.astype(str), name=SITE)


def _on_sites(expr: linopy.LinearExpression, groups: xr.DataArray, inputs: PlanInputs) -> linopy.LinearExpression:
    """Sum ``expr`` over the dimension of ``groups`` into the sites its labels name; absent sites get 0."""
    return expr.groupby(groups).sum().reindex({SITE: site_index(inputs)}).fillna(0)


def _at_site(var: linopy.Variable, site: str, inputs: PlanInputs) -> linopy.LinearExpression:
    """A per-step variable placed at one site, (snapshot, site), with no terms at the others."""
    one = xr.DataArray(np.array([site], dtype=object), coords=[pd.Index(["_"], name="_at")], name=SITE)
    return _on_sites(var.to_linexpr().expand_dims(_at=["_"]), one, inputs)
