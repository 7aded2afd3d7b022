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
)
from chisan.plan.inputs import PlanInputs, station_aggregates
from chisan.plan.model_parts import (
    SITE,
    SNAPSHOT,
    STATION,
    VEHICLE,
    _first_step_constant,
    _fixed,
    _has,
    _previous,
    _series,
    _t,
    define_inter_period_linking,
    site_index,
)
from chisan.plan.model_parts import _on_sites as _on_sites  # re-exported: chisan.plan.second_life
from chisan.plan.model_parts import previous_step as previous_step  # re-exported: second_life, sweep.lp
from chisan.plan.site_constraints import (
    define_link_variables,
    define_site_balance,
    define_site_pv_constraints,
    site_other_load,
    site_pv_upper_kw,
)
from chisan.plan.storage import define_storage_constraints, storage_balance_rhs_kwh
from chisan.plan.tariff_constraints import PEAK, basic_charge_per_kw, define_tariff_peak_constraints

ExtraFunctionality = Callable[[linopy.Model, PlanInputs], None]


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


def define_capacity_variables(m: linopy.Model, inputs: PlanInputs) -> None:
    """Capacity variables [kW or kWh] with their bounds (``Capacity-*``); fixed ones have lower = upper."""
    for name, cap in inputs.capacities.items():
        if cap.enabled:
            m.add_variables(lower=cap.lower, upper=cap.upper, name=f"Capacity-{name}")


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
    site_priced = inputs.site_priced and "Site-import_kw" in m.variables  # each meter on its own tariff
    costs["Grid-import_kw"] = wdt * (
        (0.0 if site_priced else inputs.import_price_per_kwh.to_numpy(float))
        + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
        + inputs.import_penalty_per_kwh
    )
    if PEAK in m.variables:  # basic charge: months billed, not the energy's annualisation (tariff_constraints)
        costs[PEAK] = np.array(basic_charge_per_kw(inputs))
    if "Grid-export_kw" in m.variables:
        costs["Grid-export_kw"] = -wdt * inputs.export_price_per_kwh.to_numpy(float)
    if site_priced:  # sites.tariff: the energy is priced at each meter (Site-import_kw, Site-export_kw)
        costs["Site-import_kw"] = wdt[:, None] * inputs.site_import_price_per_kwh.to_numpy(float)
        if "Site-export_kw" in m.variables:
            costs.pop("Grid-export_kw", None)
            costs["Site-export_kw"] = -wdt[:, None] * inputs.site_export_price_per_kwh.to_numpy(float)
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
