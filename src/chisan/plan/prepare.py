"""From a scenario to the inputs of the planning model (:class:`~chisan.plan.inputs.PlanInputs`).

Stages, in order: the time index of the planned year; the weather on it (file, built-in synthetic year, or a
Japanese town's own climate); PV and wind output per kW (pvlib, windpowerlib); grid prices and emission
factors; bookings (generated or read); trip energy (distance × battery-side consumption × temperature factor);
assignment of bookings to vehicles (energy-aware; stations sized when the scenario leaves their fleet open);
per-vehicle plug-in availability and trip energy on the time index.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.carbon.factors import factors_on_index, read_hourly_emission_factors
from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.catalogue.vehicles import VehicleModel, custom_vehicle, vehicle_model
from chisan.depots.duties import read_nrel_vehicle_days, shift_energy_kwh
from chisan.depots.schedule import lay_vehicle_days, read_shift_csv, working_days
from chisan.economics.diesel import check_depot_prices
from chisan.exceptions import ChisanError, ScenarioError
from chisan.mobility.availability import vehicle_timeseries
from chisan.mobility.bookings import generate_bookings, read_bookings_csv
from chisan.mobility.energy import booking_temperature_c, trip_energy_kwh
from chisan.mobility.fleet import FleetAssignment, assign_bookings
from chisan.plan.hydrogen import hydrogen_inputs
from chisan.plan.inputs import KEPT_CHARGING, Capacity, PlanInputs
from chisan.plan.second_life import SecondLifeOffer, with_offer
from chisan.plan.tariffs import GridPrices, grid_prices, site_price_fields, tariff_prices
from chisan.resources.climate import climate_at_site, monthly_climate, synthetic_weather_year
from chisan.resources.solar import pv_output_per_kw
from chisan.resources.weather import plan_year_index, read_epw, read_tmy3, read_weather_csv, to_plan_year
from chisan.resources.wind import wind_output_per_kw
from chisan.scenario.schema import Scenario
from chisan.units import capital_recovery_factor

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


def plan_index(scenario: Scenario) -> pd.DatetimeIndex:
    """Snapshots of the planned period (tz-aware; hourly stamps, or finer when ``step_minutes`` < 60)."""
    h = scenario.horizon
    hours = plan_year_index(h.year, scenario.municipality.timezone)
    months = [(h.start_month - 1 + k) % 12 + 1 for k in range(h.months)]
    hours = hours[np.isin(hours.month, months)]
    if h.step_minutes == 60:
        return hours
    per_hour = 60 // h.step_minutes
    offsets = pd.to_timedelta(np.tile(np.arange(per_hour) * h.step_minutes, len(hours)), unit="min")
    return hours.repeat(per_hour) + offsets


def load_weather(scenario: Scenario) -> tuple[pd.DataFrame, str]:
    """Weather of the planned year on hourly stamps of the town's time zone, and a description of its source."""
    w, muni = scenario.weather, scenario.municipality
    tz = muni.timezone
    if w.source == "synthetic":
        climate = monthly_climate(w.climate)
        if w.site == "municipality":
            climate = climate_at_site(climate, muni.latitude_deg, muni.longitude_deg, muni.altitude_m)
        data, _ = synthetic_weather_year(climate, scenario.horizon.year, seed=w.seed, timezone=tz)
        source = f"synthetic year from the built-in '{w.climate}' monthly climate (seed {w.seed})"
        if w.site == "municipality":
            source += " moved to the municipality (same monthly clearness index, temperature and wind)"
    elif w.source == "japan":
        from chisan.resources.japan_climate import japan_weather_year

        folder = scenario.resolve(w.data_dir)
        data, meta = japan_weather_year(
            muni.latitude_deg,
            muni.longitude_deg,
            scenario.horizon.year,
            data_dir=folder,
            seed=w.seed,
            altitude=muni.altitude_m,
        )
        data = to_plan_year(data, scenario.horizon.year, tz)
        source = meta["source"]
    else:
        path = scenario.resolve(w.path)
        if path is None or not path.is_file():
            raise ScenarioError(f"weather.path = {str(w.path)!r}: file not found (looked at {path})")
        if w.source == "epw":
            data, _ = read_epw(path)
        elif w.source == "tmy3":
            data, _ = read_tmy3(path)
        else:
            data, _ = read_weather_csv(
                path,
                units=w.units,
                columns=w.columns,
                timezone=tz,
                time_column=w.time_column,
                latitude=muni.latitude_deg,
                longitude=muni.longitude_deg,
                altitude=muni.altitude_m,
                wind_height_m=w.wind_height_m,
            )
        data = to_plan_year(data, scenario.horizon.year, tz)
        source = f"{w.source.upper()} file {path.name}"
    return data, source


