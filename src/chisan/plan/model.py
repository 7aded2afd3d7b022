"""The planning model: a linear programme built with linopy, one function per constraint family.

Formulation (docs/formulation.md holds the full statement with the same tags). Index sets: steps t, vehicles v,
stations s; Δt = ``dt_hours`` [h]; w_t = steps of the year step t stands for; all energy in kWh, power in kW.

- ``Capacity-*``: 0 ≤ min ≤ capacity ≤ max (or fixed).
- ``PV-availability``, ``Wind-availability``: output_t ≤ capacity · cf_t (curtailment allowed).
- ``Storage-energy_balance``: soc_t = (1 − σ)^Δt soc_{t−1} + η_c ch_t Δt − dis_t Δt / η_d; soc ≤ E; ch, dis ≤ P;
  P ≤ c-rate · E; cyclic within each period.
- ``Vehicle-energy_balance``: e_{v,t} = e_{v,t−1} + η_v ch_{v,t} Δt − dis_{v,t} Δt / η_v − trip_{v,t};
  reserve_v ≤ e_{v,t} ≤ usable_v; ch (and dis) exist only while plugged in.
  Since the trip energy leaves in the step a booking starts and e ≥ reserve at every step end, every booking
  starts with at least its trip energy plus the reserve.
- ``Station-charger_power``: Σ_{v∈s} ch_{v,t} ≤ chargers_s · charger_kw_s (only where it can bind).
- ``Station-connection``: |Σ_{v∈s} (ch − dis)_{v,t}| ≤ limit_s.
- ``Bus-balance``: PV + wind + storage out + import + V2G = Σ charging + storage in + export + other load.
  With metered sites (``inputs.sites``) one ``Site-balance`` per (step, site) instead: the site's PV, import,
  V2G, storage out and link inflow = its cars' charging, storage in, export, link outflow and other load;
  wind at its site; town ``PV-output_kw``, ``Grid-import_kw``, ``Grid-export_kw`` are the sums over sites
  (``PV-site_sum``, ``Grid-site_import_sum``, ``Grid-site_export_sum``) so policies and costs read them as before.
- ``Site-pv_*``: Σ_s pv_s = PV capacity, pv_s ≤ roof limit_s, output_{s,t} ≤ pv_s · cf_t.
- ``Site-storage_*``: storage behind each site's meter, Σ_s E_s = E, Σ_s P_s = P, E_s ≤ storage limit_s, the
  storage energy balance per site; town ``Storage-*`` are the sums over sites.
- ``SecondLife-*``: retired car packs offered back as storage, a family of its own (:mod:`chisan.plan.second_life`);
  its discharge − charge joins the balance of its site (or the town bus).
- ``Survival-*``: energy kept for the shelters at chosen outage starts ≥ their load over the outage
  (:mod:`chisan.plan.survival`, ``[resilience] require_survival``).
- ``Link-*``: flows between sites on a private line (fee 0) or self-wheeling (fee per kWh), both directions.
- ``Grid-connection``: import, export ≤ limit.
- ``Policy-renewable_share``: annual: Σ w (PV + wind) Δt ≥ target · Σ w load Δt;
  hourly-matched: Σ w import Δt ≤ (1 − target) · Σ w load Δt (load = charging + other load).
- ``Policy-grid_import``, ``Policy-emissions``: annual caps.

Objective [currency/year]: Σ_c annual_cost_c · capacity_c + k · Σ_t w_t Δt (p_imp,t imp_t − p_exp,t exp_t
+ carbon price · ef_t imp_t + wear · Σ_v dis_{v,t}), with k = 8760 h / hours represented (annualisation).

The style follows PyPSA's ``optimization/constraints.py``: structured names (``Family-what``), named dimensions
(``snapshot``, ``vehicle``, ``station``), no Python loops over time, and :func:`build_model` lists the calls.
"""

from __future__ import annotations

from collections.abc import Callable

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy.constants import TERM_DIM

from chisan.plan import second_life, survival
from chisan.plan.hydrogen import (
    define_hydrogen_constraints,
    hydrogen_electricity_kw,
    hydrogen_objective_costs,
    hydrogen_site_electricity_kw,
)
from chisan.plan.inputs import PlanInputs, station_aggregates
from chisan.plan.tariff_constraints import PEAK, basic_charge_per_kw, define_tariff_peak_constraints

SNAPSHOT = "snapshot"
VEHICLE = "vehicle"
STATION = "station"
SITE = "site"
LINK = "link"

ExtraFunctionality = Callable[[linopy.Model, PlanInputs], None]


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


# --- data of the model: every number that changes between windows of a rolling dispatch comes from one of
# --- these functions, used both when the model is built and when it is updated in place.


def renewable_upper_kw(inputs: PlanInputs, tech: str) -> xr.DataArray:
    """Upper bound of PV or wind output at a fixed capacity [kW]: capacity × output per kW."""
    cf = inputs.pv_kw_per_kw if tech == "pv" else inputs.wind_kw_per_kw
    return _series(inputs, _fixed(inputs, f"{tech}_kw") * cf.to_numpy(float))


def vehicle_power_upper_kw(inputs: PlanInputs) -> xr.DataArray:
    """Charge (and discharge) limit of each vehicle at each step [kW]: 0 while unplugged when not masked."""
    p_max = _vehicle_array(inputs, "max_charge_kw")
    if inputs.mask_unplugged:
        return p_max
    return p_max * _frame(inputs, inputs.plugged, dtype=bool)


def vehicle_energy_lower_kwh(inputs: PlanInputs) -> xr.DataArray:
    """Least energy of each vehicle after each step [kWh]: the reserve, and the terminal need at the end."""
    lower = _vehicle_array(inputs, "reserve_kwh").expand_dims({SNAPSHOT: _t(inputs)}).copy()
    if inputs.terminal_energy_kwh is not None:
        terminal = inputs.terminal_energy_kwh.reindex(inputs.vehicles.index).to_numpy(float)
        lower[-1] = np.maximum(lower[-1].to_numpy(), terminal)
    return lower


