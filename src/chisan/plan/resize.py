"""Growing the supply side of a two-stage plan when the per-vehicle dispatch misses a target (:mod:`chisan.plan.solve`).

:func:`resize_supply` re-optimises PV, wind, storage and the grid over the whole year against the vehicles'
fixed charging; :func:`_annual_margin` and :func:`_raise_renewables` add renewable capacity ahead of the
dispatch when the annual renewable share binds. Power in kW, energy in kWh.
"""

from __future__ import annotations

import dataclasses

import linopy
import numpy as np
import pandas as pd

from chisan.exceptions import InfeasibleError
from chisan.plan import second_life
from chisan.plan.inputs import PlanInputs
from chisan.plan.model import build_model
from chisan.plan.site_split import site_pv_of, site_storage_of

RESIZE_HIGHS_OPTIONS = {"simplex_dual_edge_weight_strategy": 0}
"""HiGHS options of the re-sizing LP: the dual simplex prices with Dantzig's rule (0) instead of its default
choice (dual steepest edge, -1).

The LP is a year of hours per metered site tied together by a few capacity columns and one hourly-target row.
Measured (CPU s of the solve, one core, load ≈ 6, the same objective to 1e-12 each time): on the 40-car, 8-meter
town of ``benchmarks/bench_decision.py`` row 2 (306,605 rows × 297,862 columns) 31.9 with the default, 23.2 with
Devex (1), 17.5 and 16.6 with Dantzig; interior point 86, primal simplex 66. Not a win everywhere: on 20 cars at
4 meters with an 80 % target, Dantzig 19.7 against the default's 14.4 — the larger town, where the re-size is the
slowest stage, is the one that gains. Values as HiGHS's ``SimplexConst.h`` (``Choose = -1``, ``Dantzig = 0``,
``Devex = 1``, ``SteepestEdge = 2``; https://docs.rs/crate/highs-sys/latest/source/HiGHS/highs/simplex/
SimplexConst.h). Options given by the caller take precedence.
"""