def _on_index(series: pd.Series, snapshots: pd.DatetimeIndex) -> pd.Series:
    """Hourly values repeated on (possibly finer) snapshots."""
    hourly = series.reindex(snapshots.floor("h"))
    if hourly.isna().any():
        missing = snapshots[hourly.isna().to_numpy()][0]
        raise ScenarioError(f"the weather does not cover the planned period (first missing hour {missing})")
    return pd.Series(hourly.to_numpy(float), index=snapshots, name=series.name)


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


def _trip_energy(scenario: Scenario, vehicle: VehicleModel, bookings: pd.DataFrame, temp_air: pd.Series) -> pd.Series:
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


def capacities(scenario: Scenario) -> dict[str, Capacity]:
    """Annualised cost and bounds of PV, wind and storage (capital recovery factor from the discount rate)."""
    r = scenario.finance.discount_rate_fraction
    tech = scenario.technologies

    def cap(t, capex, om, lifetime, lo, hi, fixed, enabled) -> Capacity:
        return Capacity(
            annual_cost_per_unit=capex * capital_recovery_factor(r, lifetime) + om,
            min_units=lo,
            max_units=np.inf if hi is None else hi,
            fixed_units=fixed,
            enabled=enabled,
        )

    st = tech.storage
    return {
        "pv_kw": cap(
            tech.pv,
            tech.pv.capex_per_kw,
            tech.pv.fixed_om_per_kw_year,
            tech.pv.lifetime_years,
            tech.pv.min_kw,
            tech.pv.max_kw,
            tech.pv.fixed_kw,
            tech.pv.enabled,
        ),
        "wind_kw": cap(
            tech.wind,
            tech.wind.capex_per_kw,
            tech.wind.fixed_om_per_kw_year,
            tech.wind.lifetime_years,
            tech.wind.min_kw,
            tech.wind.max_kw,
            tech.wind.fixed_kw,
            tech.wind.enabled,
        ),
        "storage_kwh": cap(
            st,
            st.capex_per_kwh,
            st.fixed_om_per_kwh_year,
            st.lifetime_years,
            0.0,
            st.max_kwh,
            st.fixed_kwh,
            st.enabled,
        ),
        "storage_kw": cap(st, st.capex_per_kw, 0.0, st.lifetime_years, 0.0, st.max_kw, st.fixed_kw, st.enabled),
    }


def metered_sites(scenario: Scenario, snapshots: pd.DatetimeIndex) -> dict:
    """The ``PlanInputs`` fields of a town whose sites have their own meters (empty for ``single_meter``).

    Sites are the declared ``[[sites]]`` and every station not behind one of them (a station is its own site);
    roof limits [kW], meter limits [kW] and storage limits [kWh] per site; storage at every site, or only at
    ``technologies.storage.site``; wind at its named site (default: the first);
    links with their fee [currency/kWh] (0 for a private line).
    """
    if scenario.grid.topology == "single_meter":
        return {}
    declared = {x.name: x for x in scenario.sites}
    names = scenario.site_names()
    own = {s.name: s for s in scenario.stations if s.site is None and s.name not in declared}

    def roof(name: str) -> float:
        value = declared[name].pv_max_kw if name in declared else own[name].pv_max_kw
        return np.inf if value is None else float(value)

    def meter(name: str) -> float:
        value = declared[name].connection_limit_kw if name in declared else None
        return np.nan if value is None else float(value)

    def storage_room(name: str) -> float:
        value = getattr(declared[name] if name in declared else own[name], "storage_max_kwh", None)
        return np.inf if value is None else float(value)

    sites = pd.DataFrame(
        {
            "pv_max_kw": [roof(x) for x in names],
            "connection_limit_kw": [meter(x) for x in names],
            "storage_max_kwh": [storage_room(x) for x in names],
        },
        index=pd.Index(names, name="site"),
    )
    tech = scenario.technologies
    pv_fixed = tech.pv.fixed_kw if tech.pv.enabled else None
    if pv_fixed is not None and pv_fixed > sites["pv_max_kw"].sum() + 1e-9:
        raise ScenarioError(
            f"technologies.pv.fixed_kw = {pv_fixed:g} kW is more than the sites' roofs take together "
            f"({sites['pv_max_kw'].sum():g} kW: {', '.join(f'{k} {v:g}' for k, v in sites['pv_max_kw'].items())})"
        )
    links = None
    if scenario.grid.links:
        links = pd.DataFrame(
            {
                "site0": [x.from_site for x in scenario.grid.links],
                "site1": [x.to_site for x in scenario.grid.links],
                "fee_per_kwh": [x.fee_per_kwh for x in scenario.grid.links],
                "limit_kw": [np.inf if x.limit_kw is None else x.limit_kw for x in scenario.grid.links],
            },
            index=pd.Index([x.name for x in scenario.grid.links], name="link"),
        )
    # Storage behind every meter only when the scenario gives a site's storage limit: free at every site it
    # roughly doubles the year-long LPs (a 40-car, 8-base town's supply re-sizing went past 600 s), so by default
    # it sits behind the first site's meter, as before storage per site.
    limits = [x.storage_max_kwh for x in scenario.sites] + [s.storage_max_kwh for s in scenario.stations]
    storage_site = tech.storage.site
    if storage_site is None and all(v is None for v in limits):
        storage_site = names[0]
    return {"sites": sites, "storage_site": storage_site, "wind_site": tech.wind.site, "links": links}