def vehicle_balance_rhs_kwh(inputs: PlanInputs) -> xr.DataArray:
    """Right-hand side of ``Vehicle-energy_balance`` [kWh]: − trip energy, + initial energy at the first step."""
    rhs = -_frame(inputs, inputs.trip_energy_kwh)
    if inputs.initial_energy_kwh is not None:
        vi = pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)
        initial = xr.DataArray(inputs.initial_energy_kwh.reindex(inputs.vehicles.index).to_numpy(float), coords=[vi])
        rhs = rhs + _first_step_constant(inputs, 1.0) * initial
    return rhs


def storage_balance_rhs_kwh(inputs: PlanInputs) -> xr.DataArray | float:
    """Right-hand side of ``Storage-energy_balance`` [kWh]: the kept initial energy at the first step.

    With metered sites, of ``Site-storage_balance``: (snapshot, site) over the storage sites.
    """
    if inputs.initial_storage_kwh is None:
        return 0.0
    keep = (1.0 - inputs.storage_self_discharge_per_hour) ** inputs.dt_hours
    if inputs.per_site:
        return _first_step_constant(inputs, keep * site_initial_storage_kwh(inputs))
    return _first_step_constant(inputs, keep * float(inputs.initial_storage_kwh))


def storage_site_index(inputs: PlanInputs) -> pd.Index:
    """The metered sites that may hold stationary storage, as the ``site`` dimension of ``Site-storage_*``."""
    return pd.Index(inputs.storage_sites, name=SITE)


def site_initial_storage_kwh(inputs: PlanInputs) -> xr.DataArray:
    """Storage energy of each storage site before the first step [kWh] (0 when cyclic or not given).

    A float is the energy of the only storage site, or 0 at every site.
    """
    si = storage_site_index(inputs)
    value = inputs.initial_storage_kwh
    if isinstance(value, pd.Series):
        arr = value.reindex(si).fillna(0.0).to_numpy(float)
    elif value is None or float(value) == 0.0:
        arr = np.zeros(len(si))
    elif len(si) == 1:
        arr = np.array([float(value)])
    else:
        raise ValueError(
            f"initial_storage_kwh = {float(value):g} kWh for {len(si)} storage sites: give a Series per site"
        )
    return xr.DataArray(arr, coords=[si])


def define_capacity_variables(m: linopy.Model, inputs: PlanInputs) -> None:
    """Capacity variables [kW or kWh] with their bounds (``Capacity-*``); fixed ones have lower = upper."""
    for name, cap in inputs.capacities.items():
        if cap.enabled:
            m.add_variables(lower=cap.lower, upper=cap.upper, name=f"Capacity-{name}")


def _has(m: linopy.Model, name: str) -> bool:
    return f"Capacity-{name}" in m.variables


def _fixed(inputs: PlanInputs, name: str) -> float | None:
    """The fixed value of a capacity [kW or kWh], or None when it is optimised."""
    cap = inputs.capacities[name]
    return cap.upper if cap.enabled and cap.lower == cap.upper else None


def define_renewable_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """PV and wind output ≤ capacity × available output per kW (``PV-availability``, ``Wind-availability``).

    With a fixed capacity the limit is a bound of the output variable instead of a constraint, so that the
    data of a rolling dispatch enter only bounds, right-hand sides and costs.
    """
    t = _t(inputs)
    for tech, label, cf in (("pv", "PV", inputs.pv_kw_per_kw), ("wind", "Wind", inputs.wind_kw_per_kw)):
        if not _has(m, f"{tech}_kw") or (tech == "pv" and inputs.per_site):
            continue  # PV of metered sites: define_site_pv_constraints
        if _fixed(inputs, f"{tech}_kw") is not None:
            m.add_variables(lower=0, upper=renewable_upper_kw(inputs, tech), coords=[t], name=f"{label}-output_kw")
            continue
        out = m.add_variables(lower=0, coords=[t], name=f"{label}-output_kw")
        cap = m.variables[f"Capacity-{tech}_kw"]
        m.add_constraints(out - cap * _series(inputs, cf) <= 0, name=f"{label}-availability")


def site_index(inputs: PlanInputs) -> pd.Index:
    """The metered sites, as the ``site`` dimension."""
    return pd.Index(inputs.sites.index.astype(str), name=SITE)


def site_pv_upper_kw(inputs: PlanInputs) -> xr.DataArray:
    """Upper bound of each site's PV output at fixed site capacities [kW]: pv_s × output per kW."""
    fixed = xr.DataArray(inputs.site_pv_fixed_kw.to_numpy(float), coords=[site_index(inputs)])
    return _series(inputs, inputs.pv_kw_per_kw.to_numpy(float)) * fixed


def site_other_load(inputs: PlanInputs) -> xr.DataArray:
    """Other load of each site [kW], (snapshot, site): the right-hand side of ``Site-balance``."""
    return xr.DataArray(inputs.site_other_load_kw.to_numpy(float), coords=[_t(inputs), site_index(inputs)])


def _on_sites(expr: linopy.LinearExpression, groups: xr.DataArray, inputs: PlanInputs) -> linopy.LinearExpression:
    """Sum ``expr`` over the dimension of ``groups`` into the sites its labels name; absent sites get 0."""
    return expr.groupby(groups).sum().reindex({SITE: site_index(inputs)}).fillna(0)


def _at_site(var: linopy.Variable, site: str, inputs: PlanInputs) -> linopy.LinearExpression:
    """A per-step variable placed at one site, (snapshot, site), with no terms at the others."""
    one = xr.DataArray(np.array([site], dtype=object), coords=[pd.Index(["_"], name="_at")], name=SITE)
    return _on_sites(var.to_linexpr().expand_dims(_at=["_"]), one, inputs)


