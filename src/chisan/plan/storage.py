"""Stationary storage of the planning model (:mod:`chisan.plan.model`): the ``Storage-*`` family and, with
metered sites, ``Site-storage_*`` (storage behind each site's meter, summing to the town's ``Storage-*``).

Energy in kWh, power in kW.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan.inputs import PlanInputs
from chisan.plan.model_parts import (
    SITE,
    _first_step_constant,
    _fixed,
    _has,
    _previous,
    _t,
    define_inter_period_linking,
)


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


def define_storage_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Stationary storage: energy balance, energy and power limits, c-rate (``Storage-*``)."""
    if not (_has(m, "storage_kwh") and _has(m, "storage_kw")):
        return
    if inputs.per_site:
        define_site_storage_constraints(m, inputs)
        return
    t = _t(inputs)
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
    lhs = storage_balance_lhs(soc, ch, dis, inputs)
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
    t = _t(inputs)
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
    lhs = storage_balance_lhs(soc, ch, dis, inputs)
    m.add_constraints(lhs == storage_balance_rhs_kwh(inputs), name="Site-storage_balance")
    if linked:
        define_inter_period_linking(
            m, inputs, "Site-storage", 0.0, fixed_e if cap_e is None else cap_e, "Site-storage_"
        )
    for what, var, lower in (("energy", soc, -np.inf if linked else 0), ("charge", ch, 0), ("discharge", dis, 0)):
        unit = "kwh" if what == "energy" else "kw"
        town = m.add_variables(lower=lower, coords=[t], name=f"Storage-{what}_{unit}")
        m.add_constraints(town - var.sum(SITE) == 0, name=f"Storage-site_sum_{what}")


def storage_balance_lhs(soc, ch, dis, inputs: PlanInputs) -> linopy.LinearExpression:
    """Left side of the storage energy balance [kWh], the town's or each site's (one formulation for both).

    e_t − (1 − σ)^Δt · e_{t−1} − η_ch · Δt · ch_t + Δt / η_dis · dis_t (= the right side: 0, or the initial energy
    in the first step), cyclic when ``initial_storage_kwh`` is None (PyPSA ``define_store_constraints``).
    """
    dt = inputs.dt_hours
    keep = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
    cyclic = inputs.initial_storage_kwh is None
    return (
        soc
        - keep * _previous(soc, inputs, cyclic)
        - inputs.storage_charge_efficiency * dt * ch
        + (dt / inputs.storage_discharge_efficiency) * dis
    )