def site_tariffs(scenario: Scenario, town: GridPrices, site_names: pd.Index, snapshots: pd.DatetimeIndex) -> dict:
    """The ``PlanInputs`` fields of the sites that name a tariff of their own (``sites.tariff``, or ``tariff`` of
    a station or depot that is its own site); empty when every site is on the town's prices (``town``).

    Raises
    ------
    ScenarioError
        An unknown tariff name (the message lists the bundled ones), or a tariff priced in another currency than
        ``finance.currency`` (naming both).
    """
    given = [(f"sites[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.sites)]
    given += [(f"stations[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.stations) if x.site is None]
    given += [(f"depots[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.depots) if x.site is None]
    currency = scenario.finance.currency
    own = {
        name: tariff_prices(tariff, snapshots, currency, field) for field, name, tariff in given if tariff is not None
    }
    return site_price_fields(town, own, list(site_names.astype(str)), snapshots)


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


UNREACHABLE_REPAIR_PASSES = 20
"""Most bookings taken back from over-committed cars (each pass takes back one booking per such car)."""


def unserve_unreachable_bookings(
    inputs: PlanInputs, assignment: FleetAssignment, snapshots: pd.DatetimeIndex, dt: float
) -> tuple[PlanInputs, FleetAssignment]:
    """Take back the bookings a car cannot serve on the plan's charging, and count them unserved.

    The fleet assignment charges each car as soon as it is back; the plan's per-vehicle model counts a car's
    charging in whole steps, so a tight chain of bookings may need more energy than the battery holds
    (:func:`chisan.plan.dispatch.minimum_energy_kwh` above ``usable_kwh``): no plan could serve it, and the
    dispatch would stop. For each such car the first booking that departs at or after the step where the need
    first exceeds the battery is given back (``unserved_reason = "not_enough_time_to_charge"``), and the car's
    series are rebuilt; repeated until every need fits (at most :data:`UNREACHABLE_REPAIR_PASSES` passes).
    """
    from chisan.plan.dispatch import minimum_energy_kwh

    if inputs.fleet_mode != "vehicle" or not len(inputs.vehicles):
        return inputs, assignment
    bookings = assignment.bookings
    for _ in range(UNREACHABLE_REPAIR_PASSES):
        need = minimum_energy_kwh(inputs, cyclic=True)
        usable = inputs.vehicles["usable_kwh"].reindex(need.columns).to_numpy(float)
        over = need.to_numpy(float) > usable[None, :] + 1e-6
        cars = np.flatnonzero(over.any(axis=0))
        if not len(cars):
            break
        start_step = snapshots.searchsorted(pd.DatetimeIndex(bookings["start"]).tz_convert(snapshots.tz))
        vid = bookings["vehicle_id"].astype(object).where(bookings["vehicle_id"].notna(), None).astype(str)
        bookings = bookings.copy()
        for j in cars:  # a few cars at most: one booking each per pass
            first = int(np.argmax(over[:, j]))
            car = (vid == str(need.columns[j])).to_numpy(bool)
            mine = np.flatnonzero(car & (start_step >= first))
            if not len(mine):
                mine = np.flatnonzero(car)
            if not len(mine):
                continue
            k = bookings.index[mine[np.argmin(start_step[mine])]]
            bookings.loc[k, "vehicle_id"] = pd.NA
            bookings.loc[k, "unserved_reason"] = "not_enough_time_to_charge"
            if "energy_at_start_kwh" in bookings:
                bookings.loc[k, "energy_at_start_kwh"] = np.nan
        assignment = dataclasses.replace(assignment, bookings=bookings)
        series = vehicle_timeseries(assignment, snapshots, dt)
        inputs = dataclasses.replace(
            inputs,
            plugged=series.plugged.reindex(columns=inputs.vehicles.index),
            trip_energy_kwh=series.trip_energy_kwh.reindex(columns=inputs.vehicles.index),
        )
    return inputs, assignment


def second_life_offer(scenario: Scenario) -> SecondLifeOffer | None:
    """The ``[second_life]`` table as the plan's offer (price annualised at the scenario's discount rate)."""
    sl = scenario.second_life
    if sl is None:
        return None
    return SecondLifeOffer(
        offered_kwh=sl.offered_kwh,
        price_per_kwh=sl.price_per_kwh,
        lifetime_years=sl.lifetime_years,
        crf_per_year=capital_recovery_factor(scenario.finance.discount_rate_fraction, sl.lifetime_years),
        fixed_om_per_kwh_year=sl.fixed_om_per_kwh_year,
        site=sl.site,
        round_trip_efficiency=sl.round_trip_efficiency_fraction,
        max_c_rate_per_h=sl.max_c_rate_per_h,
    )


def prepare_inputs(scenario: Scenario, *, progress: Progress | None = None) -> PreparedPlan:
    """Build the model inputs of a scenario (weather, resources, bookings, fleet, prices, factors)."""
    check_depot_prices(scenario)  # a depot without prices in the currency is refused now, not after the solve
    say = progress or (lambda msg: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    snapshots = plan_index(scenario)
    dt = scenario.horizon.step_minutes / 60.0
    muni = scenario.municipality
    say("weather")
    weather_hourly, weather_source = load_weather(scenario)
    weather = pd.DataFrame({c: _on_index(weather_hourly[c], snapshots) for c in weather_hourly.columns})
    timings["weather_s"] = time.perf_counter() - t

    t = time.perf_counter()
    say("PV and wind output per kW")
    tech = scenario.technologies
    zeros = pd.Series(0.0, index=snapshots)
    if tech.pv.enabled:
        pv_hourly = pv_output_per_kw(
            weather_hourly,
            muni.latitude_deg,
            muni.longitude_deg,
            muni.altitude_m,
            tilt_deg=tech.pv.tilt_deg,
            azimuth_deg=tech.pv.azimuth_deg,
            dc_ac_ratio=tech.pv.dc_ac_ratio,
            losses_percent=tech.pv.losses_percent,
        )
        pv = _on_index(pv_hourly.clip(lower=0).rename("pv_kw_per_kw"), snapshots)
    else:
        pv = zeros.rename("pv_kw_per_kw")
    if tech.wind.enabled:
        wind_hourly = wind_output_per_kw(
            weather_hourly,
            turbine_type=tech.wind.turbine_type,
            hub_height_m=tech.wind.hub_height_m,
            roughness_length_m=tech.wind.roughness_length_m,
            wind_height_m=scenario.weather.wind_height_m,
        )
        wind = _on_index(wind_hourly.clip(lower=0).rename("wind_kw_per_kw"), snapshots)
    else:
        wind = zeros.rename("wind_kw_per_kw")
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
        trips = _trip_energy(scenario, vehicle, bookings, weather["temp_air"])
        assignment = assign_fleet(scenario, vehicle, bookings, trips, snapshots, dt)

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
        plugged, trip_energy, loads = _autonomous_series(autonomous, plugged, trip_energy, stations, site_fields)
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
        _autonomous_reachable(inputs, autonomous)
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


def _autonomous_series(autonomous, plugged, trip_energy, stations, site_fields):
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


def _autonomous_reachable(inputs: PlanInputs, autonomous) -> None:
    """Raise ScenarioError naming the first simulated car the plan's windows cannot keep charged."""
    from chisan.plan.dispatch import minimum_energy_kwh, unreachable_needs

    need = minimum_energy_kwh(inputs, cyclic=True)
    problem = unreachable_needs(inputs, need)
    if problem is not None:
        days = len(inputs.snapshots) * inputs.dt_hours / 24
        raise ScenarioError(
            f"fleet.kind = 'autonomous': {problem}. The plan may charge a simulated car only in the steps it is "
            f"parked at its charger for the whole step; over fleet.autonomous.simulated_days = "
            f"{autonomous.simulated_days} repeated over the {days:g} planned days these windows do not give it back "
            "what it drives. Try simulated_days dividing the planned days, horizon.step_minutes = 15, another "
            "fleet.autonomous.seed, or more fleet.autonomous.cars"
        )