def define_site_pv_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """PV of each metered site within its roof limit, summing to the PV capacity (``Site-pv_*``).

    At fixed site capacities (the dispatch after sizing) the limit is a bound of ``Site-pv_output_kw``, so the
    data of a rolling dispatch stay in bounds.
    """
    if not inputs.per_site or not _has(m, "pv_kw"):
        return
    t, si = _t(inputs), site_index(inputs)
    if inputs.site_pv_fixed_kw is not None:
        out = m.add_variables(lower=0, upper=site_pv_upper_kw(inputs), coords=[t, si], name="Site-pv_output_kw")
    else:
        roof = xr.DataArray(inputs.sites["pv_max_kw"].to_numpy(float), coords=[si])
        cap = m.add_variables(lower=0, upper=roof, coords=[si], name="Site-pv_kw")
        m.add_constraints(cap.sum(SITE) - m.variables["Capacity-pv_kw"] == 0, name="Site-pv_total")
        out = m.add_variables(lower=0, coords=[t, si], name="Site-pv_output_kw")
        m.add_constraints(out - cap * _series(inputs, inputs.pv_kw_per_kw) <= 0, name="Site-pv_availability")
    town = m.add_variables(lower=0, coords=[t], name="PV-output_kw")
    m.add_constraints(town - out.sum(SITE) == 0, name="PV-site_sum")


def define_link_variables(m: linopy.Model, inputs: PlanInputs) -> None:
    """Flows on private lines between sites, each direction ≥ 0 and ≤ the line's limit (``Link-*``)."""
    if not inputs.per_site or inputs.links is None or not len(inputs.links):
        return
    t = _t(inputs)
    li = pd.Index(inputs.links.index.astype(str), name=LINK)
    limit = xr.DataArray(inputs.links["limit_kw"].astype(float).fillna(np.inf).to_numpy(), coords=[li])
    m.add_variables(lower=0, upper=limit, coords=[t, li], name="Link-forward_kw")
    m.add_variables(lower=0, upper=limit, coords=[t, li], name="Link-backward_kw")


def site_net_charge(m: linopy.Model, inputs: PlanInputs) -> linopy.LinearExpression | None:
    """Σ over each site's vehicles of charge − discharge [kW], (snapshot, site)."""
    if "Vehicle-charge_kw" in m.variables:
        veh_site = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
        groups = xr.DataArray(veh_site, coords=[pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)], name=SITE)
        net = m.variables["Vehicle-charge_kw"].fillna(0)
        if "Vehicle-discharge_kw" in m.variables:
            net = net - m.variables["Vehicle-discharge_kw"].fillna(0)
        return _on_sites(net, groups, inputs)
    if "Fleet-charge_kw" in m.variables:
        st = pd.Index(inputs.stations.index.astype(str), name=STATION)
        groups = xr.DataArray(inputs.stations["site"].astype(str).to_numpy(), coords=[st], name=SITE)
        net = m.variables["Fleet-charge_kw"].to_linexpr()
        if "Fleet-discharge_kw" in m.variables:
            net = net - m.variables["Fleet-discharge_kw"]
        return _on_sites(net, groups, inputs)
    return None


def define_site_balance(m: linopy.Model, inputs: PlanInputs) -> None:
    """Supply equals demand behind every site's meter at every step (``Site-balance``)."""
    lhs = m.variables["Site-import_kw"].to_linexpr()
    if "Site-export_kw" in m.variables:
        lhs = lhs - m.variables["Site-export_kw"]
    if "Site-pv_output_kw" in m.variables:
        lhs = lhs + m.variables["Site-pv_output_kw"]
    if "Wind-output_kw" in m.variables:
        lhs = lhs + _at_site(m.variables["Wind-output_kw"], inputs.wind_site, inputs)
    if "Site-storage_discharge_kw" in m.variables:
        net = m.variables["Site-storage_discharge_kw"] - m.variables["Site-storage_charge_kw"]
        lhs = lhs + net.reindex({SITE: site_index(inputs)}).fillna(0)
    if (net := site_net_charge(m, inputs)) is not None:
        lhs = lhs - net
    if (reused := second_life.net_output(m, inputs)) is not None:  # SecondLife-* (plan/second_life.py)
        lhs = lhs + reused
    if "Link-forward_kw" in m.variables:
        li = pd.Index(inputs.links.index.astype(str), name=LINK)
        to = xr.DataArray(inputs.links["site1"].astype(str).to_numpy(), coords=[li], name=SITE)
        frm = xr.DataArray(inputs.links["site0"].astype(str).to_numpy(), coords=[li], name=SITE)
        fwd, bwd = m.variables["Link-forward_kw"].to_linexpr(), m.variables["Link-backward_kw"].to_linexpr()
        lhs = lhs + _on_sites(fwd, to, inputs) - _on_sites(fwd, frm, inputs)
        lhs = lhs + _on_sites(bwd, frm, inputs) - _on_sites(bwd, to, inputs)
    if (h2 := hydrogen_site_electricity_kw(m, inputs, site_index(inputs))) is not None:
        lhs = lhs - h2  # electrolyser and compressor behind the hydrogen site's meter (chisan.plan.hydrogen)
    m.add_constraints(lhs == site_other_load(inputs), name="Site-balance")


