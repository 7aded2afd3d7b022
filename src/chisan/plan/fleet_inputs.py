"""Bookings and the fleet that serves them: the vehicle model, bookings (generated or read), trip energy and the
energy-aware assignment of bookings to vehicles; the stations' and vehicles' tables of the plan's inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.catalogue.vehicles import VehicleModel, custom_vehicle, vehicle_model
from chisan.exceptions import ScenarioError
from chisan.mobility.bookings import generate_bookings, read_bookings_csv
from chisan.mobility.energy import booking_temperature_c, trip_energy_kwh
from chisan.mobility.fleet import FleetAssignment, assign_bookings
from chisan.scenario.schema import Scenario


def resolve_vehicle(scenario: Scenario) -> VehicleModel:
    """The scenario's vehicle model: a catalogue entry, with any figure the scenario overrides."""
    f = scenario.fleet
    if f.vehicle_model == "custom":
        return custom_vehicle(
            battery_kwh=f.battery_kwh,
            consumption_ac_kwh_per_km=f.consumption_ac_kwh_per_km,
            usable_kwh=f.usable_kwh,
            max_ac_charge_kw=f.max_ac_charge_kw or 6.0,
            chemistry=f.chemistry or "NMC622",
        )
    try:
        base = vehicle_model(f.vehicle_model)
    except ScenarioError as err:
        raise ScenarioError(f"fleet.vehicle_model = {f.vehicle_model!r}: {err}") from None
    overrides = {
        k: getattr(f, k)
        for k in ("battery_kwh", "usable_kwh", "consumption_ac_kwh_per_km", "max_ac_charge_kw", "chemistry")
        if getattr(f, k) is not None
    }
    if not overrides:
        return base
    import dataclasses

    return dataclasses.replace(base, **overrides)


def _members(scenario: Scenario) -> int:
    b = scenario.bookings
    if b.members is not None:
        return b.members
    return round(scenario.municipality.population * b.membership_fraction)


def load_bookings(scenario: Scenario, snapshots: pd.DatetimeIndex, dt_hours: float) -> pd.DataFrame:
    """Bookings of the planned period: generated from the members, or read from the scenario's CSV."""
    b = scenario.bookings
    names = [s.name for s in scenario.stations]
    start = snapshots[0]
    end = snapshots[-1] + pd.Timedelta(hours=dt_hours)
    if b.source == "csv":
        path = scenario.resolve(b.path)
        if path is None or not path.is_file():
            raise ScenarioError(f"bookings.path = {str(b.path)!r}: file not found (looked at {path})")
        return read_bookings_csv(path, timezone=scenario.municipality.timezone, period=(start, end), stations=names)
    shares = [s.member_share_fraction for s in scenario.stations]
    kwargs = {}
    if b.mean_duration_h is not None:
        kwargs["mean_duration_h"] = b.mean_duration_h
    if b.mean_speed_kmh is not None:
        kwargs["mean_speed_kmh"] = b.mean_speed_kmh
    if b.weekend_factor is not None:
        kwargs["weekend_factor"] = b.weekend_factor
    if b.max_distance_km is not None:
        kwargs["max_distance_km"] = b.max_distance_km
    return generate_bookings(
        stations=names,
        station_weights=None if shares[0] is None else shares,
        members=_members(scenario),
        bookings_per_member_per_month=b.bookings_per_member_per_month,
        start=start,
        end=end,
        seed=b.seed,
        **kwargs,
    )


def booking_trip_energy(
    scenario: Scenario, vehicle: VehicleModel, bookings: pd.DataFrame, temp_air: pd.Series
) -> pd.Series:
    """Energy of each booking's trip [kWh]: distance [km] x battery-side consumption [kWh/km] x temperature factor
    (:func:`chisan.mobility.energy.trip_energy_kwh`) at the air temperature of the booking [°C]."""
    f = scenario.fleet
    consumption = vehicle.consumption_battery_kwh_per_km(f.charge_efficiency_fraction)
    kwargs = {"heating_threshold_c": f.heating_threshold_c, "cooling_threshold_c": f.cooling_threshold_c}
    if f.heating_increase_per_c is not None:
        kwargs["heating_increase_per_c"] = f.heating_increase_per_c
    if f.cooling_increase_per_c is not None:
        kwargs["cooling_increase_per_c"] = f.cooling_increase_per_c
    temps = booking_temperature_c(bookings, temp_air)
    energy = trip_energy_kwh(bookings["distance_km"].to_numpy(float), consumption, temps.to_numpy(float), **kwargs)
    return pd.Series(np.asarray(energy, dtype=float), index=bookings.index, name="trip_energy_kwh")


