"""Survival of the full outage as a constraint of the plan (``Survival-*``; ``[resilience] require_survival``).

For every chosen outage start step s (set ``S``), the energy the shelters can draw when the grid fails at the
start of s must cover their critical load over the outage of n = outage_h / Δt steps, less the PV they get::

    η_d σ_st soc_{s−1} + η_sl σ_st Σ_j sl_{j,s−1} + η_v2h Σ_{v ∈ C_s} (e_{v,s−1} − r_v)
        ≥  Σ_{k=0}^{n−1} u_{(s+k) mod n_T} Δt                                         (Survival-energy)
    u_t ≥ L_t − σ_pv · cf_t · P_pv ,  u_t ≥ 0                                     (Survival-deficit)

with soc the stationary storage (``Storage-energy_kwh``) and sl the second-life storage after step s − 1, η_d and
η_sl their discharge efficiencies, σ_st and σ_pv the shares of storage and PV that feed the shelters, C_s the cars
that count at s — plugged in at s at a shelter's base or at a base whose cars may be called — with e their energy
and r_v = ``reserve_soc_fraction`` × usable, η_v2h the V2H efficiency, L the critical load, P_pv the PV capacity
(variable or fixed) and cf its output per kW. The year wraps around as in the outage simulation
(:mod:`chisan.resilience.outage`).

Choices that keep it linear and on the safe side (stated in the report): the cars are pooled and a car below its
reserve subtracts (Σ (e − r) ≤ Σ (e − r)⁺, so the constraint never claims more than the cars hold); PV counts only
hour by hour against the load (u = (L − PV)⁺ needs no binary: u is minimised), never to recharge the storage during
the outage; the call delay and the V2H power limit are not modelled (the outage simulation still applies them and
reports the result). Start steps: every step (``survival_start_hours = "all"``), or the N worst starts of the outage
simulation of the plan, repeated with the new worst starts until all simulated starts survive or three passes
(:func:`chisan.plan.pipeline.plan_scenario`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan.inputs import PlanInputs

SNAPSHOT = "snapshot"
VEHICLE = "vehicle"
START = "outage_start"
KEY = "survival"


@dataclass(frozen=True)
class SurvivalRequirement:
    """What the plan must keep for the shelters (module docstring).

    Attributes
    ----------
    critical_load_kw : numpy.ndarray
        L_t, all shelters together [kW], one per step.
    outage_steps : int
        n, steps of the outage.
    start_steps : numpy.ndarray
        Positions of the start steps s ∈ S.
    counted : numpy.ndarray
        Steps × vehicles: the car counts for an outage starting in that step (bool).
    car_reserve_kwh : numpy.ndarray
        r_v per vehicle [kWh].
    v2h_efficiency : float
        η_v2h [fraction].
    pv_share, storage_share : float
        σ_pv and σ_st [fraction].
    """

    critical_load_kw: np.ndarray
    outage_steps: int
    start_steps: np.ndarray
    counted: np.ndarray
    car_reserve_kwh: np.ndarray
    v2h_efficiency: float
    pv_share: float = 1.0
    storage_share: float = 1.0


def requirement_of(inputs: PlanInputs) -> SurvivalRequirement | None:
    """The survival requirement the inputs carry (``inputs.extra["survival"]``), or None."""
    return inputs.extra.get(KEY)


def with_requirement(inputs: PlanInputs, requirement: SurvivalRequirement | None) -> PlanInputs:
    """A copy of ``inputs`` carrying ``requirement`` (None removes it)."""
    extra = {k: v for k, v in inputs.extra.items() if k != KEY}
    if requirement is not None:
        extra[KEY] = requirement
    return dataclasses.replace(inputs, extra=extra)


def _at(x, pos: xr.DataArray):
    """``x`` at the steps ``pos`` (on the dimension of ``pos``), without the ``snapshot`` coordinate left behind."""
    taken = x.isel({SNAPSHOT: pos})
    if isinstance(taken, xr.DataArray):
        return taken.drop_vars(SNAPSHOT, errors="ignore")
    expr = taken.to_linexpr() if isinstance(taken, linopy.Variable) else taken
    return linopy.LinearExpression(expr.data.drop_vars(SNAPSHOT, errors="ignore"), expr.model)


def _window_sum(x, n_total: int, starts: np.ndarray, n: int, start_index: pd.Index):
    """Σ_{k<n} x_{(s+k) mod n_T} for each start s, on the ``outage_start`` dimension (x: DataArray or Variable)."""
    total = None
    for k in range(n):  # a loop over the outage's steps (≤ 720), not over the year
        pos = xr.DataArray((starts + k) % n_total, coords=[start_index])
        term = _at(x, pos)
        total = term if total is None else total + term
    return total


def define_survival_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Energy kept at every chosen outage start ≥ the shelters' load over the outage (``Survival-*``)."""
    from chisan.plan import second_life
    from chisan.plan.model import _fixed, _series, _t

    req = requirement_of(inputs)
    if req is None or len(req.start_steps) == 0:
        return
    t = _t(inputs)
    n_total = len(t)
    if len(req.critical_load_kw) != n_total or inputs.period_order is not None:
        from chisan.exceptions import ScenarioError

        raise ScenarioError(
            "resilience.require_survival holds on the plan's chronological horizon only: plan with "
            "solver.method = 'full' (typical days and week-by-week windows cannot carry a 72 h outage)"
        )
    dt = inputs.dt_hours
    starts = np.asarray(req.start_steps, dtype=int)
    si = pd.Index(starts, name=START)
    before = xr.DataArray((starts - 1) % n_total, coords=[si])
    load = np.asarray(req.critical_load_kw, dtype=float)
    cf = inputs.pv_kw_per_kw.to_numpy(float)
    need_const = 0.0
    need = None
    if "Capacity-pv_kw" in m.variables and req.pv_share > 0 and _fixed(inputs, "pv_kw") is None:
        deficit = m.add_variables(lower=0, coords=[t], name="Survival-deficit_kw")
        pv = m.variables["Capacity-pv_kw"] * _series(inputs, req.pv_share * cf)
        m.add_constraints(deficit + pv >= _series(inputs, load), name="Survival-deficit")
        need = dt * _window_sum(deficit, n_total, starts, req.outage_steps, si)
    else:
        fixed_pv = _fixed(inputs, "pv_kw") if "Capacity-pv_kw" in m.variables else None
        short = np.maximum(load - req.pv_share * cf * (fixed_pv or 0.0), 0.0)
        need_const = dt * _window_sum(xr.DataArray(short, coords=[t]), n_total, starts, req.outage_steps, si)
    kept = []
    if "Storage-energy_kwh" in m.variables:
        eta = inputs.storage_discharge_efficiency * req.storage_share
        kept.append(eta * _at(m.variables["Storage-energy_kwh"], before))
    if "SecondLife-energy_kwh" in m.variables:
        offer = second_life.offer_of(inputs)
        soc = _at(m.variables["SecondLife-energy_kwh"], before)
        kept.append((offer.efficiency * req.storage_share) * soc.sum(second_life.PLACE))
    reserve_const = 0.0
    if "Vehicle-energy_kwh" in m.variables and req.counted.any():
        vi = pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)
        mask = xr.DataArray(req.counted[starts].astype(float), coords=[si, vi])
        energy = _at(m.variables["Vehicle-energy_kwh"], before)
        kept.append((req.v2h_efficiency * mask * energy).sum(VEHICLE))
        reserve = (req.counted[starts] * np.asarray(req.car_reserve_kwh, float)[None, :]).sum(axis=1)
        reserve_const = xr.DataArray(req.v2h_efficiency * reserve, coords=[si])
    if not kept:
        from chisan.exceptions import ScenarioError

        raise ScenarioError(
            "resilience.require_survival = true, but the plan has no storage and no cars the shelters can call: "
            "enable technologies.storage or set resilience.called_stations"
        )
    lhs = kept[0]
    for term in kept[1:]:
        lhs = lhs + term
    if need is not None:
        lhs = lhs - need
    m.add_constraints(lhs >= need_const + reserve_const, name="Survival-energy")