def define_storage_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Stationary storage: energy balance, energy and power limits, c-rate (``Storage-*``)."""
    if not (_has(m, "storage_kwh") and _has(m, "storage_kw")):
        return
    if inputs.per_site:
        define_site_storage_constraints(m, inputs)
        return
    t = _t(inputs)
    dt = inputs.dt_hours
    energy_cap = m.variables["Capacity-storage_kwh"]
    power_cap = m.variables["Capacity-storage_kw"]
    fixed_e, fixed_p = _fixed(inputs, "storage_kwh"), _fixed(inputs, "storage_kw")
    linked = inputs.period_order is not None
    soc = m.add_variables(
        lower=-np.inf if linked else 0,
        upper=np.inf if (fixed_e is None or linked) else fixed_e,
        coords=[t],
        name="Storage-energy_kwh",
    )
    p_up = np.inf if fixed_p is None else fixed_p
    ch = m.add_variables(lower=0, upper=p_up, coords=[t], name="Storage-charge_kw")
    dis = m.add_variables(lower=0, upper=p_up, coords=[t], name="Storage-discharge_kw")
    if fixed_e is None and not linked:
        m.add_constraints(soc - energy_cap <= 0, name="Storage-energy_limit")
    if fixed_p is None:
        m.add_constraints(ch - power_cap <= 0, name="Storage-charge_limit")
        m.add_constraints(dis - power_cap <= 0, name="Storage-discharge_limit")
    if fixed_e is None or fixed_p is None:
        m.add_constraints(power_cap - inputs.storage_max_c_rate_per_h * energy_cap <= 0, name="Storage-c_rate")
    keep = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
    cyclic = inputs.initial_storage_kwh is None
    lhs = (
        soc
        - keep * _previous(soc, inputs, cyclic)
        - inputs.storage_charge_efficiency * dt * ch
        + (dt / inputs.storage_discharge_efficiency) * dis
    )
    m.add_constraints(lhs == storage_balance_rhs_kwh(inputs), name="Storage-energy_balance")
    if linked:
        define_inter_period_linking(m, inputs, "Storage", 0.0, energy_cap)


def _site_storage_fixed(inputs: PlanInputs) -> tuple[xr.DataArray | None, xr.DataArray | None]:
    """Each storage site's fixed energy [kWh] and power [kW], or (None, None) when the split is optimised.

    A town capacity fixed with a single storage site fixes that site's.
    """
    si = storage_site_index(inputs)
    e, p = inputs.site_storage_fixed_kwh, inputs.site_storage_fixed_kw
    if e is not None and p is not None:
        return (
            xr.DataArray(e.reindex(si).fillna(0.0).to_numpy(float), coords=[si]),
            xr.DataArray(p.reindex(si).fillna(0.0).to_numpy(float), coords=[si]),
        )
    fe, fp = _fixed(inputs, "storage_kwh"), _fixed(inputs, "storage_kw")
    if len(si) == 1 and fe is not None and fp is not None:
        return xr.DataArray([fe], coords=[si]), xr.DataArray([fp], coords=[si])
    return None, None


def define_site_storage_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Stationary storage behind each metered site's meter (``Site-storage_*``), summing to the town's ``Storage-*``.

    Per storage site s: E_s ≤ storage_max_s, Σ_s E_s = E and Σ_s P_s = P (``Site-storage_total_*``, so the
    capacity costs and every reader of the town totals are unchanged), P_s ≤ c-rate · E_s, and the same energy
    balance as the town's storage, soc_{s,t} = (1 − σ)^Δt soc_{s,t−1} + η_c ch_{s,t} Δt − dis_{s,t} Δt / η_d,
    cyclic within each period (or linked across a reduced year). ``Storage-energy_kwh``, ``-charge_kw`` and
    ``-discharge_kw`` are the sums over sites (``Storage-site_sum_*``). At fixed site capacities (the dispatch
    after sizing) the limits are bounds, so the data of a rolling dispatch stay in bounds.
    """
    si = storage_site_index(inputs)
    if not len(si):
        return
    t, dt = _t(inputs), inputs.dt_hours
    fixed_e, fixed_p = _site_storage_fixed(inputs)
    linked = inputs.period_order is not None
    cap_e = cap_p = None
    if fixed_e is None:
        room = xr.DataArray(inputs.sites["storage_max_kwh"].reindex(si).to_numpy(float), coords=[si])
        cap_e = m.add_variables(lower=0, upper=room, coords=[si], name="Site-storage_kwh")
        cap_p = m.add_variables(lower=0, coords=[si], name="Site-storage_kw")
        m.add_constraints(cap_e.sum(SITE) - m.variables["Capacity-storage_kwh"] == 0, name="Site-storage_total_kwh")
        m.add_constraints(cap_p.sum(SITE) - m.variables["Capacity-storage_kw"] == 0, name="Site-storage_total_kw")
        m.add_constraints(cap_p - inputs.storage_max_c_rate_per_h * cap_e <= 0, name="Site-storage_c_rate")
    soc = m.add_variables(
        lower=-np.inf if linked else 0,
        upper=np.inf if (fixed_e is None or linked) else fixed_e,
        coords=[t, si],
        name="Site-storage_energy_kwh",
    )
    p_up = np.inf if fixed_p is None else fixed_p
    ch = m.add_variables(lower=0, upper=p_up, coords=[t, si], name="Site-storage_charge_kw")
    dis = m.add_variables(lower=0, upper=p_up, coords=[t, si], name="Site-storage_discharge_kw")
    if cap_e is not None:
        if not linked:
            m.add_constraints(soc - cap_e <= 0, name="Site-storage_energy_limit")
        m.add_constraints(ch - cap_p <= 0, name="Site-storage_charge_limit")
        m.add_constraints(dis - cap_p <= 0, name="Site-storage_discharge_limit")
    keep = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
    cyclic = inputs.initial_storage_kwh is None
    lhs = (
        soc
        - keep * _previous(soc, inputs, cyclic)
        - inputs.storage_charge_efficiency * dt * ch
        + (dt / inputs.storage_discharge_efficiency) * dis
    )
    m.add_constraints(lhs == storage_balance_rhs_kwh(inputs), name="Site-storage_balance")
    if linked:
        define_inter_period_linking(
            m, inputs, "Site-storage", 0.0, fixed_e if cap_e is None else cap_e, "Site-storage_"
        )
    for what, var, lower in (("energy", soc, -np.inf if linked else 0), ("charge", ch, 0), ("discharge", dis, 0)):
        unit = "kwh" if what == "energy" else "kw"
        town = m.add_variables(lower=lower, coords=[t], name=f"Storage-{what}_{unit}")
        m.add_constraints(town - var.sum(SITE) == 0, name=f"Storage-site_sum_{what}")


