"""Depots in the plan: each depot a station, its shifts bookings served by vehicles of its class."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.depots.duties import read_nrel_vehicle_days, shift_energy_kwh
from chisan.depots.schedule import lay_vehicle_days, read_shift_csv, working_days
from chisan.exceptions import ScenarioError
from chisan.mobility.fleet import FleetAssignment, assign_bookings
from chisan.scenario.schema import Scenario


def depot_inputs(
    scenario: Scenario,
    snapshots: pd.DatetimeIndex,
    dt_hours: float,
    assignment: FleetAssignment,
    stations: pd.DataFrame,
    vehicles: pd.DataFrame,
    site_fields: dict,
) -> tuple[FleetAssignment, pd.DataFrame, pd.DataFrame, dict]:
    """Append the scenario's depots to the car-sharing fleet: each depot a station, its shifts bookings.

    Per depot: the duties laid on its working days (:func:`chisan.depots.schedule.lay_vehicle_days`); each shift's
    energy = distance [km] x the class's ``kwh_per_km`` [kWh/km]; vehicles of its class (usable energy, reserve =
    ``reserve_fraction`` x usable, charging limit = min(class limit, charger kW)), assigned by the same
    energy-aware rule as the cars (:func:`chisan.mobility.fleet.assign_bookings`; sized when ``vehicles`` is
    omitted). With ``grid.topology = "per_site"`` a depot is its own site unless ``site`` names one of [[sites]].

    Returns
    -------
    assignment, stations, vehicles, site_fields
        The inputs with the depots appended (unchanged when the scenario has none).
    """
    if not scenario.depots:
        return assignment, stations, vehicles, site_fields
    taken = set(stations.index) | set(scenario.site_names())
    declared = [x.name for x in scenario.sites]
    bookings, fleets, station_rows, vehicle_rows, own_sites = [], [], [], [], []
    for i, d in enumerate(scenario.depots):
        where = f"depots[{i}]"
        if d.name in taken:
            raise ScenarioError(
                f"{where}.name = {d.name!r} is already a station or site name; give the depot a name of its own"
            )
        taken.add(d.name)
        if d.site is not None and d.site not in declared:
            raise ScenarioError(
                f"{where}.site = {d.site!r} is not a site; the sites are {', '.join(declared) or '(none declared)'}"
            )
        cls = vehicle_class(d.vehicle_class, field=f"{where}.vehicle_class")
        path = scenario.resolve(d.path)
        shifts = read_nrel_vehicle_days(path) if d.duties == "nrel" else read_shift_csv(path)
        days = working_days(snapshots, d.working_days)
        booked = lay_vehicle_days(shifts, days, per_day=d.vehicle_days_per_day, seed=d.seed, station=d.name)
        trips = shift_energy_kwh(booked, cls.kwh_per_km)  # [kWh] = [km] x [kWh/km]
        max_kw = min(cls.max_charge_kw, d.charger_kw)

        def rate(n: int | None, d=d, max_kw=max_kw) -> float:
            """Charging power each vehicle is guaranteed [kW]: its limit, less when chargers are shared."""
            return max_kw * (min(1.0, d.chargers / n) if d.chargers is not None and n else 1.0)

        common = dict(
            usable_kwh=cls.usable_kwh,
            reserve_kwh=d.reserve_fraction * cls.usable_kwh,
            charge_efficiency=d.charge_efficiency_fraction,
            dt_hours=dt_hours,
            step_origin=snapshots[0],
        )
        given = None if d.vehicles is None else {d.name: d.vehicles}
        fleet = assign_bookings(booked, trips, vehicles_per_station=given, charge_power_kw=rate(d.vehicles), **common)
        count = int(fleet.vehicles_per_station.get(d.name, 0))
        if given is None and rate(count) < rate(None):  # fewer chargers than the sized fleet: the shared rate
            fleet = assign_bookings(
                booked, trips, vehicles_per_station={d.name: count}, charge_power_kw=rate(count), **common
            )
        fleets.append(fleet.vehicles)
        bookings.append(fleet.bookings)
        ids = fleet.vehicles["vehicle_id"].astype(str)
        vehicle_rows.append(
            pd.DataFrame(
                {
                    "station": d.name,
                    "usable_kwh": cls.usable_kwh,
                    "reserve_kwh": d.reserve_fraction * cls.usable_kwh,
                    "max_charge_kw": max_kw,
                    "charge_efficiency": d.charge_efficiency_fraction,
                },
                index=pd.Index(ids, name="vehicle"),
            )
        )
        row = {"chargers": d.chargers if d.chargers is not None else count, "charger_kw": d.charger_kw}
        row["connection_limit_kw"] = np.nan
        if "site" in stations.columns:
            row["site"] = d.site or d.name
        station_rows.append(pd.DataFrame(row, index=pd.Index([d.name], name="station")))
        if d.site is None:
            own_sites.append((d.name, np.inf if d.pv_max_kw is None else float(d.pv_max_kw)))
        elif d.pv_max_kw is not None:
            raise ScenarioError(
                f"{where}.pv_max_kw is set but depot {d.name!r} is behind site {d.site!r}: give the roof limit as "
                "sites.pv_max_kw"
            )
    merged = FleetAssignment(
        bookings=pd.concat([assignment.bookings, *bookings], ignore_index=True),
        vehicles=pd.concat([assignment.vehicles, *fleets], ignore_index=True),
        usable_kwh=assignment.usable_kwh,
        reserve_kwh=assignment.reserve_kwh,
        charge_power_kw=assignment.charge_power_kw,
        charge_efficiency=assignment.charge_efficiency,
        turnaround_min=assignment.turnaround_min,
        dt_hours=assignment.dt_hours,
    )
    stations = pd.concat([stations, *station_rows])
    stations["chargers"] = stations["chargers"].astype(int)
    vehicles = pd.concat([vehicles, *vehicle_rows])
    if site_fields and own_sites:
        extra = pd.DataFrame(
            {"pv_max_kw": [kw for _, kw in own_sites], "connection_limit_kw": np.nan},
            index=pd.Index([name for name, _ in own_sites], name="site"),
        )
        site_fields = {**site_fields, "sites": pd.concat([site_fields["sites"], extra])}
    return merged, stations, vehicles, site_fields
