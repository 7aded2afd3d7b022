"""Key figures of a dispatch: annual costs [currency/year], energy balance [kWh/year], emissions [kg CO2e/year]
and the KPIs a town asks for, each with its value, unit and definition.

:mod:`chisan.plan.results` re-exports every public name here (``key_figures``, ``cost_table``,
``mobility_per_year``, ``DELIVERED_HYDROGEN_CO2_KG_PER_KG``), so callers import them from either module.

Definitions (the report prints them next to the figures):

- net annual renewable balance (``renewable_share_annual``) = (PV + wind output, used or exported) / energy drawn
  for charging (and by electrolyser and compressor, with hydrogen): a balance of volumes over the year, not a
  share; it exceeds 100 % when the town produces more than its cars draw, and it is what the annual target
  (``renewable_share_basis = "annual"``) constrains.
- local renewable share of charging = Σ_t min(charging_t, local supply used in the town_t) / Σ_t charging_t,
  hour by hour, with local supply used = PV + wind − export − storage charging + storage discharge (≥ 0):
  the share of the cars' charging really met by local renewables, never above 100 %.
- hourly-matched renewable share = 1 − grid import / (charging + other load): the share of each hour's
  consumption met by local supply (renewables directly or through the storage), summed over the year; this is
  also the system's self-sufficiency (autarky).
- PV self-consumption = 1 − export / renewable output: the share of local generation used in the town.
- scopes: the shared cars' figures (vehicles, km, bookings, trip energy of the served bookings, their charging)
  leave out the depots and the fuel-cell fleet, which have rows of their own; the costs, the chargers, the grid
  and the shares are the whole town's; the cost per km divides the town's cost by the km of every fleet whose
  km are known (shared cars, depots' vehicles, fuel-cell vehicles). Rows of a depot or hydrogen figure appear
  only in a town that has depots or hydrogen.
- scope 2, location-based = Σ_t import_t × grid factor_t; market-based = Σ_t import_t × supplier factor
  (GHG Protocol Scope 2 Guidance, 2015). Local generation counts as zero at the point of use.
- CO2 avoided = what the town would emit without the plan − location-based scope 2 of the plan. Without the plan:
  the shared km driven by private gasoline cars [g/km] (or, when ``baseline.private_car_km_per_year`` is set, the
  private cars not bought, vehicles × substitution factor, × their annual km); the depots' served km run by
  diesel (l/100 km of the class × :data:`chisan.economics.diesel.DIESEL_CO2_KG_PER_L`); the hydrogen the
  electrolyser makes delivered instead (:data:`DELIVERED_HYDROGEN_CO2_KG_PER_KG`; hydrogen bought is bought in
  both and cancels); and the other load from the grid. Each line compares like with like, with grid_x =
  Σ_t x_t × grid factor_t (x drawn from the grid, no local supply):
  by car-sharing = private cars replaced − grid_(shared cars' charging); by the depots = diesel − grid_(depot
  charging); by the hydrogen fleet = delivered hydrogen − grid_(electrolyser and compressor); by local renewables
  = grid_(all of them + other load) − location-based scope 2 (grid import avoided). The four sum to the total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.economics.diesel import DIESEL_CO2_KG_PER_L
from chisan.plan import second_life
from chisan.plan.inputs import PlanInputs
from chisan.plan.site_results import billed_import_kw, site_flow_kw, site_import_kw
from chisan.plan.site_results import step_weights as _weights
from chisan.plan.tariff_constraints import (
    basic_charge_cost,
    contract_kw,
    has_tariff_peak,
)
from chisan.plan.tariffs import grid_energy_bill
from chisan.scenario.schema import Scenario
from chisan.units import capital_recovery_factor

DELIVERED_HYDROGEN_CO2_KG_PER_KG = 9.35
"""CO2 of delivered (grey) hydrogen [kg CO2e/kg H2]: steam methane reforming, direct emissions of 33 US plants.