def _vehicle_array(inputs: PlanInputs, column: str) -> xr.DataArray:
    vi = pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)
    return xr.DataArray(inputs.vehicles[column].to_numpy(dtype=float), coords=[vi])


def _frame(inputs: PlanInputs, frame: pd.DataFrame, dtype=float) -> xr.DataArray:
    vi = pd.Index(frame.columns.astype(str), name=VEHICLE)
    return xr.DataArray(frame.to_numpy(dtype=dtype), coords=[_t(inputs), vi])


def define_vehicle_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Each vehicle's energy, charging while plugged in and optional V2G (``Vehicle-*``)."""
    if inputs.vehicles.empty:
        return
    t = _t(inputs)
    vi = pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)
    dt = inputs.dt_hours
    mask = _frame(inputs, inputs.plugged, dtype=bool) if inputs.mask_unplugged else None
    eta = _vehicle_array(inputs, "charge_efficiency")
    energy = m.add_variables(
        lower=vehicle_energy_lower_kwh(inputs),
        upper=_vehicle_array(inputs, "usable_kwh"),
        coords=[t, vi],
        name="Vehicle-energy_kwh",
    )
    p_up = vehicle_power_upper_kw(inputs)
    charge = m.add_variables(lower=0, upper=p_up, coords=[t, vi], name="Vehicle-charge_kw", mask=mask)
    cyclic = inputs.initial_energy_kwh is None
    lhs = energy - _previous(energy, inputs, cyclic) - (eta * dt) * charge.fillna(0)
    if inputs.v2g:
        discharge = m.add_variables(lower=0, upper=p_up, coords=[t, vi], name="Vehicle-discharge_kw", mask=mask)
        lhs = lhs + (dt / eta) * discharge.fillna(0)
    m.add_constraints(lhs == vehicle_balance_rhs_kwh(inputs), name="Vehicle-energy_balance")


def define_fleet_aggregate_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Each station's fleet as one battery (``Fleet-*``), a relaxation of the per-vehicle model for sizing.

    Energy of all vehicles based at the station, charged at most at the summed power of the vehicles plugged in
    (capped by the chargers), between the summed reserves and the summed usable energy, drained by the summed
    trip energy (:func:`chisan.plan.inputs.station_aggregates`).
    """
    if inputs.vehicles.empty:
        return
    t = _t(inputs)
    si = pd.Index(inputs.stations.index.astype(str), name=STATION)
    dt = inputs.dt_hours
    veh = inputs.vehicles
    by_station = veh.groupby(veh["station"].astype(str))
    usable = by_station["usable_kwh"].sum().reindex(si).fillna(0).to_numpy(float)
    reserve = by_station["reserve_kwh"].sum().reindex(si).fillna(0).to_numpy(float)
    eta = xr.DataArray(by_station["charge_efficiency"].mean().reindex(si).fillna(1).to_numpy(float), coords=[si])
    available_kw, trips_kwh = station_aggregates(inputs)
    avail = xr.DataArray(available_kw.to_numpy(float), coords=[t, si])
    linked = inputs.period_order is not None
    if linked:
        lower_e = -np.inf
    elif inputs.station_min_energy_kwh is not None:
        need = inputs.station_min_energy_kwh.reindex(columns=si).to_numpy(float)
        lower_e = xr.DataArray(np.maximum(need, reserve[None, :]), coords=[t, si])
    else:
        lower_e = xr.DataArray(reserve, coords=[si])
    energy = m.add_variables(
        lower=lower_e,
        upper=np.inf if linked else xr.DataArray(usable, coords=[si]),
        coords=[t, si],
        name="Fleet-energy_kwh",
    )
    charge = m.add_variables(lower=0, upper=avail, coords=[t, si], name="Fleet-charge_kw")
    lhs = energy - _previous(energy, inputs, True) - (eta * dt) * charge
    if inputs.v2g:
        discharge = m.add_variables(lower=0, upper=avail, coords=[t, si], name="Fleet-discharge_kw")
        lhs = lhs + (dt / eta) * discharge
    m.add_constraints(lhs == -xr.DataArray(trips_kwh.to_numpy(float), coords=[t, si]), name="Fleet-energy_balance")
    if linked:
        define_inter_period_linking(
            m, inputs, "Fleet", xr.DataArray(reserve, coords=[si]), xr.DataArray(usable, coords=[si])
        )


def _station_groups(inputs: PlanInputs) -> xr.DataArray:
    vi = pd.Index(inputs.vehicles.index.astype(str), name=VEHICLE)
    return xr.DataArray(inputs.vehicles["station"].astype(str).to_numpy(), coords=[vi], name=STATION)


def station_net_charge(m: linopy.Model, inputs: PlanInputs) -> linopy.LinearExpression | None:
    """Σ over each station's vehicles of charge − discharge [kW], dims (snapshot, station)."""
    if "Vehicle-charge_kw" in m.variables:
        net = m.variables["Vehicle-charge_kw"].fillna(0)
        if "Vehicle-discharge_kw" in m.variables:
            net = net - m.variables["Vehicle-discharge_kw"].fillna(0)
        return net.groupby(_station_groups(inputs)).sum()
    if "Fleet-charge_kw" in m.variables:
        net = m.variables["Fleet-charge_kw"].to_linexpr()
        if "Fleet-discharge_kw" in m.variables:
            net = net - m.variables["Fleet-discharge_kw"]
        return net
    return None