def resize_supply(
    inputs: PlanInputs, capacities: dict[str, float], values: dict[str, np.ndarray], options: dict
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Re-optimise the supply side for the whole year against the vehicles' charging of a dispatch.

    The charging (minus V2G) becomes a fixed load; PV, wind and storage may grow from ``capacities``; storage and
    grid are dispatched hour by hour with the policy targets as rows. The vehicles' schedule is unchanged, so
    together with it the result is a complete plan that meets the targets (the after-solve check verifies it).
    A year-long LP without vehicles; HiGHS's dual simplex prices it with Dantzig's rule
    (:data:`RESIZE_HIGHS_OPTIONS`) unless ``options`` choose otherwise.

    Returns
    -------
    (capacities, system values)
    """
    from chisan.plan.solve import _raise_unsolved, _solve, capacities_of  # deferred: solve.py imports this module

    n = len(inputs.snapshots)
    zeros = np.zeros(n)
    load = inputs.other_load_kw.to_numpy(float) + values["Vehicle-charge_kw"].sum(axis=1)
    load = load - values.get("Vehicle-discharge_kw", np.zeros((n, 1))).sum(axis=1)
    load = load - second_life.town_net_output(values, n)  # the second-life schedule stays as it is, as a load
    caps = {
        k: (
            dataclasses.replace(c, min_units=max(c.min_units, capacities.get(k, 0.0)))
            if c.enabled and c.fixed_units is None
            else c
        )
        for k, c in inputs.capacities.items()
    }
    site_load = None
    if inputs.per_site:  # each site's charging stays behind its own meter
        net = values["Vehicle-charge_kw"] - values.get(
            "Vehicle-discharge_kw", np.zeros_like(values["Vehicle-charge_kw"])
        )
        veh_site = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
        onehot = (veh_site[:, None] == inputs.sites.index.to_numpy()[None, :]).astype(float)
        site_load = inputs.site_other_load_kw + pd.DataFrame(
            net @ onehot, index=inputs.snapshots, columns=inputs.site_other_load_kw.columns
        )
        if (reused := second_life.site_terms(inputs, values)) is not None:
            site_load = site_load - reused
    supply = dataclasses.replace(
        second_life.with_offer(inputs, None),
        vehicles=inputs.vehicles.iloc[:0],
        plugged=inputs.plugged.iloc[:, :0],
        trip_energy_kwh=inputs.trip_energy_kwh.iloc[:, :0],
        other_load_kw=pd.Series(load, index=inputs.snapshots),
        site_other_load_kw=site_load,
        site_pv_fixed_kw=None,
        site_storage_fixed_kwh=None,
        site_storage_fixed_kw=None,
        capacities=caps,
        initial_storage_kwh=None,
        v2g=False,
    )
    m = build_model(supply)
    condition = _solve(m, {**RESIZE_HIGHS_OPTIONS, **options})
    if condition != "optimal":
        _raise_unsolved(m, supply, condition, options, "re-sizing the supply against the per-vehicle charging")
    system = {
        name: np.nan_to_num(m.variables[name].solution.to_numpy())
        for name in (
            "PV-output_kw",
            "Wind-output_kw",
            "Storage-energy_kwh",
            "Storage-charge_kw",
            "Storage-discharge_kw",
            "Grid-import_kw",
            "Grid-export_kw",
            "Site-import_kw",
            "Site-export_kw",
            "Site-pv_output_kw",
            "Link-forward_kw",
            "Link-backward_kw",
        )
        if name in m.variables
    }
    for name in ("Site-storage_energy_kwh", "Site-storage_charge_kw", "Site-storage_discharge_kw"):
        if name in m.variables:
            system[name] = np.nan_to_num(m.variables[name].solution.to_numpy())
    for name in ("Grid-export_kw", "Storage-energy_kwh", "Storage-charge_kw", "Storage-discharge_kw"):
        system.setdefault(name, zeros.copy())
    if inputs.per_site:
        system["_site_pv_kw"] = site_pv_of(m, supply)
        system["_site_storage"] = site_storage_of(m, supply)
    return capacities_of(m), system


ANNUAL_TARGET_MARGIN = 1e-3
"""Renewable output added ahead of the per-vehicle dispatch when the annual target binds [fraction of charging].

The per-vehicle year may end with a little more energy in the cars than it started with (each window ends at or
above the need of later bookings), so it draws slightly more than the aggregate plan; 0.1 % more renewable output
(≈ 0.1 % more PV) keeps the annual target without a second dispatch pass.
"""


def _annual_margin(inputs: PlanInputs, agg: PlanInputs, m: linopy.Model, caps: dict[str, float]) -> dict[str, float]:
    """Capacities raised by :data:`ANNUAL_TARGET_MARGIN` when the aggregate year meets the annual target exactly."""
    if not inputs.renewable_share_min or inputs.renewable_share_basis != "annual":
        return caps
    dt = inputs.dt_hours
    res = sum(float(m.variables[n].solution.sum()) for n in ("PV-output_kw", "Wind-output_kw") if n in m.variables)
    charging = float(np.nansum(m.variables["Fleet-charge_kw"].solution.to_numpy()))
    load = (charging + float(agg.other_load_kw.sum())) * dt
    if res * dt > inputs.renewable_share_min * load * (1 + ANNUAL_TARGET_MARGIN):
        return caps
    try:
        return _raise_renewables(inputs, caps, ANNUAL_TARGET_MARGIN * load)
    except InfeasibleError:
        return caps


def _raise_renewables(inputs: PlanInputs, caps: dict[str, float], shortfall_kwh: float) -> dict[str, float]:
    """Raise the renewable capacity with the cheapest cost per kWh by the output that is short (+1 %)."""
    options = []
    for tech, cf in (("pv_kw", inputs.pv_kw_per_kw), ("wind_kw", inputs.wind_kw_per_kw)):
        cap = inputs.capacities[tech]
        yield_kwh_per_kw = float(cf.sum()) * inputs.dt_hours
        if not cap.enabled or cap.fixed_units is not None or yield_kwh_per_kw <= 0:
            continue
        room = cap.max_units - caps[tech]
        if room <= 1e-9:
            continue
        options.append((cap.annual_cost_per_unit / yield_kwh_per_kw, tech, yield_kwh_per_kw, room))
    if not options:
        raise InfeasibleError(
            f"the annual renewable share target is short by {shortfall_kwh:,.0f} kWh and no renewable "
            "capacity can grow (all at max_kw or fixed)",
            target="policy.renewable_share_min_fraction",
        )
    caps = dict(caps)
    remaining = shortfall_kwh * 1.01
    for _, tech, yld, room in sorted(options):
        add = min(room, remaining / yld)
        caps[tech] += add
        remaining -= add * yld
        if remaining <= 0:
            break
    return caps