Cho, Strezov & Evans (2022), "Environmental impact assessment of hydrogen production via steam methane reforming
based on emissions data", Energy Reports 8, 13585-13595 (11.2 with the upstream life cycle). Hydrogen from coal,
common in China, emits more: the figure is a low estimate of what the electrolyser avoids."""


def _annuity(scenario: Scenario, capex: float, lifetime: float) -> float:
    return capex * capital_recovery_factor(scenario.finance.discount_rate_fraction, lifetime)


def cost_table(
    scenario: Scenario,
    inputs: PlanInputs,
    caps: dict[str, float],
    dispatch: pd.DataFrame,
    n_vehicles: int,
    n_chargers: int,
    hydrogen_costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Annualised cost by component [currency/year]: investment (annuity) + fixed O&M, and operation.

    ``caps`` are the capacities [kW, kWh]; ``dispatch`` the per-step flows of
    :func:`chisan.plan.results.dispatch_table`, with an optional ``weight`` column (days represented by a
    typical-day step; 1 for a chronological year).

    The lines marked ``in_objective`` are the terms of the model's objective one by one
    (:func:`chisan.plan.model.objective_costs`, :func:`chisan.plan.solve.evaluate_objective`): capacity annuities
    and fixed O&M, grid import and export, carbon price, battery holding cost (calendar ageing of the energy kept
    in the cars) and V2G wear; their sum is the objective. Chargers and vehicle leases follow the stations and the
    fleet, not the optimisation: they are constants outside the objective. ``total_per_year`` summed over every
    line is the one total cost of the plan (``total_cost_per_year``).
    """
    tech = scenario.technologies
    dt = inputs.dt_hours
    scale = inputs.opex_scale
    w = _weights(dispatch)
    rows = []

    def add(
        component: str, investment: float, fixed_om: float, operation: float, basis: str, in_objective: bool = True
    ) -> None:
        rows.append(
            {
                "component": component,
                "investment_per_year": investment,
                "fixed_om_per_year": fixed_om,
                "operation_per_year": operation,
                "basis": basis,
                "in_objective": in_objective,
            }
        )

    add(
        "PV",
        _annuity(scenario, tech.pv.capex_per_kw * caps["pv_kw"], tech.pv.lifetime_years),
        tech.pv.fixed_om_per_kw_year * caps["pv_kw"],
        0.0,
        f"{caps['pv_kw']:.1f} kW",
    )
    add(
        "Wind",
        _annuity(scenario, tech.wind.capex_per_kw * caps["wind_kw"], tech.wind.lifetime_years),
        tech.wind.fixed_om_per_kw_year * caps["wind_kw"],
        0.0,
        f"{caps['wind_kw']:.1f} kW",
    )
    st = tech.storage
    add(
        "Storage",
        _annuity(
            scenario, st.capex_per_kwh * caps["storage_kwh"] + st.capex_per_kw * caps["storage_kw"], st.lifetime_years
        ),
        st.fixed_om_per_kwh_year * caps["storage_kwh"],
        0.0,
        f"{caps['storage_kwh']:.1f} kWh / {caps['storage_kw']:.1f} kW",
    )
    if (offer := second_life.offer_of(inputs)) is not None:  # SecondLife-kwh × (price × CRF + O&M)
        kwh = float(caps.get("second_life_kwh", 0.0))
        add(
            "Second-life storage",
            offer.price_per_kwh * offer.crf_per_year * kwh,
            offer.fixed_om_per_kwh_year * kwh,
            0.0,
            f"{kwh:.1f} of {offer.offered_kwh:.1f} kWh offered",
        )
    ch = tech.chargers
    add(
        "Chargers",
        _annuity(scenario, ch.capex_per_charger * n_chargers, ch.lifetime_years),
        ch.fixed_om_per_charger_year * n_chargers,
        0.0,
        f"{n_chargers} chargers",
        in_objective=False,
    )
    add(
        "Vehicles (lease)",
        0.0,
        0.0,
        scenario.fleet.lease_per_vehicle_year * n_vehicles,
        f"{n_vehicles} vehicles",
        in_objective=False,
    )
    imp = dispatch["grid_import_kw"].to_numpy(float) * w
    exp = dispatch["grid_export_kw"].to_numpy(float) * w
    if inputs.site_priced:  # every meter at its own tariff's prices (sites.tariff; plan/tariffs.py)
        imp_cost, exp_rev = grid_energy_bill(
            inputs,
            w * dt * scale,
            dispatch["grid_import_kw"].to_numpy(float),
            dispatch["grid_export_kw"].to_numpy(float),
            site_import_kw(inputs, dispatch),
            site_flow_kw(inputs, dispatch, "site_export_kw"),
        )
    else:
        imp_cost = float((imp * dispatch["import_price_per_kwh"].to_numpy(float)).sum() * dt * scale)
        exp_rev = float((exp * dispatch["export_price_per_kwh"].to_numpy(float)).sum() * dt * scale)
    carbon = float(
        (imp * dispatch["emission_factor_kg_per_kwh"].to_numpy(float)).sum() * dt * scale * inputs.carbon_price_per_kg
    )
    add("Grid import", 0.0, 0.0, imp_cost, f"{imp.sum() * dt * scale:,.0f} kWh")
    if has_tariff_peak(inputs):  # the basic charge on the contract kW, 12 months a year (tariff_constraints)
        billed = billed_import_kw(inputs, dispatch)
        contract = contract_kw(inputs, billed)
        rate = inputs.basic_charge_per_kw_month
        basis = f"{contract:,.1f} kW × {rate:,.2f}/kW/month"
        if inputs.site_priced:
            basis = f"{contract:,.1f} kW over {len(inputs.sites)} meters, each at its own tariff's rate"
        elif inputs.per_site:
            basis += f" (sum of {len(inputs.sites)} meters' contracts)"
        add("Basic charge", 0.0, 0.0, basic_charge_cost(inputs, billed), basis)
    add("Grid export", 0.0, 0.0, -exp_rev, f"{exp.sum() * dt * scale:,.0f} kWh")
    add("Carbon price", 0.0, 0.0, carbon, f"{scenario.policy.carbon_price_per_t:,.0f} per t CO2e")
    if inputs.per_site and inputs.links is not None and len(inputs.links):
        # self-wheeling: fee [currency/kWh] × energy carried either way (model.objective_costs, Link-*)
        fee_cost, carried_kwh = 0.0, 0.0
        for name, fee in inputs.links["fee_per_kwh"].astype(float).items():
            col = f"link_carried_kw:{name}"
            kwh = float((dispatch[col].to_numpy(float) * w).sum() * dt * scale) if col in dispatch else 0.0
            fee_cost += kwh * fee
            carried_kwh += kwh
        add("Self-wheeling fee", 0.0, 0.0, fee_cost, f"{carried_kwh:,.0f} kWh carried between sites")
    # battery holding cost: Σ_t w_t Δt k × fleet energy_t [kWh] × cost [currency/kWh/h] (model.objective_costs)
    hold = inputs.vehicle_holding_cost_per_kwh_h
    if "fleet_energy_kwh" in dispatch:
        held_kwh_h = float((dispatch["fleet_energy_kwh"].to_numpy(float) * w).sum() * dt * scale)
        hold_basis = f"{held_kwh_h:,.0f} kWh·h held × {hold:g} per kWh·h"
    else:  # a dispatch without per-vehicle energy (e.g. a reduced plan's aggregate fleet)
        held_kwh_h = 0.0
        hold_basis = "not in this dispatch (no per-vehicle energy)"
    add("Battery holding (calendar ageing)", 0.0, 0.0, held_kwh_h * hold, hold_basis)
    v2g_kwh = float((dispatch["v2g_kw"].to_numpy(float) * w).sum() * dt * scale) if "v2g_kw" in dispatch else 0.0
    add("V2G wear", 0.0, 0.0, v2g_kwh * inputs.v2g_cost_per_kwh, f"{v2g_kwh:,.0f} kWh × {inputs.v2g_cost_per_kwh:g}")
    table = pd.DataFrame(rows).set_index("component")
    if hydrogen_costs is not None:  # electrolyser, store, dispenser, hydrogen bought (chisan.plan.hydrogen_results)
        table = pd.concat([table, hydrogen_costs.drop(columns="total_per_year")])
    table["total_per_year"] = table[["investment_per_year", "fixed_om_per_year", "operation_per_year"]].sum(axis=1)
    return table


