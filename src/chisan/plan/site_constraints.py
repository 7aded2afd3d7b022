"""Metered sites of the planning model (:mod:`chisan.plan.model`): ``Site-pv_*``, ``Link-*`` and ``Site-balance``.

Energy in kWh, power in kW.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan import second_life
from chisan.plan.hydrogen import hydrogen_site_electricity_kw
from chisan.plan.inputs import PlanInputs
from chisan.plan.model_parts import LINK, SITE, STATION, VEHICLE, _at_site, _has, _on_sites, _series, _t, site_index


def site_pv_upper_kw(inputs: PlanInputs) -> xr.DataArray:
    """Upper bound of each site's PV output at fixed site capacities [kW]: pv_s × output per kW."""
    fixed = xr.DataArray(inputs.site_pv_fixed_kw.to_numpy(float), coords=[site_index(inputs)])
    return _series(inputs, inputs.pv_kw_per_kw.to_numpy(float)) * fixed


def site_other_load(inputs: PlanInputs) -> xr.DataArray:
    """Other load of each site [kW], (snapshot, site): the right-hand side of ``Site-balance``."""
    return xr.DataArray(inputs.site_other_load_kw.to_numpy(float), coords=[_t(inputs), site_index(inputs)])


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