def assign_fleet(
    scenario: Scenario,
    vehicle: VehicleModel,
    bookings: pd.DataFrame,
    trips: pd.Series,
    snapshots: pd.DatetimeIndex,
    dt_hours: float,
) -> FleetAssignment:
    """Assign bookings to vehicles (sizing the stations whose fleet the scenario leaves open)."""
    f = scenario.fleet
    usable = vehicle.usable_kwh
    reserve = f.reserve_fraction * usable
    given = {s.name: s.vehicles for s in scenario.stations}

    def rate(station_vehicles: dict[str, int] | None) -> float:
        """Charging power every vehicle is guaranteed [kW]: on-board limit, charger, share of chargers."""
        rates = []
        for s in scenario.stations:
            p = min(vehicle.max_ac_charge_kw, s.charger_kw)
            n = (station_vehicles or {}).get(s.name)
            if s.chargers is not None and n:
                p *= min(1.0, s.chargers / n)
            rates.append(p)
        return min(rates)

    fixed = all(v is not None for v in given.values())
    common = dict(
        usable_kwh=usable,
        reserve_kwh=reserve,
        charge_efficiency=f.charge_efficiency_fraction,
        turnaround_min=f.turnaround_min,
        dt_hours=dt_hours,
        step_origin=snapshots[0],
    )
    if fixed:
        return assign_bookings(bookings, trips, vehicles_per_station=given, charge_power_kw=rate(given), **common)
    sized = assign_bookings(
        bookings,
        trips,
        vehicles_per_station=None,
        max_vehicles_per_station=f.max_vehicles_per_station,
        charge_power_kw=rate(None),
        **common,
    )
    counts = {s: int(n) for s, n in sized.vehicles_per_station.items()}
    counts = {s.name: counts.get(s.name, 0) for s in scenario.stations}
    if rate(counts) < rate(None):  # fewer chargers than the sized fleet: re-assign at the shared rate
        return assign_bookings(bookings, trips, vehicles_per_station=counts, charge_power_kw=rate(counts), **common)
    return sized


def fleet_frames(
    scenario: Scenario, vehicle: VehicleModel, assignment: FleetAssignment, autonomous=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stations' table (chargers, charger [kW], connection limit [kW]) and the vehicles' table (station,
    usable and reserve energy [kWh], charging limit [kW], charge efficiency) of the plan's inputs.

    ``autonomous`` (a :class:`chisan.autonomous.plan_inputs.PlanFleet`) gives the chargers per station and the
    vehicles of a simulated fleet.
    """
    f = scenario.fleet
    counts = assignment.vehicles_per_station if autonomous is None else autonomous.chargers
    stations = pd.DataFrame(
        {
            "chargers": [
                s.chargers if s.chargers is not None else int(counts.get(s.name, 0)) for s in scenario.stations
            ],
            "charger_kw": [s.charger_kw for s in scenario.stations],
            "connection_limit_kw": [
                np.nan if s.connection_limit_kw is None else s.connection_limit_kw for s in scenario.stations
            ],
        },
        index=pd.Index([s.name for s in scenario.stations], name="station"),
    )
    charger_kw = stations["charger_kw"]
    veh = assignment.vehicles.set_index("vehicle_id")
    vehicles = pd.DataFrame(
        {
            "station": veh["station"].astype(str),
            "usable_kwh": vehicle.usable_kwh,
            "reserve_kwh": f.reserve_fraction * vehicle.usable_kwh,
            "max_charge_kw": np.minimum(vehicle.max_ac_charge_kw, charger_kw.reindex(veh["station"]).to_numpy()),
            "charge_efficiency": f.charge_efficiency_fraction,
        },
        index=veh.index,
    )
    vehicles.index.name = "vehicle"
    if autonomous is not None:
        vehicles = autonomous.vehicles
    return stations, vehicles


def autonomous_series(autonomous, plugged, trip_energy, stations, site_fields):
    """The simulated cars' windows and energy in the plan's frames, and their kept charging as a fixed load."""
    cars = autonomous.vehicles.index
    plugged = plugged.copy()
    trip_energy = trip_energy.copy()
    plugged.loc[:, cars] = autonomous.plugged.reindex(columns=cars).to_numpy(bool)
    trip_energy.loc[:, cars] = autonomous.trip_energy_kwh.reindex(columns=cars).to_numpy(float)
    fixed = autonomous.fixed_charge_kw  # [kW] per station
    total = pd.Series(fixed.to_numpy(float).sum(axis=1), index=fixed.index, name="other_load_kw")
    if not site_fields:
        return plugged, trip_energy, {"other_load_kw": total}
    site_of = stations["site"].astype(str)
    per_site = fixed.T.groupby(site_of.reindex(fixed.columns).to_numpy()).sum().T
    per_site = per_site.reindex(columns=site_fields["sites"].index, fill_value=0.0)
    return plugged, trip_energy, {"other_load_kw": total, "site_other_load_kw": per_site}