def kept_energy_kwh(inputs: PlanInputs, values: dict[str, np.ndarray]) -> pd.Series:
    """Left-hand side of ``Survival-energy`` without the PV term, on a solution: the energy the shelters can draw
    at each start step [kWh] (storage, second life and counted cars above their reserve, after efficiencies)."""
    req = requirement_of(inputs)
    starts = np.asarray(req.start_steps, dtype=int)
    before = (starts - 1) % len(inputs.snapshots)
    kept = np.zeros(len(starts))
    if "Storage-energy_kwh" in values:
        kept += inputs.storage_discharge_efficiency * req.storage_share * values["Storage-energy_kwh"][before]
    if "SecondLife-energy_kwh" in values:
        from chisan.plan import second_life

        eta = second_life.offer_of(inputs).efficiency
        kept += eta * req.storage_share * values["SecondLife-energy_kwh"][before].sum(axis=1)
    if "Vehicle-energy_kwh" in values:
        above = values["Vehicle-energy_kwh"][before] - np.asarray(req.car_reserve_kwh, float)[None, :]
        kept += req.v2h_efficiency * (above * req.counted[starts]).sum(axis=1)
    return pd.Series(kept, index=inputs.snapshots[starts], name="kept_kwh")


def requirement_for(scenario, inputs: PlanInputs, start_steps: np.ndarray) -> SurvivalRequirement:
    """The requirement of ``scenario.resilience`` at ``start_steps`` on ``inputs`` (chronological, per vehicle).

    A car counts at a start when it is plugged in then at a shelter's base or at a base that may be called (as
    in :func:`chisan.resilience.plan.outage_sources`).
    """
    from chisan.resilience.plan import _called_stations, critical_load_kw

    res = scenario.resilience
    load = sum(critical_load_kw(scenario, sh, inputs.snapshots) for sh in res.shelters)
    veh = inputs.vehicles
    bases = {sh.station for sh in res.shelters if sh.station is not None}
    bases |= _called_stations(res, list(inputs.stations.index))
    at_base = veh["station"].isin(bases).to_numpy()[None, :]
    plugged = inputs.plugged.reindex(columns=veh.index).to_numpy(bool)
    return SurvivalRequirement(
        critical_load_kw=np.asarray(load, dtype=float),
        outage_steps=max(1, round(res.outage_h / inputs.dt_hours)),
        start_steps=np.asarray(start_steps, dtype=int),
        counted=plugged & at_base,
        car_reserve_kwh=res.reserve_soc_fraction * veh["usable_kwh"].to_numpy(float),
        v2h_efficiency=res.v2h_efficiency_fraction,
        pv_share=res.pv_share_fraction,
        storage_share=res.storage_share_fraction,
    )
