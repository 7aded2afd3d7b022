"""Results of the hydrogen station: electrolyser operation, hydrogen made vs bought, its cost per kg and its
renewable share (chisan.plan.hydrogen). Inside the model hydrogen is in kWh of LHV; here it is in kg.

Definitions (per year: the horizon's sums × ``opex_scale``):

- full-load hours [h/year] = Σ_t p_t Δt w_t × k / P (electric input over capacity);
- renewable fraction of the station's electricity in step t = local_t / (local_t + grid_t), local = the site's PV
  output (+ wind and storage discharge when they are behind the same meter), grid = the site's import and the
  inflow from other sites (pro-rata attribution per step; with one town meter the town's PV, wind, storage and
  V2G against its import). Hydrogen from local renewables = Σ_t made_t × that fraction; bought hydrogen counts as
  not local.
- levelised cost of hydrogen [currency/kg] = (annualised electrolyser, store and dispenser + the electricity at its
  marginal value + hydrogen bought) / kg dispensed; the marginal value of electricity is the dual of the site's
  (or town's) electricity balance (PyPSA's statistics value flows at the bus's marginal price the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.plan.hydrogen import ELECTRICITY_PRICE, LHV_KWH_PER_KG, electricity_drawn_kw


@dataclass
class HydrogenResults:
    """Hydrogen tables of a solved plan.

    Attributes
    ----------
    hourly : pandas.DataFrame
        Per step: ``electrolyser_kw`` and ``electricity_kw`` (with the compressor) [kW], ``produced_kg_per_h``,
        ``bought_kg_per_h``, ``dispensed_kg_per_h`` [kg/h], ``stock_kg`` [kg], ``renewable_fraction`` [-],
        ``electricity_value_per_kwh`` [currency/kWh].
    figures : pandas.DataFrame
        Key figures by machine name (the index, units in it): ``label`` (the name for people), ``value``,
        ``unit``, ``definition``.
    costs : pandas.DataFrame
        Cost lines in the layout of :func:`chisan.plan.results.cost_table` [currency/year].
    vehicles : pandas.DataFrame
        Per fuel-cell vehicle: fleet, duties in the horizon, km and kg per year, tank [kg].
    """

    hourly: pd.DataFrame
    figures: pd.DataFrame
    costs: pd.DataFrame
    vehicles: pd.DataFrame

    def figure(self, name: str) -> float:
        """The value of one key figure."""
        return float(self.figures.loc[name, "value"])

    def fleet_km_per_year(self) -> float:
        """Distance of the fuel-cell vehicles [km/year] (0 when their duties carry no distance)."""
        return float(self.vehicles["km_per_year"].sum()) if "km_per_year" in self.vehicles else 0.0


def _renewable_fraction(inputs, values: dict[str, np.ndarray]) -> np.ndarray:
    """Share of the hydrogen site's (or town's) electricity from local production, per step [-]."""
    n = len(inputs.snapshots)
    zeros = np.zeros(n)
    h = inputs.hydrogen
    if inputs.per_site and "Site-import_kw" in values:
        sites = [str(x) for x in inputs.sites.index]
        k = sites.index(str(h.site))
        local = values["Site-pv_output_kw"][:, k] if "Site-pv_output_kw" in values else zeros.copy()
        if str(inputs.wind_site) == str(h.site):
            local = local + values.get("Wind-output_kw", zeros)
        if str(inputs.storage_site) == str(h.site):
            local = local + values.get("Storage-discharge_kw", zeros)
        grid = values["Site-import_kw"][:, k].copy()
        if "Link-forward_kw" in values and inputs.links is not None:
            to = (inputs.links["site1"].astype(str) == str(h.site)).to_numpy(float)
            frm = (inputs.links["site0"].astype(str) == str(h.site)).to_numpy(float)
            grid = grid + values["Link-forward_kw"] @ to + values["Link-backward_kw"] @ frm
    else:
        local = values.get("PV-output_kw", zeros) + values.get("Wind-output_kw", zeros)
        local = local + values.get("Storage-discharge_kw", zeros)
        if "Vehicle-discharge_kw" in values:
            local = local + values["Vehicle-discharge_kw"].sum(axis=1)
        grid = values.get("Grid-import_kw", zeros)
    total = local + grid
    return np.divide(local, total, out=np.zeros(n), where=total > 1e-9)


def hydrogen_results(inputs, solution) -> HydrogenResults | None:
    """Hydrogen tables and key figures of a solved plan (None without hydrogen)."""
    h = getattr(inputs, "hydrogen", None)
    if h is None:
        return None
    v = solution.values
    caps = solution.hydrogen_capacities or {}
    n = len(inputs.snapshots)
    zeros = np.zeros(n)
    dt = inputs.dt_hours
    w = inputs.weight.to_numpy(float)
    per_year = w * dt * inputs.opex_scale  # [h/year] each step stands for
    p = v.get("Hydrogen-electrolyser_kw", zeros)
    elec = electricity_drawn_kw(inputs, v)
    made = h.efficiency * p / LHV_KWH_PER_KG  # [kg/h]
    bought = v.get("Hydrogen-bought_kw", zeros) / LHV_KWH_PER_KG
    dispensed = v["Hydrogen-dispense_kw"].sum(axis=1) / LHV_KWH_PER_KG if "Hydrogen-dispense_kw" in v else zeros
    stock = v.get("Hydrogen-store_energy_kwh", zeros) / LHV_KWH_PER_KG
    fraction = _renewable_fraction(inputs, v)
    value = v.get(ELECTRICITY_PRICE, zeros)  # [currency/year per kW in that step]
    value_per_kwh = np.divide(value, per_year, out=np.zeros(n), where=per_year > 0)
    hourly = pd.DataFrame(
        {
            "electrolyser_kw": p,
            "electricity_kw": elec,
            "produced_kg_per_h": made,
            "bought_kg_per_h": bought,
            "dispensed_kg_per_h": dispensed,
            "stock_kg": stock,
            "renewable_fraction": fraction,
            "electricity_value_per_kwh": value_per_kwh,
        },
        index=pd.Index(inputs.snapshots, name="time"),
    )
    made_kg = float((made * per_year).sum())
    bought_kg = float((bought * per_year).sum())
    dispensed_kg = float((dispensed * per_year).sum())
    renewable_kg = float((made * fraction * per_year).sum())
    elec_kwh = float((elec * per_year).sum())
    cap_kw = caps.get("electrolyser_kw", 0.0)
    flh = float((p * per_year).sum() / cap_kw) if cap_kw > 1e-9 else 0.0
    currency = inputs.currency
    cost_rows = []
    for component, name, basis in (
        ("Electrolyser", "electrolyser_kw", f"{cap_kw:,.1f} kW, {flh:,.0f} full-load h/year, stack replacements in"),
        ("Hydrogen store", "h2_storage_kwh", f"{caps.get('h2_storage_kwh', 0.0) / LHV_KWH_PER_KG:,.1f} kg"),
        ("Hydrogen dispenser", "h2_dispenser_kw", f"{caps.get('h2_dispenser_kw', 0.0) / LHV_KWH_PER_KG:,.1f} kg/h"),
    ):
        cost_rows.append(
            {
                "component": component,
                "investment_per_year": h.capacities[name].annual_cost_per_unit * caps.get(name, 0.0),
                "fixed_om_per_year": 0.0,
                "operation_per_year": 0.0,
                "basis": basis,
                "in_objective": True,
            }
        )
    bought_cost = bought_kg * (h.bought_price_per_kwh or 0.0) * LHV_KWH_PER_KG
    cost_rows.append(
        {
            "component": "Hydrogen bought",
            "investment_per_year": 0.0,
            "fixed_om_per_year": 0.0,
            "operation_per_year": bought_cost,
            "basis": f"{bought_kg:,.0f} kg",
            "in_objective": True,
        }
    )
    costs = pd.DataFrame(cost_rows).set_index("component")
    costs["total_per_year"] = costs[["investment_per_year", "fixed_om_per_year", "operation_per_year"]].sum(axis=1)
    electricity_cost = float((value * elec).sum())
    lcoh = (float(costs["total_per_year"].sum()) + electricity_cost) / dispensed_kg if dispensed_kg > 0 else np.nan
    supplied = made_kg + bought_kg
    figures = pd.DataFrame(
        [
            (
                "electrolyser_kw",
                "Electrolyser",
                cap_kw,
                "kW",
                "Electrolyser capacity to build (electricity in)",
            ),
            (
                "electrolyser_full_load_hours",
                "Electrolyser full-load hours",
                flh,
                "h/year",
                "Electricity the electrolyser takes in a year / its capacity",
            ),
            (
                "hydrogen_storage_kg",
                "Hydrogen store",
                caps.get("h2_storage_kwh", 0.0) / LHV_KWH_PER_KG,
                "kg",
                "Hydrogen store to build (usable hydrogen)",
            ),
            (
                "dispenser_kg_per_h",
                "Dispenser",
                caps.get("h2_dispenser_kw", 0.0) / LHV_KWH_PER_KG,
                "kg/h",
                "Dispenser capacity to build (hydrogen it can fill in an hour)",
            ),
            (
                "hydrogen_dispensed_kg_per_year",
                "Hydrogen dispensed",
                dispensed_kg,
                "kg/year",
                "Hydrogen filled into the fuel-cell vehicles",
            ),
            (
                "hydrogen_produced_kg_per_year",
                "Hydrogen made",
                made_kg,
                "kg/year",
                "Hydrogen the electrolyser makes",
            ),
            (
                "hydrogen_from_local_renewables_kg_per_year",
                "Hydrogen made from local renewables",
                renewable_kg,
                "kg/year",
                "Hydrogen made × the local renewable share of the electrolyser's electricity, step by step",
            ),
            (
                "hydrogen_from_grid_kg_per_year",
                "Hydrogen made from grid electricity",
                made_kg - renewable_kg,
                "kg/year",
                "Hydrogen made × the grid's share of the electrolyser's electricity, step by step",
            ),
            (
                "hydrogen_bought_kg_per_year",
                "Hydrogen bought",
                bought_kg,
                "kg/year",
                "Hydrogen delivered to the station at the bought price",
            ),
            (
                "hydrogen_renewable_share_fraction",
                "Renewable share of the hydrogen",
                renewable_kg / supplied if supplied > 0 else 0.0,
                "fraction",
                "Hydrogen made from local renewables / all the hydrogen made and bought",
            ),
            (
                "hydrogen_electricity_kwh_per_year",
                "Electricity for hydrogen",
                elec_kwh,
                "kWh/year",
                "Electricity the electrolyser and the compressor draw",
            ),
            (
                "hydrogen_electricity_value_per_year",
                "Value of that electricity",
                electricity_cost,
                f"{currency}/year",
                "That electricity at its marginal value in each step (dual of the site's electricity balance)",
            ),
            (
                "levelised_cost_of_hydrogen_per_kg",
                "Levelised cost of hydrogen",
                lcoh,
                f"{currency}/kg",
                "(Electrolyser, store and dispenser annualised + electricity value + hydrogen bought) / kg dispensed",
            ),
        ],
        columns=["name", "label", "value", "unit", "definition"],
    ).set_index("name")
    vehicles = h.vehicles.copy()
    vehicles["tank_kg"] = vehicles["tank_kwh"] / LHV_KWH_PER_KG
    if h.duties is not None and len(h.duties):
        by = h.duties.groupby(h.duties["vehicle"].astype(str))
        vehicles["duties_in_horizon"] = by.size().reindex(vehicles.index).fillna(0).astype(int)
        if "distance_km" in h.duties:
            vehicles["km_per_year"] = by["distance_km"].sum().reindex(vehicles.index).fillna(0.0) * inputs.opex_scale
        vehicles["hydrogen_kg_per_year"] = by["hydrogen_kg"].sum().reindex(vehicles.index).fillna(0.0) * (
            inputs.opex_scale
        )
    vehicles = vehicles.drop(columns=["tank_kwh", "max_fill_kw"])
    return HydrogenResults(hourly=hourly, figures=figures, costs=costs, vehicles=vehicles)