def define_terminal_targets(m: linopy.Model, inputs: PlanInputs) -> None:
    """Soft targets for the energy left after the last step (``Terminal-*``).

    Σ_v e_{v,T} + short_fleet ≥ target_fleet and soc_T + short_storage ≥ target_storage, with the shortfalls
    priced in :func:`objective_costs`. Their right-hand sides change from window to window of a rolling dispatch.
    """
    if inputs.terminal_fleet_target_kwh is not None and "Vehicle-energy_kwh" in m.variables:
        short = m.add_variables(lower=0, name="Terminal-fleet_shortfall_kwh")
        last = m.variables["Vehicle-energy_kwh"].isel({SNAPSHOT: -1}).sum(VEHICLE)
        m.add_constraints(last + short >= float(inputs.terminal_fleet_target_kwh), name="Terminal-fleet_energy")
    if inputs.terminal_storage_target_kwh is not None and "Storage-energy_kwh" in m.variables:
        short = m.add_variables(lower=0, name="Terminal-storage_shortfall_kwh")
        last = m.variables["Storage-energy_kwh"].isel({SNAPSHOT: -1})
        m.add_constraints(last + short >= float(inputs.terminal_storage_target_kwh), name="Terminal-storage_energy")


def define_station_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Charger power and connection limit of each station (``Station-*``), only where they can bind."""
    if "Vehicle-charge_kw" not in m.variables:
        return  # the aggregate fleet already carries the charger limit in its bounds
    stations = inputs.stations.copy()
    stations.index = stations.index.astype(str)
    veh = inputs.vehicles
    possible_kw = veh.groupby(veh["station"].astype(str))["max_charge_kw"].sum().reindex(stations.index).fillna(0)
    charger_kw = stations["chargers"] * stations["charger_kw"]
    binding = stations.index[(charger_kw < possible_kw - 1e-9).to_numpy()]
    charge = m.variables["Vehicle-charge_kw"].fillna(0)
    if len(binding):
        per_station = charge.groupby(_station_groups(inputs)).sum().sel({STATION: list(binding)})
        limit = xr.DataArray(charger_kw.loc[binding].to_numpy(float), coords=[pd.Index(binding, name=STATION)])
        m.add_constraints(per_station <= limit, name="Station-charger_power")
    conn = stations["connection_limit_kw"].astype(float)
    limited = conn.index[(conn.notna() & (conn < np.maximum(possible_kw, charger_kw) - 1e-9)).to_numpy()]
    if len(limited):
        net = station_net_charge(m, inputs).sel({STATION: list(limited)})
        limit = xr.DataArray(conn.loc[limited].to_numpy(float), coords=[pd.Index(limited, name=STATION)])
        m.add_constraints(net <= limit, name="Station-connection_import")
        if inputs.v2g:
            m.add_constraints(net >= -limit, name="Station-connection_export")


def define_grid_variables(m: linopy.Model, inputs: PlanInputs) -> None:
    """Grid import and export [kW] with the town's connection limit (``Grid-*``)."""
    t = _t(inputs)
    upper = np.inf if inputs.grid_connection_limit_kw is None else inputs.grid_connection_limit_kw
    imp = m.add_variables(lower=0, upper=upper, coords=[t], name="Grid-import_kw")
    exp = m.add_variables(lower=0, upper=upper, coords=[t], name="Grid-export_kw") if inputs.allow_export else None
    if not inputs.per_site:
        return
    si = site_index(inputs)
    conn = xr.DataArray(inputs.sites["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy(), coords=[si])
    site_imp = m.add_variables(lower=0, upper=conn, coords=[t, si], name="Site-import_kw")
    m.add_constraints(imp - site_imp.sum(SITE) == 0, name="Grid-site_import_sum")
    if exp is not None:
        site_exp = m.add_variables(lower=0, upper=conn, coords=[t, si], name="Site-export_kw")
        m.add_constraints(exp - site_exp.sum(SITE) == 0, name="Grid-site_export_sum")


def charging_load(m: linopy.Model) -> linopy.LinearExpression | None:
    """Total vehicle charging power [kW] per step."""
    if "Vehicle-charge_kw" in m.variables:
        return m.variables["Vehicle-charge_kw"].fillna(0).sum(VEHICLE)
    if "Fleet-charge_kw" in m.variables:
        return m.variables["Fleet-charge_kw"].sum(STATION)
    return None


def vehicle_discharge(m: linopy.Model) -> linopy.LinearExpression | None:
    """Total V2G discharge power [kW] per step."""
    if "Vehicle-discharge_kw" in m.variables:
        return m.variables["Vehicle-discharge_kw"].fillna(0).sum(VEHICLE)
    if "Fleet-discharge_kw" in m.variables:
        return m.variables["Fleet-discharge_kw"].sum(STATION)
    return None


def renewable_output(m: linopy.Model) -> linopy.LinearExpression | None:
    """PV + wind output used or exported [kW] per step."""
    parts = [m.variables[n] for n in ("PV-output_kw", "Wind-output_kw") if n in m.variables]
    if not parts:
        return None
    expr = parts[0].to_linexpr()
    for p in parts[1:]:
        expr = expr + p
    return expr


def define_bus_balance(m: linopy.Model, inputs: PlanInputs) -> None:
    """Supply equals demand on the town bus at every step (``Bus-balance``); per site with metered sites."""
    if inputs.per_site:
        define_site_balance(m, inputs)
        return
    supply = m.variables["Grid-import_kw"].to_linexpr()
    for name in ("PV-output_kw", "Wind-output_kw", "Storage-discharge_kw"):
        if name in m.variables:
            supply = supply + m.variables[name]
    if (v2g := vehicle_discharge(m)) is not None:
        supply = supply + v2g
    if (reused := second_life.net_output(m, inputs)) is not None:  # SecondLife-* (plan/second_life.py)
        supply = supply + reused
    demand = _with_hydrogen(charging_load(m), m, inputs)
    for name in ("Storage-charge_kw", "Grid-export_kw"):
        if name in m.variables:
            demand = m.variables[name].to_linexpr() if demand is None else demand + m.variables[name]
    other = _series(inputs, inputs.other_load_kw)
    if demand is None:
        m.add_constraints(supply == other, name="Bus-balance")
    else:
        m.add_constraints(supply - demand == other, name="Bus-balance")


def _with_hydrogen(load, m: linopy.Model, inputs: PlanInputs):
    """``load`` [kW] plus the electricity of electrolyser and compressor (chisan.plan.hydrogen), if any."""
    h2 = hydrogen_electricity_kw(m, inputs)
    if h2 is None:
        return load
    return h2 if load is None else load + h2


def _weighted_energy(inputs: PlanInputs) -> xr.DataArray:
    """w_t · Δt [h] per step: turns power [kW] into energy represented [kWh]."""
    return _series(inputs, inputs.weight.to_numpy(float) * inputs.dt_hours)


def define_policy_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Renewable-share target, grid-import and emission caps (``Policy-*``)."""
    wdt = _weighted_energy(inputs)
    load = _with_hydrogen(charging_load(m), m, inputs)  # the hydrogen's electricity is load too
    other_kwh = float((inputs.other_load_kw * inputs.weight).sum() * inputs.dt_hours)
    imp = m.variables["Grid-import_kw"]
    target = inputs.renewable_share_min
    if target is not None and target > 0:
        load_kwh = (load * wdt).sum() if load is not None else None
        if inputs.renewable_share_basis == "annual":
            res = renewable_output(m)
            if res is None:
                res = 0 * imp.sum()
            lhs = (res * wdt).sum()
            if load_kwh is not None:
                lhs = lhs - target * load_kwh
            m.add_constraints(lhs >= target * other_kwh, name="Policy-renewable_share")
        else:
            lhs = (imp * wdt).sum()
            if load_kwh is not None:
                lhs = lhs - (1.0 - target) * load_kwh
            m.add_constraints(lhs <= (1.0 - target) * other_kwh, name="Policy-renewable_share")
    scale = inputs.opex_scale
    if inputs.max_grid_import_kwh is not None:
        m.add_constraints(scale * (imp * wdt).sum() <= inputs.max_grid_import_kwh, name="Policy-grid_import")
    if inputs.max_emissions_kg is not None:
        ef = _series(inputs, inputs.emission_factor_kg_per_kwh)
        m.add_constraints(scale * (imp * (wdt * ef)).sum() <= inputs.max_emissions_kg, name="Policy-emissions")


def objective_costs(m: linopy.Model, inputs: PlanInputs) -> dict[str, np.ndarray]:
    """Cost of one unit of each costed variable, shaped like the variable [currency/year per kW or kWh].

    Capacities: annualised investment + fixed O&M. Per step (power variables, kW): the step's energy weight
    w_t Δt [h] × annualisation k × price [currency/kWh]: import price + carbon price × emission factor + policy
    penalty; minus the export price; minus the renewable credit; plus the V2G wear cost. Energy held in the
    vehicles [kWh] costs the holding cost × w_t Δt k (calendar ageing; for linked typical days the level at the
    start of each day is held for 24 h).
    """
    costs: dict[str, np.ndarray] = {}
    for name, cap in inputs.capacities.items():
        if _has(m, name) and cap.annual_cost_per_unit:
            costs[f"Capacity-{name}"] = np.array(cap.annual_cost_per_unit, dtype=float)
    wdt = inputs.weight.to_numpy(float) * inputs.dt_hours * inputs.opex_scale
    costs["Grid-import_kw"] = wdt * (
        inputs.import_price_per_kwh.to_numpy(float)
        + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
        + inputs.import_penalty_per_kwh
    )
    if PEAK in m.variables:  # basic charge: months billed, not the energy's annualisation (tariff_constraints)
        costs[PEAK] = np.array(basic_charge_per_kw(inputs))
    if "Grid-export_kw" in m.variables:
        costs["Grid-export_kw"] = -wdt * inputs.export_price_per_kwh.to_numpy(float)
    if inputs.renewable_credit_per_kwh:
        for name in ("PV-output_kw", "Wind-output_kw"):
            if name in m.variables:
                costs[name] = -wdt * inputs.renewable_credit_per_kwh
    hold = inputs.vehicle_holding_cost_per_kwh_h
    if hold:
        if "Vehicle-energy_kwh" in m.variables:
            costs["Vehicle-energy_kwh"] = (wdt * hold)[:, None]
        if "Fleet-inter_energy_kwh" in m.variables:  # linked typical days: the level at each day's start, 24 h
            costs["Fleet-inter_energy_kwh"] = np.array(hold * 24.0 * inputs.opex_scale)
        elif "Fleet-energy_kwh" in m.variables:
            costs["Fleet-energy_kwh"] = (wdt * hold)[:, None]
    for name in ("Terminal-fleet_shortfall_kwh", "Terminal-storage_shortfall_kwh"):
        if name in m.variables:
            costs[name] = np.array(inputs.terminal_shortfall_cost_per_kwh, dtype=float)
    if "Link-forward_kw" in m.variables:  # self-wheeling fee (自己託送) per kWh carried, either direction
        fee = inputs.links["fee_per_kwh"].astype(float).to_numpy()
        if fee.any():
            costs["Link-forward_kw"] = costs["Link-backward_kw"] = wdt[:, None] * fee[None, :]
    if inputs.v2g and inputs.v2g_cost_per_kwh:
        for name in ("Vehicle-discharge_kw", "Fleet-discharge_kw"):
            if name in m.variables:
                costs[name] = (wdt * inputs.v2g_cost_per_kwh)[:, None]
    costs.update(hydrogen_objective_costs(m, inputs))
    costs.update(second_life.objective_costs(m, inputs))
    return costs


def define_objective(m: linopy.Model, inputs: PlanInputs) -> None:
    """Annualised capacity cost plus operating cost scaled to a year [currency/year].

    Built as one flat expression from :func:`objective_costs` (fast to rebuild when a rolling dispatch moves on).
    """
    labels, coeffs = [], []
    for name, cost in objective_costs(m, inputs).items():
        lab = m.variables[name].labels.values
        c = np.broadcast_to(cost, lab.shape).ravel()
        lab = lab.ravel()
        keep = (lab != -1) & (c != 0)
        labels.append(lab[keep])
        coeffs.append(c[keep])
    data = xr.Dataset({"coeffs": (TERM_DIM, np.concatenate(coeffs)), "vars": (TERM_DIM, np.concatenate(labels))})
    m.add_objective(linopy.LinearExpression(data, m), overwrite=True)


def build_model(inputs: PlanInputs, extra_functionality: ExtraFunctionality | None = None) -> linopy.Model:
    """Build the planning LP for ``inputs``.

    Parameters
    ----------
    inputs : PlanInputs
        Everything the model needs, on one time index.
    extra_functionality : callable, optional
        ``f(model, inputs)`` called after all constraints and before the objective, to add constraints
        (the extension hook, as in PyPSA's ``optimize(extra_functionality=...)``).

    Returns
    -------
    linopy.Model
    """
    with linopy.options as opts:
        opts["semantics"] = "v1"
        m = linopy.Model(force_dim_names=True)
        define_capacity_variables(m, inputs)
        define_renewable_constraints(m, inputs)
        define_site_pv_constraints(m, inputs)
        define_storage_constraints(m, inputs)
        second_life.define_second_life_constraints(m, inputs)
        if inputs.fleet_mode == "vehicle":
            define_vehicle_constraints(m, inputs)
            define_station_constraints(m, inputs)
            define_terminal_targets(m, inputs)
        else:
            define_fleet_aggregate_constraints(m, inputs)
        define_hydrogen_constraints(m, inputs)
        define_grid_variables(m, inputs)
        define_link_variables(m, inputs)
        define_bus_balance(m, inputs)
        define_policy_constraints(m, inputs)
        define_tariff_peak_constraints(m, inputs)
        survival.define_survival_constraints(m, inputs)
        if extra_functionality is not None:
            extra_functionality(m, inputs)
        define_objective(m, inputs)
    return m


def _write(target: xr.DataArray, values: xr.DataArray | float) -> None:
    """Write ``values`` into the array of a model bound or right-hand side, in place (same dims and order).

    linopy's persistent diff compares bounds and right-hand sides in full at every solve, so in-place writes are
    picked up; they avoid the alignment cost of the public setters (≈ 10 ms each), which dominates a window.
    """
    if isinstance(values, xr.DataArray):
        arr = values.transpose(*[d for d in target.dims if d in values.dims]).to_numpy()
    else:
        arr = np.asarray(values, dtype=float)
    target.values[...] = np.broadcast_to(arr, target.shape)


def update_model_data(m: linopy.Model, inputs: PlanInputs) -> None:
    """Replace the data of a model built by :func:`build_model` with those of ``inputs``, in place.

    ``inputs`` must have the same structure as the inputs the model was built from (same number of steps and
    vehicles, capacities fixed, ``mask_unplugged=False``, no policy rows): a rolling dispatch builds one window's
    model once and moves it along the year with this function, so that the persistent HiGHS model is updated
    in place and warm-started instead of rebuilt (linopy ``Solver.solve(model=...)``).
    """
    if inputs.mask_unplugged:
        raise ValueError("update_model_data needs inputs built with mask_unplugged=False")
    if inputs.hydrogen is not None:
        raise NotImplementedError("the rolling dispatch does not model hydrogen yet; plan it with method='full'")
    for tech, label in (("pv", "PV"), ("wind", "Wind")):
        if tech == "pv" and inputs.per_site:
            if "Site-pv_output_kw" in m.variables and inputs.site_pv_fixed_kw is not None:
                _write(m.variables["Site-pv_output_kw"].upper, site_pv_upper_kw(inputs))
        elif f"{label}-output_kw" in m.variables:
            _write(m.variables[f"{label}-output_kw"].upper, renewable_upper_kw(inputs, tech))
    if "Vehicle-energy_kwh" in m.variables:
        _write(m.variables["Vehicle-energy_kwh"].lower, vehicle_energy_lower_kwh(inputs))
        p_up = vehicle_power_upper_kw(inputs)
        _write(m.variables["Vehicle-charge_kw"].upper, p_up)
        if "Vehicle-discharge_kw" in m.variables:
            _write(m.variables["Vehicle-discharge_kw"].upper, p_up)
        _write(m.constraints["Vehicle-energy_balance"].rhs, vehicle_balance_rhs_kwh(inputs))
    for name in ("Storage-energy_balance", "Site-storage_balance"):
        if name in m.constraints:
            _write(m.constraints[name].rhs, storage_balance_rhs_kwh(inputs))
    if "Terminal-fleet_energy" in m.constraints:
        _write(m.constraints["Terminal-fleet_energy"].rhs, float(inputs.terminal_fleet_target_kwh or 0.0))
    if "Terminal-storage_energy" in m.constraints:
        _write(m.constraints["Terminal-storage_energy"].rhs, float(inputs.terminal_storage_target_kwh or 0.0))
    if inputs.per_site:
        _write(m.constraints["Site-balance"].rhs, site_other_load(inputs))
    else:
        _write(m.constraints["Bus-balance"].rhs, _series(inputs, inputs.other_load_kw))
    define_objective(m, inputs)
