"""PlanResults: the solved plan as tables with units, and the key figures (KPIs) a town asks for.

The key figures, their definitions (the report prints them next to the figures) and the cost table are in
:mod:`chisan.plan.key_figures`; this module re-exports them, so ``chisan.plan.results.key_figures`` and the
other names still import from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.plan import second_life
from chisan.plan.hydrogen_results import HydrogenResults, hydrogen_results
from chisan.plan.inputs import KEPT_CHARGING, PlanInputs
from chisan.plan.key_figures import (  # noqa: F401  (re-exported: results.key_figures, results.cost_table etc.)
    DELIVERED_HYDROGEN_CO2_KG_PER_KG,
    cost_table,
    key_figures,
    mobility_per_year,
)
from chisan.plan.site_results import (  # noqa: F401  (re-exported: results.site_table etc.)
    billed_import_kw,
    site_bills,
    site_flow_kw,
    site_import_kw,
    site_table,
)
from chisan.plan.solve import Solution, evaluate_objective
from chisan.plan.tariffs import TOWN_PRICES
from chisan.scenario.schema import Scenario

DISPATCH_COLUMNS = {
    "PV-output_kw": "pv_kw",
    "Wind-output_kw": "wind_kw",
    "Storage-discharge_kw": "storage_discharge_kw",
    "Storage-charge_kw": "storage_charge_kw",
    "Storage-energy_kwh": "storage_energy_kwh",
    "Grid-import_kw": "grid_import_kw",
    "Grid-export_kw": "grid_export_kw",
}
"""Model variables → columns of the hourly dispatch table (units in the names)."""


@dataclass
class PlanResults:
    """A solved plan in tables, every column with its unit.

    Attributes
    ----------
    capacities : pd.Series
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw`` [kW, kWh].
    dispatch : pd.DataFrame
        Hourly (per step) system dispatch: available and used PV/wind, storage, grid, charging, V2G [kW];
        storage energy [kWh]; prices [currency/kWh]; grid factor [kg CO2e/kWh].
    vehicle_charge_kw, vehicle_energy_kwh : pd.DataFrame
        Per vehicle (columns) and step: charging power at the plug [kW] and battery energy after the step [kWh].
    stations : pd.DataFrame
        Per station: vehicles, chargers, charger power [kW], charging energy [kWh/year], peak charging [kW].
    costs : pd.DataFrame
        Annualised cost by component [currency/year] with investment and operation parts.
    kpis : pd.DataFrame
        Key figures: ``value``, ``unit``, ``definition``.
    energy_balance : pd.Series
        Annual energy flows [kWh/year].
    emissions : pd.Series
        Annual emissions and avoided emissions [kg CO2e/year].
    method : dict
        How the plan was solved (method, typical days, windows, gap bounds, timings).
    sites : pd.DataFrame or None
        Per metered site (``grid.topology = "per_site"``): stations, vehicles, roof limit and PV [kW], storage
        limit and storage [kWh, kW], import, export, PV output and charging [kWh/year], highest 30-minute
        demand and contract [kW].
        None with one town meter.
    hydrogen : chisan.plan.hydrogen_results.HydrogenResults or None
        Electrolyser operation, hydrogen made / bought / dispensed [kg], its cost per kg and renewable share.
    """

    capacities: pd.Series
    dispatch: pd.DataFrame
    vehicle_charge_kw: pd.DataFrame
    vehicle_energy_kwh: pd.DataFrame
    stations: pd.DataFrame
    costs: pd.DataFrame
    kpis: pd.DataFrame
    energy_balance: pd.Series
    emissions: pd.Series
    method: dict = field(default_factory=dict)
    sites: pd.DataFrame | None = None
    hydrogen: HydrogenResults | None = None

    def kpi(self, name: str) -> float:
        """The value of one KPI."""
        return float(self.kpis.loc[name, "value"])


def dispatch_table(inputs: PlanInputs, solution: Solution) -> pd.DataFrame:
    """The per-step system dispatch as one table [kW, kWh, currency/kWh, kg CO2e/kWh]."""
    n = len(inputs.snapshots)
    v = solution.values
    table = pd.DataFrame(index=inputs.snapshots)
    table.index.name = "time"
    caps = solution.capacities
    table["pv_available_kw"] = caps["pv_kw"] * inputs.pv_kw_per_kw.to_numpy(float)
    table["wind_available_kw"] = caps["wind_kw"] * inputs.wind_kw_per_kw.to_numpy(float)
    for var, col in DISPATCH_COLUMNS.items():
        table[col] = v[var] if var in v else np.zeros(n)
    table["charging_kw"] = v["Vehicle-charge_kw"].sum(axis=1) if "Vehicle-charge_kw" in v else 0.0
    table["v2g_kw"] = v["Vehicle-discharge_kw"].sum(axis=1) if "Vehicle-discharge_kw" in v else 0.0
    table["fleet_energy_kwh"] = v["Vehicle-energy_kwh"].sum(axis=1) if "Vehicle-energy_kwh" in v else 0.0
    table["other_load_kw"] = inputs.other_load_kw.to_numpy(float)
    if (kept := inputs.extra.get(KEPT_CHARGING)) is not None:  # kept charging is charging, not other load
        table["charging_kw"] = table["charging_kw"] + kept
        table["other_load_kw"] = table["other_load_kw"] - kept
    if "SecondLife-charge_kw" in v:  # second-life storage summed over its sites (plan/second_life.py)
        columns = ("second_life_energy_kwh", "second_life_charge_kw", "second_life_discharge_kw")
        for var, col in zip(second_life.VARIABLES, columns, strict=True):
            table[col] = v[var].sum(axis=1)
    table["curtailed_kw"] = (
        table["pv_available_kw"] + table["wind_available_kw"] - table["pv_kw"] - table["wind_kw"]
    ).clip(lower=0)
    table["import_price_per_kwh"] = inputs.import_price_per_kwh.to_numpy(float)
    table["export_price_per_kwh"] = inputs.export_price_per_kwh.to_numpy(float)
    table["emission_factor_kg_per_kwh"] = inputs.emission_factor_kg_per_kwh.to_numpy(float)
    if inputs.temp_air_c is not None:
        table["temp_air_c"] = inputs.temp_air_c.to_numpy(float)
    if inputs.per_site:  # every meter's flows: site_import_kw:<site>, site_export_kw:<site>, site_pv_kw:<site>
        sites = list(inputs.sites.index.astype(str))
        for var, col in (
            ("Site-import_kw", "site_import_kw"),
            ("Site-export_kw", "site_export_kw"),
            ("Site-pv_output_kw", "site_pv_kw"),
        ):
            values = v.get(var, np.zeros((n, len(sites))))
            for j, site in enumerate(sites):
                table[f"{col}:{site}"] = values[:, j]
        if "Site-storage_energy_kwh" in v:  # each storage site's energy [kWh]
            for j, site in enumerate(inputs.storage_sites):
                table[f"site_storage_energy_kwh:{site}"] = v["Site-storage_energy_kwh"][:, j]
    if "Link-forward_kw" in v and inputs.links is not None:  # power carried on each link, either direction
        for j, name in enumerate(inputs.links.index.astype(str)):
            table[f"link_kw:{name}"] = v["Link-forward_kw"][:, j] - v["Link-backward_kw"][:, j]
            table[f"link_carried_kw:{name}"] = v["Link-forward_kw"][:, j] + v["Link-backward_kw"][:, j]
    return table


def build_results(scenario: Scenario, inputs: PlanInputs, solution: Solution, assignment) -> PlanResults:
    """Tables and KPIs of a solved plan.

    Parameters
    ----------
    scenario : Scenario
    inputs : PlanInputs
        The chronological, per-vehicle inputs the solution is for.
    solution : Solution
    assignment : chisan.mobility.fleet.FleetAssignment
        Bookings with their vehicles (served / unserved, distances).
    """
    dt = inputs.dt_hours
    scale = inputs.opex_scale
    dispatch = dispatch_table(inputs, solution)
    vids = inputs.vehicles.index
    charge = pd.DataFrame(
        solution.values.get("Vehicle-charge_kw", np.zeros((len(dispatch), len(vids)))),
        index=dispatch.index,
        columns=vids,
    )
    energy = pd.DataFrame(
        solution.values.get("Vehicle-energy_kwh", np.zeros((len(dispatch), len(vids)))),
        index=dispatch.index,
        columns=vids,
    )
    per_station = charge.T.groupby(inputs.vehicles["station"]).sum().T
    stations = pd.DataFrame(
        {
            "vehicles": inputs.vehicles.groupby("station").size().reindex(inputs.stations.index).fillna(0).astype(int),
            "chargers": inputs.stations["chargers"].astype(int),
            "charger_kw": inputs.stations["charger_kw"],
            "charging_kwh_per_year": (per_station.sum() * dt * scale).reindex(inputs.stations.index).fillna(0.0),
            "peak_charging_kw": per_station.max().reindex(inputs.stations.index).fillna(0.0),
        }
    )
    # car-sharing figures (vehicle leases, km and the private-car baseline) leave out the depots' trucks and shifts;
    # every charger, depots' included, is costed (chisan.economics.diesel compares the depots with diesel)
    cars = stations.index.isin([s.name for s in scenario.stations])
    bookings = assignment.bookings[assignment.bookings["station"].isin(stations.index[cars])]
    hydrogen = hydrogen_results(inputs, solution)
    if hydrogen is not None:  # a load on the bus next to the charging (chisan.plan.hydrogen)
        dispatch["hydrogen_electricity_kw"] = hydrogen.hourly["electricity_kw"].to_numpy()
    reused = solution.details.get("second_life") or {}
    depot_vehicles = ~inputs.vehicles["station"].isin(stations.index[cars]).to_numpy()
    served = assignment.bookings[assignment.bookings["vehicle_id"].notna()]
    depot_km = served.groupby("station")["distance_km"].sum() * scale  # [km/year]
    diesel_l = sum(  # [l] = [km] × [l/100 km] / 100, as chisan.economics.diesel
        float(depot_km.get(d.name, 0.0)) * vehicle_class(d.vehicle_class).diesel_l_per_100km / 100.0
        for d in scenario.depots
    )
    costs, balance, emissions, kpis = key_figures(
        scenario,
        inputs,
        {**solution.capacities, "second_life_kwh": float(reused.get("used_kwh", 0.0))},
        dispatch,
        int(stations.loc[cars, "vehicles"].sum()),
        int(stations["chargers"].sum()),
        mobility_per_year(bookings, scale),
        hydrogen_costs=None if hydrogen is None else hydrogen.costs,
        depot_charging_kw=charge.loc[:, depot_vehicles].sum(axis=1).to_numpy(float),
        depot_diesel_l_per_year=diesel_l,
        hydrogen_made_kg_per_year=0.0 if hydrogen is None else hydrogen.figure("hydrogen_produced_kg_per_year"),
        depot_vehicles=int(stations.loc[~cars, "vehicles"].sum()),
        depot_chargers=int(stations.loc[~cars, "chargers"].sum()),
        depot_km_per_year=float(sum(float(depot_km.get(d.name, 0.0)) for d in scenario.depots)),
        hydrogen_fleet_km_per_year=0.0 if hydrogen is None else hydrogen.fleet_km_per_year(),
    )
    town = scenario.grid.tariff
    town_tariff = TOWN_PRICES if town is None else (town if isinstance(town, str) else town.name)
    sites = site_table(inputs, solution, dispatch, charge, town_tariff)
    method = {
        "method": solution.method,
        **solution.details,
        "objective_evaluated": evaluate_objective(inputs, solution),
    }
    return PlanResults(
        capacities=pd.Series(solution.capacities, name="capacity"),
        dispatch=dispatch,
        vehicle_charge_kw=charge,
        vehicle_energy_kwh=energy,
        stations=stations,
        costs=costs,
        kpis=kpis,
        energy_balance=balance,
        emissions=emissions,
        method=method,
        sites=sites,
        hydrogen=hydrogen,
    )


def with_method(results: PlanResults, **extra) -> PlanResults:
    """A copy with more method details (e.g. the check report or the gap)."""
    return dataclasses.replace(results, method={**results.method, **extra})
