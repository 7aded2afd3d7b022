"""The same planning problem as a PyPSA network, for users who work in PyPSA and as a second implementation.

:func:`to_pypsa` writes a :class:`~chisan.plan.inputs.PlanInputs` (chronological, per vehicle) as PyPSA
components, and :func:`pypsa_extra_functionality` adds the rows PyPSA has no component for. Solving the network
gives the same optimum as :func:`chisan.plan.model.build_model` (tested to 1e-4 relative); it is also what
``benchmarks/bench_plan.py`` times chisan against.

Mapping (PyPSA 1.x component names):

- town bus ``town``; PV and wind: extendable ``Generator`` with ``p_max_pu`` = output per kW and ``capital_cost``
  = annualised cost per kW;
- grid: ``Generator`` ``grid_import`` (marginal cost = import price + carbon price × factor) and ``grid_export``
  (``p_min_pu = -1``, ``p_max_pu = 0``, marginal cost = export price, so exporting earns it);
- stationary storage: ``Store`` on bus ``storage`` + charger and discharger ``Link``\\ s; the discharger's rating is
  tied to the charger's so both carry at most P on the town side, and P ≤ c-rate × E (extra functionality);
- each vehicle: bus ``ev:<id>``, ``Store`` (energy between reserve and usable, cyclic, ``marginal_cost_storage`` =
  holding cost), charger ``Link`` from ``town`` with ``p_max_pu`` = plugged-in mask and efficiency η, optional V2G
  ``Link`` back, and a ``Load`` taking the trip energy in the step a booking starts;
- snapshot weightings: objective = w_t Δt × annualisation, stores = Δt;
- policy targets: extra functionality on the same terms as chisan's ``Policy-*`` rows.

PyPSA is not a dependency of chisan; install it to use this module (``pip install pypsa``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.plan.inputs import PlanInputs

BIG_KW = 1e7
"""Rating of the grid generators when the connection is unlimited [kW]."""


def to_pypsa(inputs: PlanInputs):
    """Build the PyPSA network of ``inputs`` (capacities extendable or fixed as in ``inputs.capacities``).

    Units: PyPSA is unit-agnostic; kW and kWh are used throughout, money in the inputs' currency.
    """
    import pypsa

    if inputs.fleet_mode != "vehicle" or inputs.period_order is not None or inputs.initial_energy_kwh is not None:
        raise ValueError("to_pypsa supports chronological, cyclic, per-vehicle inputs")
    n = pypsa.Network()
    snaps = pd.DatetimeIndex(inputs.snapshots.tz_convert(None))
    n.set_snapshots(snaps)
    w = inputs.weight.to_numpy(float) * inputs.dt_hours
    n.snapshot_weightings.loc[:, "objective"] = w * inputs.opex_scale
    n.snapshot_weightings.loc[:, "generators"] = w
    n.snapshot_weightings.loc[:, "stores"] = inputs.dt_hours
    n.add("Bus", "town")

    def series(s) -> pd.Series:
        return pd.Series(np.asarray(s, dtype=float), index=snaps)

    for tech, name, cf in (("pv_kw", "pv", inputs.pv_kw_per_kw), ("wind_kw", "wind", inputs.wind_kw_per_kw)):
        cap = inputs.capacities[tech]
        if not cap.enabled:
            continue
        n.add(
            "Generator",
            name,
            bus="town",
            p_nom_extendable=cap.lower != cap.upper,
            p_nom=cap.lower,
            p_nom_min=cap.lower,
            p_nom_max=cap.upper,
            capital_cost=cap.annual_cost_per_unit,
            p_max_pu=series(cf),
        )
    limit = inputs.grid_connection_limit_kw or BIG_KW
    import_cost = (
        inputs.import_price_per_kwh.to_numpy(float)
        + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
        + inputs.import_penalty_per_kwh
    )
    n.add("Generator", "grid_import", bus="town", p_nom=limit, marginal_cost=series(import_cost))
    if inputs.allow_export:
        n.add(
            "Generator",
            "grid_export",
            bus="town",
            p_nom=limit,
            p_min_pu=-1.0,
            p_max_pu=0.0,
            marginal_cost=series(inputs.export_price_per_kwh),
        )
    if inputs.other_load_kw.abs().sum() > 0:
        n.add("Load", "other_load", bus="town", p_set=series(inputs.other_load_kw))
    e_cap, p_cap = inputs.capacities["storage_kwh"], inputs.capacities["storage_kw"]
    if e_cap.enabled and p_cap.enabled:
        n.add("Bus", "storage")
        n.add(
            "Store",
            "storage",
            bus="storage",
            e_nom_extendable=e_cap.lower != e_cap.upper,
            e_nom=e_cap.lower,
            e_nom_min=e_cap.lower,
            e_nom_max=e_cap.upper,
            capital_cost=e_cap.annual_cost_per_unit,
            e_cyclic=True,
            standing_loss=inputs.storage_self_discharge_per_hour,
        )
        n.add(
            "Link",
            "storage_charger",
            bus0="town",
            bus1="storage",
            efficiency=inputs.storage_charge_efficiency,
            p_nom_extendable=p_cap.lower != p_cap.upper,
            p_nom=p_cap.lower,
            p_nom_min=p_cap.lower,
            p_nom_max=p_cap.upper,
            capital_cost=p_cap.annual_cost_per_unit,
        )
        n.add(
            "Link",
            "storage_discharger",
            bus0="storage",
            bus1="town",
            efficiency=inputs.storage_discharge_efficiency,
            p_nom_extendable=True,
        )
    veh = inputs.vehicles
    plugged = inputs.plugged.to_numpy(float)
    trips = inputs.trip_energy_kwh.to_numpy(float)
    for j, vid in enumerate(veh.index):
        row = veh.loc[vid]
        bus = f"ev:{vid}"
        n.add("Bus", bus)
        n.add(
            "Store",
            f"battery:{vid}",
            bus=bus,
            e_nom=row["usable_kwh"],
            e_min_pu=row["reserve_kwh"] / row["usable_kwh"],
            e_cyclic=True,
            marginal_cost_storage=inputs.vehicle_holding_cost_per_kwh_h,
        )
        n.add(
            "Link",
            f"charger:{vid}",
            bus0="town",
            bus1=bus,
            efficiency=row["charge_efficiency"],
            p_nom=row["max_charge_kw"],
            p_max_pu=series(plugged[:, j]),
        )
        if inputs.v2g:
            # V2G: p0 taken from the battery, η·p0 delivered; chisan limits the town side to max_charge_kw
            n.add(
                "Link",
                f"v2g:{vid}",
                bus0=bus,
                bus1="town",
                efficiency=row["charge_efficiency"],
                p_nom=row["max_charge_kw"] / row["charge_efficiency"],
                p_max_pu=series(plugged[:, j]),
                marginal_cost=inputs.v2g_cost_per_kwh * row["charge_efficiency"],
            )
        if trips[:, j].any():
            n.add("Load", f"trips:{vid}", bus=bus, p_set=series(trips[:, j] / inputs.dt_hours))
    n.sanitize()  # declares the carriers the components use (PyPSA warns about undeclared ones otherwise)
    return n


def pypsa_extra_functionality(inputs: PlanInputs):
    """The rows PyPSA has no component for: storage ratings, station limits, policy targets (a callable for
    ``Network.optimize(extra_functionality=...)``)."""

    def extra(n, snapshots) -> None:
        m = n.model
        links = n.links.index
        if "storage_charger" in links:
            p_nom = m.variables["Link-p_nom"]
            charger = (
                p_nom.sel(name="storage_charger")
                if "storage_charger" in n.links.index[n.links.p_nom_extendable]
                else n.links.at["storage_charger", "p_nom"]
            )
            discharger = p_nom.sel(name="storage_discharger")
            m.add_constraints(discharger * inputs.storage_discharge_efficiency - charger == 0, name="storage-power_tie")
            if "storage" in n.stores.index[n.stores.e_nom_extendable]:
                e_nom = m.variables["Store-e_nom"].sel(name="storage")
                m.add_constraints(charger - inputs.storage_max_c_rate_per_h * e_nom <= 0, name="storage-c_rate")
        w = pd.Series(inputs.weight.to_numpy(float) * inputs.dt_hours, index=n.snapshots)
        chargers = [f"charger:{v}" for v in inputs.vehicles.index]
        charging = (m.variables["Link-p"].sel(name=chargers).sum("name") * w).sum()
        other_kwh = float((inputs.other_load_kw.to_numpy(float) * w.to_numpy()).sum())
        imp = (m.variables["Generator-p"].sel(name="grid_import") * w).sum()
        target = inputs.renewable_share_min
        if target:
            if inputs.renewable_share_basis == "annual":
                res = [g for g in ("pv", "wind") if g in n.generators.index]
                out = (m.variables["Generator-p"].sel(name=res).sum("name") * w).sum()
                m.add_constraints(out - target * charging >= target * other_kwh, name="policy-renewable_share")
            else:
                m.add_constraints(
                    imp - (1 - target) * charging <= (1 - target) * other_kwh, name="policy-renewable_share"
                )
        if inputs.max_grid_import_kwh is not None:
            m.add_constraints(inputs.opex_scale * imp <= inputs.max_grid_import_kwh, name="policy-grid_import")

    return extra