def mobility_per_year(bookings: pd.DataFrame, per_year: float) -> dict[str, float]:
    """Per-year mobility figures of assigned bookings: ``km``, ``bookings_served``, ``bookings_unserved``,
    ``trip_energy_kwh``.

    ``bookings`` has ``vehicle_id`` (missing when unserved), ``distance_km`` and ``trip_energy_kwh``;
    ``per_year`` scales the bookings' horizon (and any sample of the town's members) to a whole town-year.
    """
    served = bookings["vehicle_id"].notna()
    return {
        "km": float(bookings.loc[served, "distance_km"].sum()) * per_year,
        "bookings_served": float(served.sum()) * per_year,
        "bookings_unserved": float((~served).sum()) * per_year,
        "trip_energy_kwh": float(bookings.loc[served, "trip_energy_kwh"].sum()) * per_year,
    }


def key_figures(
    scenario: Scenario,
    inputs: PlanInputs,
    caps: dict[str, float],
    dispatch: pd.DataFrame,
    n_vehicles: int,
    n_chargers: int,
    mobility: dict[str, float],
    hydrogen_costs: pd.DataFrame | None = None,
    *,
    depot_charging_kw: np.ndarray | None = None,
    depot_diesel_l_per_year: float = 0.0,
    hydrogen_made_kg_per_year: float = 0.0,
    depot_vehicles: int = 0,
    depot_chargers: int = 0,
    depot_km_per_year: float = 0.0,
    hydrogen_fleet_km_per_year: float = 0.0,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame]:
    """Costs, energy balance, emissions and KPIs of a dispatch, with the definitions of this module's docstring.

    Parameters
    ----------
    scenario : Scenario
    inputs : PlanInputs
        For ``dt_hours``, ``opex_scale``, the carbon price, the market factor and the currency.
    caps : dict[str, float]
        Capacities [kW, kWh].
    dispatch : pd.DataFrame
        Per-step flows (:func:`chisan.plan.results.dispatch_table`), with an optional ``weight`` column (typical days).
    n_vehicles, n_chargers : int
        Fleet of the town.
    mobility : dict[str, float]
        Per year (:func:`mobility_per_year`): ``km``, ``bookings_served``, ``bookings_unserved``,
        ``trip_energy_kwh``.
    depot_charging_kw : numpy.ndarray, optional
        Per step, the part of ``dispatch["charging_kw"]`` drawn by the depots' vehicles [kW]; None = none (all the
        charging is the shared cars').
    depot_diesel_l_per_year : float
        Diesel the depots' served km would take with diesel vehicles [l/year].
    hydrogen_made_kg_per_year : float
        Hydrogen made by the electrolyser [kg/year].
    depot_vehicles, depot_chargers : int
        The depots' vehicles and chargers (included in ``n_chargers``, not in ``n_vehicles``); 0 = no depots,
        and then the depot rows are left out.
    depot_km_per_year, hydrogen_fleet_km_per_year : float
        Distance served by the depots' vehicles and the fuel-cell vehicles [km/year]; with the shared cars' km
        they are the whole town's km that the town's cost per km divides by.

    Returns
    -------
    costs [currency/year], energy_balance [kWh/year], emissions [kg CO2e/year], kpis (value, unit, definition)
    """
    dt = inputs.dt_hours
    scale = inputs.opex_scale
    w = _weights(dispatch)
    costs = cost_table(scenario, inputs, caps, dispatch, n_vehicles, n_chargers, hydrogen_costs)

    def year(col: str) -> float:
        return float((dispatch[col].to_numpy(float) * w).sum() * dt * scale)

    balance = pd.Series(
        {
            "pv_available_kwh": year("pv_available_kw"),
            "wind_available_kwh": year("wind_available_kw"),
            "curtailed_kwh": year("curtailed_kw"),
            "pv_kwh": year("pv_kw"),
            "wind_kwh": year("wind_kw"),
            "grid_import_kwh": year("grid_import_kw"),
            "grid_export_kwh": year("grid_export_kw"),
            "storage_charge_kwh": year("storage_charge_kw"),
            "storage_discharge_kwh": year("storage_discharge_kw"),
            "charging_kwh": year("charging_kw"),
            "v2g_kwh": year("v2g_kw"),
            "other_load_kwh": year("other_load_kw"),
        },
        name="kwh_per_year",
    )
    renewable = balance["pv_kwh"] + balance["wind_kwh"]
    load = balance["charging_kwh"] + balance["other_load_kwh"]
    if "hydrogen_electricity_kw" in dispatch:  # electrolyser + compressor: load, as in the policy row and its check
        balance["hydrogen_electricity_kwh"] = year("hydrogen_electricity_kw")
        load += balance["hydrogen_electricity_kwh"]
    km = mobility["km"]
    n_served = mobility["bookings_served"]
    ef = dispatch["emission_factor_kg_per_kwh"].to_numpy(float)
    scope2_location = float((dispatch["grid_import_kw"].to_numpy(float) * ef * w).sum() * dt * scale)
    scope2_market = balance["grid_import_kwh"] * float(inputs.market_emission_factor_kg_per_kwh)
    base = scenario.baseline
    if base.private_car_km_per_year > 0:
        baseline_km = n_vehicles * base.substitution_factor * base.private_car_km_per_year
        baseline_basis = "private cars not bought × their annual km"
    else:
        baseline_km = km
        baseline_basis = "shared km driven by private gasoline cars instead"
    baseline_kg = baseline_km * base.ice_emission_g_per_km / 1000.0

    def grid_kg(flow_kw: np.ndarray) -> float:  # the flow drawn from the grid, at the hour's factor
        return float((flow_kw * ef * w).sum() * dt * scale)

    depot_kw = np.zeros(len(dispatch)) if depot_charging_kw is None else np.asarray(depot_charging_kw, float)
    shared_grid_kg = grid_kg(dispatch["charging_kw"].to_numpy(float) - depot_kw)
    depot_grid_kg = grid_kg(depot_kw)
    hydrogen_grid_kg = (
        grid_kg(dispatch["hydrogen_electricity_kw"].to_numpy(float)) if "hydrogen_electricity_kw" in dispatch else 0.0
    )
    other_grid_kg = grid_kg(dispatch["other_load_kw"].to_numpy(float))
    grid_only_kg = shared_grid_kg + depot_grid_kg + hydrogen_grid_kg + other_grid_kg
    depot_diesel_kg = depot_diesel_l_per_year * DIESEL_CO2_KG_PER_L  # [kg] = [l] × [kg CO2/l]
    delivered_hydrogen_kg = hydrogen_made_kg_per_year * DELIVERED_HYDROGEN_CO2_KG_PER_KG  # [kg] = [kg H2] × [kg/kg]
    by_car_sharing = baseline_kg - shared_grid_kg
    by_depots = depot_diesel_kg - depot_grid_kg
    by_hydrogen = delivered_hydrogen_kg - hydrogen_grid_kg
    by_renewables = grid_only_kg - scope2_location
    avoided = by_car_sharing + by_depots + by_hydrogen + by_renewables  # = without the plan − scope 2
    charging_kw = dispatch["charging_kw"].to_numpy(float)
    local_kw = np.clip(
        dispatch["pv_kw"].to_numpy(float)
        + dispatch["wind_kw"].to_numpy(float)
        - dispatch["grid_export_kw"].to_numpy(float)
        - dispatch["storage_charge_kw"].to_numpy(float)
        + dispatch["storage_discharge_kw"].to_numpy(float),
        0.0,
        None,
    )
    local_charging_kwh = float((np.minimum(charging_kw, local_kw) * w).sum() * dt * scale)
    emissions = pd.Series(
        {
            "scope2_location_based_kg": scope2_location,
            "scope2_market_based_kg": scope2_market,
            "baseline_private_car_kg": baseline_kg,
            "baseline_depot_diesel_kg": depot_diesel_kg,
            "baseline_delivered_hydrogen_kg": delivered_hydrogen_kg,
            "baseline_other_load_grid_kg": other_grid_kg,
            "avoided_kg": avoided,
            "avoided_by_car_sharing_kg": by_car_sharing,
            "avoided_by_depots_kg": by_depots,
            "avoided_by_hydrogen_fleet_kg": by_hydrogen,
            "avoided_by_local_renewables_kg": by_renewables,
        },
        name="kg_co2e_per_year",
    )
    total_cost = float(costs["total_per_year"].sum())
    system_cost = float(costs.drop(index=["Vehicles (lease)"])["total_per_year"].sum())
    safe = lambda a, b: float(a / b) if b else float("nan")  # noqa: E731
    cur = inputs.currency
    depot_charging_kwh = float((depot_kw * w).sum() * dt * scale)
    has_depots = depot_vehicles > 0 or depot_chargers > 0 or depot_diesel_l_per_year > 0 or depot_charging_kwh > 0
    has_hydrogen = hydrogen_costs is not None
    all_km = km + depot_km_per_year + hydrogen_fleet_km_per_year  # [km/year] every fleet of the town
    fleets = (  # the fleets whose km the town's cost per km divides by
        ["the shared cars"]
        + ["the depots' vehicles"] * (depot_km_per_year > 0)
        + ["the fuel-cell vehicles"] * (hydrogen_fleet_km_per_year > 0)
    )
    fleets_text = ", ".join(fleets[:-1]) + " and " + fleets[-1] if len(fleets) > 1 else fleets[0]
    consumers = (
        ["the shared cars' charging"]
        + ["the depots' charging"] * has_depots
        + ["the electrolyser and compressor"] * has_hydrogen
        + ["the other load"] * bool(balance["other_load_kwh"] > 1e-9)
    )
    consumers_text = ", ".join(consumers[:-1]) + " and " + consumers[-1] if len(consumers) > 1 else consumers[0]
    mixed = has_depots or has_hydrogen  # the town's cost carries more than the car-sharing
    others = " and ".join(["the depots"] * has_depots + ["the hydrogen station"] * has_hydrogen)
    charging_only = len(consumers) == 1 and bool(balance["v2g_kwh"] <= 1e-9)
    rows = [
        ("pv_kw", caps["pv_kw"], "kW", "PV capacity built (DC nameplate)"),
        ("wind_kw", caps["wind_kw"], "kW", "Wind capacity built (rated)"),
        ("storage_kwh", caps["storage_kwh"], "kWh", "Stationary storage energy"),
        ("storage_kw", caps["storage_kw"], "kW", "Stationary storage power"),
        ("vehicles", n_vehicles, "vehicles", "Shared EVs at the car-sharing bases"),
        (
            "chargers",
            n_chargers,
            "chargers",
            (
                f"Chargers of the whole town: {n_chargers - depot_chargers} at the car-sharing bases and "
                f"{depot_chargers} at the depots"
                if depot_chargers
                else "Chargers of the whole town: at the car-sharing bases and the depots"
            )
            if has_depots
            else "Chargers at the car-sharing bases",
        ),
    ]
    if depot_vehicles or depot_chargers:
        rows += [
            ("depot_vehicles", depot_vehicles, "vehicles", "Electric vehicles at the depots (not shared)"),
            ("depot_chargers", depot_chargers, "chargers", "Chargers at the depots (included in the chargers)"),
        ]
    rows += [
        (
            "total_cost_per_year",
            total_cost,
            f"{cur}/year",
            "Annualised cost of the whole town's plan: energy system, chargers"
            + (", hydrogen station" if has_hydrogen else "")
            + ", shared cars' leases, grid",
        ),
        (
            "energy_system_cost_per_year",
            system_cost,
            f"{cur}/year",
            "Annualised cost of the whole town's plan without the shared cars' leases",
        ),
        (
            "cost_per_km",
            safe(total_cost, all_km),
            f"{cur}/km",
            f"Total cost (whole town) / km driven by {fleets_text}"
            if mixed
            else "Total cost per km driven by the shared cars",
        ),
        (
            "energy_cost_per_km",
            safe(system_cost, all_km),
            f"{cur}/km",
            f"Total cost without the shared cars' leases (whole town) / km driven by {fleets_text}"
            if mixed
            else "Energy system and chargers per km driven by the shared cars",
        ),
        (
            "cost_per_booking",
            safe(total_cost, n_served),
            f"{cur}/booking",
            f"Total cost (whole town, {others} included) / car-sharing bookings served"
            if mixed
            else "Total cost per car-sharing booking served",
        ),
        (
            "local_renewable_share_of_charging",
            safe(local_charging_kwh, balance["charging_kwh"]),
            "fraction",
            ("Charging (shared cars and depots)" if has_depots else "Charging")
            + " met by local renewables hour by hour: Σ min(charging, PV + wind − export − storage in + storage "
            "out) / Σ charging (never above 100 %)"
            + (
                "; equal to the consumption met locally hour by hour and to the self-sufficiency here, by "
                "construction: the charging is the town's only consumption and there is no V2G"
                if charging_only
                else ""
            ),
        ),
        (
            "renewable_share_annual",
            safe(renewable, balance["charging_kwh"] + balance.get("hydrogen_electricity_kwh", 0.0)),
            "fraction",
            "Net annual renewable balance: local PV + wind output over the year (used or exported) / energy drawn "
            "for charging"
            + (" and by the electrolyser" if has_hydrogen else "")
            + "; above 100 % when the town produces more than it draws",
        ),
        (
            "renewable_share_hourly_matched",
            1.0 - safe(balance["grid_import_kwh"], load),
            "fraction",
            f"Share of each hour's consumption ({consumers_text}) met by local supply, over the year: 1 − grid "
            "import / consumption; the self-sufficiency is the same figure by construction",
        ),
        (
            "pv_self_consumption",
            1.0 - safe(balance["grid_export_kwh"], renewable),
            "fraction",
            "Share of local renewable output used in the town",
        ),
        (
            "self_sufficiency",
            1.0 - safe(balance["grid_import_kwh"], load),
            "fraction",
            "1 − grid import / consumption: the same figure as the consumption met locally, hour by hour",
        ),
        ("peak_grid_import_kw", float(dispatch["grid_import_kw"].max()), "kW", "Highest import in a step"),
        (
            "charging_kwh_per_year",
            balance["charging_kwh"],
            "kWh/year",
            "Energy drawn from the chargers by the shared cars and the depots' vehicles"
            if has_depots
            else "Energy drawn from the chargers by the shared cars",
        ),
    ]
    if has_depots:
        rows += [
            (
                "car_sharing_charging_kwh_per_year",
                balance["charging_kwh"] - depot_charging_kwh,
                "kWh/year",
                "Energy drawn from the chargers by the shared cars",
            ),
            (
                "depot_charging_kwh_per_year",
                depot_charging_kwh,
                "kWh/year",
                "Energy drawn from the chargers by the depots' vehicles",
            ),
        ]
    rows += [
        (
            "trip_energy_kwh_per_year",
            mobility["trip_energy_kwh"],
            "kWh/year",
            "Energy the shared cars' trips took from the batteries (served bookings only)",
        ),
        ("km_per_year", km, "km/year", "Distance of the car-sharing bookings served"),
    ]
    if depot_km_per_year > 0:
        rows.append(("depot_km_per_year", depot_km_per_year, "km/year", "Distance driven by the depots' vehicles"))
    if hydrogen_fleet_km_per_year > 0:
        rows.append(
            ("hydrogen_fleet_km_per_year", hydrogen_fleet_km_per_year, "km/year", "Distance of the fuel-cell vehicles")
        )
    rows += [
        ("bookings_served", n_served, "bookings/year", "Car-sharing bookings given a vehicle"),
        (
            "bookings_unserved",
            mobility["bookings_unserved"],
            "bookings/year",
            "Car-sharing bookings no vehicle could take (the reason of each: bookings.csv, column unserved_reason)",
        ),
        ("scope2_location_kg", scope2_location, "kg CO2e/year", "Grid import × hourly grid factor"),
        ("scope2_market_kg", scope2_market, "kg CO2e/year", "Grid import × supplier factor"),
        (
            "co2_avoided_kg",
            avoided,
            "kg CO2e/year",
            f"Without the plan (private cars: {baseline_basis}"
            + ("; depots on diesel" if has_depots else "")
            + ("; the hydrogen made delivered" if has_hydrogen else "")
            + ("; the other load from the grid" if balance["other_load_kwh"] > 1e-9 else "")
            + ") − location-based scope 2; the sum of the rows below",
        ),
        (
            "co2_avoided_by_car_sharing_kg",
            by_car_sharing,
            "kg CO2e/year",
            "Private cars replaced − the shared cars' charging from the grid (hourly grid factor)",
        ),
    ]
    if has_depots:
        rows.append(
            (
                "co2_avoided_by_depots_kg",
                by_depots,
                "kg CO2e/year",
                f"Depot vehicles on diesel ({DIESEL_CO2_KG_PER_L:g} kg CO2/l) − their charging from the grid",
            )
        )
    if has_hydrogen:
        rows.append(
            (
                "co2_avoided_by_hydrogen_fleet_kg",
                by_hydrogen,
                "kg CO2e/year",
                f"The hydrogen made, delivered instead ({DELIVERED_HYDROGEN_CO2_KG_PER_KG:g} kg CO2/kg, natural-gas "
                "reforming) − the electrolyser's and compressor's electricity from the grid",
            )
        )
    rows += [
        (
            "co2_avoided_by_local_renewables_kg",
            by_renewables,
            "kg CO2e/year",
            f"Grid avoided: all the consumption from the grid ({consumers_text}) − location-based scope 2",
        ),
        (
            "private_cars_replaced",
            n_vehicles * base.substitution_factor,
            "cars",
            "Shared vehicles × substitution factor",
        ),
    ]
    if has_tariff_peak(inputs):
        contract = contract_kw(inputs, billed_import_kw(inputs, dispatch))
        what = "sum over the sites' meters of each one's" if inputs.per_site else ""
        rows.append(
            (
                "contract_kw",
                contract,
                "kW",
                f"Contract kW of the basic charge: {what} highest 30-minute demand".replace("  ", " "),
            )
        )
    kpis = pd.DataFrame(rows, columns=["kpi", "value", "unit", "definition"]).set_index("kpi")
    return costs, balance, emissions, kpis
