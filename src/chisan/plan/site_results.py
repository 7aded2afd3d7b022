"""Each metered site's flows and bill from a plan's dispatch table: import, export and demand per site [kW], the
per-step weights of a table, and the sites table of the results and the report (tariff, PV, storage, energy per
year, peak and contract [kW, kWh], bill [currency/year])."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.plan.inputs import PlanInputs
from chisan.plan.solve import Solution
from chisan.plan.tariff_constraints import (
    basic_charge_per_kw,
    demand_kw,
    has_tariff_peak,
    site_contract_kw,
)
from chisan.plan.tariffs import TOWN_PRICES


def site_import_kw(inputs: PlanInputs, dispatch: pd.DataFrame) -> np.ndarray | None:
    """Import of every metered site [kW], steps × sites, from the dispatch table (None with one meter)."""
    if not inputs.per_site:
        return None
    cols = [f"site_import_kw:{x}" for x in inputs.sites.index.astype(str)]
    if not all(c in dispatch for c in cols):
        return None
    return dispatch[cols].to_numpy(float)


def site_flow_kw(inputs: PlanInputs, dispatch: pd.DataFrame, prefix: str) -> np.ndarray | None:
    """A flow of every metered site [kW], steps × sites, from the dispatch's ``<prefix>:<site>`` columns."""
    if not inputs.per_site:
        return None
    cols = [f"{prefix}:{x}" for x in inputs.sites.index.astype(str)]
    return dispatch[cols].to_numpy(float) if all(c in dispatch for c in cols) else None


def billed_import_kw(inputs: PlanInputs, dispatch: pd.DataFrame) -> np.ndarray:
    """The import the basic charge is billed on: per site (steps × sites) when metered, else the town's [kW]."""
    per_site = site_import_kw(inputs, dispatch)
    return dispatch["grid_import_kw"].to_numpy(float) if per_site is None else per_site


def step_weights(dispatch: pd.DataFrame) -> np.ndarray:
    """Per-step weights of a dispatch table: its ``weight`` column, or 1 for a chronological year."""
    if "weight" in dispatch:
        return dispatch["weight"].to_numpy(float)
    return np.ones(len(dispatch))


def site_table(
    inputs: PlanInputs,
    solution: Solution,
    dispatch: pd.DataFrame,
    charge: pd.DataFrame,
    town_tariff: str = TOWN_PRICES,
) -> pd.DataFrame | None:
    """What each metered site has, draws and pays: its tariff (``town_tariff`` unless it has its own), PV, storage,
    energy per year, demand peak and contract [kW, kWh], and its bill (:func:`site_bills`) [currency/year]."""
    if not inputs.per_site:
        return None
    dt, scale = inputs.dt_hours, inputs.opex_scale
    names = pd.Index(inputs.sites.index.astype(str), name="site")
    station_site = inputs.stations["site"].astype(str)
    veh_site = station_site.reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
    charging = charge.T.groupby(veh_site).sum().T.reindex(columns=names).fillna(0.0)
    imp = site_import_kw(inputs, dispatch)
    if imp is None:
        imp = np.zeros((len(dispatch), len(names)))

    def per_year(prefix: str) -> np.ndarray:
        cols = [f"{prefix}:{x}" for x in names]
        return dispatch[cols].to_numpy(float).sum(axis=0) * dt * scale if all(c in dispatch for c in cols) else 0.0

    pv = solution.site_pv_kw.reindex(names).fillna(0.0) if solution.site_pv_kw is not None else 0.0
    caps = solution.capacities
    if solution.site_storage is not None:
        storage = solution.site_storage.reindex(names).fillna(0.0)
    else:  # one storage site holds the town's storage
        one = [caps["storage_kwh"] if x in set(inputs.storage_sites[:1]) else 0.0 for x in names]
        storage = pd.DataFrame({"storage_kwh": one, "storage_kw": np.sign(one) * caps["storage_kw"]}, index=names)
    table = pd.DataFrame(
        {
            "stations": [", ".join(station_site.index[station_site == x].astype(str)) for x in names],
            "vehicles": pd.Series(veh_site).value_counts().reindex(names).fillna(0).astype(int).to_numpy(),
            "pv_max_kw": inputs.sites["pv_max_kw"].to_numpy(float),
            "pv_kw": pv,
            "storage_max_kwh": inputs.sites["storage_max_kwh"].to_numpy(float),
            "storage_kwh": storage["storage_kwh"].to_numpy(float),
            "storage_kw": storage["storage_kw"].to_numpy(float),
            "wind_kw": [caps["wind_kw"] if x == inputs.wind_site else 0.0 for x in names],
            "pv_kwh_per_year": per_year("site_pv_kw"),
            "import_kwh_per_year": per_year("site_import_kw"),
            "export_kwh_per_year": per_year("site_export_kw"),
            "charging_kwh_per_year": charging.to_numpy(float).sum(axis=0) * dt * scale,
            "peak_demand_kw": [float(demand_kw(imp[:, j], dt).max()) if len(imp) else 0.0 for j in range(len(names))],
        },
        index=names,
    )
    table.insert(0, "tariff", inputs.site_tariffs["tariff"].to_numpy() if inputs.site_priced else town_tariff)
    if has_tariff_peak(inputs):
        table["contract_kw"] = site_contract_kw(inputs, imp)
    table = table.join(site_bills(inputs, dispatch, imp))
    return table


def site_bills(inputs: PlanInputs, dispatch: pd.DataFrame, site_import: np.ndarray) -> pd.DataFrame:
    """Each metered site's grid bill [currency/year]: energy charge, basic charge, export remuneration.

    Prices are the site's own tariff's (``sites.tariff``) or the town's; the energy is Σ_t w_t Δt k price_t ×
    power_t at the meter, the basic charge the site's rate × months billed × its contract kW (tariff_constraints).
    Their sums over the sites are the cost table's ``Grid import``, ``Basic charge`` and ``Grid export`` lines.
    """
    names = pd.Index(inputs.sites.index.astype(str), name="site")
    hours = step_weights(dispatch) * inputs.dt_hours * inputs.opex_scale
    exp = site_flow_kw(inputs, dispatch, "site_export_kw")
    if exp is None:
        exp = np.zeros_like(site_import)
    if inputs.site_priced:
        imp_price = inputs.site_import_price_per_kwh.to_numpy(float)
        exp_price = inputs.site_export_price_per_kwh.to_numpy(float)
    else:
        imp_price = inputs.import_price_per_kwh.to_numpy(float)[:, None]
        exp_price = inputs.export_price_per_kwh.to_numpy(float)[:, None]
    bills = pd.DataFrame(
        {
            "energy_charge_per_year": (hours[:, None] * site_import * imp_price).sum(axis=0),
            "basic_charge_per_year": 0.0,
            "export_revenue_per_year": (hours[:, None] * exp * exp_price).sum(axis=0),
        },
        index=names,
    )
    if has_tariff_peak(inputs):
        rate = basic_charge_per_kw(inputs)
        bills["basic_charge_per_year"] = np.broadcast_to(rate, len(names)) * site_contract_kw(inputs, site_import)
    return bills
