"""From a scenario to the inputs of the planning model (:class:`~chisan.plan.inputs.PlanInputs`).

Stages, in order: the time index of the planned year; the weather on it (file, built-in synthetic year, or a
Japanese town's own climate); PV and wind output per kW (pvlib, windpowerlib); grid prices and emission
factors; bookings (generated or read); trip energy (distance × battery-side consumption × temperature factor);
assignment of bookings to vehicles (energy-aware; stations sized when the scenario leaves their fleet open);
per-vehicle plug-in availability and trip energy on the time index.

The stages live in modules of their own, re-exported here (their names were first defined in this module):
:mod:`chisan.plan.resources` (time index, weather, PV and wind), :mod:`chisan.plan.fleet_inputs` (vehicle,
bookings, trip energy, assignment, station and vehicle tables), :mod:`chisan.plan.sites` (meters and tariffs per
site), :mod:`chisan.plan.depots` (depots), :mod:`chisan.plan.capacities` (annualised supply costs, second-life
offer) and :mod:`chisan.plan.reachable` (charging needs no plan could meet).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from chisan.carbon.factors import factors_on_index, read_hourly_emission_factors
from chisan.catalogue.vehicles import VehicleModel
from chisan.economics.diesel import check_depot_prices
from chisan.exceptions import ChisanError
from chisan.mobility.availability import vehicle_timeseries
from chisan.mobility.fleet import FleetAssignment
from chisan.plan.capacities import capacities, second_life_offer
from chisan.plan.depots import depot_inputs
from chisan.plan.fleet_inputs import (
    assign_fleet,
    autonomous_series,
    booking_trip_energy,
    fleet_frames,
    load_bookings,
    resolve_vehicle,
)
from chisan.plan.hydrogen import hydrogen_inputs
from chisan.plan.inputs import KEPT_CHARGING, PlanInputs
from chisan.plan.reachable import UNREACHABLE_REPAIR_PASSES, check_autonomous_reachable, unserve_unreachable_bookings
from chisan.plan.resources import load_weather, on_snapshots, plan_index, renewable_output_per_kw
from chisan.plan.second_life import with_offer
from chisan.plan.sites import metered_sites, site_tariffs
from chisan.plan.tariffs import grid_prices
from chisan.scenario.schema import Scenario

_trip_energy = booking_trip_energy  # the name tests/resources/test_japan_climate.py imports

__all__ = [
    "UNREACHABLE_REPAIR_PASSES",
    "PreparedPlan",
    "Progress",
    "_trip_energy",
    "assign_fleet",
    "capacities",
    "depot_inputs",
    "load_bookings",
    "load_weather",
    "metered_sites",
    "plan_index",
    "prepare_inputs",
    "resolve_vehicle",
    "second_life_offer",
    "site_tariffs",
    "unserve_unreachable_bookings",
]

Progress = Callable[[str], None]


@dataclass
class PreparedPlan:
    """Everything derived from a scenario before the optimisation, kept for the report.

    Attributes
    ----------
    scenario : Scenario
    inputs : PlanInputs
    weather : pd.DataFrame
        Weather on the plan's snapshots (pvlib glossary, [W/m²], [°C], [m/s]).
    weather_source : str
        Where the weather came from.
    vehicle : VehicleModel
    assignment : FleetAssignment
        Bookings with vehicle, trip energy and unserved reason; the vehicles of each station.
    timings : dict[str, float]
        Seconds spent per stage.
    autonomous : chisan.autonomous.plan_inputs.PlanFleet or None
        The simulated fleet when ``fleet.kind = "autonomous"`` (its away periods are ``assignment``'s bookings).
    """

    scenario: Scenario
    inputs: PlanInputs
    weather: pd.DataFrame
    weather_source: str
    vehicle: VehicleModel
    assignment: FleetAssignment
    timings: dict[str, float] = field(default_factory=dict)
    autonomous: object | None = None


def prepare_inputs(scenario: Scenario, *, progress: Progress | None = None) -> PreparedPlan:
    """Build the model inputs of a scenario (weather, resources, bookings, fleet, prices, factors)."""
    check_depot_prices(scenario)  # a depot without prices in the currency is refused now, not after the solve
    say = progress or (lambda msg: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    snapshots = plan_index(scenario)
    dt = scenario.horizon.step_minutes / 60.0
    say("weather")
    weather_hourly, weather_source = load_weather(scenario)
    weather = pd.DataFrame({c: on_snapshots(weather_hourly[c], snapshots) for c in weather_hourly.columns})
    timings["weather_s"] = time.perf_counter() - t

    t = time.perf_counter()
    say("PV and wind output per kW")
    tech = scenario.technologies
    pv, wind = renewable_output_per_kw(scenario, weather_hourly, snapshots)
    timings["resources_s"] = time.perf_counter() - t

    t = time.perf_counter()
    say("grid prices and emission factors")
    grid = scenario.grid
    prices = grid_prices(grid, snapshots, scenario.finance.currency)
    import_price, export_price = prices.import_price_per_kwh, prices.export_price_per_kwh
    if grid.emission_factor_path is not None:
        path = scenario.resolve(grid.emission_factor_path)
        ef = factors_on_index(read_hourly_emission_factors(path, column=grid.emission_factor_column), snapshots)
    else:
        ef = pd.Series(grid.emission_factor_kg_per_kwh, index=snapshots, name="emission_factor_kg_per_kwh")
    market_ef = grid.market_emission_factor_kg_per_kwh
    timings["grid_s"] = time.perf_counter() - t

    t = time.perf_counter()
    say("bookings and fleet")
    vehicle = resolve_vehicle(scenario)
    autonomous = None
    if scenario.fleet.kind == "autonomous":  # a simulated self-driving fleet (chisan.autonomous.plan_inputs)
        from chisan.autonomous.plan_inputs import plan_fleet

        say("simulating the autonomous fleet")
        autonomous = plan_fleet(scenario, snapshots, dt)
        assignment = autonomous.assignment
    else:
        bookings = load_bookings(scenario, snapshots, dt)
        trips = booking_trip_energy(scenario, vehicle, bookings, weather["temp_air"])
        assignment = assign_fleet(scenario, vehicle, bookings, trips, snapshots, dt)

    f = scenario.fleet
    stations, vehicles = fleet_frames(scenario, vehicle, assignment, autonomous)
    site_fields = metered_sites(scenario, snapshots)
    if site_fields:
        stations["site"] = [s.site or s.name for s in scenario.stations]
    assignment, stations, vehicles, site_fields = depot_inputs(
        scenario, snapshots, dt, assignment, stations, vehicles, site_fields
    )
    if site_fields:
        site_fields.update(site_tariffs(scenario, prices, site_fields["sites"].index, snapshots))
    series = vehicle_timeseries(assignment, snapshots, dt)
    plugged = series.plugged.reindex(columns=vehicles.index)
    trip_energy = series.trip_energy_kwh.reindex(columns=vehicles.index)
    loads = {}
    if autonomous is not None:
        plugged, trip_energy, loads = autonomous_series(autonomous, plugged, trip_energy, stations, site_fields)
    timings["mobility_s"] = time.perf_counter() - t
    policy = scenario.policy
    try:
        inputs = PlanInputs(
            snapshots=snapshots,
            dt_hours=dt,
            pv_kw_per_kw=pv,
            wind_kw_per_kw=wind,
            temp_air_c=weather["temp_air"],
            import_price_per_kwh=import_price,
            export_price_per_kwh=export_price,
            emission_factor_kg_per_kwh=ef,
            market_emission_factor_kg_per_kwh=market_ef,
            stations=stations,
            vehicles=vehicles,
            plugged=plugged,
            trip_energy_kwh=trip_energy,
            capacities=capacities(scenario),
            storage_charge_efficiency=tech.storage.charge_efficiency_fraction,
            storage_discharge_efficiency=tech.storage.discharge_efficiency_fraction,
            storage_self_discharge_per_hour=tech.storage.self_discharge_per_hour_fraction,
            storage_max_c_rate_per_h=tech.storage.max_c_rate_per_h,
            grid_connection_limit_kw=grid.connection_limit_kw,
            allow_export=grid.allow_export,
            renewable_share_min=policy.renewable_share_min_fraction,
            renewable_share_basis=policy.renewable_share_basis,
            carbon_price_per_kg=policy.carbon_price_per_t / 1000.0,
            max_grid_import_kwh=policy.max_grid_import_kwh_per_year,
            max_emissions_kg=policy.max_emissions_kg_per_year,
            v2g=f.v2g,
            v2g_cost_per_kwh=f.v2g_cycle_cost_per_kwh,
            vehicle_holding_cost_per_kwh_h=f.battery_holding_cost_per_kwh_h,
            currency=scenario.finance.currency,
            basic_charge_per_kw_month=prices.basic_charge_per_kw_month,
            contract_kw_fixed=prices.contract_kw_fixed,
            hydrogen=hydrogen_inputs(scenario, snapshots, dt, site_fields.get("sites")),
            **site_fields,
            **loads,
        )
    except ChisanError:
        raise
    inputs = with_offer(inputs, second_life_offer(scenario))
    if autonomous is None:
        inputs, assignment = unserve_unreachable_bookings(inputs, assignment, snapshots, dt)
    else:
        check_autonomous_reachable(inputs, autonomous)
        # the simulated cars' kept charging rides in other_load_kw for the balance; results count it as charging
        inputs.extra[KEPT_CHARGING] = loads["other_load_kw"].to_numpy(float)
    return PreparedPlan(
        scenario=scenario,
        inputs=inputs,
        weather=weather,
        weather_source=weather_source,
        vehicle=vehicle,
        assignment=assignment,
        timings=timings,
        autonomous=autonomous,
    )
